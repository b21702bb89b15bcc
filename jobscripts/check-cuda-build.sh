#!/usr/bin/env bash
# GPU compile check: builds the Kokkos 4.6.01 release from ../shared/kokkos with the CUDA backend
# (plus its CUDA 13 patch) into a build-local prefix, then builds every climvae target without
# LibTorch for sm_90 with nvcc_wrapper. Compile and link only: programs link against the toolkit's
# stub libcuda, so no GPU or driver is needed, and nothing is run. Skips where nvcc is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
if [ ! -x "$cuda_home/bin/nvcc" ]; then
  echo "check-cuda-build: SKIPPED, no nvcc at $cuda_home/bin/nvcc (set CUDA_HOME to the CUDA toolkit)"
  exit 0
fi
shared="${CLIMVAE_KOKKOS_SHARED:-../shared/kokkos}"
kokkos_dir="${CLIMVAE_KOKKOS_CUDA_DIR:-$PWD/build-kokkos-cuda}"
build_dir="${CLIMVAE_CUDA_BUILD_DIR:-build-cuda}"
jobs="${CLIMVAE_JOBS:-$(nproc)}"
for f in kokkos-4.6.01.tar.gz kokkos-4.6.01-cuda13.patch; do
  [ -f "$shared/$f" ] || { echo "check-cuda-build: $shared/$f not found" >&2; exit 1; }
done
export PATH="$cuda_home/bin:$PATH"
# ccache does not know nvcc_wrapper's options; compile directly.
unset CMAKE_CXX_COMPILER_LAUNCHER CMAKE_C_COMPILER_LAUNCHER

# Kokkos' wrapper defaults to sm_70, which nvcc 13 no longer supports: Hopper (H100/H200).
wrapper="$kokkos_dir/nvcc_wrapper"
prefix="$kokkos_dir/install"
if [ ! -f "$prefix/lib/cmake/Kokkos/KokkosConfig.cmake" ]; then
  mkdir -p "$kokkos_dir"
  if [ ! -d "$kokkos_dir/kokkos-4.6.01" ]; then
    tar xzf "$shared/kokkos-4.6.01.tar.gz" -C "$kokkos_dir"
    (cd "$kokkos_dir/kokkos-4.6.01" && patch -s -p1) < "$shared/kokkos-4.6.01-cuda13.patch"
  fi
  sed 's/^default_arch="sm_70"/default_arch="sm_90"/' "$kokkos_dir/kokkos-4.6.01/bin/nvcc_wrapper" > "$wrapper"
  chmod +x "$wrapper"
  cmake -S "$kokkos_dir/kokkos-4.6.01" -B "$kokkos_dir/build" -DCMAKE_BUILD_TYPE=Release \
    -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_SERIAL=ON -DKokkos_ARCH_HOPPER90=ON \
    -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF \
    -DCMAKE_CXX_COMPILER="$wrapper" -DBUILD_SHARED_LIBS=ON -DCMAKE_CXX_STANDARD=17 \
    -DCMAKE_INSTALL_PREFIX="$prefix" > "$kokkos_dir/configure.log" 2>&1 \
    || { cat "$kokkos_dir/configure.log"; exit 1; }
  cmake --build "$kokkos_dir/build" -j "$jobs" --target install > "$kokkos_dir/build.log" 2>&1 \
    || { tail -50 "$kokkos_dir/build.log"; exit 1; }
fi

# The driver library libcuda.so.1 exists only where a GPU driver is installed: link against the
# toolkit's stub under the driver's name instead (the programs are built, never run, here).
stubs="$kokkos_dir/stubs"
mkdir -p "$stubs"
ln -sf "$cuda_home/lib64/stubs/libcuda.so" "$stubs/libcuda.so.1"
link="-L$stubs -Wl,-rpath-link,$stubs"
cmake -S . -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$prefix" \
  -DCMAKE_CXX_COMPILER="$wrapper" -DCLIMVAE_WITH_TORCH=OFF -DCLIMVAE_NATIVE=OFF \
  -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link" \
  > "$build_dir.configure.log" 2>&1 || { cat "$build_dir.configure.log"; exit 1; }
# Keep going past a failing file (make's -k) so that one run names every file nvcc rejects.
cmake --build "$build_dir" -j "$jobs" -- -k
echo "check-cuda-build: every target compiled and linked for CUDA (sm_90)"
