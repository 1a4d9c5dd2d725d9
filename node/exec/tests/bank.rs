//! The Bank sample contract end to end: deploy, deposit, transfer, withdraw, events, reverts,
//! out-of-gas, read-only calls and gas estimation.
mod common;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use common::*;
use tc_exec::bank::{self, BankEvent};
use tc_exec::call::CallError;
use tc_exec::memory::MemoryState;
use tc_exec::{CallRequest, call, decode_revert_reason, estimate_gas};
use tc_types::StateReader;

/// Deploy Bank from key 1 with a CREATE transaction; returns its address.
fn deploy(state: &mut MemoryState) -> Address {
    let init = bank::creation_code().expect("artifact");
    let out = run(
        state,
        &[tx1559(
            &key(1),
            0,
            TxKind::Create,
            U256::ZERO,
            init,
            1_000_000,
        )],
    );
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let r = &out.receipts[0];
    assert!(r.success, "deploy failed: {:?}", r.output);
    assert_eq!(r.contract_address, key(1).address().create(0));
    assert_eq!(r.to, Address::ZERO);
    r.contract_address
}

fn bank_call(state: &MemoryState, addr: Address, data: Bytes) -> U256 {
    let req = CallRequest {
        to: Some(addr),
        data,
        ..Default::default()
    };
    let out = call(state, &env(), &req).expect("call");
    assert!(out.success, "{out:?}");
    bank::decode_uint(&out.output).expect("uint")
}

fn ledger(state: &MemoryState, addr: Address, who: Address) -> U256 {
    bank_call(state, addr, bank::balance_of_calldata(who))
}

#[test]
fn artifact_is_consistent() {
    let runtime = bank::runtime_code().expect("runtime");
    let init = bank::creation_code().expect("init");
    assert!(!runtime.is_empty() && init.len() > runtime.len());
    let abi = bank::abi_json().expect("abi");
    for name in [
        "deposit",
        "withdraw",
        "transfer",
        "balanceOf",
        "totalDeposits",
        "Deposit",
        "Withdrawal",
        "Transfer",
    ] {
        assert!(abi.contains(&format!("\"{name}\"")), "abi lacks {name}");
    }
    assert!(bank::solc_version().expect("version").starts_with("0.8."));
    let selector =
        |sig: &str| <[u8; 4]>::try_from(&tc_types::keccak256(sig)[..4]).expect("4 bytes");
    assert_eq!(bank::DEPOSIT, selector("deposit()"));
    assert_eq!(bank::WITHDRAW, selector("withdraw(uint256)"));
    assert_eq!(bank::TRANSFER, selector("transfer(address,uint256)"));
    assert_eq!(bank::BALANCE_OF, selector("balanceOf(address)"));
    assert_eq!(bank::TOTAL_DEPOSITS, selector("totalDeposits()"));
}

