//! PBFT engine throughput: a whole committee of `n` engines in one thread, messages delivered
//! instantly in FIFO order, real ed25519 signing and verification (no cache), the primary
//! keeping `max_in_flight` instances in flight. Prints decided instances/s (every member
//! decided) and point-to-point messages per decision.
//!
//! `cargo bench -p tc-consensus` (optionally `-- <instances for n=4> <instances for n=16>`).
use std::collections::VecDeque;
use std::time::Instant;

use tc_consensus::pbft::{
    Config, Ed25519Signer, Ed25519Verifier, Engine, Input, Output, SignedMessage, Signer as _,
};
use tc_types::{Address, B256, Committee, Member};

fn signer(i: usize) -> Ed25519Signer {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Ed25519Signer::from_seed(seed)
}

struct Figures {
    decided: u64,
    messages: u64,
    secs: f64,
}

fn run(n: usize, instances: u64) -> Figures {
    let members = (0..n)
        .map(|i| Member {
            key: signer(i).public_key(),
            coinbase: Address::ZERO,
            weight: 1,
        })
        .collect();
    let committee = Committee {
        epoch: 1,
        start_height: 1,
        members,
        seed: B256::ZERO,
    };
    let cfg = Config {
        checkpoint_interval: 16,
        window: 64,
        max_in_flight: 8,
        ..Config::default()
    };
    let mut engines: Vec<_> = (0..n)
        .map(|i| {
            Engine::new(committee.clone(), signer(i), Ed25519Verifier, cfg.clone())
                .unwrap_or_else(|e| unreachable!("bench committee: {e}"))
        })
        .collect();
    let mut queue: VecDeque<(usize, SignedMessage)> = VecDeque::new();
    let mut messages = 0u64;
    let mut decided_everywhere = vec![0u64; n];
    let start = Instant::now();
    let mut handle = |i: usize, outs: Vec<Output>, queue: &mut VecDeque<(usize, SignedMessage)>| {
        for o in outs {
            match o {
                Output::Broadcast(m) => {
                    for j in (0..n).filter(|j| *j != i) {
                        messages += 1;
                        queue.push_back((j, m.clone()));
                    }
                }
                Output::Send { to, msg } => {
                    messages += 1;
                    queue.push_back((to as usize, msg));
                }
                Output::Decide { .. } => decided_everywhere[i] += 1,
                _ => {}
            }
        }
    };
    for (i, engine) in engines.iter_mut().enumerate() {
        let outs = engine.step(Input::Start);
        handle(i, outs, &mut queue);
    }
    loop {
        let primary = 0;
        while let Some(seq) = engines[primary].next_proposal_seq() {
            if seq > instances {
                break;
            }
            let digest = B256::from(tc_types::keccak256(seq.to_be_bytes()));
            let outs = engines[primary].step(Input::Propose {
                seq,
                digest,
                block: Vec::new(),
            });
            handle(primary, outs, &mut queue);
        }
        let Some((to, msg)) = queue.pop_front() else {
            break;
        };
        let outs = engines[to].step(Input::Message(msg));
        handle(to, outs, &mut queue);
    }
    let secs = start.elapsed().as_secs_f64();
    let decided = engines.iter().map(|e| e.last_decided()).min().unwrap_or(0);
    Figures {
        decided,
        messages,
        secs,
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let plan = [
        (4, args.first().copied().unwrap_or(2_000)),
        (16, args.get(1).copied().unwrap_or(200)),
    ];
    println!("PBFT engine benchmark (ed25519 sign + verify, whole committee on one thread)");
    for (n, instances) in plan {
        let f = run(n, instances);
        println!(
            "n={n:>2}: {} instances decided by all in {:.3} s = {:.1} decided instances/s; {:.1} messages/decision",
            f.decided,
            f.secs,
            f.decided as f64 / f.secs,
            f.messages as f64 / f.decided.max(1) as f64
        );
    }
}
