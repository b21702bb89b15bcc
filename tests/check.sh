# Shared by the command-line test scripts (source it): `check` runs a command and compares its
# exit status and output with what is wanted; `finish` reports and sets the script's status.
failures=0
check_output=""
check() {  # check NAME EXPECTED_STATUS(0|nonzero) EXPECTED_TEXT -- command...
  local name="$1" want="$2" text="$3"
  shift 4
  local status
  check_output="$("$@" 2>&1)"
  status=$?
  if { [ "$want" = 0 ] && [ $status -ne 0 ]; } || { [ "$want" != 0 ] && [ $status -eq 0 ]; } ||
     ! grep -qF -- "$text" <<<"$check_output"; then
    echo "FAIL $name (status $status, wanted $want, text '$text'):"
    echo "$check_output" | tail -5
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
finish() {
  echo "$failures failed"
  [ $failures -eq 0 ]
}
