#!/usr/bin/env bash
# Runs the 1,000-test suite (bench/TestKit.Suite) end to end once per strategy, after the build, on the embedded
# PostgreSQL: the built test program itself, as a CI step or an IDE would run it (no `dotnet run`, which builds and
# restores first). Prints each run's wall time and the kit's own account of its first test.
# STRATEGIES="reset template" limits the strategies. With reset, a last row runs it on a kept server
# (TESTKIT_KEEP_SERVER): an untimed run starts the server, the timed one reuses it, as a developer's next run would.
set -euo pipefail
configuration=${1:-Release}
dotnet build bench/TestKit.Suite -c "$configuration" -nologo -clp:NoSummary >/dev/null
program=bench/TestKit.Suite/bin/$configuration/net10.0/TestKit.Suite.dll
# The kit's session summary goes to the test platform's results folder (by default TestResults beside the program).
summary_file=$(dirname "$program")/TestResults/testkit-summary.txt

# run LABEL VARIABLE=VALUE...: one timed run of the suite with those variables.
run() {
  local label=$1; shift
  local start end output result summary first
  start=$(date +%s.%N)
  if output=$(env "$@" dotnet "$program" 2>&1); then result=passed; else result="FAILED"; fi
  end=$(date +%s.%N)
  summary=$(printf '%s\n' "$output" | grep -E '^\s+(total|failed|succeeded):' | tr -s ' \n' ' ')
  first=$( [ -f "$summary_file" ] && grep -m1 'first test:' "$summary_file" | sed 's/^ *//' || true)
  printf '%-22s %10.1f %s (%s)\n' "$label" "$(echo "$end - $start" | bc)" "$result" "$summary"
  printf '%-22s %10s %s\n' "" "" "$first"
}

printf '%-22s %10s %s\n' strategy "wall (s)" result
for strategy in ${STRATEGIES:-migrate-erase template reset}; do
  run "$strategy" TESTKIT_ISOLATION="$strategy"
done

if [[ " ${STRATEGIES:-reset} " == *" reset "* ]]; then
  # Never kept under CI; it stops itself 10 s after the timed run.
  kept=(-u CI TESTKIT_KEEP_SERVER=10 TESTKIT_ISOLATION=reset)
  env "${kept[@]}" dotnet "$program" >/dev/null 2>&1 || true
  run "reset, reused server" "${kept[@]}"
fi
