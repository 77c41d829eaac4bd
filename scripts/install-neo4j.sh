#!/usr/bin/env bash
# Builds the embedded Neo4j 5.26 test server (tools/neo4j) and writes its classpath to .cache/neo4j/; fast when present.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tool="$root/tools/neo4j"
out="$root/.cache/neo4j"
classpath="$out/classpath.txt"
classes="$out/classes"
stamp="$out/built-from.sha256"

fingerprint() { cat "$tool/pom.xml" $(find "$tool/src" -type f | sort) | sha256sum | cut -d' ' -f1; }

if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  echo "test servers: Neo4j needs Java 17 and Maven (mvn)" >&2
  exit 1
fi

want=$(fingerprint)
if [[ -f "$stamp" && -f "$classpath" && -d "$classes" && "$(cat "$stamp")" == "$want" ]]; then
  all_present=true
  IFS=: read -r -a jars <"$classpath" || true
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { all_present=false; break; }; done
  if $all_present; then
    echo "test servers: Neo4j is built"
    exit 0
  fi
fi

echo "test servers: building the embedded Neo4j test server (the first build downloads Neo4j 5.26)"
mkdir -p "$out"
mvn -q -B -f "$tool/pom.xml" \
  compile dependency:build-classpath -Dmdep.outputFile="$classpath"
rm -rf "$classes"
cp -r "$out/target/classes" "$classes"
echo "$want" >"$stamp"
echo "test servers: Neo4j built"
