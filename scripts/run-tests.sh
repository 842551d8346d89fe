#!/usr/bin/env bash
# Runs test projects (TUnit, and the example's xUnit one) (already built), shows TestKit's session summary of each, and prints one honest closing line, "N passed, N failed",
# counted from each project's TRX report. Fails when a project fails, crashes, or runs no test
# (TUnit's exit code 8). With TESTKIT_COUNTS_FILE set, the two numbers are also appended to that file.
# Usage: scripts/run-tests.sh CONFIGURATION PROJECT [PROJECT ...] [-- extra TUnit arguments]
set -uo pipefail

configuration=$1; shift
projects=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do projects+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift

results_root="$(pwd)/artifacts/test-results"
total_passed=0
total_failed=0
status=0

counter() { # counter NAME FILE: the value of a Counters attribute in a TRX file
  grep -o "<Counters [^>]*" "$2" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]\+" || echo 0
}

for project in "${projects[@]}"; do
  name=$(basename "$project")
  results="$results_root/$name"
  rm -rf "$results"
  mkdir -p "$results"
  # TUnit's own option; another framework's test application (the example's xUnit project) would refuse it.
  framework_args=()
  grep -q 'Include="TUnit.Engine"' "$project"/*.csproj && framework_args=(--fail-on-unobserved-task-exceptions)
  dotnet run --project "$project" -c "$configuration" --no-build -- "${framework_args[@]}" \
    --report-trx --report-trx-filename "$name.trx" --results-directory "$results" "$@" 2>&1 | tee "$results/$name.log"
  code=${PIPESTATUS[0]}
  # TestKit's session summary, written by TestKit.TUnit into the results folder it was given: show it here. A whole
  # (unfiltered) run of a project on TestKit.TUnit that leaves none there is a failure of the kit.
  summary_missing=0
  if [ -f "$results/testkit-summary.txt" ]; then
    cat "$results/testkit-summary.txt"
  elif grep -q 'Include="TestKit.TUnit"' "$project"/*.csproj && [[ " $* " != *" --treenode-filter "* ]]; then
    echo "$name: TestKit.TUnit wrote no session summary into $results; counted as 1 failed." >&2
    summary_missing=1
  fi
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "$name: no test report was written (exit code $code); counted as 1 failed." >&2
    total_failed=$((total_failed + 1))
    status=1
    continue
  fi
  passed=$(counter passed "$trx")
  failed=$(( $(counter failed "$trx") + $(counter error "$trx") + $(counter timeout "$trx") + $(counter aborted "$trx") ))
  executed=$(counter executed "$trx")
  echo "$name: $passed passed, $failed failed (exit code $code)"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed + summary_missing))
  [ "$summary_missing" = 1 ] && status=1
  if [ "$code" = "8" ] || [ "$executed" = "0" ]; then
    echo "$name: no test ran." >&2
    status=1
  elif [ "$code" != "0" ]; then
    status=1
  fi
done

[ -n "${TESTKIT_COUNTS_FILE:-}" ] && echo "$total_passed $total_failed" >> "$TESTKIT_COUNTS_FILE"
echo "$total_passed passed, $total_failed failed"
exit $status
