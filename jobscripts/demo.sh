#!/usr/bin/env bash
# The main job on the data shipped with the project: prepare the Paris series (2014-2021),
# train the VAE, generate 100 one-year members for 2022 and evaluate them against the observed
# 2014-2023 climatology moved to the same reference year (2022), and write the evaluation report
# (OUTDIR/report/index.html: figures, tables, the classical generator beside the VAE).
# Training uses climvae's defaults: it stops when the validation loss has not improved for 100
# epochs (or at the epoch ceiling derived from the number of windows) and keeps the best weights.
# Usage: jobscripts/demo.sh [OUTDIR]   (EPOCHS=N for a fixed epoch ceiling instead)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
climvae="${CLIMVAE:-$root/${CLIMVAE_BUILD_DIR:-build}/drivers/climvae}"
out="${1:-$root/out/demo}"
epochs=()
[ -n "${EPOCHS:-}" ] && epochs=(--epochs "$EPOCHS")
csv="$root/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
mkdir -p "$out"
cd "$out"

echo "== prepare: Paris 2014-2021 for training, 2014-2023 for evaluation (reference year 2022)"
"$climvae" prepare --input "$csv" --output paris_2014-2021.nc --until 2021-12-31 --reference-year 2022 --overwrite
"$climvae" prepare --input "$csv" --output paris_2014-2023.nc --until 2023-12-31 --reference-year 2022 --overwrite
echo "== train: ${EPOCHS:-default} epochs"
"$climvae" train --store paris_2014-2021.nc --output paris.model "${epochs[@]}" --log train_log.csv --overwrite \
  | awk '/^epoch/ { if ($2 ~ /^1\// || ($2 + 0) % 100 == 0) { print; last = "" } else last = $0; next }
         /^trained/ && last != "" { print last }
         { print }'
echo "== generate: 100 members x 8760 hours from 2022-01-01"
"$climvae" generate --model paris.model --start 2022-01-01 --hours 8760 --members 100 --seed 2022 \
  --output paris_2022_ensemble.nc --overwrite
echo "== evaluate"
"$climvae" evaluate --store paris_2014-2023.nc --generated paris_2022_ensemble.nc \
  --csv fidelity.csv --json fidelity.json --report report --overwrite
echo "outputs in $out"
