#!/usr/bin/env bash
# The Slurm job scripts, run locally: jobscripts/slurm/submit.sh through sbatch and srun shims
# (tests/slurm-shim: srun = mpirun -np 2, sbatch runs the script) on the shipped Paris series.
# The first training link gets SIGUSR1 as Slurm's --signal would send it; the next link resumes
# from the checkpoint; the job array writes one ensemble file per task. 300 epochs: the first
# link must still be training when the signal comes 3 s after it starts (100 epochs took 3 s).
# Usage: slurm_jobs.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$src/tests/slurm-shim:$PATH" SLURM_SHIM_STATE="$work/state" CLIMVAE="$climvae"
export CLIMVAE_GPUS_PER_NODE=2 CLIMVAE_TASKS_PER_NODE=2 CLIMVAE_CPUS_PER_TASK=1 CLIMVAE_MODULES=""
failures=0
check() {  # check NAME COMMAND...: passes when the command succeeds
  local name="$1"
  shift
  if "$@" > /dev/null 2>&1; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
run="$work/run"
SBATCH_SHIM_SIGNAL_AFTER=3 LINKS=3 ARRAY=2 MEMBERS=2 HOURS=200 START=2022-06-01 \
  PREPARE_OPTIONS="--from 2019-01-01 --until 2021-12-31 --no-trend" \
  "$src/jobscripts/slurm/submit.sh" "$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv" "$run" \
  --epochs 300 --seed 3 > "$work/submit.out" 2>&1
check "submit.sh ran" grep -q "generate: job array" "$work/submit.out"
check "store prepared" test -s "$run/store.nc"
check "first link stopped by SIGUSR1 and exited 0" grep -q "stopped before the time limit" "$run/slurm-1002.out"
check "second link resumed" grep -q "resuming from 'model.ckpt'" "$run/slurm-1003.out"
check "model trained" test -s "$run/model"
check "third link had nothing to do" grep -q "is complete, nothing to do" "$run/slurm-1004.out"
check "log holds epochs 1-300 once" test "$(tail -n +2 "$run/model.log.csv" | cut -d, -f1 | tr '\n' ' ')" = "$(seq -s ' ' 1 300) "
for task in 0 1; do
  check "array task $task wrote its members" grep -q "realization = 2" <(ncdump -h "$run/ensemble/members-$task.nc")
done
log="$SLURM_SHIM_STATE/sbatch.log"
for option in "--signal=USR1@120" "--dependency=afterok:1002" "--array=0-1" "--account=my_project" \
  "--gpus-per-node=2" "--ntasks-per-node=2"; do
  check "sbatch given $option" grep -qF -- "$option" "$log"
done
check "every job exited 0" test "$(grep -c 'exit 0' "$log")" -eq 6
if [ $failures -ne 0 ]; then
  cat "$work/submit.out" "$log"
  tail -n 15 "$run"/slurm-*.out
fi
echo "$failures failed"
[ $failures -eq 0 ]
