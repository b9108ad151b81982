#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the storage tests (`pytest -m postgres`).
#
#   eval "$(tests/postgres_server.sh start)"   # exports DATABASE_URL_TEST and POSTGRES_TEST_DIR
#   tests/postgres_server.sh stop "$POSTGRES_TEST_DIR"
#
# start: installs Debian's `postgresql` when it is missing and we are root (apt-get), makes a cluster in a temp
# folder owned by the `postgres` user, listens only on 127.0.0.1 at a free port, trust auth on loopback only, and
# prints the shell lines to use it. Exits 3 (and prints nothing to eval) when PostgreSQL cannot be had.
set -euo pipefail

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bindir
  if ! bindir=$(find_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "postgres_server: installing Debian's postgresql" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || true
    fi
    bindir=$(find_bindir) || { echo "postgres_server: PostgreSQL is not installed and cannot be installed here" >&2; exit 3; }
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home /var/lib/postgresql --shell /bin/false postgres
  fi
  local dir port
  dir=$(mktemp -d /tmp/ledgerlight-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { echo "postgres_server: initdb failed, see $dir/initdb.log" >&2; exit 3; }
  # loopback only: no other address is listened on, and pg_hba trusts only 127.0.0.1/32
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$dir/data/pg_hba.conf"
  as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { echo "postgres_server: the server did not start, see $dir/server.log" >&2; exit 3; }
  as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres ledgerlight_test
  echo "export DATABASE_URL_TEST=postgresql+psycopg://postgres@127.0.0.1:$port/ledgerlight_test"
  echo "export POSTGRES_TEST_DIR=$dir"
  echo "# stop with: $0 stop $dir" 
}

stop() {
  local dir=${1:?usage: $0 stop DIR}
  local bindir
  bindir=$(find_bindir) || exit 0
  [ -d "$dir/data" ] && as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  case "$dir" in /tmp/ledgerlight-pg.*) rm -rf "$dir" ;; esac
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
