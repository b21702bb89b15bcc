#!/usr/bin/env bash
# What a careless or hostile user does through the command line, each refused with a message
# naming the value and nothing lost: two generate runs racing for one output, a stale temporary,
# scenario values outside physical bounds, impossible input temperatures, a nonsense
# --spatial-factors, --config naming a directory, a negative --seed, evaluate on an all-missing
# or partial file, an existing export, outputs that are devices, FIFOs, links or an input,
# flags in config files, a corrupt header, implausible generated values, bad site lists, inputs
# that are FIFOs, malformed warming tables, more members than the memory budget, an export onto
# its own model, evaluate on MPI ranks given different files of which one is bad, an empty or
# FIFO --generated, NetCDF inputs with nonsense headers or attributes, damaged stores, nonsense
# training numbers, --resume on another store, unwritable output directories, --generated files
# with a coordinate longer than its dimension or a target year that is no year, calibrate on an
# all-missing store, a --report that is a file or whose script draws no page, an empty --cells.
# Usage: hostile_cli.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$(realpath "$1")"
src="$(realpath "$2")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
csv="$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
source "$src/tests/check.sh"
gen() { "$climvae" generate --model paris.model --start 2022-01-01 "$@"; }
absent() {  # absent NAME FILE...: none of the files exists
  local name="$1" f
  shift
  for f in "$@"; do
    if [ -e "$f" ]; then echo "FAIL $name: '$f' was written"; failures=$((failures + 1)); return; fi
  done
  echo "ok   $name"
}

check prepare 0 "wrote paris.nc" -- "$climvae" prepare --input "$csv" --output paris.nc --from 2019-01-01 --until 2021-12-31 --no-trend
check train 0 "wrote paris.model" -- "$climvae" train --store paris.nc --output paris.model --epochs 1
# A factor count that is neither 'auto' nor 0..32 is refused before any training or fitting.
check spatial-factors-word 1 "--spatial-factors must be 'auto' or a count 0..32, got 'lots'" -- \
  "$climvae" train --store paris.nc --output lots.model --epochs 1 --spatial-factors lots
check spatial-factors-range 1 "got '40'" -- \
  "$climvae" calibrate --model paris.model --store paris.nc --output forty.model --spatial-factors 40
absent spatial-factors-nothing-written lots.model forty.model
# calibrate on a store whose cell is all missing wrote a model "calibrated" on nothing (every
# correction, noise sd and quantile 0); refused as train refuses such a store, nothing written.
cp paris.nc missing-store.nc
/usr/bin/python3 -c "
import netCDF4
f = netCDF4.Dataset('missing-store.nc', 'r+'); f['tas'][:] = float('nan'); f.close()"
check calibrate-all-missing nonzero "store 'missing-store.nc': cell 0 (48.82N 2.29E) has no complete training window" -- \
  "$climvae" calibrate --model paris.model --store missing-store.nc --output nothing.model
absent calibrate-all-missing-nothing-written nothing.model

# Two real processes race for one output: one wins, the other fails saying the file exists, and
# the file holds exactly the winner's complete data (its seed, every value present).
gen --hours 8760 --members 6 --seed 1 --output race.nc > race1.log 2>&1 & p1=$!
gen --hours 8760 --members 6 --seed 2 --output race.nc > race2.log 2>&1 & p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
if [ $((s1 == 0)) -eq $((s2 == 0)) ]; then
  echo "FAIL race: statuses $s1 and $s2 (wanted exactly one success)"; cat race1.log race2.log; failures=$((failures + 1))
else
  winner=$([ $s1 -eq 0 ] && echo 1 || echo 2); loser=$((3 - winner))
  check race-loser-message 0 "race.nc' exists" -- cat "race$loser.log"
  check race-file-is-the-winners 0 "complete" -- /usr/bin/python3 -c "
import netCDF4, numpy as np
f = netCDF4.Dataset('race.nc')
assert f.climvae_seed == '$winner', 'seed ' + f.climvae_seed + ', winner $winner'
tas = f['tas'][:]
assert tas.shape == (8760, 6, 1, 1) and not np.ma.is_masked(tas) and np.isfinite(tas).all(), 'incomplete'
print('complete')"
  echo "  (the loser stopped $(grep -q 'another run' "race$loser.log" && echo 'at its final rename' || echo 'at its start check'))"
fi
absent race-no-temporary race.nc.tmp-*

