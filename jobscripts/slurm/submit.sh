#!/usr/bin/env bash
# The whole workflow as chained Slurm jobs: prepare a store, train on NODES nodes in LINKS
# links (each resumes the last checkpoint; --dependency=afterok), then generate an ensemble as
# a job array of ARRAY tasks. Settings come from jobscripts/site.sh.
# Usage: submit.sh INPUT.csv WORKDIR [train options...]
# Environment: NODES (1), LINKS (3), ARRAY (4), MEMBERS per task (25), START (2022-01-01),
# HOURS (8760), PREPARE_OPTIONS (e.g. "--until 2021-12-31 --reference-year 2022").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CLIMVAE_SITE="${CLIMVAE_SITE:-$here/../site.sh}" CLIMVAE_JOBSCRIPTS="$here"  # jobs inherit them
source "$CLIMVAE_SITE"
input="$1" work="$2"
shift 2
mkdir -p "$work"
nodes="${NODES:-1}" links="${LINKS:-3}" array="${ARRAY:-4}"
site=($(climvae_sbatch_site))
gpus=() one_gpu=()
if [ "$CLIMVAE_GPUS_PER_NODE" -gt 0 ]; then
  gpus=(--gpus-per-node="$CLIMVAE_GPUS_PER_NODE")
  one_gpu=(--gpus=1)
fi

prepare=$(sbatch --parsable "${site[@]}" --time=00:30:00 --chdir="$work" "$here/prepare.sbatch" \
  "$(realpath "$input")" store.nc ${PREPARE_OPTIONS:-})
echo "prepare: job $prepare"
last=$prepare
for link in $(seq 1 "$links"); do
  last=$(sbatch --parsable "${site[@]}" --dependency=afterok:"$last" --nodes="$nodes" "${gpus[@]}" \
    --ntasks-per-node="$CLIMVAE_TASKS_PER_NODE" --time="$CLIMVAE_TIME_LIMIT" \
    --signal=USR1@"$CLIMVAE_SIGNAL_SECONDS" --chdir="$work" "$here/train.sbatch" store.nc model "$@")
  echo "train link $link: job $last"
done
generate=$(sbatch --parsable "${site[@]}" --dependency=afterok:"$last" --array=0-$((array - 1)) "${one_gpu[@]}" \
  --time=00:30:00 --chdir="$work" "$here/generate.sbatch" model ensemble \
  --start "${START:-2022-01-01}" --hours "${HOURS:-8760}" --members "${MEMBERS:-25}")
echo "generate: job array $generate (tasks 0-$((array - 1)))"
