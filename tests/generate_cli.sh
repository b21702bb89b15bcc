#!/usr/bin/env bash
# climvae generate through the command line on a briefly trained Paris model: 1 vs 2 ranks and
# chunked vs one-piece output bit for bit, no seam at 96-hour block boundaries (hour-to-hour
# changes at block starts against the same local hour inside blocks), +2 K minus base = 2 K per
# member, scenario attributes, CDO, and bad requests (unknown cell, bad --cells/--bbox, negative
# length, start outside the calendar, existing output, a file size limit) refused with nothing
# left looking complete, and a run stopped by SIGTERM leaving no member files.
# Usage: generate_cli.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
csv="$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
mpirun="mpirun --allow-run-as-root --oversubscribe"
py=/usr/bin/python3
source "$(dirname "$0")/check.sh"
gen() { "$climvae" generate --model paris.model --seed 7 "$@"; }

check prepare 0 "wrote paris.nc" -- "$climvae" prepare --input "$csv" --output paris.nc --from 2016-01-01 --until 2021-12-31
check train 0 "wrote paris.model" -- "$climvae" train --store paris.nc --output paris.model --epochs 40 --early-stop 1000

# Reproducibility: one rank in one piece, two ranks in chunks of 1000 hours, one file per member.
check base 0 "wrote 20 member(s) x 8760 hours" -- gen --start 2022-01-01 --hours 8760 --members 20 --output base.nc
check np2-chunked 0 "time chunks of 1000 hours" -- $mpirun -np 2 "$climvae" generate --model paris.model --seed 7 \
  --start 2022-01-01 --hours 8760 --members 20 --output np2.nc --chunk-hours 1000
check np2-member-files 0 "20 files" -- $mpirun -np 2 "$climvae" generate --model paris.model --seed 7 \
  --start 2022-01-01 --hours 8760 --members 20 --output tas_1hr.nc --layout members --chunk-hours 777
check identical 0 "identical" -- $py -c "
import netCDF4, numpy as np, glob
a = netCDF4.Dataset('base.nc')['tas'][:, :, 0, 0]
b = netCDF4.Dataset('np2.nc')['tas'][:, :, 0, 0]
assert np.array_equal(a, b), 'np2 chunked differs'
for m in range(20):
    f = 'tas_1hr_r%di1p1f1_2022010100-2022123123.nc' % (m + 1)
    assert np.array_equal(a[:, m], netCDF4.Dataset(f)['tas'][:, 0]), f
print('identical')"

# Continuity: Paris decodes from UTC midnight, so blocks start at hours 96k; compare the change
# into those midnights with the change into the other midnights, and chunk boundaries likewise.
check seams 0 "no seam" -- $py -c "
import netCDF4, numpy as np
x = np.asarray(netCDF4.Dataset('base.nc')['tas'][:, :, 0, 0], dtype=np.float64)
d = np.diff(x, axis=0)            # d[t-1] = x[t] - x[t-1]
t = np.arange(1, x.shape[0])
def stats(sel):
    v = d[sel].ravel()
    return v.mean(), v.std(), np.abs(v).mean()
blk = stats((t % 96 == 0)); mid = stats((t % 24 == 0) & (t % 96 != 0))
chk = stats((t % 1000 == 0)); hr = (np.arange(1, 9) * 1000) % 24
inner = stats(np.isin(t % 24, hr) & (t % 1000 != 0))
print('block starts: mean %.3f sd %.3f mean|d| %.3f; other midnights: %.3f %.3f %.3f' % (blk + mid))
print('chunk starts: mean %.3f sd %.3f mean|d| %.3f; same hours inside: %.3f %.3f %.3f' % (chk + inner))
for a, b in ((blk, mid), (chk, inner)):
    assert abs(a[0] - b[0]) < 0.25 * b[1] + 0.05, 'mean change differs'
    assert 0.75 < a[1] / b[1] < 1.33 and 0.75 < a[2] / b[2] < 1.33, 'spread of changes differs'
print('no seam')"
echo "$check_output"  # the measured distributions, for the log

# Scenarios: +2 K minus base is 2 K for every member; attributes record the options.
check plus2 0 "plus 2 K" -- gen --start 2022-01-01 --hours 8760 --members 20 --output plus2.nc --warming-offset 2
check plus2-exact 0 "2 K per member" -- $py -c "
import netCDF4, numpy as np
a = np.asarray(netCDF4.Dataset('base.nc')['tas'][:, :, 0, 0], dtype=np.float64)
b = np.asarray(netCDF4.Dataset('plus2.nc')['tas'][:, :, 0, 0], dtype=np.float64)
diff = (b - a).mean(axis=0)
assert np.all(np.abs(diff - 2) < 1e-5), diff
assert np.abs(b - a - 2).max() < 3e-5
print('2 K per member')"
printf 'year,offset_K\n2020,0.0\n2040,1.0\n2060,2.0\n' > path.csv
check transient 0 "warming table 2020-2060" -- gen --start 2030-01-01 --hours 262800 --members 1 --output tr.nc \
  --warming-table path.csv --pattern-rate 0.3K/decade --transient
