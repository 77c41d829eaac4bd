#!/usr/bin/env bash
# Builds the embedded Cassandra 5.0 test server (tools/cassandra) and writes its classpath to .cache/cassandra/; fast when present.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tool="$root/tools/cassandra"
out="$root/.cache/cassandra"
classpath="$out/classpath.txt"
classes="$out/classes"
stamp="$out/built-from.sha256"

fingerprint() { cat "$tool/pom.xml" $(find "$tool/src" -type f | sort) | sha256sum | cut -d' ' -f1; }

if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  echo "test servers: Cassandra needs Java 17 and Maven (mvn)" >&2
  exit 1
fi

want=$(fingerprint)
if [[ -f "$stamp" && -f "$classpath" && -d "$classes" && "$(cat "$stamp")" == "$want" ]]; then
  all_present=true
  IFS=: read -r -a jars <"$classpath" || true
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { all_present=false; break; }; done
  if $all_present; then
    echo "test servers: Cassandra is built"
    exit 0
  fi
fi

echo "test servers: building the embedded Cassandra test server (the first build downloads Cassandra 5.0)"
mkdir -p "$out"
mvn -q -B -f "$tool/pom.xml" \
  compile dependency:build-classpath -Dmdep.outputFile="$classpath"
rm -rf "$classes"
cp -r "$out/target/classes" "$classes"
echo "$want" >"$stamp"
echo "test servers: Cassandra built"
