#!/usr/bin/env bash
# Makes sure the machine has PostgreSQL's server programs (initdb, pg_ctl) for TestKit's embedded server.
# Installs the distribution's package when they are missing and this is a root shell with apt-get.
set -euo pipefail

if [ -n "${TESTKIT_CONNECTION_STRING:-}" ] || [ -n "${PGHOST:-}" ]; then
  echo "ensure-postgres: an external server is configured; no local server programs needed."
  exit 0
fi

have_server_binaries() {
  command -v initdb >/dev/null 2>&1 && return 0
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then return 0; fi
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
  compgen -G "/usr/pgsql-*/bin/initdb" >/dev/null && return 0
  [ -x /usr/local/pgsql/bin/initdb ]
}

if have_server_binaries; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: no PostgreSQL server programs found; installing the distribution's postgresql package."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  have_server_binaries && exit 0
fi

echo "ensure-postgres: no PostgreSQL server programs (initdb, pg_ctl) found, and they cannot be installed from here." >&2
echo "Install PostgreSQL's server package, or set TESTKIT_CONNECTION_STRING to a server you run yourself." >&2
exit 1
