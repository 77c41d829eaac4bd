#!/usr/bin/env bash
# Installs the servers the tests start themselves: PostgreSQL, PgBouncer, Redis and Prometheus from Debian packages,
# FerretDB and Neo4j through their own scripts; fast when present.
set -euo pipefail

packages=(postgresql postgresql-client pgbouncer redis-server prometheus)

have_postgres() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/pg_basebackup" ]] && return 0
  done
  return 1
}

missing() {
  have_postgres || echo postgresql
  command -v psql >/dev/null || echo postgresql-client
  command -v pgbouncer >/dev/null || [[ -x /usr/sbin/pgbouncer ]] || echo pgbouncer
  command -v redis-server >/dev/null || echo redis-server
  command -v prometheus >/dev/null || echo prometheus
}

todo=$(missing)
install_debian_packages() {

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "test servers: missing $(echo $todo) and not root (no sudo to install them)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "test servers: missing $(echo $todo); install them with your package manager" >&2
  exit 1
fi

echo "test servers: installing ${packages[*]} (missing: $(echo $todo))"
# Debian's policy-rc.d hook keeps the packages from starting their own instances on the default ports.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  added_policy=true
fi
restore_policy() { if $added_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
trap restore_policy EXIT

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"

# Stop anything that started anyway (e.g. where policy-rc.d already existed): tests never use default ports.
for service in postgresql redis-server pgbouncer prometheus; do
  "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    "${sudo[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done
echo "test servers: installed"
}

here=$(dirname "$0")
if [[ -z "$todo" ]]; then
  echo "test servers: PostgreSQL, PgBouncer, Redis and Prometheus are installed"
else
  install_debian_packages
fi
bash "$here/install-ferretdb.sh"
bash "$here/install-neo4j.sh"
bash "$here/install-mariadb.sh"
bash "$here/install-cassandra.sh"
