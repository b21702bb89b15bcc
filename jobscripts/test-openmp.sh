#!/usr/bin/env bash
# Threads within a rank: builds the Kokkos 4.6.01 release from ../shared/kokkos with the OpenMP
# (and Serial) backends as shared libraries into a build-local prefix, builds climvae against it
# in a separate build folder and runs every test except the two long fidelity runs with two
# OpenMP threads. Everything it makes lives under the build folders and can be rebuilt from the
# archive; rerunning reuses what is already built.
set -euo pipefail
cd "$(dirname "$0")/.."
archive="${CLIMVAE_KOKKOS_ARCHIVE:-../shared/kokkos/kokkos-4.6.01.tar.gz}"
kokkos_dir="${CLIMVAE_KOKKOS_OMP_DIR:-$PWD/build-kokkos-openmp}"
build_dir="${CLIMVAE_OPENMP_BUILD_DIR:-build-openmp}"
jobs="${CLIMVAE_JOBS:-$(nproc)}"
[ -f "$archive" ] || { echo "test-openmp: Kokkos archive $archive not found" >&2; exit 1; }

prefix="$kokkos_dir/install"
if [ ! -f "$prefix/lib/cmake/Kokkos/KokkosConfig.cmake" ]; then
  mkdir -p "$kokkos_dir"
  [ -d "$kokkos_dir/kokkos-4.6.01" ] || tar xzf "$archive" -C "$kokkos_dir"
  # Only the two host backends, no tests or examples: the library is all the step needs.
  cmake -S "$kokkos_dir/kokkos-4.6.01" -B "$kokkos_dir/build" -DCMAKE_BUILD_TYPE=Release \
    -DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_TESTS=OFF \
    -DKokkos_ENABLE_EXAMPLES=OFF -DBUILD_SHARED_LIBS=ON -DCMAKE_CXX_STANDARD=17 \
    -DCMAKE_INSTALL_PREFIX="$prefix" > "$kokkos_dir/configure.log" 2>&1 \
    || { cat "$kokkos_dir/configure.log"; exit 1; }
  cmake --build "$kokkos_dir/build" -j "$jobs" --target install > "$kokkos_dir/build.log" 2>&1 \
    || { tail -50 "$kokkos_dir/build.log"; exit 1; }
fi

# No benchmarks: CI runs none, and they are the slowest files to compile.
CLIMVAE_BUILD_DIR="$build_dir" jobscripts/build.sh -DKokkos_ROOT="$prefix" -DCLIMVAE_BUILD_BENCH=OFF
grep -q "Kokkos_DIR:PATH=$prefix" "$build_dir/CMakeCache.txt" \
  || { echo "test-openmp: $build_dir did not pick up the OpenMP Kokkos in $prefix" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Programs and examples installed by plugin_install find this Kokkos as a user's module would:
# on the library path. (CMake leaves a prefix inside the source tree, as this one is, out of the
# installed RPATH, and the linker resolves libclimvae.so's Kokkos through this path too.)
export LD_LIBRARY_PATH="$prefix/lib:$prefix/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Two threads per rank; the 2-rank tests then run four threads on CI's two cores. Waiting
# threads sleep instead of spinning: a spinning thread whose partner has no core burns the core
# it waits for (docs/benchmarks.md, threads within a rank).
export OMP_NUM_THREADS=2 OMP_PROC_BIND=false OMP_WAIT_POLICY=passive
ctest --test-dir "$build_dir" -LE 'fidelity|fuzz' --parallel "$jobs" --output-on-failure --timeout 1200
