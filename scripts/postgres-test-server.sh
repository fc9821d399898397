#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage contract and integration tests.
#
#   scripts/postgres-test-server.sh start DIR   creates a cluster in DIR (an empty or
#                                               missing folder), starts it and prints
#                                               its libpq conninfo on stdout
#   scripts/postgres-test-server.sh stop DIR    stops it and removes DIR
#
# The server listens on a Unix socket in DIR and on a free TCP port of 127.0.0.1,
# trusts local connections (superuser "dxhub", database "dxhub") and skips fsync:
# it holds test data only. initdb refuses to run as root, so under root the cluster
# belongs to the "postgres" system user (Debian's postgresql package creates it).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action="$1"
dir="$2"

bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bindir="$candidate"
  done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres-test-server: initdb not found (install postgresql: scripts/setup-deps.sh)" >&2
  exit 1
fi

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$action" in
  start)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "postgres-test-server: running as root needs the 'postgres' user to own the cluster" >&2
      exit 1
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ -e "$dir/data" ]; then
      echo "postgres-test-server: $dir already holds a cluster" >&2
      exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      if ! as_owner test -w "$dir"; then
        echo "postgres-test-server: user postgres cannot reach $dir (a parent folder is private)" >&2
        exit 1
      fi
    fi
    as_owner "$bindir/initdb" -D "$dir/data" --username=dxhub --auth=trust --encoding=UTF8 --no-locale \
      --no-sync >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    started=""
    for attempt in 1 2 3 4 5; do
      port="$(free_port)"
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 2>&1; then
        started=yes
        break
      fi
    done
    if [ -z "$started" ]; then
      echo "postgres-test-server: the server did not start; log:" >&2
      tail -n 20 "$dir/server.log" >&2 || true
      exit 1
    fi
    as_owner "$bindir/psql" -X -q -h "$dir" -p "$port" -U dxhub -d postgres -c "CREATE DATABASE dxhub" >&2
    echo "host=127.0.0.1 port=$port user=dxhub dbname=dxhub"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
