#!/usr/bin/env bash
# Weather that covers a region (docs/fidelity.md): one model trained on the six distinct Beijing
# stations (tests/data/beijing_sites.csv, 12-60 km apart), 40 members of 2015 generated per
# station with one seed; the correlation of daily-mean anomalies between every pair of stations,
# member m against member m, must be within TOLERANCE of the observed (0.95-0.98), and far above
# what independent cells give (about 0.03: anomalies from each series' seasonal cycle, so the
# cycle's slope within a month is not counted as shared weather). Also: a station generated
# alone equals the same station in a two-station request, and `--spatial off` gives independent
# stations (below 0.1).
# Usage: fidelity_beijing.sh CLIMVAE_BINARY SOURCE_DIR [WORKDIR]   (EPOCHS=300, TOLERANCE=0.05)
set -uo pipefail
climvae="$1"
data="$2/tests/data"
source "$2/tests/check.sh"
epochs="${EPOCHS:-300}"
tolerance="${TOLERANCE:-0.05}"
work="${3:-$(mktemp -d)}"
[ $# -ge 3 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work" && cd "$work"

check prepare 0 "35036 present" -- \
  "$climvae" prepare --sites "$data/beijing_sites.csv" --output beijing.nc --from 2013-03-01 --until 2017-02-28 --no-trend --overwrite
check train 0 "spatial factors shared by the 6 cells" -- \
  "$climvae" train --store beijing.nc --output beijing.model --epochs "$epochs" --overwrite
for cell in 0 1 2 3 4 5; do
  "$climvae" generate --model beijing.model --cell "$cell" --start 2015-01-01 --hours 8760 --members 40 --seed 2015 \
    --output "cell_$cell.nc" --overwrite > /dev/null || { echo "FAIL generate cell $cell"; failures=$((failures + 1)); }
done
check evaluate 0 "daily-mean anomaly correlation between cells" -- \
  "$climvae" evaluate --store beijing.nc --generated cell_[0-5].nc --cell 0 --spatial-csv pairs.csv
echo "$check_output" | sed -n '/daily-mean anomaly correlation/,$p'
check pairs-within-tolerance 0 "15 of 15 pairs within" -- python3 "$2/tests/check_pairs.py" pairs.csv "$tolerance" 15
# Independent stations for reference, and one station alone equals itself in a larger request.
"$climvae" generate --model beijing.model --cell 0 --start 2015-01-01 --hours 8760 --members 40 --seed 2015 \
  --spatial off --output off_0.nc --overwrite > /dev/null
"$climvae" generate --model beijing.model --cell 1 --start 2015-01-01 --hours 8760 --members 40 --seed 2015 \
  --spatial off --output off_1.nc --overwrite > /dev/null
check spatial-off 0 "daily-mean anomaly correlation" -- \
  "$climvae" evaluate --store beijing.nc --generated off_0.nc off_1.nc --cell 0 --spatial-csv off.csv
check independent-when-off 0 "independent" -- python3 -c "
import csv; r = next(csv.DictReader(open('off.csv'))); g = float(r['generated'])
print('independent' if abs(g) < 0.1 else 'correlated', g)"
finish
