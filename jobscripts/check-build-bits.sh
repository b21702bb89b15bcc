#!/usr/bin/env bash
# Member m is the same whatever the build: trains a small four-site model (temporal prior,
# calibration, spatial factors: every part of a default generation) with the portable build, then
# generates the same members with the portable build, the OpenMP build of jobscripts/test-openmp.sh
# (two threads) and a -march=native build of the command alone, and requires every value to be
# bit for bit the same. A compiler that fuses a * b + c where FMA instructions exist (GCC does by
# default) made the native build's members differ in their last bits (CMakeLists.txt).
# Usage: check-build-bits.sh   (after jobscripts/build.sh and jobscripts/test-openmp.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
portable="$root/${CLIMVAE_BUILD_DIR:-build}/drivers/climvae"
openmp="$root/${CLIMVAE_OPENMP_BUILD_DIR:-build-openmp}/drivers/climvae"
native_dir="${CLIMVAE_NATIVE_BUILD_DIR:-build-native}"
jobs="${CLIMVAE_JOBS:-$(nproc)}"
for exe in "$portable" "$openmp"; do
  [ -x "$exe" ] || { echo "check-build-bits: $exe not built" >&2; exit 1; }
done
cmake -S . -B "$native_dir" -DCMAKE_BUILD_TYPE=Release -DCLIMVAE_NATIVE=ON -DCLIMVAE_WITH_TORCH=OFF \
  -DCLIMVAE_BUILD_TESTS=OFF -DCLIMVAE_BUILD_BENCH=OFF > "$native_dir.configure.log" 2>&1 \
  || { cat "$native_dir.configure.log"; exit 1; }
cmake --build "$native_dir" --target climvae -j "$jobs" > /dev/null
native="$root/$native_dir/drivers/climvae"
# Where the OpenMP build found its Kokkos (test-openmp.sh builds it there).
export LD_LIBRARY_PATH="$root/build-kokkos-openmp/install/lib:$root/build-kokkos-openmp/install/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$portable" prepare --sites "$root/tests/data/four_sites.csv" --output sites.nc --from 2014-06-01 --until 2016-05-31 --no-trend > /dev/null
"$portable" train --store sites.nc --output sites.model --epochs 3 --spatial-factors 4 > /dev/null
for build in portable openmp native; do
  exe="${!build}"
  OMP_NUM_THREADS=2 OMP_PROC_BIND=false "$exe" generate --model sites.model --start 2016-06-01 --hours 2000 \
    --members 3 --seed 11 --layout members --output "$build.nc" > /dev/null
done
status=0
for portable_file in portable_r*.nc; do
  for build in openmp native; do
    other="${portable_file/portable_/${build}_}"
    # Nine significant digits tell every float apart.
    if ! cmp -s <(ncdump -p 9,17 -v tas "$portable_file" | sed -n '/^data:/,$p') \
                <(ncdump -p 9,17 -v tas "$other" | sed -n '/^data:/,$p'); then
      echo "check-build-bits: $other differs from the portable build's $portable_file" >&2
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "check-build-bits: the portable, OpenMP and native builds generate the same members, bit for bit"
exit "$status"
