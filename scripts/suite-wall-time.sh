#!/usr/bin/env bash
# Runs the 1,000-test suite (bench/TestKit.Suite) end to end once per strategy, after the build,
# on the embedded PostgreSQL, and prints the wall time of each run.
set -euo pipefail
configuration=${1:-Release}
dotnet build bench/TestKit.Suite -c "$configuration" -nologo -clp:NoSummary >/dev/null
printf '%-14s %10s %s\n' strategy "wall (s)" result
for strategy in migrate-erase template reset; do
  start=$(date +%s.%N)
  if output=$(TESTKIT_ISOLATION=$strategy dotnet run --project bench/TestKit.Suite -c "$configuration" --no-build 2>&1); then result=passed; else result="FAILED"; fi
  end=$(date +%s.%N)
  summary=$(printf '%s\n' "$output" | grep -E '^\s+(total|failed|succeeded):' | tr -s ' \n' ' ')
  printf '%-14s %10.1f %s (%s)\n' "$strategy" "$(echo "$end - $start" | bc)" "$result" "$summary"
done
