#!/usr/bin/env bash
# The version matrix: runs TestKit on an embedded server of every PostgreSQL major a team runs (14 to 18), and checks
# that 13 is refused with the kit's own message. Per major, the server programs are the machine's own when it has them
# (/usr/lib/postgresql/M/bin), else fetched by scripts/postgres-programs.sh (npm), and named by TESTKIT_POSTGRES_BIN.
# Each major runs (already built):
#   - the kit's version subset (KIT_CLASSES below) in verification mode: isolation under every strategy, every reset
#     verdict, migrations with errors, server-wide objects, seeds, mapped types and the server-dependent fault cases
#     (20 random hostile pairs per strategy); about 2 minutes a version on two cores;
#   - the demo suite once per strategy (TESTKIT_ISOLATION), also in verification mode.
# Prints one table (version x column, passed/failed) and writes it to artifacts/versions/table.md; every run's output is
# in artifacts/versions/ (log and TRX report). With TESTKIT_COUNTS_FILE set, the counts go there too. Fails when any cell failed.
# Usage: scripts/versions.sh CONFIGURATION [MAJOR ...]   (default: 13 14 15 16 17 18)
set -uo pipefail

configuration=$1; shift
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(13 14 15 16 17 18)
oldest_supported=14

KIT_CLASSES=(
  StrategyTests IsolationTests HeadProofTests RandomPairTests ParallelTests MigrateEraseTests
  ResetVerdictTests ResetSessionTests
  BadInputTests ServerWideObjectTests SeedTests ServerErrorTests
  DataOptionsTests MappedEnumTests TypedConnectionTests
  FaultServerTests FaultTemplateTests FaultStaleWriterTests
)
filter="/*/*/$(printf '(%s)|' "${KIT_CLASSES[@]}" | sed 's/|$//')/*"

out="$(pwd)/artifacts/versions"
rm -rf "$out"
mkdir -p "$out"
outer_counts=${TESTKIT_COUNTS_FILE:-}
status=0
rows=()

programs_of() { # programs_of MAJOR: the bin folder of that major's server programs
  if [ -x "/usr/lib/postgresql/$1/bin/initdb" ]; then echo "/usr/lib/postgresql/$1/bin"; else scripts/postgres-programs.sh "$1"; fi
}

cell() { # cell NAME PROJECT [env assignments...]: runs one project; sets result to "P passed, F failed", and status on failure
  local name=$1 project=$2; shift 2
  local counts="$out/$name.counts" passed failed
  : > "$counts"
  env "$@" TESTKIT_COUNTS_FILE="$counts" TESTKIT_VERIFY_HEAD=1 TESTKIT_RANDOM_PAIRS="${TESTKIT_RANDOM_PAIRS:-20}" \
    scripts/run-tests.sh "$configuration" "$project" ${KIT_FILTER:+-- --treenode-filter "$KIT_FILTER"} > "$out/$name.log" 2>&1
  local code=$?
  cp "artifacts/test-results/$(basename "$project")/$(basename "$project").trx" "$out/$name.trx" 2>/dev/null
  read -r passed failed < "$counts" || { passed=0; failed=1; }
  [ -n "$outer_counts" ] && echo "$passed $failed" >> "$outer_counts"
  result="$passed passed, $failed failed"
  if [ "$code" != 0 ] || [ "$failed" != 0 ]; then
    status=1
    [ "$failed" = 0 ] && result="$result (exit code $code)"
    echo "$name: failed; its failures ($out/$name.log):" >&2
    grep -E "^failed |Exception:" "$out/$name.log" | head -20 >&2
  fi
}

for major in "${majors[@]}"; do
  if ! bin=$(programs_of "$major"); then
    rows+=("| $major | could not get its server programs | | | |")
    status=1
    [ -n "$outer_counts" ] && echo "0 1" >> "$outer_counts"
    continue
  fi
  version=$("$bin/postgres" --version | grep -oE '[0-9]+\.[0-9]+' | head -1)
  echo "== PostgreSQL $version ($bin)"
  if [ "$major" -lt "$oldest_supported" ]; then
    # Below the supported range: the first test must get the kit's refusal, naming the version, not a SQL error. Its
    # tests fail by design: they are not counted (TESTKIT_COUNTS_FILE emptied); a missing refusal counts as one failure.
    env TESTKIT_COUNTS_FILE= TESTKIT_POSTGRES_BIN="$bin" scripts/run-tests.sh "$configuration" demo/Shop.Tests > "$out/$major-refused.log" 2>&1
    if grep -q "TestKit needs PostgreSQL 14 or later, and the embedded PostgreSQL $version" "$out/$major-refused.log"; then
      rows+=("| $version | refused at start: \"TestKit needs PostgreSQL 14 or later\" | | | |")
    else
      rows+=("| $version | NOT refused as expected (see $major-refused.log) | | | |")
      status=1
      [ -n "$outer_counts" ] && echo "0 1" >> "$outer_counts"
    fi
    continue
  fi
  KIT_FILTER=$filter cell "$major-kit" TestKit.Tests TESTKIT_POSTGRES_BIN="$bin"
  row="| $version | $result"
  for strategy in migrate-erase template reset; do
    cell "$major-demo-$strategy" demo/Shop.Tests TESTKIT_POSTGRES_BIN="$bin" TESTKIT_ISOLATION="$strategy"
    row="$row | $result"
  done
  rows+=("$row |")
done

{
  echo "| PostgreSQL | kit tests, every strategy (${#KIT_CLASSES[@]} classes) | demo, migrate-erase | demo, template | demo, reset |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$out/table.md"
exit $status
