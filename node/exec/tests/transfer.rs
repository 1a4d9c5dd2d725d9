//! Value transfers, transaction types, rejection reasons and state-diff properties.
mod common;

use alloy_consensus::{TxEip1559, TxEip7702};
use alloy_primitives::{Address, Bytes, TxKind, U256, address};
use common::*;
use tc_exec::memory::MemoryState;
use tc_exec::{ExecError, Mode, execute_block};
use tc_types::{RecoveredTx, StateReader, TxError};

const BOB: Address = address!("0x00000000000000000000000000000000000b0b00");

#[test]
fn value_transfer_moves_balance_bumps_nonce_pays_tip() {
    let alice = key(1);
    let mut state = funded(1);
    let out = run(&mut state, &[transfer(&alice, 0, BOB, ether(1))]);

    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.included, vec![0]);
    assert_eq!(out.gas_used, 21_000);
    let r = &out.receipts[0];
    assert!(r.success);
    assert_eq!((r.gas_used, r.cumulative_gas_used), (21_000, 21_000));
    assert_eq!(r.effective_gas_price, 2 * GWEI, "base 1 gwei + tip 1 gwei");
    assert_eq!((r.from, r.to, r.tx_type), (alice.address(), BOB, 2));
    assert!(r.logs.is_empty() && r.output.is_empty());
    assert_eq!(r.contract_address, Address::ZERO);

    let fee = U256::from(21_000u64 * 2 * GWEI as u64);
    assert_eq!(state.balance(&BOB), ether(1));
    assert_eq!(state.balance(&alice.address()), ether(99) - fee);
    assert_eq!(state.nonce(&alice.address()), 1);
    // Coinbase gets only the tip; the base fee is burnt.
    assert_eq!(
        state.balance(&COINBASE),
        U256::from(21_000u64 * GWEI as u64)
    );
}

#[test]
fn legacy_eip155_eip2930_and_eip1559_all_execute() {
    let alice = key(1);
    let mut state = funded(1);
    let txs = [
        legacy(&alice, 0, Some(CHAIN_ID), BOB, U256::from(1)),
        eip2930(&alice, 1, BOB, U256::from(2)),
        transfer(&alice, 2, BOB, U256::from(3)),
    ];
    let out = run(&mut state, &txs);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let types: Vec<u8> = out.receipts.iter().map(|r| r.tx_type).collect();
    assert_eq!(types, vec![0, 1, 2]);
    let prices: Vec<u128> = out.receipts.iter().map(|r| r.effective_gas_price).collect();
    assert_eq!(prices, vec![3 * GWEI, 3 * GWEI, 2 * GWEI]);
    let cumulative: Vec<u64> = out.receipts.iter().map(|r| r.cumulative_gas_used).collect();
    assert_eq!(cumulative, vec![21_000, 42_000, 63_000]);
    assert_eq!(state.balance(&BOB), U256::from(6));
    assert_eq!(state.nonce(&alice.address()), 3);
}

