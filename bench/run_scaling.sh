#!/bin/sh
# Weak scaling of training at 1 and 2 ranks (one core per rank, Kokkos Serial).
# Usage: bench/run_scaling.sh [BUILD_DIR (build)] [CELLS_PER_RANK (2)] [EPOCHS (3)]
set -eu
exe="${1:-build}/bench/bench_scaling"
[ -x "$exe" ] || { echo "run_scaling.sh: $exe not found (cmake --build ${1:-build} --target bench_scaling)" >&2; exit 1; }
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 1 2; do
  mpirun -np $np --oversubscribe --bind-to core "$exe" "${2:-2}" "${3:-3}"
done
