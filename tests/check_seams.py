#!/usr/bin/python3
"""No seams in generated traces: the mean absolute hour-to-hour change at each hour of the day
(UTC) of the generated ensemble against the observed series of an Open-Meteo CSV. A change of
calibration, block layout or noise that jumps at a fixed hour (local midnight, a latent step's
start) shows as one hour far rougher than observed there. Fails when any hour's generated mean
|dT| exceeds 1.6 times the observed one at that hour (a seam at local midnight gave 1.9;
seamless traces 0.8 .. 1.4).
Usage: check_seams.py GENERATED.nc OBSERVED.csv"""
import sys

import netCDF4
import numpy as np

generated, observed_csv = sys.argv[1], sys.argv[2]
with netCDF4.Dataset(generated) as f:
    tas = np.asarray(f.variables["tas"][:], dtype=float).reshape(f.variables["tas"].shape[0], -1)
    hours = np.asarray(f.variables["time"][:], dtype=np.int64) % 24  # hours since 1970-01-01 UTC
rows = [line.strip().split(",") for line in open(observed_csv) if line[:2] in ("19", "20")]
values = np.array([float(r[1]) if r[1] not in ("", "NA") else np.nan for r in rows])
observed_hours = np.array([int(r[0][11:13]) for r in rows])

def by_hour(change, hour):  # mean |dT| of the changes into each hour of the day
    return np.array([np.nanmean(np.abs(change[hour == h])) for h in range(24)])

gen = by_hour(np.diff(tas, axis=0), hours[1:])
obs = by_hour(np.diff(values), observed_hours[1:])
ratio = gen / obs
worst = int(np.argmax(ratio))
print(f"check_seams: generated / observed mean |dT| by hour {ratio.min():.2f} .. {ratio.max():.2f} (worst {worst:02d} UTC)")
sys.exit(0 if ratio.max() <= 1.6 else 1)
