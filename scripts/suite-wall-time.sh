#!/usr/bin/env bash
# Runs the 1,000-test suite (bench/TestKit.Suite) end to end once per strategy, after the build, on the embedded
# PostgreSQL: the built test program itself, as a CI step or an IDE would run it (no `dotnet run`, which builds and
# restores first). Prints each run's wall time and the kit's own account of its first test.
# STRATEGIES="reset template" limits the strategies.
set -euo pipefail
configuration=${1:-Release}
dotnet build bench/TestKit.Suite -c "$configuration" -nologo -clp:NoSummary >/dev/null
program=bench/TestKit.Suite/bin/$configuration/net10.0/TestKit.Suite.dll
printf '%-14s %10s %s\n' strategy "wall (s)" result
for strategy in ${STRATEGIES:-migrate-erase template reset}; do
  start=$(date +%s.%N)
  if output=$(TESTKIT_ISOLATION=$strategy dotnet "$program" 2>&1); then result=passed; else result="FAILED"; fi
  end=$(date +%s.%N)
  summary=$(printf '%s\n' "$output" | grep -E '^\s+(total|failed|succeeded):' | tr -s ' \n' ' ')
  # The kit's session summary goes to the test platform's results folder (by default TestResults beside the program).
  summary_file=$(dirname "$program")/TestResults/testkit-summary.txt
  first=$( [ -f "$summary_file" ] && grep -m1 'first test:' "$summary_file" | sed 's/^ *//' || true)
  printf '%-14s %10.1f %s (%s)\n' "$strategy" "$(echo "$end - $start" | bc)" "$result" "$summary"
  printf '%-14s %10s %s\n' "" "" "$first"
done
