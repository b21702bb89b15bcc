#!/usr/bin/env bash
# Builds climvae and runs the whole test suite (unit, MPI at 1 and 2 ranks, end to end, fidelity),
# then the plugin suite under sanitizers, then every test but fidelity on an OpenMP Kokkos, then
# the same members from the portable, OpenMP and native builds.
set -euo pipefail
cd "$(dirname "$0")/.."
jobscripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Tests run side by side, one per core (a two-rank test takes two): the long fidelity runs start
# first (their COST) and the rest fill the other core. Every test works in a folder of its own.
jobs="${CLIMVAE_JOBS:-$(nproc)}"
ctest --test-dir "${CLIMVAE_BUILD_DIR:-build}" --parallel "$jobs" --output-on-failure --timeout 1500

# The plugin suite and the fuzz tests again under AddressSanitizer + UndefinedBehaviorSanitizer:
# a second build without LibTorch that makes only the plugin library, its tests and examples and
# the fuzzer, and reuses the test model that the run above trained. -O1: the sanitizers find the
# same faults, and the build takes half the time of -O3 (the tests are short).
san_dir="${CLIMVAE_SANITIZE_BUILD_DIR:-build-sanitize}"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B "$san_dir" -DCMAKE_BUILD_TYPE=Release -DCLIMVAE_WITH_TORCH=OFF -DCLIMVAE_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_Fortran_FLAGS_RELEASE="-O1" \
  -DCLIMVAE_PLUGIN_TEST_MODEL_DIR="$PWD/${CLIMVAE_BUILD_DIR:-build}/plugin/tests" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DCMAKE_Fortran_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$san_dir" --target climvae_plugin_tests fuzz_loaders -j "$jobs"
ctest --test-dir "$san_dir" -L 'plugin|fuzz' --parallel "$jobs" --output-on-failure --timeout 600

# Threads within a rank: the suite again (fidelity runs left out) on the Kokkos 4.6.01 release
# built with OpenMP from ../shared/kokkos, with two threads per rank.
jobscripts/test-openmp.sh

# Member m the same whatever the build: the portable, OpenMP and -march=native builds' members.
jobscripts/check-build-bits.sh
