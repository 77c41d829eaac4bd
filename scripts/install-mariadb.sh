#!/usr/bin/env bash
# Installs MariaDB (MySQL-compatible, Debian's package) for the mysql plugin's tests; its own service is kept stopped.
set -euo pipefail

source "$(dirname "$0")/lib/test-servers.sh"

if command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; then
  echo "test servers: MariaDB is installed"
  exit 0
fi
install_debian_packages mariadb-server mariadb-server -- mariadb
