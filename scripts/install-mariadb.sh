#!/usr/bin/env bash
# Installs MariaDB (MySQL-compatible, Debian's package) for the mysql plugin's tests; its own service is kept stopped.
set -euo pipefail

if command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; then
  echo "test servers: MariaDB is installed"
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "test servers: MariaDB is missing and not root (no sudo to install it)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "test servers: MariaDB is missing; install mariadb-server with your package manager" >&2
  exit 1
fi

echo "test servers: installing mariadb-server"
# Debian's policy-rc.d hook keeps the package from starting its own instance on the default port.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  added_policy=true
fi
restore_policy() { if $added_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
trap restore_policy EXIT

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server

# Stop the instance if it started anyway (policy-rc.d already present): the tests start their own.
"${sudo[@]}" service mariadb stop >/dev/null 2>&1 || true
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  "${sudo[@]}" systemctl disable --now mariadb >/dev/null 2>&1 || true
fi
echo "test servers: MariaDB installed"
