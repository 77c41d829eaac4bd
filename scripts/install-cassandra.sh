#!/usr/bin/env bash
# Builds the embedded Cassandra 5.0 test server (tools/cassandra) and writes its classpath to .cache/cassandra/; fast when present.
set -euo pipefail

source "$(dirname "$0")/lib/test-servers.sh"
build_maven_tool cassandra Cassandra "Cassandra 5.0"
