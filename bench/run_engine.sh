#!/bin/sh
# Kokkos engine vs LibTorch at its best on one core (bench/common.sh: tuned malloc, one thread).
# Usage: bench/run_engine.sh [BUILD_DIR (build)] [bench_engine options...]
set -eu
. "$(dirname "$0")/common.sh"
bench_exe bench_engine
tune_malloc_for_libtorch
exec "$exe" --threads 1 "$@"
