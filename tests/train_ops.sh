#!/usr/bin/env bash
# Training operations through the command line at 2 MPI ranks: SIGUSR1 stops a run with a
# checkpoint and exit status 75, --resume finishes it with the parameters of an uninterrupted
# run and a log holding every epoch once; an error every rank shares ends all ranks with one
# line; one rank running out of memory stops all ranks with that rank's message (no hang).
# Usage: train_ops.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mpi=(mpirun -np 2 --oversubscribe --allow-run-as-root)
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
params() { python3 -c "import sys; d=open(sys.argv[1],'rb').read(); sys.stdout.write(d[d.index(b'end-header'):].hex())" "$1"; }

"$climvae" prepare --input "$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv" --output small.nc \
  --from 2019-01-01 --until 2021-12-31 --no-trend > /dev/null || fail prepare
train=("$climvae" train --store small.nc --epochs 30 --seed 3)

# Uninterrupted reference.
"${mpi[@]}" "${train[@]}" --output whole.model > whole.out 2>&1 || fail "uninterrupted run: $(tail -3 whole.out)"

# Interrupted by SIGUSR1 (mpirun forwards it to the ranks, as srun does) once epoch 3 is logged.
"${mpi[@]}" "${train[@]}" --output parts.model --log log.csv --checkpoint run.ckpt > first.out 2>&1 &
pid=$!
for _ in $(seq 1200); do
  [ "$(cat log.csv 2>/dev/null | wc -l)" -ge 4 ] || ! kill -0 $pid 2>/dev/null && break
  sleep 0.05
done
kill -USR1 $pid
wait $pid
status=$?
if [ $status -eq 75 ] && grep -q "stopped by SIGUSR1" first.out && [ -s run.ckpt ] && [ ! -e parts.model ]; then
  ok "SIGUSR1: checkpoint, exit status 75, no model file"
else
  fail "SIGUSR1: status $status: $(tail -3 first.out)"
fi
echo "999,stale line of a run past its checkpoint" >> log.csv
"${mpi[@]}" "${train[@]}" --output parts.model --log log.csv --checkpoint run.ckpt --resume run.ckpt > second.out 2>&1 \
  || fail "resume: $(tail -3 second.out)"
grep -q "resuming from 'run.ckpt'" second.out && ok "resume announced" || fail "resume not announced"
if [ -e parts.model ] && [ "$(params parts.model)" = "$(params whole.model)" ]; then
  ok "interrupted + resumed = uninterrupted, bit for bit"
else
  fail "resumed parameters differ from the uninterrupted run"
fi
epochs="$(tail -n +2 log.csv | cut -d, -f1 | tr '\n' ' ')"
[ "$epochs" = "$(seq -s ' ' 1 30) " ] && ok "log: every epoch once" || fail "log epochs: $epochs"
[ "$(head -1 log.csv | cut -d, -f1)" = epoch ] && ok "log: one header" || fail "log header"

# climvae calibrate on the training store refits exactly what train fitted after training (at 2
# ranks too); it refuses a store of other cells and writing over its own model.
header_fits() { python3 -c "import sys; d=open(sys.argv[1],'rb').read(); h=d[:d.index(b'end-header')].decode()
print('\n'.join(l for l in h.split('\n') if not l.startswith(('info ', 'crc32 '))))" "$1"; }
"${mpi[@]}" "$climvae" calibrate --model whole.model --store small.nc --output recalibrated.model > calibrate.out 2>&1 \
  || fail "calibrate: $(tail -3 calibrate.out)"
if [ -e recalibrated.model ] && [ "$(header_fits recalibrated.model)" = "$(header_fits whole.model)" ] &&
   [ "$(params recalibrated.model)" = "$(params whole.model)" ] && grep -aq "^calibration 0 " whole.model; then
  ok "calibrate: the same calibration as train's, bit for bit"
else
  fail "calibrate: the refitted model differs from train's"
fi
"$climvae" prepare --input "$src/tests/data/openmeteo/open-meteo-52.55N13.41E38m_Berlin.csv" --output berlin.nc \
  --from 2019-01-01 --until 2021-12-31 --no-trend > /dev/null || fail "prepare Berlin"
"$climvae" calibrate --model whole.model --store berlin.nc --output other.model > other.out 2>&1
[ $? -eq 1 ] && grep -q "is not the model's" other.out && [ ! -e other.model ] \
  && ok "calibrate: a store of other cells refused" || fail "calibrate on other cells: $(cat other.out)"
"$climvae" calibrate --model whole.model --store small.nc --output whole.model > self.out 2>&1
[ $? -eq 1 ] && grep -q "must not be --model" self.out && [ "$(params whole.model)" = "$(params parts.model)" ] \
  && ok "calibrate: its own model file refused" || fail "calibrate over its model: $(cat self.out)"

# An error every rank knows (collective read of the checkpoint): one line, status 1, no abort.
"${mpi[@]}" "${train[@]}" --output x.model --resume missing.ckpt > missing.out 2>&1
status=$?
if [ $status -eq 1 ] && [ "$(grep -c "cannot open checkpoint 'missing.ckpt'" missing.out)" -eq 1 ] &&
   ! grep -q MPI_ABORT missing.out; then
  ok "shared error: one message, status 1"
else
  fail "shared error: status $status: $(cat missing.out | head -5)"
fi

# Rank 0 (which holds the only cell) runs out of memory in its first step, rank 1 waits in the
# step's allreduce: all stop, with rank 0's message.
"$climvae" prepare --input "$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv" --output full.nc > /dev/null
big=(train --store full.nc --output y.model --epochs 1 --batch-size 512)
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 1 bash -c "ulimit -v 150000; exec $climvae ${big[*]}" \
  : -np 1 "$climvae" "${big[@]}" > oom.out 2>&1
status=$?
if [ $status -ne 0 ] && [ $status -ne 124 ] && grep -q "error on rank 0 of 2: .*\(alloc\|out of memory\)" oom.out; then
  ok "one rank out of memory: all stop with its message"
else
  fail "out of memory: status $status: $(head -5 oom.out)"
fi

echo "$failures failed"
[ $failures -eq 0 ]
