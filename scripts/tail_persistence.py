#!/usr/bin/env python3
"""Tail persistence of docs/fidelity.md: for daily maxima and minima of the local day, the share
of days beyond the month's 10 % or 90 % quantile (of the observed series) and the probability
that such a day is followed by another, for one store cell's observed series and for generated
ensembles of that cell. Spells of >= 3 days (evaluate's heat and cold spells) are made of these
runs, so a spell count that is off shows here first as the wrong persistence of one tail.
usage: tail_persistence.py STORE CELL GENERATED.nc...   (Debian: python3-numpy python3-netcdf4)"""
import sys
import numpy as np
import netCDF4
from local_days import local_days

store, cell, generated = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = netCDF4.Dataset(store)
offset = int(s['utc_offset_hours'][cell])


def table(label, days, hourly, thresholds=None):
    month = days.astype('datetime64[M]').astype(int) % 12
    daily = {'max': np.nanmax(hourly, axis=2), 'min': np.nanmin(hourly, axis=2)}
    if thresholds is None:
        thresholds = {(k, q): np.array([np.nanpercentile(v[:, month == m], q) for m in range(12)])
                      for k, v in daily.items() for q in (10, 90)}
    cells = []
    for (kind, q), per_month in thresholds.items():
        v = daily[kind]
        known = ~np.isnan(v)
        beyond = (v > per_month[month][None]) if q == 90 else (v < per_month[month][None])
        today = beyond[:, :-1] & known[:, :-1] & known[:, 1:]
        cells.append('%s %s P%d: share %.3f, next day %.3f' % (kind, '>' if q == 90 else '<', q, beyond[known].mean(),
                                                                (today & beyond[:, 1:]).sum() / today.sum()))
    print(label + ': ' + ' | '.join(cells))
    return thresholds


with np.errstate(all='ignore'):
    obs_days, obs = local_days(s['time'][:], np.ma.filled(s['tas'][cell, :].astype(float), np.nan)[None] - 273.15, offset)
    thresholds = table('observed', obs_days, obs)
    for path in generated:
        g = netCDF4.Dataset(path)
        days, hourly = local_days(g['time'][:], np.array(g['tas'][:, :, 0, 0], dtype=float).T - 273.15, offset)
        table(path, days, hourly, thresholds)
