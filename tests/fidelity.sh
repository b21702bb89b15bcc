#!/usr/bin/env bash
# The acceptance run: train on Paris 2014-2021 with the default training options, generate 100
# one-year members for 2022 and require every fidelity check against the observed 2014-2023
# climatology (moved to 2022) to pass: monthly means within 1.0 °C, monthly sd within 20 %,
# diurnal amplitude per season within 15 %, anomaly autocorrelation (observed month x hour
# climatology removed) at 24/48/168 h within 0.20 and of daily means at 1/2/3/7 days within 0.25.
# Prints how often the VAE is closer to the observed than the classical generator (skill table;
# informational for now).
# Usage: fidelity.sh CLIMVAE_BINARY SOURCE_DIR
set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
CLIMVAE="$1" "$2/jobscripts/demo.sh" "$work"
failed=$(awk -F, 'NR > 1 && $7 == "false"' "$work/fidelity.csv" | wc -l)
checked=$(awk -F, 'NR > 1 && ($7 == "true" || $7 == "false")' "$work/fidelity.csv" | wc -l)
echo "fidelity_paris: $((checked - failed)) of $checked checks passed"
# skill.csv: statistic,unit,observed,vae,classical,vae_error,classical_error,better
awk -F, 'NR > 1 && $6 != "" && $7 != "" { m++; n += $8 == "vae" }
         END { printf "fidelity_paris: VAE closer on %d of %d\n", n, m }' "$work/report/skill.csv"
# The same against a classical generator fitted on the VAE's training period (2014-2021): both
# then know the same years (docs/fidelity.md).
"$1" evaluate --store "$work/paris_2014-2023.nc" --classical-store "$work/paris_2014-2021.nc" \
  --generated "$work/paris_2022_ensemble.nc" --skill-csv "$work/skill_same_period.csv" > /dev/null
awk -F, 'NR > 1 && $6 != "" && $7 != "" { m++; n += $8 == "vae" }
         END { printf "fidelity_paris: VAE closer on %d of %d against the classical generator of the training period\n", n, m }' \
  "$work/skill_same_period.csv"
/usr/bin/python3 "$2/tests/check_seams.py" "$work/paris_2022_ensemble.nc" "$2/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv" \
  || { echo "fidelity_paris: a seam in the generated traces"; exit 1; }
[ "$checked" -ge 35 ] && [ "$failed" -eq 0 ]
