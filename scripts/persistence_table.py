#!/usr/bin/env python3
"""The persistence, spell and extremes table of docs/fidelity.md, independently of climvae's own
evaluate: one store cell's observed series (moved to YEAR with the store's trend) against a
generated ensemble and against a classical weather generator (harmonic mean and sd of local time,
AR(1) hourly anomalies) fitted here to the same observed series, with as many members.
Anomalies from the observed (month x hour) climatology; spells are runs of >= 3 days above the
month's P90 of daily max (heat) or below its P10 of daily min (cold), thresholds from the
observed series.
usage: persistence_table.py STORE CELL GENERATED.nc YEAR   (Debian: python3-numpy python3-netcdf4)"""
import sys, numpy as np, netCDF4 as nc, datetime as dt
store, cell, gen, year = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
S = nc.Dataset(store)
v = S.variables
tas = v['tas'][cell, :].astype(float)
tas = np.ma.filled(tas, np.nan)
start = int(S.getncattr('start_hour')) if 'start_hour' in S.ncattrs() else None
if start is None:
    t = v['time']; start = int(t[0])
off = int(v['utc_offset_hours'][cell]) if 'utc_offset_hours' in v else 0
trend = float(v['trend'][cell]) if 'trend' in v else 0.0
ref = int(S.getncattr('reference_year')) if 'reference_year' in S.ncattrs() else year
hours = start + np.arange(len(tas))
epoch = dt.datetime(1970,1,1)
def civil(h):
    d = np.datetime64('1970-01-01T00') + h.astype('timedelta64[h]')
    return d
utc = civil(hours)
frac_year = (utc.astype('datetime64[Y]').astype(int) + 1970) + (utc - utc.astype('datetime64[Y]')).astype(float) / (365.25*24)
obs = tas - trend * (frac_year - (year + 0.5)) - 273.15
loc = civil(hours + off)
G = nc.Dataset(gen)
g = G.variables['tas'][:]
g = np.ma.filled(g.astype(float), np.nan)
g = g.reshape(g.shape[0], g.shape[1], -1)[:, :, 0] - 273.15   # (time, member)
gt = G.variables['time']
gdates = nc.num2date(gt[:], gt.units)
g0 = np.datetime64(gdates[0].strftime('%Y-%m-%dT%H'))
ghours = (g0 - np.datetime64('1970-01-01T00')).astype('timedelta64[h]').astype(int) + np.arange(g.shape[0])
gloc = civil(ghours + off)

def month_hour(d):
    m = d.astype('datetime64[M]').astype(int) % 12
    h = (d - d.astype('datetime64[D]')).astype(int)
    return m, h
om, oh = month_hour(loc); gm, gh = month_hour(gloc)
clim = np.full((12, 24), np.nan); mclim = np.full(12, np.nan)
for m in range(12):
    mclim[m] = np.nanmean(obs[om == m])
    for h in range(24):
        clim[m, h] = np.nanmean(obs[(om == m) & (oh == h)])
oan = obs - clim[om, oh]

def acf(x, lag):
    a, b = x[:-lag], x[lag:]
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    return np.corrcoef(a, b)[0, 1]

def daily(x, d):  # x hourly local series aligned with dates d -> daily means, mins, maxs, day months
    day = d.astype('datetime64[D]')
    first = np.argmax((d - day).astype(int) == 0)
    n = (len(x) - first) // 24
    X = x[first:first + 24 * n].reshape(n, 24)
    dd = day[first:first + 24 * n:24]
    return X.mean(1), X.min(1), X.max(1), dd

# classical generator: harmonic mean & sd + AR(1), fitted to obs
def design(d):
    doy = (d - d.astype('datetime64[Y]')).astype('timedelta64[h]').astype(float) / 24.0
    hod = (d - d.astype('datetime64[D]')).astype(int)
    a = 2*np.pi*doy/365.25; w = 2*np.pi*hod/24
    cols = [np.ones_like(a)]
    for k in (1,2,3): cols += [np.cos(k*a), np.sin(k*a)]
    for k in (1,2):
        for f in (np.cos(k*w), np.sin(k*w)):
            cols += [f, f*np.cos(a), f*np.sin(a)]
    return np.stack(cols, 1)
