//! Quick smoke runs.
use tc_testkit::{Profile, run};

#[test]
fn smoke() {
    for n in [1, 4, 7] {
        for p in Profile::all(n) {
            let t = std::time::Instant::now();
            let mut msgs = 0;
            let mut bad = 0;
            let mut ver = 0;
            let mut end = 0;
            for seed in 0..20 {
                let r = run(&p, seed, false);
                msgs += r.stats.messages;
                ver += r.stats.verifications;
                end += r.stats.end_ms;
                if !r.violations.is_empty() {
                    bad += 1;
                    if bad == 1 {
                        println!("{} seed {seed}: {:?}", p.name, r.violations);
                    }
                }
            }
            println!(
                "{:40} 20 seeds {:?} msgs {msgs} ver {ver} end {end} bad {bad}",
                p.name,
                t.elapsed()
            );
        }
    }
}
