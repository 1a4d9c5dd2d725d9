//! Table-driven mempool tests: ordering, replacement, eviction and every rejection reason.
use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use tc_types::{AccountInfo, RecoveredTx, StateError, StateReader, TxError};

use super::*;
use crate::keys::{TxParams, dev_signer, sign_eip1559};

#[derive(Default)]
struct State(BTreeMap<Address, AccountInfo>);

impl StateReader for State {
    fn account(&self, a: &Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.0.get(a).cloned())
    }
    fn storage(&self, _: &Address, _: &U256) -> Result<U256, StateError> {
        Ok(U256::ZERO)
    }
    fn code(&self, _: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(None)
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, StateError> {
        Ok(None)
    }
}

const GWEI: u128 = 1_000_000_000;
const RULES: ChainRules = ChainRules {
    chain_id: 1337,
    block_gas_limit: 30_000_000,
    base_fee: 1_000_000_000,
};

fn signers() -> Vec<PrivateKeySigner> {
    (0..4).map(|i| dev_signer(i).expect("derive")).collect()
}

fn funded(signers: &[PrivateKeySigner]) -> State {
    let mut s = State::default();
    for k in signers {
        s.0.insert(
            k.address(),
            AccountInfo {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            },
        );
    }
    s
}

fn params(nonce: u64, fee_gwei: u128, tip_gwei: u128) -> TxParams {
    TxParams {
        chain_id: 1337,
        nonce,
        to: Some(Address::repeat_byte(0xaa)),
        value: U256::from(1),
        input: Bytes::new(),
        gas_limit: 21_000,
        max_fee_per_gas: fee_gwei * GWEI,
        max_priority_fee_per_gas: tip_gwei * GWEI,
    }
}

fn tx(k: &PrivateKeySigner, p: TxParams) -> RecoveredTx {
    RecoveredTx::recover(sign_eip1559(k, &p).expect("sign")).expect("recover")
}

fn pool(cfg: MempoolSection) -> Mempool {
    Mempool::new(cfg, RULES)
}

#[test]
fn selects_by_nonce_per_sender_then_tip_across_senders() {
    let ks = signers();
    let st = funded(&ks);
    let mut p = pool(MempoolSection::default());
    // A's nonces arrive out of order with tip 1; B pays tip 5; C has a gap (nonce 1 only).
    for n in [2, 0, 1] {
        p.add(tx(&ks[0], params(n, 10, 1)), &st).expect("A");
    }
    p.add(tx(&ks[1], params(0, 10, 5)), &st).expect("B");
    p.add(tx(&ks[2], params(1, 10, 9)), &st).expect("C gap");
    let picked: Vec<(Address, u64)> = p
        .select(&st, 100, 30_000_000)
        .iter()
        .map(|t| (t.sender, t.nonce()))
        .collect();
    let (a, b) = (ks[0].address(), ks[1].address());
    assert_eq!(picked, vec![(b, 0), (a, 0), (a, 1), (a, 2)]);
    // Limits: count and gas.
    assert_eq!(p.select(&st, 2, 30_000_000).len(), 2);
    assert_eq!(p.select(&st, 100, 42_000).len(), 2);
}

#[test]
fn replacement_needs_the_configured_bump() {
    let ks = signers();
    let st = funded(&ks);
    let mut p = pool(MempoolSection {
        price_bump_percent: 10,
        ..Default::default()
    });
    let first = tx(&ks[0], params(0, 100, 2));
    p.add(first.clone(), &st).expect("first");
    let low = p
        .add(tx(&ks[0], params(0, 105, 3)), &st)
        .expect_err("5% bump");
    assert_eq!(
        low,
        TxError::ReplacementUnderpriced {
            have: 105 * GWEI,
            need: 110 * GWEI
        }
    );
    let ok = p.add(tx(&ks[0], params(0, 110, 3)), &st).expect("10% bump");
    assert_eq!(ok, Admitted::Replaced(first.hash));
    assert_eq!(p.len(), 1);
    assert!(!p.contains(&first.hash));
}

#[test]
fn full_pool_evicts_cheapest_tail_or_refuses() {
    let ks = signers();
    let st = funded(&ks);
    let mut p = pool(MempoolSection {
        max_count: 3,
        ..Default::default()
    });
    let a0 = tx(&ks[0], params(0, 10, 1));
    let a1 = tx(&ks[0], params(1, 50, 1));
    let b0 = tx(&ks[1], params(0, 20, 1));
    for t in [&a0, &a1, &b0] {
        p.add(t.clone(), &st).expect("fill");
    }
    // Cheaper than every tail (a1=50, b0=20): refused.
    let err = p.add(tx(&ks[2], params(0, 5, 1)), &st).expect_err("cheap");
    assert_eq!(
        err,
        TxError::PoolFull {
            fee: 5 * GWEI,
            cheapest: 20 * GWEI
        }
    );
    // Pays more than b0 (the cheapest tail; a0 is cheaper but not a tail): b0 evicted.
    let got = p.add(tx(&ks[2], params(0, 30, 1)), &st).expect("evict");
    assert_eq!(got, Admitted::Evicted(vec![b0.hash]));
    assert!(p.contains(&a0.hash) && p.contains(&a1.hash));
    assert_eq!(p.len(), 3);
    // Byte bound works the same way.
    let mut p = pool(MempoolSection {
        max_bytes: 200_000,
        max_tx_bytes: 131_072,
        ..Default::default()
    });
    p.add(a0.clone(), &st).expect("small");
    assert!(p.bytes() > 0 && p.bytes() < 200);
}

