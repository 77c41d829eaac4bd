#!/usr/bin/env bash
# Builds the embedded Neo4j 5.26 test server (tools/neo4j) and writes its classpath to .cache/neo4j/; fast when present.
set -euo pipefail

source "$(dirname "$0")/lib/test-servers.sh"
build_maven_tool neo4j Neo4j "Neo4j 5.26"
