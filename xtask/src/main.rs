//! `cargo xtask <task>` (alias in `.cargo/config.toml`): developer tasks that need more than
//! one tool.
//!
//! - `dashboard [--release] [--out DIR]` — make sure the toolchain is there (below), build
//!   `tc-dashboard` for `wasm32-unknown-unknown`, run `wasm-bindgen --target web`, and write
//!   `index.html`, `style.css`, `tc_dashboard.js` and `tc_dashboard_bg.wasm` into DIR
//!   (default `<target-dir>/dashboard-dist`). `--release` uses the size-tuned `wasm-release`
//!   profile. Prints the directory and the wasm size.
//! - `dashboard-toolchain` — only the toolchain: `rustup target add wasm32-unknown-unknown`
//!   and `wasm-bindgen-cli` at exactly the `wasm-bindgen` version in Cargo.lock, installed
//!   into `$CARGO_HOME/bin` when missing or different (the CLI and the library must match).
//!
//! - `bench [--quick] [--only SECTION,...] [--out DIR]` — issue #9's benchmark in one command:
//!   one table and `<out>/summary.json` (see `bench/mod.rs`).
//!
//! cargo-leptos and trunk are not used: they download tools from GitHub at run time.
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod lock;

const TARGET: &str = "wasm32-unknown-unknown";

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dashboard") => dashboard(&args[1..]),
        Some("dashboard-toolchain") => toolchain().map(|_| ()),
        Some("bench") => bench::bench(&args[1..]),
        _ => Err(
            "usage: cargo xtask dashboard [--release] [--out DIR]\n       cargo xtask dashboard-toolchain\n       cargo xtask bench [--quick] [--only SECTION,...] [--out DIR]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn say(msg: &str) {
    eprintln!("xtask: {msg}");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_home() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(h) => PathBuf::from(h),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cargo"))
            .unwrap_or_else(|| PathBuf::from(".cargo")),
    }
}

/// Run a command, failing with its name when it does not succeed.
fn run(cmd: &mut Command) -> Result<()> {
    let what = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Ensure the wasm target and the matching wasm-bindgen CLI; returns the CLI's path.
fn toolchain() -> Result<PathBuf> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == TARGET) => {}
        Some(_) => {
            say(&format!("adding the {TARGET} target (rustup)"));
            run(Command::new("rustup").args(["target", "add", TARGET]))?;
        }
        None => {
            return Err(format!(
                "rustup not found: install the {TARGET} standard library for your toolchain \
                 (see docs/build.md for the Debian fallback)"
            ));
        }
    }
    let lockfile = root().join("Cargo.lock");
    let text = std::fs::read_to_string(&lockfile)
        .map_err(|e| format!("cannot read {}: {e}", lockfile.display()))?;
    let want = lock::package_version(&text, "wasm-bindgen")?;
    let bin = cargo_home().join("bin").join("wasm-bindgen");
    let have = output(Command::new(&bin).arg("--version"))
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned));
    if have.as_deref() == Some(want.as_str()) {
        say(&format!("wasm-bindgen {want} present ({})", bin.display()));
        return Ok(bin);
    }
    say(&format!(
        "installing wasm-bindgen-cli {want} (Cargo.lock's wasm-bindgen; found {}) — takes a few minutes",
        have.as_deref().unwrap_or("none")
    ));
    let install = |locked: bool| {
        let mut c = Command::new(cargo());
        c.args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={want}"),
        ])
        .arg("--root")
        .arg(cargo_home())
        .arg("--force");
        if locked {
            c.arg("--locked");
        }
        // Our own target dir is not wanted here; cargo install builds in a temporary one.
        c.env_remove("CARGO_TARGET_DIR");
        run(&mut c)
    };
    if let Err(e) = install(true) {
        // The CLI's own lockfile can name a dependency version the registry mirror does not
        // have; resolving afresh works then.
        say(&format!("{e}; retrying without --locked"));
        install(false)?;
    }
    let have = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if !have.contains(&want) {
        return Err(format!(
            "{} reports {have:?} after installing {want}",
            bin.display()
        ));
    }
    Ok(bin)
}

fn target_dir() -> Result<PathBuf> {
    let meta = output(Command::new(cargo()).current_dir(root()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))
    .ok_or("cargo metadata failed")?;
    let v: serde_json::Value =
        serde_json::from_str(&meta).map_err(|e| format!("cargo metadata output: {e}"))?;
    v.get("target_directory")
        .and_then(|t| t.as_str())
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".into())
}

fn dashboard(args: &[String]) -> Result<()> {
    let mut release = false;
    let mut out: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => release = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            other => {
                return Err(format!(
                    "unknown option {other:?} (accepted: --release, --out DIR)"
                ));
            }
        }
    }
    let bindgen = toolchain()?;
    let target = target_dir()?;
    let out = out.unwrap_or_else(|| target.join("dashboard-dist"));
    let profile = if release { "wasm-release" } else { "dev" };
    say(&format!(
        "building tc-dashboard for {TARGET} (profile {profile})"
    ));
    let started = Instant::now();
    run(Command::new(cargo()).current_dir(root()).args([
        "build",
        "--locked",
        "-p",
        "tc-dashboard",
        "--target",
        TARGET,
        "--profile",
        profile,
    ]))?;
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let wasm = target
        .join(TARGET)
        .join(profile_dir)
        .join("tc_dashboard.wasm");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for stale in ["tc_dashboard.js", "tc_dashboard_bg.wasm"] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    say("running wasm-bindgen --target web");
    let mut bg = Command::new(&bindgen);
    bg.args([
        "--target",
        "web",
        "--no-typescript",
        "--out-name",
        "tc_dashboard",
    ]);
    if release {
        // The function-name section only serves debuggers and is a third of the module.
        bg.args(["--remove-name-section", "--remove-producers-section"]);
    }
    run(bg.arg("--out-dir").arg(&out).arg(&wasm))?;
    let statics = root().join("dashboard").join("static");
    let entries = std::fs::read_dir(&statics)
        .map_err(|e| format!("cannot read {}: {e}", statics.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", statics.display()))?;
        std::fs::copy(entry.path(), out.join(entry.file_name()))
            .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
    }
    let size = |name: &str| {
        std::fs::metadata(out.join(name))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let wasm_size = size("tc_dashboard_bg.wasm");
    let gz = output(Command::new("sh").arg("-c").arg(format!(
        "gzip -9 -c '{}' | wc -c",
        out.join("tc_dashboard_bg.wasm").display()
    )))
    .and_then(|s| s.trim().parse::<u64>().ok());
    say(&format!(
        "built in {:.1} s: wasm {} KiB{} · js {} KiB",
        started.elapsed().as_secs_f64(),
        wasm_size / 1024,
        gz.map(|g| format!(" ({} KiB gzipped)", g / 1024))
            .unwrap_or_default(),
        size("tc_dashboard.js") / 1024,
    ));
    println!("{}", out.display());
    Ok(())
}