ok = np.isfinite(obs)
X = design(loc)
bm = np.linalg.lstsq(X[ok], obs[ok], rcond=None)[0]
res = obs - X @ bm
bs = np.linalg.lstsq(X[ok], res[ok]**2, rcond=None)[0]
s2 = np.maximum(X @ bs, 0.05*np.nanmean(res[ok]**2))
zz = res / np.sqrt(s2)
phi = acf(zz, 1)
rng = np.random.default_rng(1)
M = g.shape[1]
Xg = design(gloc)
mg, sg = Xg @ bm, np.sqrt(np.maximum(Xg @ bs, 0.05*np.nanmean(res[ok]**2)))
cl = np.empty_like(g)
for m in range(M):
    e = rng.standard_normal(len(ghours)); z = np.empty_like(e); z[0] = e[0]
    for t in range(1, len(e)): z[t] = phi*z[t-1] + np.sqrt(1-phi*phi)*e[t]
    cl[:, m] = mg + sg*z

# thresholds from obs: month's P90 of Tmax, P10 of Tmin
odm, odmin, odmax, odd = daily(obs, loc)
odmon = odd.astype('datetime64[M]').astype(int) % 12
p90 = np.array([np.nanpercentile(odmax[odmon == m], 90) for m in range(12)])
p10 = np.array([np.nanpercentile(odmin[odmon == m], 10) for m in range(12)])
def spells(flag, min_len=3):
    runs = []; n = 0
    for f in flag:
        if f: n += 1
        else:
            if n >= min_len: runs.append(n)
            n = 0
    if n >= min_len: runs.append(n)
    return runs

def stats(series_list, dates):
    """series_list: list of hourly series (members or the obs)."""
    out = {}
    m_, h_ = month_hour(dates)
    acfs = {L: [] for L in (24, 48, 168)}; dacf = {L: [] for L in (1, 2, 3, 7)}
    heat_n, heat_len, cold_n, cold_len, amax, amin, years = [], [], [], [], [], [], 0
    mon_vals = [[] for _ in range(12)]
    for x in series_list:
        an = x - clim[m_, h_]
        for L in acfs: acfs[L].append(acf(an, L))
        dm, dmin, dmax, dd = daily(x, dates)
        dmon = dd.astype('datetime64[M]').astype(int) % 12
        dan = dm - mclim[dmon]
        for L in dacf: dacf[L].append(acf(dan, L))
        hr = spells(dmax > p90[dmon]); cr = spells(dmin < p10[dmon])
        ny = np.sum(np.isfinite(dm)) / 365.25
        years += ny
        heat_n += hr; cold_n += cr
        yrs = dd.astype('datetime64[Y]').astype(int)
        for y in np.unique(yrs):
            sel = (yrs == y) & np.isfinite(dmax)
            if sel.sum() >= 330: amax.append(np.nanmax(dmax[sel])); amin.append(np.nanmin(dmin[sel]))
        for mm in range(12): mon_vals[mm].append(x[m_ == mm])
    for L in acfs: out[f'anomaly ACF {L}h'] = np.nanmean(acfs[L])
    for L in dacf: out[f'daily anomaly ACF {L}d'] = np.nanmean(dacf[L])
    out['heat spells /yr'] = len(heat_n) / years; out['heat spell length'] = np.mean(heat_n) if heat_n else 0
    out['cold spells /yr'] = len(cold_n) / years; out['cold spell length'] = np.mean(cold_n) if cold_n else 0
    out['annual max'] = np.mean(amax); out['annual min'] = np.mean(amin)
    for mm in range(12):
        v_ = np.concatenate(mon_vals[mm]); out[f'mean {mm+1:02d}'] = np.nanmean(v_); out[f'sd {mm+1:02d}'] = np.nanstd(v_)
    return out
so = stats([obs], loc)
sv = stats([g[:, m] for m in range(M)], gloc)
sc = stats([cl[:, m] for m in range(M)], gloc)
wins = 0; rows = 0
print(f"{'statistic':24s} {'observed':>9s} {'VAE':>9s} {'classical':>9s}  closer")
for k in so:
    o, a, c = so[k], sv[k], sc[k]
    w = 'VAE' if abs(a - o) < abs(c - o) else 'classical'
    rows += 1; wins += w == 'VAE'
    print(f"{k:24s} {o:9.3f} {a:9.3f} {c:9.3f}  {w}")
print(f"VAE closer on {wins} of {rows}  (classical phi {phi:.3f})")
