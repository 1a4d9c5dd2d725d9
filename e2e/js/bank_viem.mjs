// viem (unchanged, default settings) against a running trueconsensus node: deploys the Bank
// contract over HTTP, deposits, reads the balance, checks the receipt and the Deposit log, and
// watches new heads and the Deposit log over the WebSocket endpoint (eth_subscribe).
// Usage: node bank_viem.mjs http://127.0.0.1:8545 path/to/Bank.json
// Exits non-zero with a message on the first failed expectation or after 90 s.
import { readFileSync } from "node:fs";
import {
  createPublicClient, createWalletClient, decodeEventLog, defineChain, http, parseEther, webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

const [url, artifactPath] = process.argv.slice(2);
const wsUrl = url.replace(/^http/, "ws");
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };
const expect = (cond, msg) => { if (!cond) fail(msg); };
setTimeout(() => fail("timed out after 90 s"), 90_000).unref();
const within = (ms, what, promise) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
]);

const chain = defineChain({
  id: 1337,
  name: "trueconsensus devnet",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [url], webSocket: [wsUrl] } },
});
// Dev account 0 of "test test ... junk".
const account = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const publicClient = createPublicClient({ chain, transport: http(url) });
const wallet = createWalletClient({ account, chain, transport: http(url) });
const wsClient = createPublicClient({ chain, transport: webSocket(wsUrl) });

expect((await publicClient.getChainId()) === 1337, "chain id");
expect((await wsClient.getChainId()) === 1337, "chain id over WebSocket");

// New heads over eth_subscribe("newHeads").
const head = new Promise((resolve, reject) => {
  const unwatch = wsClient.watchBlocks({
    poll: false,
    onBlock: (block) => { unwatch(); resolve(block); },
    onError: reject,
  });
});

const deployHash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
const deployed = await publicClient.waitForTransactionReceipt({ hash: deployHash, timeout: 30_000 });
expect(deployed.status === "success" && deployed.contractAddress, "deploy receipt");
const bank = deployed.contractAddress;
expect((await publicClient.getCode({ address: bank })).length > 2, "no code at the deployed address");
console.log(`deployed Bank at ${bank} (tx ${deployHash})`);

// The Deposit log over eth_subscribe("logs", {address, topics}).
const pushedLog = new Promise((resolve, reject) => {
  const unwatch = wsClient.watchContractEvent({
    address: bank,
    abi: artifact.abi,
    eventName: "Deposit",
    poll: false,
    onLogs: (logs) => { unwatch(); resolve(logs[0]); },
    onError: reject,
  });
});
// Give the subscription request a moment to reach the node before the deposit is sent.
await new Promise((r) => setTimeout(r, 300));

const one = parseEther("1");
const depositHash = await wallet.writeContract({
  address: bank, abi: artifact.abi, functionName: "deposit", value: one,
});
const receipt = await publicClient.waitForTransactionReceipt({ hash: depositHash, timeout: 30_000 });
expect(receipt.status === "success", `deposit status ${receipt.status}`);
expect(receipt.to?.toLowerCase() === bank.toLowerCase(), "receipt.to");
expect(receipt.from.toLowerCase() === account.address.toLowerCase(), "receipt.from");
expect(receipt.logs.length === 1, `receipt logs: ${receipt.logs.length}`);
const ev = decodeEventLog({ abi: artifact.abi, data: receipt.logs[0].data, topics: receipt.logs[0].topics });
expect(ev.eventName === "Deposit" && ev.args.account === account.address && ev.args.amount === one,
  `Deposit event: ${JSON.stringify(ev, (_, v) => typeof v === "bigint" ? v.toString() : v)}`);

const balance = await publicClient.readContract({
  address: bank, abi: artifact.abi, functionName: "balanceOf", args: [account.address],
});
expect(balance === one, `balance ${balance}`);
const logs = await publicClient.getContractEvents({ address: bank, abi: artifact.abi, eventName: "Deposit", fromBlock: 0n });
expect(logs.length === 1 && logs[0].transactionHash === depositHash, `getLogs: ${logs.length}`);

const block = await within(30_000, "newHeads notification", head);
expect(typeof block.number === "bigint" && block.number >= 1n && /^0x[0-9a-f]{64}$/.test(block.hash), "new head");
const log = await within(30_000, "logs notification", pushedLog);
expect(log.transactionHash === depositHash && log.args.amount === one, "pushed Deposit log");

await wsClient.transport.getRpcClient().then((c) => c.close());
console.log(`ok: viem deploy, deposit, balance, receipt, Deposit log, newHeads (block ${block.number}), logs subscription`);
process.exit(0);
