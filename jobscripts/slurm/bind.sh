#!/usr/bin/env bash
# Runs one Slurm task's command on the GPU of its node-local rank: srun ... bind.sh climvae ...
# (one rank per GPU, Kokkos device = SLURM_LOCALID). On CPU nodes it runs the command as is.
if [ "${CLIMVAE_GPUS_PER_NODE:-0}" -gt 0 ]; then
  exec "$@" --kokkos-device-id="${SLURM_LOCALID:-0}"
fi
exec "$@"
