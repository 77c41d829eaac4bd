#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (embedded in tools/ferretdb, SQLite backend, no cgo) into .cache/ferretdb/ferretdb; fast when built.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source_dir="$root/tools/ferretdb"
out_dir="$root/.cache/ferretdb"
binary="$out_dir/ferretdb"

up_to_date() {
  [[ -x "$binary" ]] || return 1
  local file
  for file in "$source_dir"/go.mod "$source_dir"/go.sum "$source_dir"/*.go; do
    [[ "$file" -nt "$binary" ]] && return 1
  done
  return 0
}

if up_to_date; then
  echo "test servers: FerretDB is built ($binary)"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "test servers: FerretDB needs Go to build (tools/ferretdb); install Go and run again" >&2
  exit 1
fi

echo "test servers: building FerretDB into $binary"
mkdir -p "$out_dir"
# Build to a temporary name first, so an interrupted build never leaves a binary that looks finished.
(cd "$source_dir" && CGO_ENABLED=0 go build -trimpath -o "$binary.tmp" .)
mv "$binary.tmp" "$binary"
echo "test servers: FerretDB built"
