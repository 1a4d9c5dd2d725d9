//! The offline GraphiQL page: its HTML and the vendored assets (`graphql/assets/`, pinned
//! versions and sha256 sums in `assets/VERSIONS`, fetched by `assets/fetch.sh`), embedded in the
//! binary so nothing is loaded from the internet at run time.
//!
//! The node serves the page at [`PAGE_PATH`] and each asset at `PAGE_PATH/<name>`; GraphiQL
//! queries `/graphql` over HTTP and runs subscriptions over `/graphql/ws` (graphql-transport-ws).

/// Where the page is served.
pub const PAGE_PATH: &str = "/graphql/ui";

/// One embedded file.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    /// File name (served at `PAGE_PATH/<name>`).
    pub name: &'static str,
    /// `Content-Type` header.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ty:expr) => {
        Asset {
            name: $name,
            content_type: $ty,
            bytes: include_bytes!(concat!("../assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every embedded file: the scripts and stylesheet the page loads, and their licences.
pub const ASSETS: &[Asset] = &[
    asset!("react.production.min.js", JS),
    asset!("react-dom.production.min.js", JS),
    asset!("graphql-ws.min.js", JS),
    asset!("graphiql.min.js", JS),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("LICENSE.graphiql", TEXT),
    asset!("LICENSE.react", TEXT),
    asset!("LICENSE.react-dom", TEXT),
    asset!("LICENSE.graphql-ws", TEXT),
    asset!("VERSIONS", TEXT),
];

/// The asset called `name`, if embedded.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The page (every URL in it is local: `/graphql/ui/…`, `/graphql`, `/graphql/ws`).
pub const PAGE_HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>trueconsensus GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="/graphql/ui/graphiql.min.css">
  <script src="/graphql/ui/react.production.min.js"></script>
  <script src="/graphql/ui/react-dom.production.min.js"></script>
  <script src="/graphql/ui/graphql-ws.min.js"></script>
  <script src="/graphql/ui/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    const http = new URL("/graphql", location.href).href;
    const ws = http.replace(/^http/, "ws") + "/ws";
    const fetcher = GraphiQL.createFetcher({
      url: http,
      wsClient: graphqlWs.createClient({ url: ws, lazy: true }),
    });
    const example = [
      "# trueconsensus: geth's EIP-1767 schema plus the hybrid chain.",
      "# Subscriptions run over /graphql/ws, e.g.",
      "#   subscription { newBlocks { number hash transactionCount } }",
      "{",
      "  block { number hash epoch proposer transactionCount }",
      "  snailBlock { number difficulty fruits { number } }",
      "  epochs { epoch startHeight members { key weight } }",
      "  mempool { count rejections { hash reason } }",
      "}",
      "",
    ].join("\n");
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: example })
    );
  </script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_local_url_of_the_page_is_embedded() {
        for part in PAGE_HTML.split("\"/graphql/ui/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(asset(name).is_some(), "{name} is not embedded");
        }
        assert!(!PAGE_HTML.contains("http://") && !PAGE_HTML.contains("https://"));
        assert!(ASSETS.iter().all(|a| !a.bytes.is_empty()));
    }
}