# A temporary left by a killed run (its pid is gone) is removed and named by the next run.
sleep 0 & dead=$!; wait $dead
touch "stale.nc.tmp-$dead"
check stale-temporary-named 0 "removed 'stale.nc.tmp-$dead'" -- gen --hours 24 --output stale.nc
absent stale-temporary-removed "stale.nc.tmp-$dead"

# Scenario values outside physical bounds (docs/user-guide.md, "What climvae refuses").
check cells-empty nonzero "--cells is empty: give cell numbers" -- gen --hours 24 --output s.nc --cells ""
check cell-empty nonzero "--cell is empty" -- gen --hours 24 --output s.nc --cell ""
check offset-nan nonzero "warming offset nan K is outside -30..30 K" -- gen --hours 24 --output s.nc --warming-offset nan
check offset-inf nonzero "warming offset inf K" -- gen --hours 24 --output s.nc --warming-offset inf
check offset-1e300 nonzero "warming offset 1e+300 K" -- gen --hours 24 --output s.nc --warming-offset 1e300
check offset-minus500 nonzero "warming offset -500 K" -- gen --hours 24 --output s.nc --warming-offset -500
check rate-1e308 nonzero "warming rate 1e+308 K/year is outside -1..1 K/year" -- \
  gen --hours 24 --output s.nc --warming-rate 1e308K/year --target-year 2100
check year-99999 nonzero "target year 99999 is outside 1..9999" -- gen --hours 24 --output s.nc --target-year 99999
check year-minus5 nonzero "target year -5 is outside 1..9999" -- gen --hours 24 --output s.nc --target-year=-5
check output-range nonzero "outside 150..350 K" -- \
  gen --hours 24 --output s.nc --warming-rate 1K/year --target-year 9000
check seed-negative nonzero "--seed must not be negative, got '-1'" -- gen --hours 24 --output s.nc --seed=-1
absent scenario-nothing-written s.nc s.nc.tmp-*

# Impossible input temperatures: file, line and value named; no store written.
# (The Paris file starts with an empty line and its header: line 4 is its second value.)
{ head -3 "$csv"; echo "2014-01-01T01:00,99999"; tail -n +5 "$csv" | head -2000; } > typo.csv
check typo-99999degC nonzero "typo.csv:4: temperature 99999 degC (100272.15 K) is outside 170..340 K" -- \
  "$climvae" prepare --input typo.csv --output bad.nc
{ head -3 "$csv"; echo "2014-01-01T01:00,1e308"; tail -n +5 "$csv" | head -2000; } > huge.csv
check csv-1e308 nonzero "huge.csv:4: temperature 1e+308 degC" -- "$climvae" prepare --input huge.csv --output bad.nc
# A Beijing station's -999 sentinel was stored as -725.85 K (only the half-hourly reader checked).
{ head -3 "$src/tests/data/beijing/PRSA_TEMP_Dongsi_20130301-20170228.csv"; echo "2013,3,1,2,-999"; } > prsa-999.csv
check prsa-minus999 nonzero "prsa-999.csv:4: temperature -999 degC (-725.85 K) is outside 170..340 K" -- \
  "$climvae" prepare --input prsa-999.csv --output bad.nc --timestamp-offset 8 --lat 39.9 --lon 116.4
# A serial day of 1e300 overflowed the day count (undefined behaviour, a nonsense message).
{ echo '"Date","Period","Temp"'; echo "1e300,1,20"; } > date-1e300.csv
check station-date-1e300 nonzero "date-1e300.csv:2: Date '1e300' is not a serial day of 1900-01-01..9999-12-31" -- \
  "$climvae" prepare --input date-1e300.csv --output bad.nc --timestamp-offset 10 --lat -33.9 --lon 151.2
# Rows 400 years apart each passed the step check: 26 of them made a 10000-year series (2.4 GB).
{ echo "time,t (K)"; for y in 0001 0400 0800 1200; do echo "$y-01-01T00:00,280"; done; } > span.csv
check csv-10000-years nonzero "span.csv:4: timestamp 0800-01-01T00:00 is more than 500 years after the first one" -- \
  "$climvae" prepare --input span.csv --output bad.nc --lat 1 --lon 1 --no-trend
