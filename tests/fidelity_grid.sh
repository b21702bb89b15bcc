#!/usr/bin/env bash
# Weather that covers a region on a model grid (docs/fidelity.md): one model trained on the 2 x 3
# ERA5 grid near Berlin (2017, cells 17-44 km apart), 40 members of 2017 generated for the whole
# region on two ranks (`generate --bbox`); the correlation of daily-mean anomalies between every
# pair of cells, member m against member m, must be within TOLERANCE of the observed
# (0.993-0.999). Neighbouring grid cells share nearly all their weather, the hardest case for the
# factors' fit (a fit that matched the factor model's communality reached 0.94-0.98 here).
# Usage: fidelity_grid.sh CLIMVAE_BINARY SOURCE_DIR [WORKDIR]   (EPOCHS=600, TOLERANCE=0.05)
set -uo pipefail
climvae="$1"
source "$2/tests/check.sh"
epochs="${EPOCHS:-600}"
tolerance="${TOLERANCE:-0.05}"
work="${3:-$(mktemp -d)}"
[ $# -ge 3 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work" && cd "$work"

check prepare 0 "cells       6" -- \
  "$climvae" prepare --input "$2/tests/data/era5/era5-cds-nc-feedinlib/ERA5_example_data.nc" --output grid.nc \
  --no-trend --overwrite
check train 0 "spatial factors shared by the 6 cells" -- \
  "$climvae" train --store grid.nc --output grid.model --epochs "$epochs" --validation-fraction 0 --overwrite
check region 0 "6 cell(s)" -- mpirun --oversubscribe -np 2 "$climvae" generate --model grid.model \
  --bbox 52,53,13,14 --start 2017-01-01 --hours 8760 --members 40 --seed 2017 --output region.nc --overwrite
check evaluate 0 "daily-mean anomaly correlation between cells" -- \
  "$climvae" evaluate --store grid.nc --generated region.nc --spatial-csv pairs.csv --overwrite
echo "$check_output" | sed -n '/daily-mean anomaly correlation/,$p'
check pairs-within-tolerance 0 "15 of 15 pairs within" -- python3 "$2/tests/check_pairs.py" pairs.csv "$tolerance" 15
finish
