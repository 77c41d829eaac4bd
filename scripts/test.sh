#!/usr/bin/env bash
# The whole test suite on a fresh machine: install the test servers, build, then run unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-servers.sh
npm run build
npx vitest run
