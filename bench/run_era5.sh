#!/bin/sh
# ERA5 in at scale: prepare and read a synthetic 10,000-cell x 1-year region at 1 and 2 ranks.
# Needs about 1.5 GB free in DIR and a few minutes on 2 cores.
# Usage: bench/run_era5.sh [BUILD_DIR (build)] [bench_era5 options, e.g. --dir /scratch]
set -eu
build_dir=${1:-build}
[ $# -gt 0 ] && shift
exe="$build_dir/bench/bench_era5"
if [ ! -x "$exe" ]; then
  echo "run_era5.sh: $exe not found; build with: cmake --build $build_dir --target bench_era5" >&2
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
for np in 1 2; do
  mpirun -np $np --oversubscribe "$exe" "$@"
done
