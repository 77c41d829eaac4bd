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

# install_debian_packages MISSING PACKAGE... -- SERVICE...: installs the Debian PACKAGEs (MISSING names what is
# missing, for the messages) and keeps their SERVICEs stopped, since the tests start their own on free ports.
# Exits the script when it cannot install (not root and no sudo, or no apt-get).
install_debian_packages() {
  local missing=$1 service
  local -a packages=() services=()
  shift
  while (($#)) && [[ $1 != -- ]]; do packages+=("$1") && shift; done
  (($#)) && shift
  services=("$@")

  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "test servers: missing $missing and not root (no sudo to install with)" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "test servers: missing $missing; install ${packages[*]} with your package manager" >&2
    exit 1
  fi

  if [[ $missing == "${packages[*]}" ]]; then
    echo "test servers: installing ${packages[*]}"
  else
    echo "test servers: installing ${packages[*]} (missing: $missing)"
  fi
  # Debian's policy-rc.d hook keeps the packages from starting their own instances on the default ports; it stays
  # until the script exits (the globals are for the trap), so install scripts run by this one find it in place.
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
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"

  # Stop anything that started anyway (e.g. where policy-rc.d already existed): tests never use default ports.
  for service in "${services[@]}"; do
    "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
    fi
  done
  echo "test servers: installed ${packages[*]}"
}
