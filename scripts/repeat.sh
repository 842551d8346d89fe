#!/usr/bin/env bash
# Runs the already built TestKit.Tests N times in a row and says which tests failed in how many runs.
# Exits non-zero when any run failed (a failed test, a crash, no report, or no test run at all).
# With TESTKIT_COUNTS_FILE set, each run's passed and failed counts are appended to that file.
# Usage: scripts/repeat.sh CONFIGURATION N [-- extra TUnit arguments]
set -uo pipefail

configuration=$1
runs=$2
shift 2
[ "${1:-}" = "--" ] && shift

case "$runs" in ''|*[!0-9]*|0) echo "repeat: N must be a positive whole number, not '$runs'." >&2; exit 2 ;; esac

project=TestKit.Tests
# Repetition is for flakiness: the randomised pair tests (RandomPairTests) run 500 pairs per strategy in `make test`, 50 here.
export TESTKIT_RANDOM_PAIRS="${TESTKIT_RANDOM_PAIRS:-50}"
dll="$project/bin/$configuration/net10.0/$project.dll"
if [ ! -f "$dll" ]; then
  echo "repeat: $dll is not built; run 'make test' (or 'make build') first." >&2
  exit 2
fi

root="$(pwd)/artifacts/repeat"
rm -rf "$root"
mkdir -p "$root"
failures="$root/failures.txt" # one line per failed test per run: Class.Method(arguments)
: > "$failures"
failed_runs=0

counter() { # counter NAME FILE: the value of a Counters attribute in a TRX file
  grep -o "<Counters [^>]*" "$2" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]\+" || echo 0
}

# Class.Method(arguments) of every result in a TRX file whose outcome is not Passed: the class comes from the
# UnitTest definition that the result's testId names.
failed_tests() {
  awk '
    /<UnitTestResult / {
      id = ""; name = ""; outcome = ""
      if (match($0, /testId="[^"]*"/)) id = substr($0, RSTART + 8, RLENGTH - 9)
      if (match($0, /testName="[^"]*"/)) name = substr($0, RSTART + 10, RLENGTH - 11)
      if (match($0, /outcome="[^"]*"/)) outcome = substr($0, RSTART + 9, RLENGTH - 10)
      if (outcome != "Passed" && outcome != "NotExecuted") failed[id] = name
    }
    /<UnitTest / { if (match($0, /id="[^"]*"/)) current = substr($0, RSTART + 4, RLENGTH - 5) }
    /<TestMethod / { if (match($0, /className="[^"]*"/)) class[current] = substr($0, RSTART + 11, RLENGTH - 12) }
    END { for (id in failed) print (id in class ? class[id] "." : "") failed[id] }
  ' "$1"
}

for run in $(seq 1 "$runs"); do
  results="$root/run-$run"
  started=$(date +%s)
  dotnet run --project "$project" -c "$configuration" --no-build -- --fail-on-unobserved-task-exceptions \
    --report-trx --report-trx-filename "$project.trx" --results-directory "$results" "$@" > "$results.log" 2>&1
  code=$?
  seconds=$(( $(date +%s) - started ))
  trx="$results/$project.trx"
  if [ ! -f "$trx" ]; then
    echo "run $run/$runs: no test report (exit code $code, ${seconds} s); see $results.log"
    echo "(the whole run: no report)" >> "$failures"
    failed_runs=$((failed_runs + 1))
    [ -n "${TESTKIT_COUNTS_FILE:-}" ] && echo "0 1" >> "$TESTKIT_COUNTS_FILE"
    continue
  fi
  passed=$(counter passed "$trx")
  failed=$(( $(counter failed "$trx") + $(counter error "$trx") + $(counter timeout "$trx") + $(counter aborted "$trx") ))
  executed=$(counter executed "$trx")
  failed_tests "$trx" >> "$failures"
  verdict=green
  if [ "$code" != "0" ] || [ "$failed" != "0" ] || [ "$executed" = "0" ]; then
    verdict=red
    failed_runs=$((failed_runs + 1))
    [ "$failed" = "0" ] && failed=1 && echo "(the whole run: exit code $code)" >> "$failures"
  fi
  [ -n "${TESTKIT_COUNTS_FILE:-}" ] && echo "$passed $failed" >> "$TESTKIT_COUNTS_FILE"
  echo "run $run/$runs: $verdict, $passed passed, $failed failed (exit code $code, ${seconds} s)"
done

if [ -s "$failures" ]; then
  echo "Failing tests, with the number of runs each failed in:"
  sort "$failures" | uniq -c | sort -rn | sed 's/^ */  /'
fi
echo "repeat: $failed_runs of $runs runs failed"
[ "$failed_runs" = 0 ]
