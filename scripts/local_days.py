"""Whole local days of hourly series, for the scripts that compare observed and generated days."""
import numpy as np


def local_days(hours_since_1970, values, offset):
    """(members, days, 24) of the whole local days (UTC + offset hours) in values (members, hours),
    and each day's date."""
    t = np.datetime64('1970-01-01T00') + (hours_since_1970.astype(np.int64) + offset).astype('timedelta64[h]')
    first = (24 - (t[0] - t[0].astype('datetime64[D]')).astype(int)) % 24
    n = (values.shape[1] - first) // 24
    days = t[first:first + 24 * n:24].astype('datetime64[D]')
    return days, values[:, first:first + 24 * n].reshape(values.shape[0], n, 24)