/// One rejection case: name, pre-state, transaction, expected reason.
type Case = (&'static str, MemoryState, RecoveredTx, fn(&TxError) -> bool);

/// One row per rejection reason: the transaction, the expected reason.
fn rejection_cases() -> Vec<Case> {
    let alice = key(1);
    let poor = key(9);
    let mut used = funded(1);
    used.set_account(alice.address(), ether(100), 1);
    let mut with_poor = funded(1);
    with_poor.set_account(poor.address(), U256::from(1000), 0);
    let base = |tx: TxEip1559| sign(&alice, tx);
    let t1559 = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(BOB),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    vec![
        (
            "nonce too low",
            used,
            transfer(&alice, 0, BOB, U256::from(1)),
            |e| {
                matches!(
                    e,
                    TxError::NonceTooLow {
                        expected: 1,
                        got: 0
                    }
                )
            },
        ),
        (
            "nonce too high",
            funded(1),
            transfer(&alice, 5, BOB, U256::from(1)),
            |e| {
                matches!(
                    e,
                    TxError::NonceTooHigh {
                        expected: 0,
                        got: 5
                    }
                )
            },
        ),
        (
            "insufficient funds",
            with_poor,
            transfer(&poor, 0, BOB, U256::from(1)),
            |e| matches!(e, TxError::InsufficientFunds { .. }),
        ),
        (
            "intrinsic gas too low",
            funded(1),
            base(TxEip1559 {
                gas_limit: 20_000,
                ..t1559.clone()
            }),
            |e| {
                matches!(
                    e,
                    TxError::IntrinsicGasTooLow {
                        have: 20_000,
                        need: 21_000
                    }
                )
            },
        ),
        (
            "wrong chain id",
            funded(1),
            base(TxEip1559 {
                chain_id: 999,
                ..t1559.clone()
            }),
            |e| {
                matches!(
                    e,
                    TxError::WrongChainId {
                        expected: CHAIN_ID,
                        got: Some(999)
                    }
                )
            },
        ),
        (
            "unprotected legacy",
            funded(1),
            legacy(&alice, 0, None, BOB, U256::from(1)),
            |e| matches!(e, TxError::WrongChainId { got: None, .. }),
        ),
        (
            "gas limit above block",
            funded(1),
            base(TxEip1559 {
                gas_limit: 30_000_001,
                ..t1559.clone()
            }),
            |e| {
                matches!(
                    e,
                    TxError::GasLimitTooHigh {
                        have: 30_000_001,
                        max: 30_000_000
                    }
                )
            },
        ),
        (
            "fee cap below base fee",
            funded(1),
            base(TxEip1559 {
                max_fee_per_gas: GWEI / 2,
                max_priority_fee_per_gas: 0,
                ..t1559.clone()
            }),
            |e| matches!(e, TxError::FeeCapTooLow { need, .. } if *need == GWEI),
        ),
        (
            "tip above fee cap",
            funded(1),
            base(TxEip1559 {
                max_priority_fee_per_gas: 3 * GWEI,
                ..t1559.clone()
            }),
            |e| matches!(e, TxError::TipAboveFeeCap),
        ),
        (
            "eip-7702 unsupported",
            funded(1),
            sign(
                &alice,
                TxEip7702 {
                    chain_id: CHAIN_ID,
                    nonce: 0,
                    gas_limit: 50_000,
                    max_fee_per_gas: 2 * GWEI,
                    max_priority_fee_per_gas: GWEI,
                    to: BOB,
                    value: U256::ZERO,
                    access_list: Default::default(),
                    authorization_list: Vec::new(),
                    input: Bytes::new(),
                },
            ),
            |e| matches!(e, TxError::UnsupportedType(4)),
        ),
    ]
}

#[test]
fn each_rejection_reason_is_typed_in_build_and_fatal_in_verify() {
    for (name, state, tx, expected) in rejection_cases() {
        let out =
            execute_block(&state, &env(), std::slice::from_ref(&tx), Mode::Build).expect(name);
        assert!(out.included.is_empty(), "{name}: included");
        assert_eq!(out.rejected.len(), 1, "{name}");
        let (hash, reason) = &out.rejected[0];
        assert_eq!(*hash, tx.hash, "{name}");
        assert!(expected(reason), "{name}: got {reason:?}");
        assert!(
            out.diff.accounts.is_empty(),
            "{name}: a rejected tx changed state"
        );

        match execute_block(&state, &env(), std::slice::from_ref(&tx), Mode::Verify) {
            Err(ExecError::InvalidTx {
                index: 0,
                hash,
                reason,
            }) => {
                assert_eq!(hash, tx.hash, "{name}");
                assert!(expected(&reason), "{name}: verify got {reason:?}");
            }
            other => panic!("{name}: verify mode should fail, got {other:?}"),
        }
    }
}

#[test]
fn build_skips_invalid_and_continues_with_the_rest() {
    let alice = key(1);
    let state = funded(1);
    let txs = [
        transfer(&alice, 0, BOB, U256::from(1)),
        transfer(&alice, 0, BOB, U256::from(1)), // replay: nonce too low now
        transfer(&alice, 1, BOB, U256::from(1)),
    ];
    let out = execute_block(&state, &env(), &txs, Mode::Build).expect("execute");
    assert_eq!(out.included, vec![0, 2]);
    assert_eq!(
        out.rejected,
        vec![(
            txs[1].hash,
            TxError::NonceTooLow {
                expected: 1,
                got: 0
            }
        )]
    );
    assert_eq!(out.receipts[1].cumulative_gas_used, 42_000);
}

#[test]
fn block_gas_limit_defers_in_build_and_fails_in_verify() {
    let alice = key(1);
    let state = funded(1);
    let mut e = env();
    e.gas_limit = 50_000;
    let txs = [
        transfer(&alice, 0, BOB, U256::from(1)),
        transfer(&alice, 1, BOB, U256::from(1)),
        transfer(&alice, 2, BOB, U256::from(1)),
    ];
    let out = execute_block(&state, &e, &txs, Mode::Build).expect("execute");
    assert_eq!(out.included, vec![0, 1]);
    assert_eq!(out.deferred, vec![txs[2].hash]);
    assert!(matches!(
        execute_block(&state, &e, &txs, Mode::Verify),
        Err(ExecError::BlockGasExceeded {
            index: 2,
            needed: 63_000,
            limit: 50_000
        })
    ));
}

#[test]
fn diff_is_canonical_and_one_block_equals_tx_by_tx() {
    let senders: Vec<_> = (1..=6).map(key).collect();
    let genesis = funded(6);
    let mut txs = Vec::new();
    for (i, s) in senders.iter().enumerate() {
        // Everyone pays the next sender and a fresh address.
        let next = senders[(i + 1) % senders.len()].address();
        txs.push(transfer(s, 0, next, ether(1)));
        txs.push(transfer(
            s,
            1,
            Address::with_last_byte(0xa0 + i as u8),
            U256::from(7),
        ));
    }
    let out = execute_block(&genesis, &env(), &txs, Mode::Build).expect("execute");
    assert_eq!(out.included.len(), txs.len());
    let addrs: Vec<_> = out.diff.accounts.iter().map(|a| a.address).collect();
    let mut sorted = addrs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(addrs, sorted, "accounts sorted and unique");

    let mut whole = genesis.clone();
    whole.apply(&out.diff);
    let mut stepwise = genesis.clone();
    for tx in &txs {
        let o =
            execute_block(&stepwise, &env(), std::slice::from_ref(tx), Mode::Verify).expect("step");
        stepwise.apply(&o.diff);
    }
    assert_eq!(whole, stepwise);

    // Same inputs, same commitments.
    let again = execute_block(&genesis, &env(), &txs, Mode::Verify).expect("verify");
    assert_eq!(again, out);
    let parent = tc_types::B256::repeat_byte(1);
    assert_eq!(out.roots(&parent), again.roots(&parent));
    assert_eq!(
        out.roots(&parent).tx_root,
        tc_types::tx_root(&out.transactions)
    );
}

#[test]
fn zero_value_touch_of_missing_account_leaves_no_trace() {
    // EIP-161: a touched empty account is not created.
    let alice = key(1);
    let state = funded(1);
    let ghost = Address::with_last_byte(0x99);
    let out = execute_block(
        &state,
        &env(),
        &[transfer(&alice, 0, ghost, U256::ZERO)],
        Mode::Build,
    )
    .expect("run");
    assert!(
        out.diff.accounts.iter().all(|a| a.address != ghost),
        "{:?}",
        out.diff.accounts
    );
}

/// A backend that always fails.
struct Broken;

impl tc_types::StateReader for Broken {
    fn account(&self, _: &Address) -> Result<Option<tc_types::AccountInfo>, tc_types::StateError> {
        Err(tc_types::StateError("disk on fire".into()))
    }
    fn storage(&self, _: &Address, _: &U256) -> Result<U256, tc_types::StateError> {
        Err(tc_types::StateError("disk on fire".into()))
    }
    fn code(&self, _: &tc_types::B256) -> Result<Option<Bytes>, tc_types::StateError> {
        Err(tc_types::StateError("disk on fire".into()))
    }
    fn block_hash(&self, _: u64) -> Result<Option<tc_types::B256>, tc_types::StateError> {
        Err(tc_types::StateError("disk on fire".into()))
    }
}

#[test]
fn backend_failure_is_an_exec_error_not_a_rejection() {
    let tx = transfer(&key(1), 0, BOB, U256::from(1));
    match execute_block(&Broken, &env(), &[tx], Mode::Build) {
        Err(ExecError::State { index: 0, source }) => assert!(source.0.contains("disk on fire")),
        other => panic!("expected state error, got {other:?}"),
    }
}

#[test]
fn contract_destroyed_in_its_constructor_leaves_only_a_wipe() {
    // Init code CALLER SELFDESTRUCT: created and destroyed in the same transaction (EIP-6780).
    let alice = key(1);
    let genesis = funded(1);
    let tx = tx1559(
        &alice,
        0,
        TxKind::Create,
        U256::from(5),
        Bytes::from_static(&[0x33, 0xff]),
        100_000,
    );
    let out = execute_block(&genesis, &env(), std::slice::from_ref(&tx), Mode::Build).expect("run");
    let created = alice.address().create(0);
    assert!(out.receipts[0].success);
    assert_eq!(out.diff.wiped, vec![created]);
    assert!(out.diff.accounts.iter().all(|a| a.address != created));
    assert!(out.diff.code.is_empty());
    let mut after = genesis.clone();
    after.apply(&out.diff);
    assert_eq!(after.account(&created).expect("read"), None);
    // The 5 wei went back to alice: she only paid gas.
    let gas =
        U256::from(out.receipts[0].gas_used) * U256::from(out.receipts[0].effective_gas_price);
    assert_eq!(after.balance(&alice.address()), ether(100) - gas);
}

#[test]
fn intrinsic_gas_matches_execution() {
    use tc_exec::txenv::intrinsic_gas;
    let alice = key(1);
    assert_eq!(
        intrinsic_gas(&transfer(&alice, 0, BOB, U256::from(1))),
        21_000
    );
    // 4 non-zero calldata bytes: 21000 + 4×16 = 21064, but the EIP-7623 floor is 21000 + 10×16.
    let call = tx1559(
        &alice,
        0,
        TxKind::Call(BOB),
        U256::ZERO,
        Bytes::from_static(&[1, 2, 3, 4]),
        21_159,
    );
    assert_eq!(intrinsic_gas(&call), 21_160);
    let out = execute_block(&funded(1), &env(), &[call], Mode::Build).expect("run");
    assert_eq!(
        out.rejected[0].1,
        TxError::IntrinsicGasTooLow {
            have: 21_159,
            need: 21_160
        }
    );
}

#[test]
fn block_env_reaches_the_evm() {
    use tc_exec::{CallRequest, call};
    let mut state = funded(1);
    state
        .block_hashes
        .insert(0, tc_types::B256::repeat_byte(0xbb));
    let e = env();
    // Init code: <opcode(s)> PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN — returns one word.
    let cases: [(&str, &[u8], U256); 6] = [
        (
            "TIMESTAMP is seconds",
            &[0x42],
            U256::from(e.timestamp_ms / 1000),
        ),
        ("NUMBER", &[0x43], U256::from(e.number)),
        (
            "COINBASE",
            &[0x41],
            U256::from_be_slice(COINBASE.as_slice()),
        ),
        ("CHAINID", &[0x46], U256::from(CHAIN_ID)),
        ("BASEFEE", &[0x48], U256::from(e.base_fee)),
        (
            "BLOCKHASH(0)",
            &[0x60, 0x00, 0x40],
            U256::from_be_bytes([0xbb; 32]),
        ),
    ];
    for (name, op, want) in cases {
        let mut code = op.to_vec();
        code.extend_from_slice(&[0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
        let req = CallRequest {
            from: Some(key(1).address()),
            data: code.into(),
            gas_price: Some(2 * GWEI),
            ..Default::default()
        };
        let out = call(&state, &e, &req).expect(name);
        assert!(out.success, "{name}: {out:?}");
        assert_eq!(U256::from_be_slice(&out.output), want, "{name}");
    }
}
