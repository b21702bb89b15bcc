#!/usr/bin/env bash
# The main job on the data shipped with the project: prepare the Paris series (2014-2021),
# train the VAE, generate 100 one-year members for 2022 and evaluate them against the observed
# 2014-2023 climatology moved to the same reference year (2022), and write the evaluation report
# (OUTDIR/report/index.html: figures, tables, the classical generator beside the VAE).
# Usage: jobscripts/demo.sh [OUTDIR]   (EPOCHS=N to change the training length)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
climvae="${CLIMVAE:-$root/${CLIMVAE_BUILD_DIR:-build}/drivers/climvae}"
out="${1:-$root/out/demo}"
epochs="${EPOCHS:-1000}"
csv="$root/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
mkdir -p "$out"
cd "$out"

echo "== prepare: Paris 2014-2021 for training, 2014-2023 for evaluation (reference year 2022)"
"$climvae" prepare --input "$csv" --output paris_2014-2021.nc --until 2021-12-31 --reference-year 2022 --overwrite
"$climvae" prepare --input "$csv" --output paris_2014-2023.nc --until 2023-12-31 --reference-year 2022 --overwrite
echo "== train: $epochs epochs"
"$climvae" train --store paris_2014-2021.nc --output paris.model --epochs "$epochs" --log train_log.csv --overwrite \
  | awk 'NR <= 2 || /trained|wrote/ || $2 ~ /^[0-9]+\// && ($2 + 0) % 100 == 0'
echo "== generate: 100 members x 8760 hours from 2022-01-01"
"$climvae" generate --model paris.model --start 2022-01-01 --hours 8760 --members 100 --seed 2022 \
  --output paris_2022_ensemble.nc --overwrite
echo "== evaluate"
"$climvae" evaluate --store paris_2014-2023.nc --generated paris_2022_ensemble.nc \
  --csv fidelity.csv --json fidelity.json --report report
echo "outputs in $out"
