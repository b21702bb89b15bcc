#!/usr/bin/env bash
# A small run (3 years of Paris, 2 epochs, 4 members) through `climvae evaluate --report`, the
# page loaded in headless Chromium: every image must load, and the numbers shown must be those
# of the statistics files. Skips (status 77) only when chromium is not installed.
# Usage: report.sh CLIMVAE_BINARY SOURCE_DIR
set -euo pipefail
climvae="$1"
src="$2"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium; jobscripts/setup-debian.sh does)"
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
csv="$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
"$climvae" prepare --input "$csv" --output paris.nc --from 2019-01-01 --until 2021-12-31 --no-trend > /dev/null
"$climvae" train --store paris.nc --output paris.model --epochs 2 > /dev/null
"$climvae" generate --model paris.model --start 2022-01-01 --hours 8760 --members 4 --seed 7 --output gen.nc > /dev/null
"$climvae" evaluate --store paris.nc --generated gen.nc --report report | tail -3
# Chromium needs a writable home and, as root, no sandbox.
HOME="$work" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
  --dump-dom "file://$work/report/index.html" > dom.html 2> chromium.log || { tail -5 chromium.log; exit 1; }
python3 "$src/tests/check_report.py" report dom.html || exit 1
# Bad input: a clear message naming the problem, a non-zero status.
for args in "--report /proc/no-such-dir|cannot create --report directory" \
            "--report r2 --report-script $work/missing.py|the figure script failed"; do
  if output="$("$climvae" evaluate --store paris.nc --generated gen.nc ${args%%|*} 2>&1)" ||
     ! grep -qF -- "${args#*|}" <<<"$output"; then
    echo "FAIL: evaluate ${args%%|*} should fail with '${args#*|}': $(tail -1 <<<"$output")"
    exit 1
  fi
done
echo "report: bad-input errors ok"
