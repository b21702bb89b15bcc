#!/usr/bin/env python3
"""How much the observed record's spell and extreme statistics scatter from its length alone
(docs/fidelity.md): a bootstrap over its calendar years (400 resamples, fixed seed) of heat and
cold spells a year and their mean length (evaluate's definitions: runs of >= 3 local days whose
maximum is above the month's 90 % quantile of daily maxima, or whose minimum is below the 10 %
one of daily minima, thresholds from the whole record) and of the mean annual minimum and
maximum (years with >= 330 whole days). A generator that differs from the observed by less than
one standard error is not shown wrong by this record.
usage: observed_sampling_error.py STORE CELL[,CELL...]   (Debian: python3-numpy python3-netcdf4)"""
import sys
import numpy as np
import netCDF4

store, cells = sys.argv[1], [int(c) for c in sys.argv[2].split(',')]
s = netCDF4.Dataset(store)
rng = np.random.default_rng(1)


def spell_lengths(exceeds):
    """Lengths of the runs of >= 3 days where exceeds holds (a missing day is False)."""
    lengths, run = [], 0
    for e in list(exceeds) + [False]:
        if e:
            run += 1
            continue
        if run >= 3:
            lengths.append(run)
        run = 0
    return lengths


for cell in cells:
    offset = int(s['utc_offset_hours'][cell])
    t = np.datetime64('1970-01-01T00') + (s['time'][:].astype(np.int64) + offset).astype('timedelta64[h]')
    x = np.ma.filled(s['tas'][cell, :].astype(float), np.nan) - 273.15
    first = (24 - (t[0] - t[0].astype('datetime64[D]')).astype(int)) % 24
    n = (len(x) - first) // 24
    hours = x[first:first + 24 * n].reshape(n, 24)
    dates = t[first:first + 24 * n:24].astype('datetime64[D]')
    whole = ~np.isnan(hours).any(1)
    tmax, tmin = np.where(whole, hours.max(1), np.nan), np.where(whole, hours.min(1), np.nan)
    month = dates.astype('datetime64[M]').astype(int) % 12
    year = dates.astype('datetime64[Y]').astype(int) + 1970
    hot = np.array([np.nanpercentile(tmax[month == m], 90) for m in range(12)])
    cold = np.array([np.nanpercentile(tmin[month == m], 10) for m in range(12)])
    years = [y for y in np.unique(year) if whole[year == y].any()]

    def statistics(sample):
        heat, chill, days, annual_min, annual_max = [], [], 0, [], []
        for y in sample:
            d = year == y
            heat += spell_lengths(whole[d] & (tmax[d] > hot[month[d]]))
            chill += spell_lengths(whole[d] & (tmin[d] < cold[month[d]]))
            days += whole[d].sum()
            if whole[d].sum() >= 330:
                annual_min.append(np.nanmin(tmin[d]))
                annual_max.append(np.nanmax(tmax[d]))
        mean = lambda v: np.mean(v) if v else np.nan
        return np.array([len(heat) / days * 365.25, mean(heat), len(chill) / days * 365.25, mean(chill),
                         mean(annual_min), mean(annual_max)])

    observed = statistics(years)
    error = np.nanstd([statistics(rng.choice(years, len(years))) for _ in range(400)], axis=0)
    names = ['heat spells/year', 'heat spell days', 'cold spells/year', 'cold spell days', 'annual min mean',
             'annual max mean']
    print('cell %d, %d years: ' % (cell, len(years)) +
          ' | '.join('%s %.2f ± %.2f' % (name, o, e) for name, o, e in zip(names, observed, error)))