# A binary file (a spreadsheet, gzip, NetCDF among CSVs) or old Mac line ends were echoed whole
# into the header message: megabytes, control bytes, cut at the first NUL.
printf 'PK\003\004\024\000\006\000' > sheet.xlsx
check csv-binary nonzero "sheet.xlsx:1: binary data, not CSV text" -- "$climvae" prepare --input sheet.xlsx --output bad.nc
head -5 "$csv" | tr '\n' '\r' > mac.csv
check csv-mac-line-ends nonzero "mac.csv:1: a carriage return inside a line: old Mac line ends?" -- \
  "$climvae" prepare --input mac.csv --output bad.nc
absent no-store bad.nc
# --output naming the input (or --sites list) with --overwrite replaced the data by the store.
cp "$csv" own.csv
check output-is-input nonzero "--input and --output name the same file 'own.csv'" -- \
  "$climvae" prepare --input own.csv --output ./own.csv --overwrite --no-trend
printf 'own.csv\n' > own-sites.txt
check output-is-site-list nonzero "--sites and --output name the same file 'own-sites.txt'" -- \
  "$climvae" prepare --sites own-sites.txt --output own-sites.txt --overwrite --no-trend
check output-is-input-kept 0 "" -- cmp "$csv" own.csv

# --config must be a readable file.
check config-directory nonzero "config file '$work' is not a regular file" -- gen --hours 24 --output c.nc --config "$work"
check config-missing nonzero "cannot open config file" -- gen --hours 24 --output c.nc --config "$work/none.ini"

# evaluate refuses a partial file and one without any value.
gen --hours 200 --seed 3 --output ok.nc > /dev/null
cp ok.nc "ok.nc.tmp-12345"
check evaluate-partial nonzero "is the temporary file of a run" -- "$climvae" evaluate --store paris.nc --generated ok.nc.tmp-12345
cp ok.nc nan.nc
/usr/bin/python3 -c "
import netCDF4
f = netCDF4.Dataset('nan.nc', 'r+'); f['tas'][:] = float('nan'); f.close()"
check evaluate-all-nan nonzero "holds no values" -- "$climvae" evaluate --store paris.nc --generated nan.nc
check evaluate-csv 0 "checks within tolerance" -- "$climvae" evaluate --store paris.nc --generated ok.nc --csv e.csv
check evaluate-csv-exists nonzero "e.csv' exists" -- "$climvae" evaluate --store paris.nc --generated ok.nc --csv e.csv
check evaluate-csv-overwrite 0 "checks within tolerance" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --csv e.csv --overwrite
# A generated file packed as CF int16 (scale_factor, add_offset; missing_value for holes) was read
# raw: 934 K, or with another offset a plausible, wrong temperature. Unpacked, it evaluates.
/usr/bin/python3 -c "
import netCDF4, numpy as np
src = netCDF4.Dataset('ok.nc')
with netCDF4.Dataset('packed.nc', 'w', format='NETCDF3_64BIT_OFFSET') as dst:
    for name, dim in src.dimensions.items(): dst.createDimension(name, len(dim))
    for name, var in src.variables.items():
        if name == 'tas':
            out = dst.createVariable('tas', 'i2', var.dimensions)
            out.setncatts({'units': 'K', 'scale_factor': np.float32(0.01), 'add_offset': np.float32(273.15),
                           'missing_value': np.int16(-32767)})
            out.set_auto_maskandscale(False)
            data = np.array(var[:], dtype=float)
            packed = np.round((data - 273.15) / 0.01).astype(np.int16)
            packed.flat[0] = -32767
            out[:] = packed
        else:
            out = dst.createVariable(name, var.dtype, var.dimensions)
            out.setncatts({a: var.getncattr(a) for a in var.ncattrs() if a != '_FillValue'})
            out[:] = var[:]
    dst.setncatts({a: src.getncattr(a) for a in src.ncattrs()})
"
check evaluate-packed 0 "checks within tolerance" -- "$climvae" evaluate --store paris.nc --generated packed.nc

# Outputs that are no regular file, or an input: refused before any work, nothing replaced.
mkfifo fifo.nc
ln -s ok.nc link.nc
check output-fifo nonzero "'fifo.nc' is a FIFO, not a regular file" -- gen --hours 24 --output fifo.nc --overwrite
check output-symlink nonzero "'link.nc' is a symbolic link" -- gen --hours 24 --output link.nc --overwrite
check output-device nonzero "'/dev/null' is a device" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --csv /dev/null --overwrite
check output-no-directory nonzero "its directory 'none/' does not exist" -- gen --hours 24 --output none/g.nc
[ -p fifo.nc ] && [ -L link.nc ] && [ -c /dev/null ] && echo "ok   not-regular-kept" || { echo "FAIL not-regular-kept"; failures=$((failures + 1)); }
cp paris.nc store-copy.nc
check log-is-store nonzero "--log and --store name the same file" -- \
  "$climvae" train --store store-copy.nc --output l.model --epochs 1 --log store-copy.nc