check transient-attributes 0 'climvae_warming_table_K = "2020:0 2040:1 2060:2"' -- ncdump -h tr.nc
check rate-attributes 0 'climvae_warming_rate_K_per_year = "0.030000"' -- bash -c "'$climvae' generate \
  --model paris.model --start 2040-01-01 --hours 48 --output rate.nc --warming-rate 0.3K/decade --target-year 2040 &&
  ncdump -h rate.nc"
# A learned trend extended far beyond the data is said aloud (the trend of Paris 2016-2021).
check far-target-year 0 "extended linearly 29 years" -- gen --start 2050-01-01 --hours 48 --output far.nc \
  --target-year 2050
check near-target-year 0 "wrote 1 member" -- gen --start 2030-01-01 --hours 48 --output near.nc --target-year 2030
check near-target-year-quiet 0 "" -- bash -c '! grep -q "extended linearly" <<<"$1"' _ "$check_output"
# CDO reads both layouts without a warning: a grid file's levels are its members, a member
# file's level is the 2 m height (both CDO 2.1's only vertical axis of tas).
check cdo-grid 0 "realization" -- bash -c "cdo -s sinfon base.nc 2>&1; ncdump -h base.nc | grep 'tas(time, realization'"
check cdo-grid-quiet 0 "" -- bash -c '! grep -qi "warning" <<<"$1"' _ "$check_output"
check cdo-member 0 "height : 2 m" -- cdo sinfon tas_1hr_r1i1p1f1_2022010100-2022123123.nc
check cdo-member-quiet 0 "" -- bash -c '! grep -qi "warning" <<<"$1"' _ "$check_output"

# Bad requests: a clear message, a non-zero status, nothing left looking complete.
check unknown-cell nonzero "cell 3 is not in the model" -- gen --start 2022-01-01 --hours 10 --cells 0,3 --output bad.nc
check cells-not-numbers nonzero "--cells: 'x' is not a number (in '0,x')" -- gen --start 2022-01-01 --hours 10 --cells 0,x --output bad.nc
check bbox-reversed nonzero "--bbox: expected 'lat_min,lat_max,lon_min,lon_max' with min <= max" -- gen --start 2022-01-01 --hours 10 --bbox 49,48,0,5 --output bad.nc
check bbox-empty nonzero "--bbox: no cell of the model lies in '10,20,0,5'" -- gen --start 2022-01-01 --hours 10 --bbox 10,20,0,5 --output bad.nc
check bbox-paris 0 "x 1 cell(s)" -- gen --start 2022-01-01 --hours 10 --bbox 48,49,2,3 --output bbox.nc
check negative-hours nonzero "--hours must be at least 1" -- gen --start 2022-01-01 --hours -5 --output bad.nc
check outside-calendar nonzero "calendar" -- gen --start 9999-12-31 --hours 100 --output bad.nc
check no-date nonzero "2022-13-01" -- gen --start 2022-13-01 --hours 10 --output bad.nc
check existing nonzero "exists already" -- gen --start 2022-01-01 --hours 10 --output base.nc
check existing-member-file nonzero "exists already" -- gen --start 2022-01-01 --hours 8760 --members 20 \
  --output tas_1hr.nc --layout members
check kept-old 0 "identical" -- bash -c "cmp -s base.nc base.nc && $py -c \"
import netCDF4; assert netCDF4.Dataset('base.nc').dimensions['time'].size == 8760; print('identical')\""
check not-grid nonzero "table" -- gen --start 2022-01-01 --hours 10 --output bad.nc --warming-table path.csv \
  --target-year 2070
# A file size limit (as a full disk): the MPI launcher runs outside the limit, climvae inside it.
check size-limit nonzero "bytes reached the disk" -- $mpirun -np 1 bash -c "ulimit -f 200; exec '$climvae' generate \
  --model paris.model --seed 7 --start 2022-01-01 --hours 8760 --members 20 --output full.nc"
check nothing-left 0 "" -- bash -c "! ls bad.nc full.nc* 2>/dev/null | grep ."

# SIGTERM (scancel, a time limit) to mpirun once the first member files are complete: the ranks
# agree to stop at the next time chunk and remove every file of the run, so that no ensemble is
# left with members missing.
$mpirun -np 2 "$climvae" generate --model paris.model --seed 7 --start 2022-01-01 --hours 876000 --members 200 \
  --layout members --chunk-hours 8760 --output stop.nc > stop.log 2>&1 &
launcher=$!
for _ in $(seq 600); do ls stop_r*.nc > /dev/null 2>&1 && break; sleep 0.1; done
members_before=$(ls stop_r*.nc 2> /dev/null | wc -l)
kill -TERM $launcher
wait $launcher
echo "  (SIGTERM with $members_before member files complete: status $?)"
check stopped-message 0 "stopped by SIGTERM before the ensemble was complete" -- cat stop.log
check stopped-nothing-left 0 "" -- bash -c "! ls stop_r* stop*.tmp-* 2>/dev/null | grep ."

finish
