#!/bin/sh
# Ensemble generation: Kokkos vs LibTorch trace-years/s per core and the end-to-end rate with the
# NetCDF write, at 1 and 2 ranks (LibTorch tuned as in run_engine.sh, one thread per rank).
# Usage: bench/run_generate.sh [BUILD_DIR (build)] [bench_generate options...]
set -eu
build_dir=${1:-build}
[ $# -gt 0 ] && shift
exe="$build_dir/bench/bench_generate"
if [ ! -x "$exe" ]; then
  echo "run_generate.sh: $exe not found; build with: cmake --build $build_dir --target bench_generate" >&2
  exit 1
fi
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
export OMP_NUM_THREADS=1
for np in 1 2; do
  mpirun --allow-run-as-root --oversubscribe -np $np "$exe" "$@"
  echo
done
