#!/usr/bin/env bash
# climvae prepare on the real ERA5 files of tests/data/era5 through the command line, at 1 and 2
# ranks, with cell selection, and the errors (each leaving no store behind).
# Usage: era5_cli.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
era5="$2/tests/data/era5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
berlin="$era5/era5-cds-nc-feedinlib/ERA5_example_data.nc"
source "$(dirname "$0")/check.sh"
mpi2=(mpirun -np 2 --oversubscribe)

check grid-1-rank 0 "cells       6 from 1 file(s)" -- "$climvae" prepare --input "$berlin" --output one.nc --no-trend
check grid-2-ranks 0 "cells       6 from 1 file(s)" -- "${mpi2[@]}" "$climvae" prepare --input "$berlin" --output two.nc --no-trend
check same-store 0 "" -- cmp <(ncdump -v tas,lat,lon,offset,scale one.nc | sed -n '/^data:/,$p') \
  <(ncdump -v tas,lat,lon,offset,scale two.nc | sed -n '/^data:/,$p')
check area 0 "cell = 2" -- bash -c "'$climvae' prepare --input '$berlin' --output area.nc --no-trend --area 52.5/13.2/52.3/13.7 >/dev/null && ncdump -h area.nc"
check stride-and-cell 0 "cell = 1" -- bash -c "'$climvae' prepare --input '$berlin' --output cell.nc --no-trend --stride 2 --cell 52.6,13.6 >/dev/null && ncdump -h cell.nc"
check point 0 "55.6950 N 12.4950 E" -- "$climvae" prepare --input "$era5/era5-cds-nc-pvlib/era5_testfile.nc" --output cph.nc --no-trend
monthly="$era5/era5-cds-nc4-newformat-monthly/data_stream-oper_stepType-instant.nc"
probe="$("$climvae" prepare --input "$monthly" --output monthly.nc 2>&1)"
if grep -qF "built without netCDF-C" <<<"$probe"; then
  echo "(this climvae reads no netCDF-4: checking that it says so instead)"
  check netcdf4-refused nonzero "built without netCDF-C" -- "$climvae" prepare --input "$monthly" --output monthly.nc
else
  check no-coordinates 0 "50.2500 N -74.2500 E" -- "$climvae" prepare --input "$era5/era5-hourly-lsj-raven/tas_pr_LSJ_20140520-20180615.nc" \
    --output lsj.nc --lat 50.25 --lon -74.25 --no-trend
  check monthly nonzero "monthly means?" -- "${mpi2[@]}" "$climvae" prepare --input "$monthly" --output monthly.nc
  check too-short nonzero "only 140 hours have a value" -- "${mpi2[@]}" "$climvae" prepare --input "$era5/era5-grid-140h-reskit/2m_temperature.nc" --output short.nc --no-trend
fi
check grids-differ nonzero "differs from that of" -- "$climvae" prepare --input "$era5"/era5-cds-nc-feedinlib/era5_feedinlib_54-*.nc --output pts.nc --no-trend
check no-variable nonzero "no variable 'tas' (given with --variable)" -- "$climvae" prepare --input "$berlin" --output v.nc --variable tas
check units-for-csv nonzero "--units is for CSV input" -- "$climvae" prepare --input "$berlin" --output u.nc --units degC
check csv-options nonzero "--area is for ERA5 NetCDF input" -- "$climvae" prepare --input "$2/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv" --output p.nc --area 50/0/40/10
check nothing-left 0 "" -- bash -c "! ls monthly.nc* short.nc* pts.nc* v.nc* u.nc* 2>/dev/null | grep -q ."

finish
