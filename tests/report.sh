#!/usr/bin/env bash
# A small run (3 years of Paris and Berlin in one model, 2 epochs, 4 members in one file each)
# through `climvae evaluate --report`, the page loaded in headless Chromium: every image must
# load (the between-cells correlation figure too), and the numbers shown must be those of the
# statistics files. Skips (status 77) only when chromium is not installed.
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
paris="$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
berlin="$src/tests/data/openmeteo/open-meteo-52.55N13.41E38m_Berlin.csv"
"$climvae" prepare --input "$paris" --input "$berlin" --output sites.nc --from 2019-01-01 --until 2021-12-31 --no-trend > /dev/null
"$climvae" train --store sites.nc --output sites.model --epochs 2 > /dev/null
"$climvae" generate --model sites.model --start 2022-01-01 --hours 8760 --members 4 --seed 7 --layout members \
  --output gen.nc > /dev/null
"$climvae" evaluate --store sites.nc --generated gen_r*.nc --report report --spatial-csv pairs.csv | tail -3
cmp pairs.csv report/spatial_pairs.csv || { echo "FAIL: --spatial-csv differs from the report's spatial_pairs.csv"; exit 1; }
[ "$(wc -l < pairs.csv)" = 2 ] || { echo "FAIL: pairs.csv should hold one pair"; cat pairs.csv; exit 1; }
# Chromium needs a writable home and, as root, no sandbox.
HOME="$work" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
  --dump-dom "file://$work/report/index.html" > dom.html 2> chromium.log || { tail -5 chromium.log; exit 1; }
python3 "$src/tests/check_report.py" report dom.html || exit 1
# Bad input: a clear message naming the problem, a non-zero status.
for args in "--generated gen_r*.nc --report /proc/no-such-dir|cannot create --report directory" \
            "--generated gen_r*.nc --report r2 --report-script $work/missing.py|--report-script '$work/missing.py' does not exist" \
            "--generated gen_r1i1p1f1_*.nc gen_r2i1p1f1_*.nc gen_r1i1p1f1_*.nc|member 1 of the cell at" \
            "--generated gen_r*.nc --cell 5|--cell 5 is outside store"; do
  if output="$("$climvae" evaluate --store sites.nc ${args%%|*} 2>&1)" ||
     ! grep -qF -- "${args#*|}" <<<"$output"; then
    echo "FAIL: evaluate ${args%%|*} should fail with '${args#*|}': $(tail -1 <<<"$output")"
    exit 1
  fi
done
echo "report: bad-input errors ok"
