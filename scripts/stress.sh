#!/usr/bin/env bash
# Load test: several test processes at once against ONE PostgreSQL with max_connections = 100.
#
# Starts a throw-away server of its own (initdb on tmpfs, loopback only, a random port and password, run as the
# postgres OS user when this shell is root), points TESTKIT_CONNECTION_STRING at it, and for each strategy runs
# STRESS_PROCESSES (default 3) copies of the suite bench/TestKit.Suite (STRESS_TESTS tests, default 1,000) at once, each with
# --maximum-parallel-tests 8. While they run it samples pg_stat_activity every 200 ms. It prints, per strategy:
# the wall time, the peak connection count (all backends, and client backends only), the "too many clients"
# errors in the outputs, the tests that failed, and the databases left behind (testkit_* other than templates;
# testkit_template_* are kept on purpose across runs and are listed apart). The server is stopped and removed
# on exit, whatever happens.
#
# Usage: make stress, or bash scripts/stress.sh   (STRESS_PROCESSES=2 bash scripts/stress.sh for two processes)
# Exit code: 0 when every run passed with no "too many clients" error and no leaked database. The last line is
# "N passed, N failed" over every suite run; with TESTKIT_COUNTS_FILE set, the two numbers are appended to it.
set -euo pipefail

configuration=${CONFIGURATION:-Release}
processes=${STRESS_PROCESSES:-3}
tests=${STRESS_TESTS:-1000}
parallel=${STRESS_PARALLEL:-8}
strategies=${STRESS_STRATEGIES:-"migrate-erase template reset"}
max_connections=100
for setting in "processes=$processes" "tests=$tests" "parallel=$parallel"; do
  [[ ${setting#*=} =~ ^[1-9][0-9]*$ ]] || { echo "stress: ${setting%%=*} must be a positive whole number, not '${setting#*=}'" >&2; exit 2; }
done
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# ---- server programs -------------------------------------------------------------------------------------------
bindir=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  bindir=$(dirname "$(command -v initdb)")
elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "stress: no PostgreSQL server programs (initdb, pg_ctl) found; run scripts/ensure-postgres.sh first." >&2
  exit 1
fi
psql_bin=$(command -v psql || echo "$bindir/psql")

as_server_user() { # runs a server program as the OS user that may run PostgreSQL
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ---- a server of its own -----------------------------------------------------------------------------------------
parent=/dev/shm
[ -d "$parent" ] && [ -w "$parent" ] || parent=${TMPDIR:-/tmp}
# Not testkit-pg-*: that prefix is the embedded server's, which TestKit's orphan sweep inspects.
work=$(mktemp -d "$parent/testkit-stress-XXXXXX")
sampler_pid=""
run_pids=()

cleanup() {
  local code=$?
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  for pid in "${run_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -f "$work/data/postmaster.pid" ]; then
    as_server_user "$bindir/pg_ctl" stop --pgdata "$work/data" --mode immediate --wait >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
user=stress
printf '%s' "$password" > "$work/password"
chmod 600 "$work/password"
if [ "$(id -u)" = "0" ]; then
  id -u postgres >/dev/null 2>&1 || { echo "stress: running as root needs a 'postgres' OS user (useradd --system postgres)." >&2; exit 1; }
  chown -R postgres "$work"
fi
as_server_user "$bindir/initdb" --pgdata "$work/data" --username "$user" --pwfile "$work/password" \
  --auth scram-sha-256 --encoding UTF8 --locale C.UTF-8 --no-sync >/dev/null
rm -f "$work/password"

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for attempt in 1 2 3; do
  port=$(( 20000 + RANDOM % 40000 ))
  port_is_free "$port" || continue
  if as_server_user "$bindir/pg_ctl" start --pgdata "$work/data" --log "$work/server.log" --wait --timeout 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$work -c max_connections=$max_connections -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null; then
    started=yes
    break
  fi
done
if [ -z "$started" ]; then
  echo "stress: the server did not start:" >&2
  tail -n 5 "$work/server.log" >&2 || true
  exit 1
fi

export TESTKIT_CONNECTION_STRING="Host=127.0.0.1;Port=$port;Username=$user;Password=$password;Database=postgres"
sql() { PGPASSWORD=$password "$psql_bin" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -XAtq -c "$1"; }
echo "stress: PostgreSQL $(sql 'SHOW server_version') at 127.0.0.1:$port, max_connections=$(sql 'SHOW max_connections'), data in $work"

# ---- the suite ---------------------------------------------------------------------------------------------------
dotnet build bench/TestKit.Suite -c "$configuration" -nologo -clp:NoSummary >/dev/null
echo "stress: $processes processes x $tests tests, --maximum-parallel-tests $parallel, per strategy"
echo

summary=()
status=0
total_passed=0
total_failed=0
for strategy in $strategies; do
  out="$work/$strategy"
  mkdir -p "$out"

  # Peak connections, sampled every 200 ms; the sampler's own connection is left out of the counts.
  (
    peak_all=0; peak_clients=0
    while true; do
      if row=$(sql "SELECT count(*), count(*) FILTER (WHERE backend_type = 'client backend') FROM pg_stat_activity WHERE pid <> pg_backend_pid()" 2>/dev/null); then
        all=${row%%|*}; clients=${row##*|}
        [ "$all" -gt "$peak_all" ] && peak_all=$all
        [ "$clients" -gt "$peak_clients" ] && peak_clients=$clients
        echo "$peak_all $peak_clients" > "$out/peak"
      fi
      sleep 0.2
    done
  ) &
  sampler_pid=$!

  start=$(date +%s.%N)
  run_pids=()
  for i in $(seq 1 "$processes"); do
    ( SUITE_TESTS=$tests TESTKIT_ISOLATION=$strategy dotnet run --project bench/TestKit.Suite -c "$configuration" --no-build -- \
        --maximum-parallel-tests "$parallel" > "$out/run$i.log" 2>&1; echo $? > "$out/run$i.rc" ) &
    run_pids+=($!)
  done
  for pid in "${run_pids[@]}"; do wait "$pid" || true; done
  run_pids=()
  end=$(date +%s.%N)
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""

  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  read -r peak_all peak_clients < "$out/peak" || { peak_all="?"; peak_clients="?"; }
  too_many=$(cat "$out"/run*.log | grep -ci "too many clients" || true)
  passed=0; failed=0; codes=""
  for i in $(seq 1 "$processes"); do
    # TUnit colours its summary: strip the escape sequences before reading it.
    p=$(sed 's/\x1b\[[0-9;]*m//g' "$out/run$i.log" | grep -E '^\s+succeeded:' | grep -o '[0-9]\+' | tail -n 1 || true)
    f=$(sed 's/\x1b\[[0-9;]*m//g' "$out/run$i.log" | grep -E '^\s+failed:' | grep -o '[0-9]\+' | tail -n 1 || true)
    rc=$(cat "$out/run$i.rc" 2>/dev/null || echo '?')
    # A run that crashed, stopped early or ran fewer tests than asked: the tests it did not report count as failed.
    if [ $(( ${p:-0} + ${f:-0} )) -lt "$tests" ]; then f=$(( tests - ${p:-0} )); fi
    passed=$(( passed + ${p:-0} )); failed=$(( failed + ${f:-0} ))
    codes="$codes$rc "
  done
  total_passed=$(( total_passed + passed )); total_failed=$(( total_failed + failed ))
  # A finished run must leave no database of its own; templates are kept on purpose for the next run.
  leaked=$(sql "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname LIKE 'testkit\_%' AND datname NOT LIKE 'testkit\_template\_%'")
  leaked_count=$(sql "SELECT count(*) FROM pg_database WHERE datname LIKE 'testkit\_%' AND datname NOT LIKE 'testkit\_template\_%'")
  templates=$(sql "SELECT count(*) FROM pg_database WHERE datname LIKE 'testkit\_template\_%'")
  left_sessions=$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")

  summary+=("$(printf '%-14s %8s %10s %12s %12s %8s %8s %7s %9s %9s  %s' \
    "$strategy" "$wall" "$peak_all" "$peak_clients" "$too_many" "$passed" "$failed" "$leaked_count" "$templates" "$left_sessions" "$codes")")
  echo "${summary[-1]}"
  [ -n "$leaked" ] && echo "  leaked: $leaked"
  if [ "$too_many" != "0" ] || [ "$failed" != "0" ] || [ "$leaked_count" != "0" ] || [ "$codes" != "$(printf '0 %.0s' $(seq 1 "$processes"))" ]; then
    status=1
    grep -h -m 3 -iE "too many clients|failed |TestKitException" "$out"/run*.log | sed 's/^/  /' | head -n 6 || true
  fi
  # Start the next strategy from a clean server: drop what this one leaked (it was counted above).
  for name in $leaked; do sql "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null || true; done
done

echo
echo "stress: $processes processes x $tests tests, --maximum-parallel-tests $parallel, max_connections=$max_connections"
printf '%-14s %8s %10s %12s %12s %8s %8s %7s %9s %9s  %s\n' \
  strategy "wall(s)" "peak conn" "peak clients" "too many cl." passed failed leaked templates "sessions" "exit codes"
for line in "${summary[@]}"; do echo "$line"; done
[ -n "${TESTKIT_COUNTS_FILE:-}" ] && echo "$total_passed $total_failed" >> "$TESTKIT_COUNTS_FILE"
echo "$total_passed passed, $total_failed failed"
exit $status
