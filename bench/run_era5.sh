#!/bin/sh
# ERA5 in at scale: prepare and read a synthetic 10,000-cell x 1-year region at 1 and 2 ranks.
# Needs about 1.5 GB free in DIR and a few minutes on 2 cores.
# Usage: bench/run_era5.sh [BUILD_DIR (build)] [bench_era5 options, e.g. --dir /scratch]
set -eu
. "$(dirname "$0")/common.sh"
bench_exe bench_era5
for np in 1 2; do
  mpirun -np $np --oversubscribe "$exe" "$@"
done
