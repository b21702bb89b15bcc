#!/usr/bin/env bash
# Builds climvae and runs the whole test suite (unit, MPI at 1 and 2 ranks, end to end, fidelity).
set -euo pipefail
cd "$(dirname "$0")/.."
jobscripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${CLIMVAE_BUILD_DIR:-build}" --output-on-failure --timeout 1200
