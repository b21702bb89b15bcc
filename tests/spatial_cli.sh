#!/usr/bin/env bash
# Several cells through the command line: the six Beijing stations of tests/data/beijing_sites.csv
# (UCI layout, Beijing time UTC+8) prepared into one store, and `evaluate` of several cells from
# one file per cell and from one grid file (the 2 x 3 ERA5 grid near Berlin): the observed
# correlations of daily-mean anomalies must be those the data give (computed independently from
# the CSV files in Python), and bad input must be refused with a clear message.
# The models are trained for one epoch only: the generated correlations are not checked here.
# Usage: spatial_cli.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
data="$2/tests/data"
source "$2/tests/check.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# UTC+8: Beijing's 2013-03-01 00:00 is 2013-02-28 16:00 UTC; --from/--until are UTC days.
check beijing-prepare 0 "2013-03-01T00:00 .. 2017-02-28T15:00 UTC (35056 hours: 35036 present" -- \
  "$climvae" prepare --sites "$data/beijing_sites.csv" --output beijing.nc --from 2013-03-01 --until 2017-02-28 --no-trend
check beijing-needs-offset nonzero "give the UTC offset of its timestamps" -- \
  "$climvae" prepare --input "$data/beijing/PRSA_TEMP_Dongsi_20130301-20170228.csv" --output x.nc --lat 39.9 --lon 116.4
# No calibration: this tests what evaluate reports, not the model (its fit would take most of the time).
"$climvae" train --store beijing.nc --output beijing.model --epochs 1 --validation-fraction 0 --calibrate off > /dev/null
for cell in 0 1 2 3 4 5; do
  "$climvae" generate --model beijing.model --cell "$cell" --start 2015-01-01 --hours 8760 --members 2 --seed 5 \
    --output "cell_$cell.nc" > /dev/null
done
check per-cell-files 0 "daily-mean anomaly correlation between cells" -- \
  "$climvae" evaluate --store beijing.nc --generated cell_[0-5].nc --cell 3 --spatial-csv pairs.csv --spatial-json pairs.json
grep -qF "cell 3 (40.328 N" <<<"$check_output" || { echo "FAIL --cell 3 is not the evaluated cell"; failures=$((failures + 1)); }
# Independent: the same correlations from the CSV files (UTC days, each station's mean and three
# annual harmonics of the day fitted by least squares and removed).
check beijing-observed 0 "15 pairs agree" -- python3 - "$data/beijing_sites.csv" pairs.csv <<'PY'
import csv, datetime as dt, itertools, math, os, sys
sites, anomalies = [], []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        sites.append(os.path.join(os.path.dirname(sys.argv[1]), line.split(",")[0].strip()))
for path in sites:
    days = {}
    for r in csv.DictReader(open(path)):
        t = dt.datetime(int(r["year"]), int(r["month"]), int(r["day"]), int(r["hour"])) - dt.timedelta(hours=8)
        if dt.datetime(2013, 3, 1) <= t < dt.datetime(2017, 3, 1):
            days.setdefault(t.date(), []).append(math.nan if r["TEMP"] == "NA" else float(r["TEMP"]))
    means = {d: sum(v) / 24 for d, v in days.items() if len(v) == 24 and not any(map(math.isnan, v))}
    def basis(d):
        angle = 2 * math.pi * ((d - dt.date(1970, 1, 1)).days + 0.5) / 365.2425
        return [1.0] + [f(k * angle) for k in (1, 2, 3) for f in (math.cos, math.sin)]
    a = [[0.0] * 8 for _ in range(7)]  # normal equations, right-hand side in column 7
    for d, v in means.items():
        b = basis(d)
        for i in range(7):
            a[i][7] += b[i] * v
            for j in range(7):
                a[i][j] += b[i] * b[j]
    for c in range(7):  # Gauss-Jordan
        for r in range(7):
            if r != c:
                f = a[r][c] / a[c][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    coef = [a[i][7] / a[i][i] for i in range(7)]
    anomalies.append({d: v - sum(c * b for c, b in zip(coef, basis(d))) for d, v in means.items()})
def corr(a, b):
    x, y = zip(*[(a[d], b[d]) for d in a if d in b])
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((p - mx) * (q - my) for p, q in zip(x, y)) / math.sqrt(
        sum((p - mx) ** 2 for p in x) * sum((q - my) ** 2 for q in y))
rows = {(int(r["cell_a"]), int(r["cell_b"])): r for r in csv.DictReader(open(sys.argv[2]))}
bad = [(a, b, rows[(a, b)]["observed"], corr(anomalies[a], anomalies[b]))
       for a, b in itertools.combinations(range(len(sites)), 2)
       if abs(float(rows[(a, b)]["observed"]) - corr(anomalies[a], anomalies[b])) > 1e-5]
print(f"{len(rows) - len(bad)} pairs agree", *bad)
sys.exit(1 if bad or len(rows) != 15 else 0)
PY
check json 0 '"bins": [' -- cat pairs.json

# One grid file of six cells: every pair, in store order.
"$climvae" prepare --input "$data/era5/era5-cds-nc-feedinlib/ERA5_example_data.nc" --output grid.nc --no-trend > /dev/null
"$climvae" train --store grid.nc --output grid.model --epochs 1 --validation-fraction 0 --calibrate off > /dev/null
"$climvae" generate --model grid.model --start 2017-01-01 --hours 8760 --members 2 --seed 5 --output grid_gen.nc > /dev/null
check grid-file 0 "6 cells in all" -- "$climvae" evaluate --store grid.nc --generated grid_gen.nc --spatial-csv grid_pairs.csv
check grid-observed 0 "15 pairs, observed r > 0.99" -- awk -F, 'NR > 1 { n++; if ($8 < 0.99 || $1 >= $2) bad++ }
  END { print n " pairs, observed r > 0.99"; exit (bad || n != 15) }' grid_pairs.csv

# Bad input.
"$climvae" generate --model beijing.model --cell 1 --start 2015-01-01 --hours 8760 --members 3 --seed 5 --output three.nc > /dev/null
"$climvae" generate --model beijing.model --cell 1 --start 2015-01-02 --hours 8760 --members 2 --seed 5 --output later.nc > /dev/null
check members-differ nonzero "has 3 members, the first cell 2" -- "$climvae" evaluate --store beijing.nc --generated cell_0.nc three.nc
check same-member-twice nonzero "member 1 of the cell at" -- "$climvae" evaluate --store beijing.nc --generated cell_0.nc cell_1.nc cell_1.nc
check periods-differ nonzero "covers 2015-01-02T00:00" -- "$climvae" evaluate --store beijing.nc --generated cell_0.nc later.nc
check cell-not-in-store nonzero "no cell of store 'beijing.nc' is at 52.3" -- "$climvae" evaluate --store beijing.nc --generated grid_gen.nc
check cell-not-generated nonzero "--cell 4 was not generated" -- "$climvae" evaluate --store beijing.nc --generated cell_0.nc cell_1.nc --cell 4
check spatial-needs-cells nonzero "--spatial-csv needs several generated cells" -- \
  "$climvae" evaluate --store beijing.nc --generated cell_0.nc --spatial-csv p.csv
finish
