#!/bin/sh
# Kokkos engine vs LibTorch at its best on one core: glibc malloc tuned so LibTorch's large
# temporaries are neither mmap'ed nor trimmed on every step, one OpenMP thread.
# Usage: bench/run_engine.sh [BUILD_DIR (build)] [bench_engine options...]
set -eu
build_dir=${1:-build}
[ $# -gt 0 ] && shift
exe="$build_dir/bench/bench_engine"
if [ ! -x "$exe" ]; then
  echo "run_engine.sh: $exe not found; build with: cmake -B $build_dir && cmake --build $build_dir --target bench_engine" >&2
  exit 1
fi
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
export OMP_NUM_THREADS=1
exec "$exe" --threads 1 "$@"
