#!/usr/bin/env bash
# Installs climvae's build and run dependencies on Debian 12 (bookworm). Idempotent.
set -euo pipefail
packages=(
  cmake g++ gfortran make pkg-config
  libtrilinos-kokkos-dev            # Kokkos 3.4 (Serial backend)
  libopenmpi-dev openmpi-bin        # MPI
  libpnetcdf-dev pnetcdf-bin        # PnetCDF: classic/CDF-5 reading and writing
  libnetcdf-dev netcdf-bin          # netCDF-C: netCDF-4/HDF5 input; ncdump
  libtorch-dev                      # LibTorch 1.13: gradient oracle, export, speed peer
  libopenblas0-openmp               # without it LibTorch uses the reference BLAS (4x slower)
  libboost-program-options-dev libgtest-dev
  cdo                               # tests check that CDO reads our output
  python3 python3-numpy python3-netcdf4
  python3-torch python3-xarray      # PyTorch round trip (python/climvae_torch); xarray reading test
  python3-matplotlib chromium       # evaluation report figures; its test loads the page headless
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup-debian: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