echo "old" > old.log
check log-exists nonzero "--log 'old.log' exists" -- "$climvae" train --store paris.nc --output l.model --epochs 1 --log old.log
check checkpoint-is-output nonzero "--checkpoint and --output name the same file" -- \
  "$climvae" train --store paris.nc --output l.model --epochs 1 --checkpoint l.model
check evaluate-csv-is-input nonzero "--generated and --csv name the same file" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --csv ok.nc --overwrite
cmp -s paris.nc store-copy.nc && grep -qx old old.log && echo "ok   inputs-kept" || { echo "FAIL inputs-kept"; failures=$((failures + 1)); }
absent nothing-trained l.model

# Flags in a --config file mean what they say: 'false' is off, nonsense is refused.
gen --hours 48 --output keep.nc > /dev/null
printf 'model = paris.model\nstart = 2022-01-01\nhours = 24\noverwrite = false\n' > no-overwrite.ini
check config-flag-false nonzero "keep.nc' exists" -- "$climvae" generate --config no-overwrite.ini --output keep.nc
printf 'model = paris.model\nstart = 2022-01-01\nhours = 24\nadd-noise = banana\n' > banana.ini
check config-flag-nonsense nonzero "('banana') for option 'add-noise' is invalid" -- "$climvae" generate --config banana.ini --output b.nc
check warming-rate-alone nonzero "give --target-year (a time slice) or --transient" -- \
  gen --hours 24 --output w.nc --warming-rate 0.3K/decade

# One flipped byte in a header (an attribute 17 GB long) is named at once, not allocated.
cp paris.nc flipped.nc
/usr/bin/python3 -c "
b = bytearray(open('flipped.nc', 'rb').read()); u = b.find(b'units')  # then padding, type, 8-byte length
b[u + 15] = 4; open('flipped.nc', 'wb').write(b)"
check header-corrupt nonzero "more than the file's" -- timeout 20 "$climvae" evaluate --store flipped.nc --generated ok.nc

# Generated values no air temperature has (another unit, a broken file) are refused.
cp ok.nc hot.nc
/usr/bin/python3 -c "
import netCDF4
f = netCDF4.Dataset('hot.nc', 'r+'); f['tas'][5, 0, 0, 0] = 1e30; f.close()"
check evaluate-implausible nonzero "outside the plausible 150..350 K" -- "$climvae" evaluate --store paris.nc --generated hot.nc

# A --generated FIFO is refused, not waited on for ever; an empty file is named as no NetCDF.
check evaluate-generated-fifo nonzero "NetCDF file 'fifo.nc' is a FIFO, not a regular file" -- \
  timeout 20 "$climvae" evaluate --store paris.nc --generated fifo.nc
: > empty.nc
check evaluate-generated-empty nonzero "NetCDF file 'empty.nc' is not a NetCDF file" -- \
  "$climvae" evaluate --store paris.nc --generated empty.nc

# A coordinate variable on a longer dimension than its own ('lat' of 100000 values for one cell)
# was read whole into a buffer of its dimension's length: a heap overflow, a segfault. A target
# year no calendar has was cast to int (-2147483648) and the observed trend moved there.
/usr/bin/python3 -c "
import netCDF4, numpy as np
s = netCDF4.Dataset('ok.nc')
for name in ('lat-long', 'year-nan'):
    d = netCDF4.Dataset(name + '.nc', 'w', format='NETCDF3_64BIT_DATA')
    for dim in ('time', 'realization', 'lat', 'lon'): d.createDimension(dim, len(s.dimensions[dim]))
    d.createDimension('long', 100000)
    for v in ('time', 'realization', 'lat', 'lon'):
        dims = ('long',) if (name, v) == ('lat-long', 'lat') else s[v].dimensions
        d.createVariable(v, s[v].dtype, dims)[:] = np.resize(s[v][:], d.dimensions[dims[0]].size)
        d[v].setncatts({a: s[v].getncattr(a) for a in s[v].ncattrs()})
    t = d.createVariable('tas', 'f4', s['tas'].dimensions, fill_value=np.float32(1e20)); t.units = 'K'; t[:] = s['tas'][:]
    d.setncatts({a: s.getncattr(a) for a in s.ncattrs()})
    if name == 'year-nan': d.climvae_target_year = float('nan')
    d.close()"
