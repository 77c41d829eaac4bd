# Shell functions the test-server install scripts share; source it, do not run it.

# build_maven_tool NAME LABEL DOWNLOAD: builds the embedded test server in tools/NAME with Maven and writes its
# classpath and classes to .cache/NAME/; does nothing when the build there still matches the sources.
build_maven_tool() {
  local name=$1 label=$2 download=$3
  local root tool out classpath classes stamp want all_present jar
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  tool="$root/tools/$name"
  out="$root/.cache/$name"
  classpath="$out/classpath.txt"
  classes="$out/classes"
  stamp="$out/built-from.sha256"

  if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    echo "test servers: $label needs Java 17 and Maven (mvn)" >&2
    return 1
  fi

  # shellcheck disable=SC2046 # the file list is split on purpose
  want=$(cat "$tool/pom.xml" $(find "$tool/src" -type f | sort) | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && -f "$classpath" && -d "$classes" && "$(cat "$stamp")" == "$want" ]]; then
    all_present=true
    local -a jars=()
    IFS=: read -r -a jars <"$classpath" || true
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { all_present=false; break; }; done
    if $all_present; then
      echo "test servers: $label is built"
      return 0
    fi
  fi

  echo "test servers: building the embedded $label test server (the first build downloads $download)"
  mkdir -p "$out"
  mvn -q -B -f "$tool/pom.xml" \
    compile dependency:build-classpath -Dmdep.outputFile="$classpath"
  rm -rf "$classes"
  cp -r "$out/target/classes" "$classes"
  echo "$want" >"$stamp"
  echo "test servers: $label built"
}
