"""web3.py (unchanged, default settings) against a running trueconsensus node.

Deploys the Bank contract over HTTP, deposits, reads the balance, checks the receipt and the
Deposit log, and subscribes to newHeads and the Deposit log over the WebSocket endpoint.

Usage: python bank_web3.py http://127.0.0.1:8545 path/to/Bank.json
Exits non-zero with a message on the first failed expectation or after 90 s.
"""

import asyncio
import json
import sys

from eth_account import Account
from web3 import AsyncHTTPProvider, AsyncWeb3, WebSocketProvider

# Dev account 0 of "test test ... junk".
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def expect(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


async def send(w3, acct, tx):
    """Sign locally, submit raw, wait (with a deadline) for the receipt."""
    signed = acct.sign_transaction(tx)
    tx_hash = await w3.eth.send_raw_transaction(signed.raw_transaction)
    return await w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


async def main(url, artifact_path):
    ws_url = "ws" + url[len("http"):]
    with open(artifact_path, encoding="utf-8") as f:
        artifact = json.load(f)
    acct = Account.from_key(KEY)
    w3 = AsyncWeb3(AsyncHTTPProvider(url))
    expect(await w3.eth.chain_id == 1337, "chain id")

    async with AsyncWeb3(WebSocketProvider(ws_url)) as ws:
        expect(await ws.eth.chain_id == 1337, "chain id over WebSocket")
        heads = await ws.eth.subscribe("newHeads")

        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        nonce = await w3.eth.get_transaction_count(acct.address, "pending")
        tx = await factory.constructor().build_transaction({"from": acct.address, "nonce": nonce})
        deployed = await send(w3, acct, tx)
        expect(deployed["status"] == 1 and deployed["contractAddress"], "deploy receipt")
        address = deployed["contractAddress"]
        expect(len(await w3.eth.get_code(address)) > 0, "no code at the deployed address")
        print(f"deployed Bank at {address}")
        bank = w3.eth.contract(address=address, abi=artifact["abi"])

        topic = w3.keccak(text="Deposit(address,uint256)")
        logs_sub = await ws.eth.subscribe("logs", {"address": address, "topics": [topic]})

        one = w3.to_wei(1, "ether")
        tx = await bank.functions.deposit().build_transaction(
            {"from": acct.address, "value": one, "nonce": nonce + 1}
        )
        receipt = await send(w3, acct, tx)
        expect(receipt["status"] == 1, "deposit failed")
        expect(receipt["to"] == address and receipt["from"] == acct.address, "receipt to/from")
        events = bank.events.Deposit().process_receipt(receipt)
        expect(
            len(events) == 1
            and events[0]["args"]["account"] == acct.address
            and events[0]["args"]["amount"] == one,
            f"Deposit event: {events}",
        )
        balance = await bank.functions.balanceOf(acct.address).call()
        expect(balance == one, f"balance {balance}")
        logs = await bank.events.Deposit().get_logs(from_block=0)
        expect(len(logs) == 1 and logs[0]["transactionHash"] == receipt["transactionHash"], f"get_logs: {logs}")

        head, pushed = None, None

        async def collect():
            nonlocal head, pushed
            async for msg in ws.socket.process_subscriptions():
                if msg["subscription"] == heads and head is None:
                    head = msg["result"]
                if msg["subscription"] == logs_sub:
                    pushed = msg["result"]
                if head is not None and pushed is not None:
                    return

        await asyncio.wait_for(collect(), timeout=30)
        expect(head["number"] >= 1 and len(head["hash"]) == 32, f"new head {head}")
        expect(pushed["transactionHash"] == receipt["transactionHash"], f"pushed log {pushed}")
        expect(bytes(pushed["topics"][0]) == bytes(topic), "pushed log topic")
        expect(await ws.eth.unsubscribe(heads) and await ws.eth.unsubscribe(logs_sub), "unsubscribe")
        print(
            f"ok: web3.py deploy, deposit, balance, receipt, Deposit log, newHeads (block {head['number']}), logs subscription"
        )


if __name__ == "__main__":
    expect(len(sys.argv) == 3, "usage: bank_web3.py URL Bank.json")
    try:
        asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), timeout=90))
    except asyncio.TimeoutError:
        expect(False, "timed out after 90 s")
