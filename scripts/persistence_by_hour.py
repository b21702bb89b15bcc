#!/usr/bin/env python3
"""Persistence by local hour (docs/fidelity.md): how much of an hour's anomaly is still there at
the same hour the next day, every third local hour, and the day-to-day autocorrelation of the
daily maximum and minimum anomalies, for one store cell's observed series (moved to the store's
reference year with its trend) and for generated ensembles of that cell. Anomalies from the
observed (month x hour) climatology; daily maxima and minima from the observed month means.
usage: persistence_by_hour.py STORE CELL GENERATED.nc...   (Debian: python3-numpy python3-netcdf4)"""
import sys
import numpy as np
import netCDF4
from local_days import local_days

store, cell, generated = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = netCDF4.Dataset(store)
offset = int(s['utc_offset_hours'][cell])


def next_day_correlation(x):
    """Correlation of x[:, d] with x[:, d + 1] over members and days, NaN skipped."""
    a, b = x[:, :-1].ravel(), x[:, 1:].ravel()
    known = ~np.isnan(a) & ~np.isnan(b)
    return np.corrcoef(a[known], b[known])[0, 1]


def row(label, months, days):
    anomalies = days - hourly_climate[months][None]
    by_hour = ' '.join('%.2f' % next_day_correlation(anomalies[:, :, h]) for h in range(0, 24, 3))
    extremes = []
    for name, f in (('max', np.max), ('min', np.min)):
        extremes.append('%s %.3f' % (name, next_day_correlation(f(days, axis=2) - daily_climate[name][months][None])))
    print('%-28s %s | daily %s' % (label, by_hour, ', '.join(extremes)))


with np.errstate(all='ignore'):
    time = s['time'][:].astype(np.int64)
    years = 1970 + (time + 0.5) / (24 * 365.2425)
    kelvin = np.ma.filled(s['tas'][cell, :].astype(float), np.nan) - float(s['trend'][cell]) * (years - float(s.reference_year))
    obs_days, obs = local_days(time, kelvin[None] - 273.15, offset)
    obs_months = obs_days.astype('datetime64[M]').astype(int) % 12
    hourly_climate = np.array([np.nanmean(obs[0, obs_months == m], axis=0) for m in range(12)])
    whole = ~np.isnan(obs[0]).any(axis=1)
    daily_climate = {name: np.array([f(obs[0, (obs_months == m) & whole], axis=1).mean() for m in range(12)])
                     for name, f in (('max', np.max), ('min', np.min))}
    print('%-28s same hour next day, local hours %s | day to day' % ('', ' '.join('%4d' % h for h in range(0, 24, 3))))
    row('observed', obs_months, obs)
    for path in generated:
        g = netCDF4.Dataset(path)
        dates, days = local_days(g['time'][:], np.array(g['tas'][:, :, 0, 0], dtype=float).T - 273.15, offset)
        row(path, dates.astype('datetime64[M]').astype(int) % 12, days)