check evaluate-lat-too-long nonzero "NetCDF file 'lat-long.nc': variable 'lat' holds 100000 values, expected 1" -- \
  "$climvae" evaluate --store paris.nc --generated lat-long.nc
check evaluate-target-year-nan nonzero "NetCDF file 'year-nan.nc': attribute 'climvae_target_year' is nan, not a year" -- \
  "$climvae" evaluate --store paris.nc --generated year-nan.nc

# --report naming a file, or a script that draws no page: named before the work, and a page that
# was never drawn is not reported as written.
echo "not a directory" > report-file
check report-onto-file nonzero "--report 'report-file' exists and is not a directory" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --report report-file
: > draws-nothing.py
check report-script-draws-nothing nonzero "wrote no 'no-page/index.html'" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --report no-page --report-script draws-nothing.py

# MPI ranks given different files (an MPMD launch), one of them bad: every rank fails with that
# file's message, whichever rank has it, rather than waiting in a collective read of the others'.
mpmd() {  # mpmd STORE0 GENERATED0 STORE1 GENERATED1: evaluate on two ranks with their own files
  timeout 60 mpirun --oversubscribe -np 1 "$climvae" evaluate --store "$1" --generated "$2" : \
    -np 1 "$climvae" evaluate --store "$3" --generated "$4"
}
echo "not NetCDF" > junk.nc
check mpmd-generated-junk nonzero "NetCDF file 'junk.nc' is not a NetCDF file" -- mpmd paris.nc ok.nc paris.nc junk.nc
check mpmd-generated-missing nonzero "NetCDF file 'missing.nc': cannot open" -- mpmd paris.nc ok.nc paris.nc missing.nc
check mpmd-store-junk nonzero "junk.nc: not a NetCDF file (no CDF magic number at its start) (rank 1 of 2)" -- \
  mpmd paris.nc ok.nc junk.nc ok.nc
check mpmd-generated-rank0 nonzero "outside the plausible 150..350 K of an air temperature (rank 0 of 2)" -- \
  mpmd paris.nc hot.nc paris.nc ok.nc
# --classical-store is read by rank 0 alone, after the other ranks are done (it waited for them).
check np2-classical-store 0 "closer on" -- timeout 60 mpirun --oversubscribe -np 2 "$climvae" evaluate \
  --store paris.nc --generated ok.nc --skill-csv skill.csv --classical-store paris.nc
# A --classical-store of 70 days: the fitted annual harmonics ran wild outside them (classical
# monthly means of 12000 degC) and the skill table called the VAE closer on 26 of 27; refused.
"$climvae" prepare --input "$csv" --output short.nc --from 2021-01-01 --until 2021-03-10 --no-trend > /dev/null
check classical-store-short nonzero "store 'short.nc': classical generator: the observed series has 0 valid hours in calendar month 4" -- \
  "$climvae" evaluate --store paris.nc --generated ok.nc --skill-csv short-skill.csv --classical-store short.nc
absent classical-store-short-nothing-written short-skill.csv

# prepare: a reference year outside 1..9999; site-list numbers that are not numbers.
check reference-year nonzero "--reference-year must be a year between 1 and 9999" -- \
  "$climvae" prepare --input "$csv" --output r.nc --reference-year 99999
printf '%s,48.8abc,2.29\n' "$csv" > sites-bad.txt
check sites-not-a-number nonzero "latitude '48.8abc' is not a number" -- "$climvae" prepare --sites sites-bad.txt --output r.nc
printf '%s,48.82,2.29,5\n' "$csv" > sites-offset.txt
check sites-offset-utc nonzero "this series is in UTC (leave the offset out)" -- \
  "$climvae" prepare --sites sites-offset.txt --output r.nc
check trend-absurd nonzero "--trend '1e6K/year' is outside -1..1 K/year" -- \
  "$climvae" prepare --input "$csv" --output r.nc --trend 1e6K/year
absent nothing-prepared r.nc
if command -v nccopy > /dev/null; then  # netCDF-4 where classic/CDF-5 is read: named, with the fix
  nccopy -k nc4 ok.nc ok4.nc
  check evaluate-netcdf4 nonzero "is netCDF-4/HDF5; climvae reads generated ensembles as classic" -- \
    "$climvae" evaluate --store paris.nc --generated ok4.nc
