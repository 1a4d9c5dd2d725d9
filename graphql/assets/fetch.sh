#!/usr/bin/env bash
# Vendor the offline GraphiQL page's assets from the npm registry (run by hand, not by the build;
# the files are committed and embedded into tc-graphql with include_bytes!).
#
#   graphql/assets/fetch.sh          download the pinned versions, write VERSIONS with sha256 sums
#   graphql/assets/fetch.sh --check  verify the committed files against VERSIONS
#
# graphiql 4.1.2 is the newest release that still ships a UMD build (graphiql.min.js; 5.x is
# ESM-only with Monaco); it needs React 18 UMD builds (React 19 has none). graphql-ws gives the
# browser's subscription client (graphql-transport-ws protocol).
set -euo pipefail
cd "$(dirname "$0")"

# package version  file-in-tarball  vendored-name
ASSETS=(
  "graphiql 4.1.2 package/graphiql.min.js graphiql.min.js"
  "graphiql 4.1.2 package/graphiql.min.css graphiql.min.css"
  "graphiql 4.1.2 package/LICENSE LICENSE.graphiql"
  "react 18.3.1 package/umd/react.production.min.js react.production.min.js"
  "react 18.3.1 package/LICENSE LICENSE.react"
  "react-dom 18.3.1 package/umd/react-dom.production.min.js react-dom.production.min.js"
  "react-dom 18.3.1 package/LICENSE LICENSE.react-dom"
  "graphql-ws 6.0.6 package/umd/graphql-ws.min.js graphql-ws.min.js"
  "graphql-ws 6.0.6 package/LICENSE.md LICENSE.graphql-ws"
)

if [ "${1:-}" = "--check" ]; then
  grep -v '^#' VERSIONS | awk '{print $4"  "$3}' | sha256sum -c --quiet
  echo "assets match VERSIONS"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch the assets" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
{
  echo "# package version file sha256 (written by fetch.sh from the npm registry tarballs)"
  for a in "${ASSETS[@]}"; do
    read -r pkg ver src name <<<"$a"
    dir="$tmp/$pkg-$ver"
    if [ ! -d "$dir" ]; then
      mkdir -p "$dir"
      (cd "$dir" && npm pack "$pkg@$ver" --silent >/dev/null 2>&1 && tar xzf ./*.tgz)
    fi
    cp "$dir/$src" "$name"
    echo "$pkg $ver $name $(sha256sum "$name" | cut -d' ' -f1)"
  done
} >VERSIONS
cat VERSIONS
