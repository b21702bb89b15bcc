# Site settings for the Slurm job scripts (jobscripts/slurm/): the one file to edit for a
# cluster. Sourced by every script; a variable already set in the environment wins.
: "${CLIMVAE_ACCOUNT:=my_project}"          # sbatch --account
: "${CLIMVAE_PARTITION:=gpu}"               # sbatch --partition
: "${CLIMVAE_GPUS_PER_NODE:=4}"             # one rank per GPU; 0 on CPU nodes
: "${CLIMVAE_TASKS_PER_NODE:=$CLIMVAE_GPUS_PER_NODE}"  # ranks per node (set it on CPU nodes)
: "${CLIMVAE_CPUS_PER_TASK:=8}"             # cores per rank (OpenMP threads of a CPU build)
: "${CLIMVAE_TIME_LIMIT:=02:00:00}"         # wall time of one training link
: "${CLIMVAE_SIGNAL_SECONDS:=120}"          # SIGUSR1 this long before the limit: checkpoint and stop
: "${CLIMVAE_MODULES:=}"                    # e.g. "gcc/12 openmpi/4.1 cuda/12.2"
: "${CLIMVAE:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/drivers/climvae}"  # the binary
export CLIMVAE_ACCOUNT CLIMVAE_PARTITION CLIMVAE_GPUS_PER_NODE CLIMVAE_TASKS_PER_NODE CLIMVAE_CPUS_PER_TASK \
  CLIMVAE_TIME_LIMIT CLIMVAE_SIGNAL_SECONDS CLIMVAE_MODULES CLIMVAE

# The options every submission shares.
climvae_sbatch_site() { echo "--account=$CLIMVAE_ACCOUNT --partition=$CLIMVAE_PARTITION"; }

# Loads the modules inside a job (no-op where there is no module command or none is listed).
climvae_load_modules() {
  if [ -n "$CLIMVAE_MODULES" ] && command -v module > /dev/null 2>&1; then
    # shellcheck disable=SC2086
    module load $CLIMVAE_MODULES
  fi
  export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-$CLIMVAE_CPUS_PER_TASK}" OMP_PROC_BIND=spread OMP_PLACES=threads
}
