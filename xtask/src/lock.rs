//! Reading a package's version out of Cargo.lock (no TOML dependency needed for this).

/// The single version of `name` in a Cargo.lock text; an error when it is absent or locked at
/// several versions (the wasm-bindgen CLI must match exactly one).
pub(crate) fn package_version(lock: &str, name: &str) -> Result<String, String> {
    let mut versions = Vec::new();
    let mut current: Option<&str> = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            current = None;
        } else if let Some(n) = quoted(line, "name") {
            current = Some(n);
        } else if let (Some(v), Some(n)) = (quoted(line, "version"), current)
            && n == name
            && !versions.contains(&v)
        {
            versions.push(v);
        }
    }
    match versions.as_slice() {
        [v] => Ok((*v).to_owned()),
        [] => Err(format!("{name} is not in Cargo.lock")),
        many => Err(format!(
            "Cargo.lock holds {name} at several versions: {many:?}"
        )),
    }
}

fn quoted<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim()
        .strip_prefix('"')?
        .strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_one_version() {
        let lock = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.108"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-futures"
version = "0.4.58"
"#;
        assert_eq!(
            package_version(lock, "wasm-bindgen").as_deref(),
            Ok("0.2.108")
        );
        assert!(package_version(lock, "leptos").is_err());
        let two = format!("{lock}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n");
        let err = package_version(&two, "wasm-bindgen").expect_err("two versions");
        assert!(err.contains("several"), "{err}");
    }
}
