#!/usr/bin/env bash
# The acceptance run: train on Paris 2014-2021, generate 100 one-year members for 2022 and
# require every fidelity check against the observed 2014-2023 climatology (moved to 2022) to
# pass: monthly means within 1.0 °C, monthly sd within 20 %, diurnal amplitude per season within
# 15 %, autocorrelation at 1/24/48/168 h within 0.08.
# Usage: fidelity.sh CLIMVAE_BINARY SOURCE_DIR
set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
CLIMVAE="$1" "$2/jobscripts/demo.sh" "$work" | tail -45
failed=$(awk -F, 'NR > 1 && $7 == "false"' "$work/fidelity.csv" | wc -l)
checked=$(awk -F, 'NR > 1 && ($7 == "true" || $7 == "false")' "$work/fidelity.csv" | wc -l)
echo "fidelity_paris: $((checked - failed)) of $checked checks passed"
[ "$checked" -ge 32 ] && [ "$failed" -eq 0 ]
