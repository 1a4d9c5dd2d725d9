//! Long simulator run: every fault profile for n = 4 and n = 7.
//!
//! `cargo run --release -p tc-testkit --example soak -- --seeds 10000 [--from 0] [--threads 2]
//! [--only <profile substring>]`. Exits non-zero and prints the failing seed with a trace on the
//! first violation.
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tc_testkit::{Profile, run_seeds};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = arg(&args, "--seeds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let from: u64 = arg(&args, "--from")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let threads: usize = arg(&args, "--threads")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let only = arg(&args, "--only");
    let profiles: Vec<Profile> = [4, 7]
        .into_iter()
        .flat_map(Profile::all)
        .filter(|p| only.as_ref().is_none_or(|o| p.name.contains(o.as_str())))
        .collect();
    println!(
        "soak: {} profiles x {seeds} seeds from {from}, {threads} threads",
        profiles.len()
    );
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(p) = profiles.get(i) else { break };
                    let t = Instant::now();
                    match run_seeds(p, from, seeds) {
                        Ok(st) => println!(
                            "{:36} {seeds} seeds ok in {:>8.2?}: {:.1} msgs/run, {} rejected, max view {}",
                            p.name,
                            t.elapsed(),
                            st.messages as f64 / seeds as f64,
                            st.rejected,
                            st.max_view
                        ),
                        Err(report) => {
                            println!("{report}");
                            if let Ok(mut f) = failures.lock() {
                                f.push(p.name.clone());
                            }
                        }
                    }
                }
            });
        }
    });
    let failed = failures.lock().map(|f| f.clone()).unwrap_or_default();
    println!(
        "soak done in {:.2?}: {} failing profiles {failed:?}",
        start.elapsed(),
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
