#!/usr/bin/env bash
# Installs RabbitMQ (Debian's package, with its Erlang) for the publish plugin's tests; its own service is kept stopped.
set -euo pipefail

source "$(dirname "$0")/lib/test-servers.sh"

if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || command -v rabbitmq-server >/dev/null; then
  echo "test servers: RabbitMQ is installed"
  exit 0
fi
install_debian_packages rabbitmq-server rabbitmq-server -- rabbitmq-server
