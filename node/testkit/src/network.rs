//! Network fault model and run profiles.
use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use tc_consensus::pbft::Config;

use crate::byzantine::ByzKind;

/// Message delay distribution (virtual milliseconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Delay {
    /// Uniform in `[min, max]`.
    Uniform {
        /// Minimum.
        min: u64,
        /// Maximum.
        max: u64,
    },
    /// Uniform in `[min, max]`, but with probability `p_slow` uniform in `[max, slow_max]`.
    HeavyTail {
        /// Minimum.
        min: u64,
        /// Usual maximum.
        max: u64,
        /// Probability of a slow message.
        p_slow: f64,
        /// Slow maximum.
        slow_max: u64,
    },
}

impl Delay {
    /// Sample one delay.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        match *self {
            Delay::Uniform { min, max } => rng.gen_range(min..=max.max(min)),
            Delay::HeavyTail {
                min,
                max,
                p_slow,
                slow_max,
            } => {
                if rng.gen_bool(p_slow) {
                    rng.gen_range(max..=slow_max.max(max))
                } else {
                    rng.gen_range(min..=max.max(min))
                }
            }
        }
    }
}

/// A partition of the members into two sides, active in `[from_ms, heal_ms)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Side of each member (`true` = side A); drawn per seed when empty.
    pub side_a: Vec<bool>,
    /// Start.
    pub from_ms: u64,
    /// Heal time.
    pub heal_ms: u64,
}

/// Network behaviour of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct NetProfile {
    /// Drop probability before `stable_ms`.
    pub drop_prob: f64,
    /// Duplication probability (always).
    pub dup_prob: f64,
    /// Delays (random delays reorder messages).
    pub delay: Delay,
    /// Delays after `stable_ms`.
    pub stable_delay: Delay,
    /// When drops stop (GST). Partitions heal at their own time.
    pub stable_ms: u64,
    /// Optional partition; the sides are drawn from the seed.
    pub partition: Option<(u64, u64)>,
}

impl NetProfile {
    /// Reliable, 5–40 ms.
    pub fn clean() -> Self {
        let delay = Delay::Uniform { min: 5, max: 40 };
        Self {
            drop_prob: 0.0,
            dup_prob: 0.0,
            delay,
            stable_delay: delay,
            stable_ms: 0,
            partition: None,
        }
    }
}

/// One simulation profile.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Committee size.
    pub n: usize,
    /// Network.
    pub net: NetProfile,
    /// Byzantine kind given to members `0..f` (so the first primaries are byzantine).
    pub byzantine: Option<ByzKind>,
    /// How many seqs every honest member must decide.
    pub target: u64,
    /// Liveness bound after the network stabilises (virtual ms).
    pub liveness_ms: u64,
    /// Crash-restart faults: f distinct members crash at a random time up to `.0` ms and restart
    /// from their persisted records up to `.1` ms later.
    pub crashes: Option<(u64, u64)>,
    /// Engine configuration.
    pub engine: Config,
}

impl Profile {
    fn base(name: &str, n: usize, net: NetProfile, byzantine: Option<ByzKind>) -> Self {
        let engine = Config {
            checkpoint_interval: 3,
            window: 6,
            max_in_flight: 3,
            view_timeout_ms: 300,
            status_interval_ms: 400,
            certificate_retention: 64,
            future_buffer: 4096,
        };
        Self {
            name: format!("{name}/n={n}"),
            n,
            net,
            byzantine,
            crashes: None,
            target: 7,
            liveness_ms: 30_000,
            engine,
        }
    }

    /// No faults.
    pub fn no_faults(n: usize) -> Self {
        Self::base("no-faults", n, NetProfile::clean(), None)
    }

    /// 20% drops, heavy-tailed delays, 5% duplicates until 3 s.
    pub fn drops_delays(n: usize) -> Self {
        let net = NetProfile {
            drop_prob: 0.2,
            dup_prob: 0.05,
            delay: Delay::HeavyTail {
                min: 1,
                max: 80,
                p_slow: 0.1,
                slow_max: 800,
            },
            stable_delay: Delay::Uniform { min: 1, max: 80 },
            stable_ms: 3_000,
            partition: None,
        };
        Self::base("drops-delays", n, net, None)
    }

    /// A random two-sided partition from ~0–0.5 s healing at ~1–4 s.
    pub fn partition(n: usize) -> Self {
        let net = NetProfile {
            partition: Some((500, 4_000)),
            ..NetProfile::clean()
        };
        Self::base("partition-heal", n, net, None)
    }

    /// f members crash and restart from their persisted records.
    pub fn crash_restart(n: usize) -> Self {
        let mut p = Self::base("crash-restart", n, NetProfile::clean(), None);
        p.crashes = Some((150, 1_500));
        p
    }

    /// f byzantine members of one kind (members 0..f, the first primaries).
    pub fn byzantine(n: usize, kind: ByzKind) -> Self {
        let net = NetProfile {
            dup_prob: 0.02,
            ..NetProfile::clean()
        };
        Self::base(&format!("byzantine-{kind:?}"), n, net, Some(kind))
    }

    /// Every CI profile for a committee of `n`.
    pub fn all(n: usize) -> Vec<Profile> {
        let mut v = vec![
            Self::no_faults(n),
            Self::drops_delays(n),
            Self::partition(n),
            Self::crash_restart(n),
        ];
        v.extend(ByzKind::ALL.iter().map(|k| Self::byzantine(n, *k)));
        v
    }
}
