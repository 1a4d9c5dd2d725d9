//! CI simulator runs: every fault profile for n = 4 and n = 7, `TC_SIM_SEEDS` seeds each
//! (default 1,000), zero violations. A failure prints the seed, the violations and a trace.
use tc_testkit::{ByzKind, Profile, run_seeds};

fn seeds() -> u64 {
    std::env::var("TC_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

fn check(profile: Profile) {
    let t = std::time::Instant::now();
    let count = seeds();
    match run_seeds(&profile, 0, count) {
        Ok(stats) => println!(
            "{:36} {count} seeds ok in {:>6.2?}: {} msgs, {} rejected, max view {}",
            profile.name,
            t.elapsed(),
            stats.messages,
            stats.rejected,
            stats.max_view
        ),
        Err(report) => panic!("{report}"),
    }
}

macro_rules! profiles {
    ($($name:ident => $profile:expr;)*) => {
        $(#[test] fn $name() { check($profile); })*
    };
}

profiles! {
    n4_no_faults => Profile::no_faults(4);
    n4_drops_delays => Profile::drops_delays(4);
    n4_partition_heal => Profile::partition(4);
    n4_crash_restart => Profile::crash_restart(4);
    n4_byz_silent => Profile::byzantine(4, ByzKind::Silent);
    n4_byz_equivocating_primary => Profile::byzantine(4, ByzKind::Equivocator);
    n4_byz_conflicting_voter => Profile::byzantine(4, ByzKind::ConflictingVoter);
    n4_byz_forged_signatures => Profile::byzantine(4, ByzKind::Forger);
    n4_byz_replayer => Profile::byzantine(4, ByzKind::Replayer);
    n4_byz_withholding_primary => Profile::byzantine(4, ByzKind::Withholder);
    n7_no_faults => Profile::no_faults(7);
    n7_drops_delays => Profile::drops_delays(7);
    n7_partition_heal => Profile::partition(7);
    n7_crash_restart => Profile::crash_restart(7);
    n7_byz_silent => Profile::byzantine(7, ByzKind::Silent);
    n7_byz_equivocating_primary => Profile::byzantine(7, ByzKind::Equivocator);
    n7_byz_conflicting_voter => Profile::byzantine(7, ByzKind::ConflictingVoter);
    n7_byz_forged_signatures => Profile::byzantine(7, ByzKind::Forger);
    n7_byz_replayer => Profile::byzantine(7, ByzKind::Replayer);
    n7_byz_withholding_primary => Profile::byzantine(7, ByzKind::Withholder);
}

/// Small committees (n = 1, 2, 3) and a larger one (n = 10) on a few seeds.
#[test]
fn odd_sizes() {
    let count = (seeds() / 10).max(10);
    for n in [1, 2, 3, 10] {
        for p in [
            Profile::no_faults(n),
            Profile::drops_delays(n),
            Profile::partition(n),
            Profile::crash_restart(n),
        ] {
            if let Err(report) = run_seeds(&p, 0, count) {
                panic!("{report}");
            }
        }
    }
}

/// A run is a pure function of (profile, seed): replaying a seed reproduces it exactly, and the
/// trace names what happened.
#[test]
fn runs_replay_exactly() {
    for p in [
        Profile::drops_delays(4),
        Profile::byzantine(7, ByzKind::Equivocator),
    ] {
        let mut a = tc_testkit::run(&p, 42, true);
        let mut b = tc_testkit::run(&p, 42, true);
        // Real verifications differ (the second run hits the per-thread cache); nothing else may.
        a.stats.verifications = 0;
        b.stats.verifications = 0;
        assert_eq!(a.stats, b.stats);
        assert_eq!(a.trace, b.trace);
        assert!(
            a.trace.iter().any(|l| l.contains("DECIDE")),
            "trace shows decisions"
        );
        let c = tc_testkit::run(&p, 43, false);
        assert_ne!(a.stats, c.stats, "another seed, another run");
    }
}
