"""Every `climvae generate` output layout read with xarray (decode_cf, cftime times,
`realization` a coordinate of tas) agrees value for value and hour for hour with what CDO reads.

Usage: xarray_cf.py CLIMVAE MODEL WORKDIR  (MODEL: the plugin test model, cells Paris and Berlin)
"""
import glob
import os
import subprocess
import sys

import cftime
import numpy as np
import xarray as xr

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail else ""))
    if not ok:
        failures.append(name)


def cdo_table(path, keys):
    """CDO's view: outputtab rows (keys..., value) as strings."""
    out = subprocess.run(["cdo", "-s", f"outputtab,{keys},value", "-selname,tas", path], capture_output=True, text=True,
                         check=True).stdout
    return [line.split() for line in out.splitlines() if line.strip() and not line.startswith("#")]


def cdo_times(rows):
    return sorted({f"{r[0]}T{r[1][:5]}" for r in rows})


def xr_times(ds):
    return [t.strftime("%Y-%m-%dT%H:%M") for t in ds["time"].values]


def open_cf(path):
    ds = xr.open_dataset(path, decode_cf=True, use_cftime=True)
    check(f"{os.path.basename(path)}: times decode to cftime", isinstance(ds["time"].values[0], cftime.datetime))
    check(f"{os.path.basename(path)}: realization is a coordinate of tas", "realization" in ds["tas"].coords)
    check(f"{os.path.basename(path)}: tas in K, 2 m height", ds["tas"].attrs.get("units") == "K"
          and float(ds["tas"].coords["height"]) == 2.0)
    return ds


def main():
    climvae, model, work = (os.path.abspath(a) for a in sys.argv[1:4])
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    for f in glob.glob("*.nc"):
        os.remove(f)
    gen = [climvae, "generate", "--model", model, "--start", "2022-03-30T21", "--hours", "30", "--members", "3",
           "--seed", "5"]
    subprocess.run(gen + ["--cell", "0", "--layout", "grid", "--output", "grid.nc"], check=True)
    subprocess.run(gen + ["--layout", "members", "--output", "tas_1hr.nc"], check=True)

    # Grid file: tas(time, realization, lat, lon); CDO sees realization as its levels.
    ds = open_cf("grid.nc")
    check("grid: realization coordinate is 1..3", ds["realization"].values.tolist() == [1, 2, 3])
    rows = cdo_table("grid.nc", "date,time,lev")
    check("grid: times equal CDO's", xr_times(ds) == cdo_times(rows), f"{xr_times(ds)[:2]} vs {cdo_times(rows)[:2]}")
    tas = ds["tas"].isel(lat=0, lon=0)
    by_cdo = {(f"{r[0]}T{r[1][:5]}", int(float(r[2]))): float(r[3]) for r in rows}
    worst = max(abs(float(tas.sel(realization=m).values[i]) - by_cdo[(t, m)])
                for i, t in enumerate(xr_times(ds)) for m in (1, 2, 3))
    check("grid: every value equals CDO's", len(by_cdo) == 90 and worst < 1e-3, f"max |diff| {worst:.1e} K")

    # One file per member: tas(time, cell) with lat/lon per cell and a scalar realization.
    files = sorted(glob.glob("tas_1hr_r*i1p1f1_*.nc"))
    check("members: one file per member", len(files) == 3, str(files))
    for member, path in enumerate(files, start=1):
        ds = open_cf(path)
        check(f"{path}: realization = {member}", int(ds["realization"]) == member)
        rows = cdo_table(path, "date,time,lat,lon")
        check(f"{path}: times equal CDO's", xr_times(ds) == cdo_times(rows))
        lats = ds["lat"].values
        worst = 0.0
        for r in rows:
            t = xr_times(ds).index(f"{r[0]}T{r[1][:5]}")
            cell = int(np.argmin(np.abs(lats - float(r[2]))))
            worst = max(worst, abs(float(ds["tas"].values[t, cell]) - float(r[4])))
        check(f"{path}: every value equals CDO's", len(rows) == 60 and worst < 1e-3, f"max |diff| {worst:.1e} K")
    # And all members together, realization as the concatenation coordinate.
    ens = xr.concat([xr.open_dataset(f, use_cftime=True) for f in files], dim="realization")
    check("members: concatenated along realization 1..3", ens["realization"].values.tolist() == [1, 2, 3]
          and ens["tas"].dims == ("realization", "time", "cell"), str(ens["tas"].dims))
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
