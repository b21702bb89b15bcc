#!/usr/bin/env bash
# End to end through the command line: prepare -> train -> generate -> evaluate on the shipped
# Paris series (a short training), then the errors a user meets with bad input.
# Usage: end_to_end.sh CLIMVAE_BINARY SOURCE_DIR
set -uo pipefail
climvae="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
csv="$src/tests/data/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv"
source "$(dirname "$0")/check.sh"

check trend-needs-5-years nonzero "only 3 year(s)" -- "$climvae" prepare --input "$csv" --output short.nc --from 2019-01-01 --until 2021-12-31
check prepare 0 "wrote paris.nc" -- "$climvae" prepare --input "$csv" --output paris.nc --from 2019-01-01 --until 2021-12-31 --no-trend
check train 0 "stopped: reached the epoch ceiling 2 (--epochs)" -- "$climvae" train --store paris.nc --output paris.model --epochs 2 --log log.csv
check train-log 0 "epoch,train_reconstruction" -- head -1 log.csv
check generate 0 "wrote 3 member(s) x 200 hours" -- "$climvae" generate --model paris.model --start 2022-06-01T05:00 \
  --hours 200 --members 3 --seed 7 --output gen.nc
check ncdump 0 "tas:standard_name = \"air_temperature\"" -- ncdump -h gen.nc
check evaluate 0 "checks within tolerance" -- "$climvae" evaluate --store paris.nc --generated gen.nc --csv stats.csv
check evaluate-csv 0 "statistic,period,observed,generated" -- head -1 stats.csv
check config-file 0 "wrote cfg.model" -- bash -c "printf 'epochs = 1\nseed = 3\n' > train.ini &&
  '$climvae' train --store paris.nc --output cfg.model --config train.ini"
if [ -x "$(dirname "$climvae")/climvae-export" ]; then
  check export 0 "paris.pt" -- "$climvae" export --model paris.model --output paris.pt
  check export-is-zip 0 "PK" -- head -c 2 paris.pt
fi

# Bad input: a clear message, a non-zero status, nothing overwritten.
check unknown-command nonzero "unknown command 'trian'" -- "$climvae" trian
check unknown-option nonzero "unrecognised option '--epoch'" -- "$climvae" train --store paris.nc --output x.model --epoch 3
check bad-number nonzero "--epochs" -- "$climvae" train --store paris.nc --output x.model --epochs many
check missing-store nonzero "missing.nc" -- "$climvae" train --store missing.nc --output x.model
check store-not-netcdf nonzero "paris.model" -- "$climvae" train --store paris.model --output x.model
check model-not-model nonzero "is not a climvae model" -- "$climvae" generate --model paris.nc --start 2022-01-01 \
  --hours 10 --output y.nc
check refuses-overwrite nonzero "exists" -- "$climvae" generate --model paris.model --start 2022-01-01 --hours 10 \
  --output gen.nc
check kept-old-output 0 "realization = 3" -- ncdump -h gen.nc
check bad-date nonzero "2022-02-30" -- "$climvae" generate --model paris.model --start 2022-02-30 --hours 10 --output z.nc
check zero-hours nonzero "--hours" -- "$climvae" generate --model paris.model --start 2022-01-01 --hours 0 --output z.nc
check bad-cell nonzero "cell 4" -- "$climvae" generate --model paris.model --start 2022-01-01 --hours 10 --cell 4 --output z.nc
check help 0 "--store" -- "$climvae" train --help
check help-defaults-as-written 0 "--validation-fraction arg (=0.2)" -- "$climvae" train --help
check help-learning-rate 0 "--learning-rate arg (=0.001)" -- "$climvae" train --help
check help-max-loss 0 "--max-loss arg (=1000)" -- "$climvae" train --help
for command in train generate; do  # no 17-digit renderings of a double default anywhere
  check "help-$command-no-float-noise" 0 "" -- sh -c "! \"$climvae\" $command --help | grep -E '[0-9]\.[0-9]{12}'"
done
head -c 3000 paris.model > truncated.model
check truncated-model nonzero "truncated" -- "$climvae" generate --model truncated.model --start 2022-01-01 --hours 10 \
  --output z.nc
check no-partial-output 0 "" -- test ! -e z.nc
check calibrate-truncated-model nonzero "truncated" -- "$climvae" calibrate --model truncated.model --store paris.nc \
  --output z.model
check calibrate-nonsense-option nonzero "--calibrate must be 'on' or 'off'" -- "$climvae" calibrate --model paris.model \
  --store paris.nc --output z.model --calibrate maybe
check calibrate-existing-output nonzero "output 'log.csv' exists" -- "$climvae" calibrate --model paris.model --store paris.nc \
  --output log.csv
check calibrate-no-partial-output 0 "" -- test ! -e z.model

finish
