#!/usr/bin/env bash
# Resolves ElasticMQ (an SQS-compatible server, from Maven Central) for the publish plugin's tests and writes its
# classpath to .cache/elasticmq/classpath.txt; fast when present.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pom="$root/tools/elasticmq/pom.xml"
out="$root/.cache/elasticmq"
classpath="$out/classpath.txt"
stamp="$out/built-from.sha256"

if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  echo "test servers: ElasticMQ needs Java 17 and Maven (mvn)" >&2
  exit 1
fi

want=$(sha256sum "$pom" | cut -d' ' -f1)
if [[ -f "$stamp" && -f "$classpath" && "$(cat "$stamp")" == "$want" ]]; then
  all_present=true
  IFS=: read -r -a jars <"$classpath" || true
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { all_present=false; break; }; done
  if $all_present; then
    echo "test servers: ElasticMQ is installed"
    exit 0
  fi
fi

echo "test servers: resolving ElasticMQ from Maven Central"
mkdir -p "$out"
mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.outputFile="$classpath"
echo "$want" >"$stamp"
echo "test servers: ElasticMQ installed"
