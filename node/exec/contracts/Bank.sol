// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Bank — the trueconsensus sample ledger (seed item 10).
/// @notice Holds ether deposits and keeps an internal ledger of balances. Users deposit ether,
///         move ledger balances between each other without moving ether, and withdraw.
/// @dev Storage layout (see README.md): slot 0 = `mapping(address => uint256) balances`,
///      slot 1 = `uint256 totalDeposits`. Invariant: totalDeposits == sum(balances) == this.balance
///      (unless ether is force-sent via selfdestruct/coinbase, which only raises this.balance).
contract Bank {
    /// Ledger balance of each account (wei).
    mapping(address => uint256) private balances;
    /// Sum of all ledger balances (wei).
    uint256 private total;

    /// `account` deposited `amount` wei.
    event Deposit(address indexed account, uint256 amount);
    /// `account` withdrew `amount` wei.
    event Withdrawal(address indexed account, uint256 amount);
    /// `amount` wei of ledger balance moved from `from` to `to`.
    event Transfer(address indexed from, address indexed to, uint256 amount);

    /// Credit msg.value to the caller's ledger balance.
    function deposit() external payable {
        require(msg.value > 0, "Bank: zero deposit");
        balances[msg.sender] += msg.value;
        total += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    /// Debit `amount` from the caller's ledger balance and send it the ether.
    function withdraw(uint256 amount) external {
        uint256 bal = balances[msg.sender];
        require(bal >= amount, "Bank: insufficient balance");
        balances[msg.sender] = bal - amount;
        total -= amount;
        emit Withdrawal(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "Bank: ether transfer failed");
    }

    /// Move `amount` of ledger balance from the caller to `to` (no ether moves).
    function transfer(address to, uint256 amount) external returns (bool) {
        require(to != address(0), "Bank: transfer to the zero address");
        uint256 bal = balances[msg.sender];
        require(bal >= amount, "Bank: insufficient balance");
        balances[msg.sender] = bal - amount;
        balances[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    /// Ledger balance of `account`.
    function balanceOf(address account) external view returns (uint256) {
        return balances[account];
    }

    /// Sum of all ledger balances.
    function totalDeposits() external view returns (uint256) {
        return total;
    }

    /// Plain ether sent without calldata is refused: use deposit().
    receive() external payable {
        revert("Bank: use deposit()");
    }
}
