#!/bin/sh
# Ensemble generation: Kokkos vs LibTorch trace-years/s per core and the end-to-end rate with the
# NetCDF write, at 1 and 2 ranks (LibTorch tuned as in run_engine.sh, one thread per rank).
# Usage: bench/run_generate.sh [BUILD_DIR (build)] [bench_generate options...]
set -eu
. "$(dirname "$0")/common.sh"
bench_exe bench_generate
tune_malloc_for_libtorch
for np in 1 2; do
  mpirun --oversubscribe -np $np "$exe" "$@"
  echo
done
