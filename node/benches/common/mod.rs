//! Shared by the benches that follow the bench output contract (README, `cargo xtask bench`):
//! env knobs and `$TC_BENCH_OUT/<bench>.json`.
use std::path::PathBuf;

use serde_json::{Value, json};

/// `name` parsed as a number, else `default`.
pub(crate) fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `$TC_BENCH_OUT`, else `<target dir>/bench` (the node binary is `<target>/<profile>/tc-node`).
pub(crate) fn out_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("TC_BENCH_OUT") {
        return Ok(PathBuf::from(d));
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tc-node"));
    let target = bin
        .parent()
        .and_then(|p| p.parent())
        .ok_or_else(|| anyhow::anyhow!("cannot place the target dir from {}", bin.display()))?;
    Ok(target.join("bench"))
}

/// Write `{"bench": bench, "rows": rows}` to `<out_dir>/<bench>.json` and say where.
pub(crate) fn write_json(bench: &str, rows: Vec<Value>) -> anyhow::Result<()> {
    let out = out_dir()?;
    std::fs::create_dir_all(&out)?;
    let path = out.join(format!("{bench}.json"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({"bench": bench, "rows": rows}))?,
    )?;
    println!("wrote {}", path.display());
    Ok(())
}
