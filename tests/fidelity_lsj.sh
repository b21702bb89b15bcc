#!/usr/bin/env bash
# A site unlike the others (docs/fidelity.md, "A boreal site"): the ERA5 series of Lac-Saint-Jean,
# Quebec (50.25 N, -74.25 E; winters of -15 to -21 degC, summers of 18), three years, trained with
# the defaults only. There the temporal prior's own traces left the training climate (August:
# generated mean 4.5 degC, sd 13.6 K against 18.5 degC and 4.3 K), so `train` trains again with
# the seasonal prior and says so. Required: the model written is one whose traces stay in the
# climate, and every fidelity check against the training period passes.
# Usage: fidelity_lsj.sh CLIMVAE_BINARY SOURCE_DIR [WORKDIR]
set -uo pipefail
climvae="$1"
series="$2/tests/data/era5/era5-hourly-lsj-raven/tas_pr_LSJ_20140520-20180615.nc"
source "$2/tests/check.sh"
work="${3:-$(mktemp -d)}"
[ $# -ge 3 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work" && cd "$work"

probe="$("$climvae" prepare --input "$series" --output lsj.nc --lat 50.25 --lon -74.25 --no-trend \
  --until 2017-05-31 --overwrite 2>&1)"
if grep -qF "built without netCDF-C" <<<"$probe"; then
  echo "fidelity_lsj: SKIPPED, this climvae reads no netCDF-4 (the series is netCDF-4)"
  exit 0
fi
check prepare 0 "wrote lsj.nc" -- echo "$probe"
check train 0 "wrote lsj.model" -- "$climvae" train --store lsj.nc --output lsj.model --overwrite
grep -F "left the training climate" <<<"$check_output" || echo "fidelity_lsj: the temporal prior's traces stayed in the climate"
check generate 0 "wrote 100 member(s)" -- \
  "$climvae" generate --model lsj.model --start 2015-01-01 --hours 8760 --members 100 --seed 2015 --output g.nc --overwrite
check evaluate 0 "checks within tolerance" -- \
  "$climvae" evaluate --store lsj.nc --generated g.nc --csv fidelity.csv --skill-csv skill.csv --overwrite
failed=$(awk -F, 'NR > 1 && $7 == "false"' fidelity.csv | wc -l)
checked=$(awk -F, 'NR > 1 && ($7 == "true" || $7 == "false")' fidelity.csv | wc -l)
echo "fidelity_lsj: $((checked - failed)) of $checked checks passed"
awk -F, 'NR > 1 && $7 == "false"' fidelity.csv
awk -F, 'NR > 1 && $6 != "" && $7 != "" { m++; n += $8 == "vae" }
         END { printf "fidelity_lsj: VAE closer on %d of %d (the training period)\n", n, m }' skill.csv
[ "$checked" -ge 35 ] && [ "$failed" -eq 0 ] && [ "${failures:-0}" -eq 0 ]
