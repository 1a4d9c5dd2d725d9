//! Hybrid simulator: ≥ 5 epochs with committee rotation, `TC_ROTATION_SEEDS` seeds per profile
//! (default 20; `TC_ROTATION_ONLY=<seed>` runs one, `TC_ROTATION_TRACE=<from>-<to>` prints the
//! engine/snail trace in that virtual-ms window). Prints the measured rotation gaps against the
//! median commit interval.
use tc_testkit::{RotationProfile, run_rotation};

fn seeds() -> u64 {
    std::env::var("TC_ROTATION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

fn check(profile: RotationProfile) {
    let byzantine = profile.byzantine.is_some();
    let mut byzantine_handovers = 0;
    let mut worst_ratio = 0.0f64;
    let mut over_2x = 0;
    let only: Option<u64> = std::env::var("TC_ROTATION_ONLY")
        .ok()
        .and_then(|s| s.parse().ok());
    for seed in 0..seeds() {
        if only.is_some_and(|o| o != seed) {
            continue;
        }
        let r = run_rotation(&profile, seed);
        assert!(
            r.violations.is_empty(),
            "{} seed {seed}: {:#?}\n{r:#?}",
            profile.name,
            r.violations
        );
        assert!(r.switch_heights.len() as u64 >= profile.epochs, "{r:#?}");
        if byzantine {
            // The profile is about byzantine members on both sides of a handover: every run
            // must have at least one such rotation (else it tested nothing of the kind).
            assert!(
                r.byzantine_handovers >= 1,
                "{} seed {seed}: no handover with a byzantine member in both committees: {:?}",
                profile.name,
                r.byzantine_per_committee
            );
            assert!(
                r.byzantine_altered > 0,
                "{} seed {seed}: the byzantine hook never acted",
                profile.name
            );
            byzantine_handovers += r.byzantine_handovers;
        }
        let max_gap = r.rotation_gaps_ms.iter().copied().max().unwrap_or(0);
        let ratio = max_gap as f64 / r.median_interval_ms.max(1) as f64;
        worst_ratio = worst_ratio.max(ratio);
        if ratio > 2.0 {
            over_2x += 1;
            println!(
                "{} seed {seed}: rotation gaps {:?} ms, median {} ms, largest other interval {} ms",
                profile.name, r.rotation_gaps_ms, r.median_interval_ms, r.max_interval_ms
            );
        }
        if seed < 3 {
            println!(
                "{} seed {seed}: switches {:?}, committee sizes {:?}, median {} ms, rotation gaps {:?} ms, fast {} snail {} in {} ms",
                profile.name,
                r.switch_heights,
                r.committee_sizes,
                r.median_interval_ms,
                r.rotation_gaps_ms,
                r.fast_height,
                r.snail_height,
                r.end_ms
            );
        }
    }
    println!(
        "{}: {} seeds ok, worst rotation-gap/median {worst_ratio:.2}, seeds with a gap > 2x median: {over_2x}{}",
        profile.name,
        seeds(),
        if byzantine {
            format!(", handovers with a byzantine member in both committees: {byzantine_handovers}")
        } else {
            String::new()
        }
    );
}

#[test]
fn rotation_no_faults() {
    check(RotationProfile::no_faults());
}

#[test]
fn rotation_member_paused_across_handover() {
    check(RotationProfile::member_paused());
}

#[test]
fn rotation_primary_paused_across_handover() {
    check(RotationProfile::primary_paused());
}

#[test]
fn rotation_byzantine_members_in_both_committees() {
    check(RotationProfile::byzantine_members());
}

#[test]
fn rotation_byzantine_withholder_in_both_committees() {
    check(RotationProfile::byzantine_withholder());
}

#[test]
fn rotation_drops_delays() {
    check(RotationProfile::drops_delays());
}