fi

# Inputs that are no regular file are refused by kind; a FIFO is not waited on for ever.
check model-fifo nonzero "model file 'fifo.nc' is a FIFO, not a regular file" -- \
  timeout 20 "$climvae" generate --model fifo.nc --start 2022-01-01 --hours 24 --output f.nc
check model-directory nonzero "model file '$work' is a directory" -- \
  "$climvae" generate --model "$work" --start 2022-01-01 --hours 24 --output f.nc
check table-fifo nonzero "warming table 'fifo.nc' is a FIFO" -- \
  timeout 20 "$climvae" generate --model paris.model --start 2022-01-01 --hours 24 --output f.nc --warming-table fifo.nc --target-year 2050

# Warming tables: a year past int does not wrap into another year, text after an offset (a unit)
# is not dropped, and a first row with a typo is not skipped as a header.
printf '2020,0\n4294969346,1\n' > wrap.csv
check table-year-wraps nonzero "wrap.csv:2: year 4294969346 is outside 1..9999" -- \
  gen --hours 24 --output f.nc --warming-table wrap.csv --target-year 2050
printf '2020,0\n2050,1.8 degF\n' > unit.csv
check table-offset-unit nonzero "unit.csv:2: expected 'year,offset_k', got '2050,1.8 degF'" -- \
  gen --hours 24 --output f.nc --warming-table unit.csv --target-year 2050
printf '2020,1O\n2050,2\n' > typo-first.csv
check table-first-row-typo nonzero "typo-first.csv:1: expected 'year,offset_k', got '2020,1O'" -- \
  gen --hours 24 --output f.nc --warming-table typo-first.csv --target-year 2050

# More members than --memory-mib holds on one rank (the shortest chunk is 128 days): refused
# before anything is allocated or written, not an allocation beyond the machine.
check members-memory nonzero "need 1172 MiB per rank, more than --memory-mib 512" -- \
  gen --hours 8760 --members 100000 --output f.nc
check memory-mib-overflow nonzero "--memory-mib must be 1..1073741824" -- \
  gen --hours 24 --output f.nc --memory-mib 17592186044416
absent nothing-generated f.nc

# prepare: NetCDF inputs whose header or attributes are nonsense. Each is named, none crashes,
# allocates what the header claims, or writes a store of year 230060. ERA5-like 2 x 2 grids.
/usr/bin/python3 - <<'PY'
import netCDF4, numpy as np
def grid(path, nt=2000, ny=2, nx=2, fmt='NETCDF3_64BIT_OFFSET', times=None, dims=('time', 'latitude', 'longitude'),
         lon=True, attrs={}, unlimited=False):
    f = netCDF4.Dataset(path, 'w', format=fmt)
    f.createDimension('time', None if unlimited else nt); f.createDimension('latitude', ny)
    if lon: f.createDimension('longitude', nx); f.createVariable('longitude', 'f4', ('longitude',))[:] = 13 + np.arange(nx)
    f.createVariable('latitude', 'f4', ('latitude',))[:] = 52 - np.arange(ny)
    t = f.createVariable('time', 'f8', ('time',)); t.units = 'hours since 1900-01-01 00:00:00.0'
    v = f.createVariable('t2m', 'f4', dims); v.units = 'K'; v.set_auto_maskandscale(False)
    for k, a in attrs.items(): v.setncattr(k, a)
    if unlimited: t[0:3] = [1e6, 1e6 + 1, 1e6 + 2]; t[nt - 1] = 1e6 + nt; f.close(); return
    t[:] = 1025400 + np.arange(nt) if times is None else times
    if ny and nx: v[:] = 280 + np.zeros([{'time': nt, 'latitude': ny, 'longitude': nx}[d] for d in dims])
    f.close()
grid('year230058.nc', times=2e9 + np.arange(2000))
grid('time-1e300.nc', times=np.full(2000, 1e300))
grid('scale-zero.nc', attrs={'scale_factor': np.float32(0)})
grid('offset-nan.nc', attrs={'add_offset': np.float32(np.nan)})
grid('no-longitude.nc', dims=('time', 'latitude'), lon=False)
grid('two-latitudes.nc', ny=2, dims=('time', 'latitude', 'latitude'), lon=False)
grid('time-outlier.nc', times=np.append(1025400 + np.arange(1999), 6e7))  # one wrong last time: year 8744
try:
    grid('no-rows.nc', ny=0, fmt='NETCDF4')
    grid('4e9-hours.nc', nt=4000000001, fmt='NETCDF4', unlimited=True)  # 4e9 steps in 20 kB
