#!/usr/bin/env bash
# trueconsensus developer entry point: the README's two commands.
#
#   ./dev.sh up [--fresh]   build and start the local devnet (7 nodes, committee of 4; devnet up --help)
#   ./dev.sh test           run the whole test suite (what CI runs)
#   ./dev.sh bench [--quick] [--only SECTION,...]   issue #9's benchmark: one table + summary.json
#
# Each command first installs what it needs (Debian packages via apt-get) or says exactly
# what is missing.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# System packages: libclang-dev (bindgen for librocksdb-sys), librocksdb-dev (Debian's
# RocksDB 7.8, linked instead of compiling ~15 min of C++; see docs/build.md).
APT_PACKAGES=(libclang-dev librocksdb-dev pkg-config)

ensure_packages() {
  ensure_apt_packages "${APT_PACKAGES[@]}"
}

# Install the named Debian packages that are missing (apt-get; sudo when not root).
ensure_apt_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing system packages: ${missing[*]} (install them with your package manager)"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing system packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The dashboard's toolchain: the wasm32 target and the wasm-bindgen CLI at exactly Cargo.lock's
# wasm-bindgen version (the xtask adds/installs what is missing), and Debian's chromium for the
# browser test (driven by playwright-core from e2e/js; no browser download).
DASHBOARD_APT_PACKAGES=(chromium)

ensure_dashboard_toolchain() {
  ensure_apt_packages "${DASHBOARD_APT_PACKAGES[@]}"
  say "dashboard toolchain (wasm32 target, wasm-bindgen CLI matching Cargo.lock)"
  cargo xtask dashboard-toolchain
}

# Node.js and npm (Debian packages) for the JS clients and the bench's other devnets.
ensure_node_runtime() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    command -v apt-get >/dev/null || die "Node.js and npm are needed ($1): install them"
    say "installing Node.js and npm (Debian packages)"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
  fi
}

ensure_node() {
  ensure_node_runtime "the real-client tests: ethers, viem"
  say "installing JS test clients (npm ci in e2e/js)"
  npm ci --prefix e2e/js --no-audit --no-fund --loglevel=error >/dev/null
}

# web3.py (pinned in e2e/py/requirements.txt, every transitive package in constraints.txt) in a
# venv at e2e/py/.venv; Debian's python3 needs python3-venv for that.
ensure_python() {
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    command -v apt-get >/dev/null || die "Python 3 with venv is needed for the real-client tests (web3.py): install it"
    say "installing Python 3 and venv (Debian packages)"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  local venv=e2e/py/.venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  say "installing Python test clients (pip in $venv)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r e2e/py/requirements.txt -c e2e/py/constraints.txt
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs), then re-run"
}

cmd_up() {
  # Every flag goes to the launcher: --fresh, --nodes N, --committee C, --http ADDR, --spec FILE …
  # (see docs/devnet.md or: devnet up --help).
  ensure_packages; ensure_rust
  say "dashboard toolchain (wasm32 target, wasm-bindgen CLI matching Cargo.lock)"
  cargo xtask dashboard-toolchain
  say "building tc-node and the devnet launcher (release; the first build takes several minutes)"
  cargo build --release -p tc-node -p tc-devnet
  say "building the dashboard (wasm, release)"
  cargo xtask dashboard --release
  local target
  target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  exec "$target/release/devnet" up "$@"
}

cmd_test() {
  ensure_packages; ensure_rust; ensure_node; ensure_python; ensure_dashboard_toolchain
  say "cargo test (whole workspace)"
  cargo test --workspace --locked
  say "building the dashboard (wasm32, release profile) for the browser test"
  local dist
  dist="$(cargo xtask dashboard --release | tail -n 1)"
  say "browser test: the dashboard in headless chromium against real nodes"
  TC_DASHBOARD_DIST="$dist" cargo test --locked -p tc-devnet --test browser -- --ignored --nocapture
  say "cargo clippy (warnings are errors)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  say "cargo clippy (dashboard UI, wasm32)"
  cargo clippy --locked -p tc-dashboard --target wasm32-unknown-unknown -- -D warnings
}

# One table of issue #9's figures (cargo xtask bench; --quick, --only, --out go to it). The
# micro-benchmarks (cargo bench -p tc-exec / tc-storage / tc-consensus, --bench mempool) are
# separate.
cmd_bench() {
  ensure_packages; ensure_rust
  ensure_node_runtime "the bench's anvil, Hardhat and ganache"
  say "installing anvil, Hardhat and ganache (npm ci in e2e/bench)"
  npm ci --prefix e2e/bench --no-audit --no-fund --loglevel=error >/dev/null
  cargo xtask bench "$@"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
