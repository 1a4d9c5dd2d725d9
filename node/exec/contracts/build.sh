#!/usr/bin/env bash
# Regenerate Bank.json from Bank.sol with the npm `solc` package (no native solc needed).
# Usage: node/exec/contracts/build.sh      (needs node + npm; installs solc into a temp dir)
set -euo pipefail
SOLC_VERSION="${SOLC_VERSION:-0.8.28}"
here="$(cd "$(dirname "$0")" && pwd)"
work="${SOLC_DIR:-${TMPDIR:-/tmp}/tc-solc-$SOLC_VERSION}"
if [ ! -d "$work/node_modules/solc" ]; then
  mkdir -p "$work"
  (cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund "solc@$SOLC_VERSION" >/dev/null)
fi
node "$here/compile.js" "$work/node_modules/solc"