except Exception as e:
    print('(no netCDF-4 files:', e, ')')
PY
prep() { timeout 120 "$climvae" prepare --no-trend --output bad.nc --input "$@"; }
check nc-year-230058 nonzero "year230058.nc: variable 'time' has the time 2000000000 hours since 1900-01-01 00:00:00.0, outside the years 1..9999" -- prep year230058.nc
check nc-time-1e300 nonzero "has the time 1.0000000000000001e+300 hours" -- prep time-1e300.nc
check nc-scale-zero nonzero "attribute 't2m:scale_factor' is 0.000000; climvae cannot unpack 't2m'" -- prep scale-zero.nc
check nc-offset-nan nonzero "attribute 't2m:add_offset' is nan" -- prep offset-nan.nc
check nc-no-longitude nonzero "variable 't2m' has latitudes but no longitude" -- prep no-longitude.nc
check nc-two-latitudes nonzero "variable 't2m' has two latitude dimensions ('latitude' and 'latitude')" -- prep two-latitudes.nc
# It was a 6700-year store of missing hours (gigabytes in memory), reference year 8744.
check nc-time-outlier nonzero "time-outlier.nc: its time axis reaches 8744-10-08T00:00, more than 500 years after 2016-12-23T00:00" -- \
  timeout 60 mpirun --oversubscribe -np 2 "$climvae" prepare --no-trend --output bad.nc --input time-outlier.nc
check nc-output-is-input nonzero "--input and --output name the same file 'scale-zero.nc'" -- \
  "$climvae" prepare --no-trend --input scale-zero.nc --output scale-zero.nc --overwrite
if [ -f no-rows.nc ] && ! prep no-rows.nc 2>&1 | grep -qF "built without netCDF-C"; then
  check nc4-no-rows nonzero "dimension 'latitude' has length 0 (1..36000 expected" -- prep no-rows.nc
  check nc4-4e9-hours nonzero "dimension 'time' has length 4000000001 (1..87831216 expected" -- prep 4e9-hours.nc
fi
absent nc-nothing-prepared bad.nc

# train: a store damaged after prepare (a value no air temperature has, constants out of range)
# is refused when read, not trained on into a model that cannot be loaded; nonsense numbers are
# named as options, not found later as a 'diverged' run or silently taken as the default.
/usr/bin/python3 -c "
import netCDF4, shutil
for name, var, index, value in (('hot-store.nc', 'tas', (0, 5), 1e30), ('lat-store.nc', 'lat', 0, 1000.0),
                                ('scale-store.nc', 'scale', 0, 0.0)):
    shutil.copy('paris.nc', name); f = netCDF4.Dataset(name, 'r+'); f[var][index] = value; f.close()
shutil.copy('paris.nc', 'year-store.nc'); f = netCDF4.Dataset('year-store.nc', 'r+'); f.reference_year = -5; f.close()"
tr() { "$climvae" train --output t.model --epochs 1 "$@"; }
check store-tas-1e30 nonzero "hot-store.nc: cell 0: tas at 2019-01-01T05:00 is 1e+30 K, outside 170..340 K" -- tr --store hot-store.nc
check store-lat-1000 nonzero "lat-store.nc: cell 0: lat 1000 is outside -90..90" -- tr --store lat-store.nc
check store-scale-0 nonzero "scale-store.nc: cell 0: scale 0 is outside 0.01..50" -- tr --store scale-store.nc
check store-year-minus5 nonzero "year-store.nc: reference_year -5 is outside 1..9999" -- tr --store year-store.nc
check store-np2-one-rank nonzero "cell 0: lat 1000" -- timeout 60 mpirun --oversubscribe -np 2 "$climvae" train --store lat-store.nc --output t.model --epochs 1
check learning-rate-inf nonzero "--learning-rate must be above 0 and at most 1, got inf" -- tr --store paris.nc --learning-rate inf
check max-loss-nan nonzero "--max-loss must be a positive number (inf: no limit), got nan" -- tr --store paris.nc --max-loss nan
check embedding-negative nonzero "--embedding must be 0..64, got -5" -- tr --store paris.nc --embedding=-5
check checkpoint-no-directory nonzero "--checkpoint 'none/c.ckpt': its directory 'none/' does not exist" -- \
  tr --store paris.nc --checkpoint none/c.ckpt