#[test]
fn deploy_deposit_transfer_withdraw() {
    let (alice, bob) = (key(1), key(2));
    let mut state = funded(2);
    let addr = deploy(&mut state);
    // Deployed code equals the artifact's runtime code.
    let info = state.account(&addr).expect("read").expect("exists");
    assert_eq!(
        state.code(&info.code_hash).expect("read"),
        Some(bank::runtime_code().expect("rt"))
    );

    let txs = [
        tx1559(
            &alice,
            1,
            TxKind::Call(addr),
            ether(5),
            bank::deposit_calldata(),
            100_000,
        ),
        tx1559(
            &alice,
            2,
            TxKind::Call(addr),
            U256::ZERO,
            bank::transfer_calldata(bob.address(), ether(2)),
            100_000,
        ),
        tx1559(
            &bob,
            0,
            TxKind::Call(addr),
            U256::ZERO,
            bank::withdraw_calldata(ether(1)),
            100_000,
        ),
    ];
    let bob_before = state.balance(&bob.address());
    let out = run(&mut state, &txs);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert!(out.receipts.iter().all(|r| r.success), "{:?}", out.receipts);

    let events: Vec<BankEvent> = out
        .receipts
        .iter()
        .flat_map(|r| r.logs.iter())
        .filter_map(bank::decode_event)
        .collect();
    assert_eq!(
        events,
        vec![
            BankEvent::Deposit {
                account: alice.address(),
                amount: ether(5)
            },
            BankEvent::Transfer {
                from: alice.address(),
                to: bob.address(),
                amount: ether(2)
            },
            BankEvent::Withdrawal {
                account: bob.address(),
                amount: ether(1)
            },
        ]
    );
    assert!(
        out.receipts
            .iter()
            .flat_map(|r| r.logs.iter())
            .all(|l| l.address == addr)
    );

    assert_eq!(ledger(&state, addr, alice.address()), ether(3));
    assert_eq!(ledger(&state, addr, bob.address()), ether(1));
    assert_eq!(
        bank_call(&state, addr, bank::total_deposits_calldata()),
        ether(4)
    );
    assert_eq!(
        state.balance(&addr),
        ether(4),
        "contract holds the deposits"
    );
    // The documented storage layout holds.
    assert_eq!(
        state
            .storage(&addr, &bank::balance_slot(alice.address()))
            .expect("slot"),
        ether(3)
    );
    assert_eq!(
        state
            .storage(&addr, &bank::TOTAL_DEPOSITS_SLOT)
            .expect("slot"),
        ether(4)
    );
    // Bob got 1 ether back minus gas.
    let gas =
        U256::from(out.receipts[2].gas_used) * U256::from(out.receipts[2].effective_gas_price);
    assert_eq!(state.balance(&bob.address()), bob_before + ether(1) - gas);
    // Diff storage is sorted by (address, slot).
    let keys: Vec<_> = out
        .diff
        .storage
        .iter()
        .map(|s| (s.address, s.slot))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn genesis_installed_bank_works_at_fixed_address() {
    let mut state = funded(1);
    state.set_code(bank::BANK_ADDRESS, bank::runtime_code().expect("rt"));
    let out = run(
        &mut state,
        &[tx1559(
            &key(1),
            0,
            TxKind::Call(bank::BANK_ADDRESS),
            ether(1),
            bank::deposit_calldata(),
            100_000,
        )],
    );
    assert!(out.receipts[0].success);
    assert_eq!(
        ledger(&state, bank::BANK_ADDRESS, key(1).address()),
        ether(1)
    );
}

#[test]
fn revert_charges_gas_bumps_nonce_and_reports_reason() {
    let alice = key(1);
    let mut state = funded(1);
    let addr = deploy(&mut state);
    let before = state.balance(&alice.address());
    let out = run(
        &mut state,
        &[tx1559(
            &alice,
            1,
            TxKind::Call(addr),
            U256::ZERO,
            bank::withdraw_calldata(ether(1)),
            100_000,
        )],
    );
    assert_eq!(out.included, vec![0], "a reverting tx is included");
    let r = &out.receipts[0];
    assert!(!r.success);
    assert!(r.logs.is_empty());
    assert_eq!(
        decode_revert_reason(&r.output).as_deref(),
        Some("Bank: insufficient balance")
    );
    assert!(r.gas_used > 21_000 && r.gas_used < 100_000);
    assert_eq!(state.nonce(&alice.address()), 2);
    let fee = U256::from(r.gas_used) * U256::from(r.effective_gas_price);
    assert_eq!(state.balance(&alice.address()), before - fee);
}

#[test]
fn out_of_gas_consumes_the_whole_limit() {
    let alice = key(1);
    let mut state = funded(1);
    let addr = deploy(&mut state);
    let before = state.balance(&alice.address());
    let out = run(
        &mut state,
        &[tx1559(
            &alice,
            1,
            TxKind::Call(addr),
            ether(1),
            bank::deposit_calldata(),
            30_000,
        )],
    );
    let r = &out.receipts[0];
    assert!(!r.success);
    assert_eq!(r.gas_used, 30_000);
    assert!(
        String::from_utf8_lossy(&r.output).contains("OutOfGas"),
        "{:?}",
        r.output
    );
    assert_eq!(state.nonce(&alice.address()), 2);
    // The value did not move; only gas was paid.
    assert_eq!(
        state.balance(&alice.address()),
        before - U256::from(30_000u64 * 2 * GWEI as u64)
    );
    assert_eq!(state.balance(&addr), U256::ZERO);
}

#[test]
fn call_is_read_only_and_decodes_reverts() {
    let alice = key(1);
    let mut state = funded(1);
    let addr = deploy(&mut state);
    run(
        &mut state,
        &[tx1559(
            &alice,
            1,
            TxKind::Call(addr),
            ether(2),
            bank::deposit_calldata(),
            100_000,
        )],
    );
    let snapshot = state.clone();

    let req = CallRequest {
        from: Some(alice.address()),
        to: Some(addr),
        data: bank::withdraw_calldata(ether(1)),
        ..Default::default()
    };
    let ok = call(&state, &env(), &req).expect("call");
    assert!(ok.success);
    assert_eq!(ok.logs.len(), 1, "the Withdrawal event is reported");
    assert_eq!(state, snapshot, "call changed nothing");

    let too_much = CallRequest {
        data: bank::withdraw_calldata(ether(50)),
        ..req
    };
    let bad = call(&state, &env(), &too_much).expect("call");
    assert!(!bad.success);
    assert_eq!(
        bad.revert_reason.as_deref(),
        Some("Bank: insufficient balance")
    );
    assert_eq!(ledger(&state, addr, alice.address()), ether(2));
}

#[test]
fn estimate_gas_transfer_deposit_and_always_failing() {
    let alice = key(1);
    let mut state = funded(1);
    let addr = deploy(&mut state);
    let e = env();

    let plain = CallRequest {
        from: Some(alice.address()),
        to: Some(Address::repeat_byte(0x77)),
        value: U256::from(1),
        ..Default::default()
    };
    assert_eq!(estimate_gas(&state, &e, &plain).expect("estimate"), 21_000);

    let dep = CallRequest {
        from: Some(alice.address()),
        to: Some(addr),
        value: ether(1),
        data: bank::deposit_calldata(),
        ..Default::default()
    };
    let estimate = estimate_gas(&state, &e, &dep).expect("estimate");
    assert!(estimate > 21_000, "{estimate}");
    // The estimate is tight: it succeeds, one gas less fails.
    let exact = tx1559(
        &alice,
        1,
        TxKind::Call(addr),
        ether(1),
        bank::deposit_calldata(),
        estimate,
    );
    let lower = tx1559(
        &alice,
        1,
        TxKind::Call(addr),
        ether(1),
        bank::deposit_calldata(),
        estimate - 1,
    );
    let ok = tc_exec::execute_block(&state, &e, &[exact], tc_exec::Mode::Build).expect("run");
    assert!(ok.receipts[0].success);
    let fail = tc_exec::execute_block(&state, &e, &[lower], tc_exec::Mode::Build).expect("run");
    assert!(!fail.receipts[0].success);

    let zero = CallRequest {
        value: U256::ZERO,
        ..dep
    };
    match estimate_gas(&state, &e, &zero) {
        Err(CallError::Reverted { reason, .. }) => {
            assert_eq!(reason.as_deref(), Some("Bank: zero deposit"))
        }
        other => panic!("expected revert, got {other:?}"),
    }
}

#[test]
fn slot_set_and_reset_in_one_block_is_not_in_the_diff() {
    let alice = key(1);
    let mut state = funded(1);
    let addr = deploy(&mut state);
    let txs = [
        tx1559(
            &alice,
            1,
            TxKind::Call(addr),
            ether(1),
            bank::deposit_calldata(),
            100_000,
        ),
        tx1559(
            &alice,
            2,
            TxKind::Call(addr),
            U256::ZERO,
            bank::withdraw_calldata(ether(1)),
            100_000,
        ),
    ];
    let out = run(&mut state, &txs);
    assert!(out.receipts.iter().all(|r| r.success));
    assert!(
        out.diff.storage.is_empty(),
        "net-zero slot changes are dropped: {:?}",
        out.diff.storage
    );
    assert!(
        out.diff.accounts.iter().all(|a| a.address != addr),
        "bank balance back to 0"
    );
}

#[test]
fn call_with_value_needs_funds() {
    let mut state = funded(1);
    let addr = deploy(&mut state);
    let req = CallRequest {
        from: Some(Address::repeat_byte(0x55)),
        to: Some(addr),
        value: ether(1),
        data: bank::deposit_calldata(),
        ..Default::default()
    };
    assert!(matches!(
        call(&state, &env(), &req),
        Err(CallError::Rejected(
            tc_types::TxError::InsufficientFunds { .. }
        ))
    ));
}
