#!/usr/bin/env bash
# Installs the servers the tests start themselves: PostgreSQL, PgBouncer, Redis and Prometheus from Debian packages,
# FerretDB and Neo4j through their own scripts; fast when present.
set -euo pipefail

here=$(dirname "$0")
source "$here/lib/test-servers.sh"

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
if [[ -z "$todo" ]]; then
  echo "test servers: PostgreSQL, PgBouncer, Redis and Prometheus are installed"
else
  install_debian_packages "${todo//$'\n'/ }" "${packages[@]}" -- postgresql redis-server pgbouncer prometheus
fi
bash "$here/install-ferretdb.sh"
bash "$here/install-neo4j.sh"
bash "$here/install-mariadb.sh"
bash "$here/install-cassandra.sh"
bash "$here/install-rabbitmq.sh"
bash "$here/install-elasticmq.sh"