absent nothing-trained-on-damage t.model
# --resume on another site's store of the same shape would continue on other data silently.
"$climvae" prepare --input "$src/tests/data/openmeteo/open-meteo-52.55N13.41E38m_Berlin.csv" --output berlin.nc \
  --from 2019-01-01 --until 2021-12-31 --no-trend > /dev/null
tr --store paris.nc --checkpoint p.ckpt > /dev/null
check resume-other-store nonzero "was written by a run with store = 1-cells-from-2019-01-01T00:00-for-26304h-first-at-48.8200" -- \
  "$climvae" train --store berlin.nc --output t.model --resume p.ckpt --epochs 2 --overwrite
check resume-same-store 0 "wrote t.model" -- "$climvae" train --store paris.nc --output t.model --resume p.ckpt --epochs 2 --overwrite
# More ranks than cells: a rank without cells overflowed the spatial factors' common axis
# ("cannot create std::vector larger than max_size()"), then fitted the factors alone (a hang).
printf '%s\n%s\n' "$csv" "$src/tests/data/openmeteo/open-meteo-52.55N13.41E38m_Berlin.csv" > two-sites.txt
"$climvae" prepare --sites two-sites.txt --output two.nc --from 2019-01-01 --until 2019-12-31 --no-trend > /dev/null
check np3-two-cells 0 "wrote two.model" -- timeout 120 mpirun --oversubscribe -np 3 "$climvae" train --store two.nc \
  --output two.model --epochs 1
check cells-twice nonzero "--cells: cell 1 is listed twice" -- \
  "$climvae" generate --model two.model --start 2022-01-01 --hours 24 --cells 1,0,1 --output twice.nc

# An output directory the user cannot write is named before any work (train: not after hours of
# it). Root writes anywhere, so this runs as nobody where it can.
if [ "$(id -u)" = 0 ] && command -v runuser > /dev/null && runuser -u nobody -- true 2> /dev/null; then
  as_user() { runuser -u nobody -- "$@"; }
else
  as_user() { "$@"; }
fi
mkdir -m 755 locked && chmod 755 "$work" && chmod 644 paris.nc paris.model && chmod 555 locked
if ! as_user test -w locked; then
  check train-unwritable-dir nonzero "--output 'locked/t.model': its directory 'locked/' is not writable (Permission denied)" -- \
    as_user "$climvae" train --store paris.nc --output locked/t.model --epochs 1
  check generate-unwritable-dir nonzero "its directory 'locked/' is not writable" -- \
    as_user "$climvae" generate --model paris.model --start 2022-01-01 --hours 24 --output locked/g.nc
  if [ -x "$(dirname "$climvae")/climvae-export" ]; then
    check export-unwritable-dir nonzero "--output 'locked/p.pt': its directory 'locked/' is not writable" -- \
      as_user "$climvae" export --model paris.model --output locked/p.pt
  fi
  absent unwritable-nothing-written locked/t.model locked/g.nc locked/p.pt
fi

if [ -x "$(dirname "$climvae")/climvae-export" ]; then
  check export 0 "wrote paris.pt" -- "$climvae" export --model paris.model --output paris.pt
  check export-exists nonzero "'paris.pt' exists" -- "$climvae" export --model paris.model --output paris.pt
  check export-overwrite 0 "wrote paris.pt" -- "$climvae" export --model paris.model --output paris.pt --overwrite
  # The state dict never replaces its own model; a missing directory is named before any work.
  cp paris.model self.model
  check export-onto-model nonzero "--output './self.model' is the --model file" -- \
    "$climvae" export --model self.model --output ./self.model --overwrite
  cmp -s paris.model self.model && echo "ok   export-model-kept" || { echo "FAIL export-model-kept"; failures=$((failures + 1)); }
  check export-no-directory nonzero "its directory 'none/' does not exist" -- \
    "$climvae" export --model paris.model --output none/p.pt
  check export-option-twice nonzero "option '--model' is given twice" -- \
    "$climvae" export --model paris.model --output p.pt --model self.model
  # Under mpirun every rank ran the exporter: one wrote the file, the other failed "exists".
  check export-np2 0 "wrote np2.pt" -- timeout 60 mpirun --oversubscribe -np 2 "$climvae" export --model paris.model --output np2.pt
  cmp -s paris.pt np2.pt && echo "ok   export-np2-same" || { echo "FAIL export-np2-same"; failures=$((failures + 1)); }
fi
finish