#[test]
fn every_rejection_says_why() {
    let ks = signers();
    let mut st = funded(&ks);
    st.0.insert(
        ks[0].address(),
        AccountInfo {
            nonce: 5,
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    let poor = dev_signer(9).expect("derive");
    st.0.insert(
        poor.address(),
        AccountInfo {
            balance: U256::from(1000),
            ..Default::default()
        },
    );
    let k = &ks[1];
    let big = tx(
        k,
        TxParams {
            input: Bytes::from(vec![1u8; 200_000]),
            gas_limit: 29_000_000,
            ..params(0, 10, 1)
        },
    );
    let big_size = big.size;
    let cases: Vec<(&str, RecoveredTx, TxError)> = vec![
        (
            "wrong chain",
            tx(
                k,
                TxParams {
                    chain_id: 1,
                    ..params(0, 10, 1)
                },
            ),
            TxError::WrongChainId {
                expected: 1337,
                got: Some(1),
            },
        ),
        (
            "nonce low",
            tx(&ks[0], params(4, 10, 1)),
            TxError::NonceTooLow {
                expected: 5,
                got: 4,
            },
        ),
        (
            "nonce high",
            tx(k, params(5_000, 10, 1)),
            TxError::NonceTooHigh {
                expected: 0,
                got: 5_000,
            },
        ),
        (
            "funds",
            tx(&poor, params(0, 10, 1)),
            TxError::InsufficientFunds {
                have: U256::from(1000),
                need: U256::from(21_000u128 * 10 * GWEI + 1),
            },
        ),
        (
            "intrinsic",
            tx(
                k,
                TxParams {
                    gas_limit: 20_000,
                    ..params(0, 10, 1)
                },
            ),
            TxError::IntrinsicGasTooLow {
                have: 20_000,
                need: 21_000,
            },
        ),
        (
            "intrinsic calldata",
            tx(
                k,
                TxParams {
                    gas_limit: 21_000,
                    input: Bytes::from(vec![0, 1]),
                    ..params(0, 10, 1)
                },
            ),
            // EIP-7623 floor: 21000 + 10 × (1 zero byte × 1 + 1 nonzero byte × 4) = 21050
            TxError::IntrinsicGasTooLow {
                have: 21_000,
                need: 21_050,
            },
        ),
        (
            "block gas",
            tx(
                k,
                TxParams {
                    gas_limit: 40_000_000,
                    ..params(0, 10, 1)
                },
            ),
            TxError::GasLimitTooHigh {
                have: 40_000_000,
                max: 30_000_000,
            },
        ),
        (
            "fee cap",
            tx(k, params(0, 0, 0)),
            TxError::FeeCapTooLow {
                have: 0,
                need: GWEI,
            },
        ),
        ("tip", tx(k, params(0, 2, 3)), TxError::TipAboveFeeCap),
        (
            "size",
            big,
            TxError::TooLarge {
                size: big_size,
                max: 131_072,
            },
        ),
    ];
    for (name, t, want) in cases {
        let mut p = pool(MempoolSection::default());
        let got = p.add(t, &st).expect_err(name);
        assert_eq!(got, want, "{name}");
        assert!(!got.to_string().is_empty());
        assert_eq!(
            p.rejections().last().map(|r| &r.error),
            Some(&want),
            "{name} recorded"
        );
        assert!(p.is_empty(), "{name}: nothing pooled");
    }
    // Already known.
    let mut p = pool(MempoolSection::default());
    let t = tx(k, params(0, 10, 1));
    p.add(t.clone(), &st).expect("first");
    assert_eq!(p.add(t, &st).expect_err("dup"), TxError::AlreadyKnown);
    // Undecodable / bad signature never reach the pool: RecoveredTx::decode says why.
    assert!(matches!(
        RecoveredTx::decode(&[0x02, 0xc0]),
        Err(TxError::Decode(_))
    ));
}

#[test]
fn committed_block_prunes_included_and_stale() {
    let ks = signers();
    let mut st = funded(&ks);
    let mut p = pool(MempoolSection::default());
    let a: Vec<RecoveredTx> = (0..3).map(|n| tx(&ks[0], params(n, 10, 1))).collect();
    for t in &a {
        p.add(t.clone(), &st).expect("add");
    }
    // Block included a0 and a1 (a1 we pretend came from elsewhere); account nonce now 2.
    st.0.insert(
        ks[0].address(),
        AccountInfo {
            nonce: 2,
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    let removed = p.on_block_committed(&[a[0].hash], &st);
    assert_eq!(removed, vec![a[0].hash, a[1].hash]);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p.select(&st, 10, 30_000_000).first().map(|t| t.hash),
        Some(a[2].hash)
    );
}
