#!/usr/bin/env bash
# A cell generated alone through the plugin (C ABI, from Python ctypes) equals the same cell and
# members of a whole-region run on two ranks (`mpirun -np 2 climvae generate --bbox`), bit for bit,
# for a model with spatial factors and calibration (the 2 x 3 ERA5 grid near Berlin, 2017).
# Usage: spatial_region.sh CLIMVAE_BINARY LIBCLIMVAE SOURCE_DIR
set -uo pipefail
climvae="$1"
lib="$2"
source "$3/tests/check.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$climvae" prepare --input "$3/tests/data/era5/era5-cds-nc-feedinlib/ERA5_example_data.nc" --output grid.nc --no-trend > /dev/null
check train 0 "spatial factors shared by the 6 cells" -- \
  "$climvae" train --store grid.nc --output grid.model --epochs 2 --validation-fraction 0
check region 0 "6 cell(s)" -- mpirun --oversubscribe -np 2 "$climvae" generate --model grid.model --bbox 52,53,13,14 \
  --start 2017-03-01T05 --hours 1000 --members 3 --seed 9 --output region.nc
check plugin-equals-region 0 "6 cells x 3 members equal" -- /usr/bin/python3 - "$lib" grid.model region.nc <<'PY'
import ctypes as C, sys
import netCDF4, numpy as np
class Request(C.Structure):  # mirrors struct climvae_request in climvae.h
    _fields_ = [("start_hour", C.c_int64), ("hours", C.c_int64), ("seed", C.c_uint64),
                ("latitude", C.c_double), ("longitude", C.c_double), ("max_distance_km", C.c_double),
                ("warming_rate_k_per_year", C.c_double), ("warming_offset_k", C.c_double)] + \
               [(n, C.c_int32) for n in ("cell", "members", "units", "time_base", "scenario", "target_year",
                                         "transient", "add_noise", "condition_iterations", "reserved")]
lib = C.CDLL(sys.argv[1])
lib.climvae_open.argtypes = [C.c_char_p, C.c_int, C.POINTER(C.c_void_p)]
lib.climvae_request_defaults.argtypes = [C.POINTER(Request)]
lib.climvae_parse_time.argtypes = [C.c_char_p, C.POINTER(C.c_int64)]
lib.climvae_generate.argtypes = [C.c_void_p, C.POINTER(Request), C.POINTER(C.c_float), C.c_int64]
lib.climvae_last_error.argtypes = [C.c_void_p]
lib.climvae_last_error.restype = C.c_char_p
model = C.c_void_p()
assert lib.climvae_open(sys.argv[2].encode(), 1, C.byref(model)) == 0
f = netCDF4.Dataset(sys.argv[3])
tas = f["tas"][:]  # (time, realization, lat, lon), K
equal = 0
for j, lat in enumerate(f["lat"][:]):
    for i, lon in enumerate(f["lon"][:]):
        r = Request()
        lib.climvae_request_defaults(C.byref(r))
        start = C.c_int64()
        lib.climvae_parse_time(b"2017-03-01T05", C.byref(start))
        r.start_hour, r.hours, r.members, r.seed = start.value, 1000, 3, 9
        r.latitude, r.longitude, r.max_distance_km = float(lat), float(lon), 5.0
        out = (C.c_float * 3000)()
        status = lib.climvae_generate(model, C.byref(r), out, 3000)
        assert status == 0, lib.climvae_last_error(model)
        mine = np.frombuffer(out, dtype=np.float32).reshape(3, 1000)
        for m in range(3):
            if np.array_equal(mine[m], np.asarray(tas[:, m, j, i], dtype=np.float32)):
                equal += 1
            else:
                print("differs:", lat, lon, "member", m, np.abs(mine[m] - tas[:, m, j, i]).max())
print(f"6 cells x 3 members equal" if equal == 18 else f"only {equal} of 18 equal")
sys.exit(0 if equal == 18 else 1)
PY
finish
