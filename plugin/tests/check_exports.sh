#!/bin/sh
# libclimvae exports only climvae_* and register_bmi_climvae, and its SONAME carries the ABI version.
set -eu
lib="$1"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libclimvae.so.1" ] || { echo "FAIL SONAME is '$soname', wanted libclimvae.so.1"; exit 1; }
others=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRV]/ {sub(/@.*/, "", $3); print $3}' | grep -v -e '^climvae_' -e '^register_bmi_climvae$' -e '^CLIMVAE_1$' || true)
[ -z "$others" ] || { echo "FAIL exports beyond the C ABI:"; echo "$others" | head; exit 1; }
echo "ok   SONAME $soname, $(nm -D --defined-only "$lib" | grep -c ' T ') exported functions, all climvae_*"
