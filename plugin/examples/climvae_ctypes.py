#!/usr/bin/env python3
"""climvae from Python with ctypes only: open a model, ask for 3 members of 48 hours in degC
near Paris, print each member's range. Usage: climvae_ctypes.py LIBCLIMVAE MODEL"""
import ctypes as C
import sys


class Request(C.Structure):  # mirrors struct climvae_request in climvae.h
    _fields_ = [("start_hour", C.c_int64), ("hours", C.c_int64), ("seed", C.c_uint64),
                ("latitude", C.c_double), ("longitude", C.c_double), ("max_distance_km", C.c_double),
                ("warming_rate_k_per_year", C.c_double), ("warming_offset_k", C.c_double)] + \
               [(name, C.c_int32) for name in ("cell", "members", "units", "time_base", "scenario", "target_year",
                                               "transient", "add_noise", "condition_iterations", "reserved")]


ABI_VERSION, CELSIUS = 1, 1
lib = C.CDLL(sys.argv[1])
lib.climvae_open.argtypes = [C.c_char_p, C.c_int, C.POINTER(C.c_void_p)]
lib.climvae_last_error.argtypes = [C.c_void_p]
lib.climvae_last_error.restype = C.c_char_p
lib.climvae_request_defaults.argtypes = [C.POINTER(Request)]
lib.climvae_parse_time.argtypes = [C.c_char_p, C.POINTER(C.c_int64)]
lib.climvae_generate.argtypes = [C.c_void_p, C.POINTER(Request), C.POINTER(C.c_float), C.c_int64]
lib.climvae_close.argtypes = [C.c_void_p]
lib.climvae_set_memory_limit.argtypes = [C.c_void_p, C.c_int64]


def check(status, handle=None):
    if status != 0:
        raise RuntimeError(lib.climvae_last_error(handle).decode())


assert lib.climvae_abi_version() == ABI_VERSION
model = C.c_void_p()
check(lib.climvae_open(sys.argv[2].encode(), ABI_VERSION, C.byref(model)))
check(lib.climvae_set_memory_limit(model, 256), model)  # MiB per request; 3 x 48 hours need far less
r = Request()
lib.climvae_request_defaults(C.byref(r))
start = C.c_int64()
check(lib.climvae_parse_time(b"2022-07-14T00", C.byref(start)))
r.start_hour, r.hours, r.members, r.seed, r.units = start.value, 48, 3, 11, CELSIUS
r.latitude, r.longitude = 48.85, 2.35
out = (C.c_float * (r.hours * r.members))()
check(lib.climvae_generate(model, C.byref(r), out, len(out)), model)
for m in range(r.members):
    trace = out[m * r.hours:(m + 1) * r.hours]
    print(f"member {m}: {min(trace):.1f} .. {max(trace):.1f} degC")
try:
    r.members = 0
    check(lib.climvae_generate(model, C.byref(r), out, len(out)), model)
except RuntimeError as e:
    print(f"refused as expected: {e}")
check(lib.climvae_close(model))
print("python ctypes example done")
