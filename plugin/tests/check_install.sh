#!/usr/bin/env bash
# Installs climvae into a temporary prefix and builds the plugin examples against it the way a
# host program would: once through find_package(climvae CONFIG), once through pkg-config; then
# runs them. Usage: check_install.sh BUILD_DIR MODEL
set -uo pipefail
source "$(dirname "$0")/../../tests/check.sh"
build="$1" model="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

check "cmake --install" 0 "" -- cmake --install "$build" --prefix "$prefix"
pc="$(find "$prefix" -name climvae.pc)"
libdir="$(dirname "$(dirname "$pc")")"
for f in "$libdir/libclimvae.so.1" "$libdir/libclimvae.so" "$libdir/cmake/climvae/climvaeConfig.cmake" \
         "$libdir/pkgconfig/climvae-fortran.pc" "$prefix/include/climvae/climvae.h" \
         "$prefix/include/climvae/climvae.hpp" "$prefix/include/climvae/bmi.h" \
         "$prefix/include/climvae/climvae_bmi.h" "$prefix/include/climvae/climvae.mod" \
         "$prefix/bin/climvae" "$prefix/share/doc/climvae/examples/CMakeLists.txt"; do
  check "installed $(basename "$f")" 0 "$(basename "$f")" -- ls "$f"
done
check "no build-tree paths in the package" 0 "" -- sh -c "! grep -rl '$(cd "$build" && pwd)' '$libdir/cmake' '$libdir/pkgconfig'"
check "SONAME kept" 0 "[libclimvae.so.1]" -- readelf -d "$libdir/libclimvae.so.1"
check "installed climvae runs" 0 "generate" -- "$prefix/bin/climvae" --help
if [ -e "$build/drivers/climvae-export" ]; then
  check "installed climvae-export runs" 0 "" -- "$prefix/bin/climvae-export" --help
fi

printf 'model = %s\nstart = 2022-07-14T00\nhours = 48\nlocations = 48.85 2.35; 52.52 13.40\nseed = 3\nunits = degC\n' \
  "$model" > "$tmp/bmi.ini"
run_examples() {  # run_examples HOW DIR
  check "$1: C" 0 "streamed 26280 hourly values for 3 locations" -- "$2/weather_generator" "$model"
  check "$1: C++" 0 "caught CLIMVAE_ERR_UNKNOWN_CELL" -- "$2/cxx_example" "$model"
  check "$1: BMI host" 0 "bmi host loop done: 48 updates" -- "$2/bmi_host" "$tmp/bmi.ini"
  check "$1: Fortran" 0 "growing degree days" -- "$2/impact_gdd" "$model"
}

# 1. find_package(climvae CONFIG): the examples' own CMakeLists.txt, as installed.
check "find_package: configure" 0 "" -- cmake -S "$prefix/share/doc/climvae/examples" -B "$tmp/cmake" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
check "find_package: build" 0 "" -- cmake --build "$tmp/cmake"
run_examples find_package "$tmp/cmake"

# 2. pkg-config, plain compiler lines.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
ex="$prefix/share/doc/climvae/examples"
mkdir -p "$tmp/pc"
rpath="-Wl,-rpath,$(pkg-config --variable=libdir climvae)"
check "pkg-config: compile C" 0 "" -- sh -c "cc -o $tmp/pc/weather_generator $ex/weather_generator.c \$(pkg-config --cflags --libs climvae) $rpath"
check "pkg-config: compile C++" 0 "" -- sh -c "c++ -o $tmp/pc/cxx_example $ex/cxx_example.cpp \$(pkg-config --cflags --libs climvae) $rpath"
check "pkg-config: compile BMI" 0 "" -- sh -c "cc -o $tmp/pc/bmi_host $ex/bmi_host.c \$(pkg-config --cflags --libs climvae) $rpath"
check "pkg-config: compile Fortran" 0 "" -- sh -c "gfortran -o $tmp/pc/impact_gdd $ex/impact_gdd.f90 \$(pkg-config --cflags --libs climvae-fortran) $rpath"
run_examples pkg-config "$tmp/pc"
finish
