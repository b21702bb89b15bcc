#!/bin/sh
# Weak scaling of training at 1 and 2 ranks (one core per rank, Kokkos Serial).
# Usage: bench/run_scaling.sh [BUILD_DIR (build)] [CELLS_PER_RANK (2)] [EPOCHS (3)] [balanced]
# (balanced: train --balance-ranks, every rank exactly 32 windows a step)
set -eu
. "$(dirname "$0")/common.sh"
bench_exe bench_scaling
for np in 1 2; do
  mpirun -np $np --oversubscribe --bind-to core "$exe" "${1:-2}" "${2:-3}" ${3:-}
done
