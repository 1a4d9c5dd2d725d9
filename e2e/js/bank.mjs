// Deploys the Bank contract with ethers v6 (unchanged, default settings) against a running
// trueconsensus node, then deposits, transfers, withdraws, reads balances, decodes events and
// checks a revert reason. Usage: node bank.mjs http://127.0.0.1:8545 path/to/Bank.json
// Exits non-zero with a message on the first failed expectation.
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [url, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };
const expect = (cond, msg) => { if (!cond) fail(msg); };

// ethers shares identical requests made within 250 ms (`cacheTimeout`); on a chain that commits
// faster than that (this one, or anvil's automine) the `pending` nonce read right after a receipt
// can be the cached pre-transaction value. Turn that client-side cache off; nothing else changes.
const provider = new ethers.JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
// Dev accounts 0 and 1 of "test test ... junk".
const alice = new ethers.Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", provider);
const bob = new ethers.Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", provider);

const net = await provider.getNetwork();
expect(net.chainId === 1337n, `chain id ${net.chainId}`);

const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, alice);
const bank = await factory.deploy();
const deployTx = bank.deploymentTransaction();
await bank.waitForDeployment();
const addr = await bank.getAddress();
expect((await provider.getCode(addr)).length > 2, "no code at the deployed address");
console.log(`deployed Bank at ${addr} (tx ${deployTx.hash})`);

const one = ethers.parseEther("1");
let r = await (await bank.deposit({ value: one })).wait();
expect(r.status === 1, "deposit failed");
r = await (await bank.transfer(bob.address, ethers.parseEther("0.25"))).wait();
expect(r.status === 1, "transfer failed");
const transferEvent = r.logs.map((l) => bank.interface.parseLog(l)).find((e) => e && e.name === "Transfer");
expect(transferEvent && transferEvent.args[1] === bob.address, "Transfer event not decoded");
r = await (await bank.connect(bob).withdraw(ethers.parseEther("0.1"))).wait();
expect(r.status === 1, "withdraw failed");

expect((await bank.balanceOf(alice.address)) === ethers.parseEther("0.75"), "alice balance");
expect((await bank.balanceOf(bob.address)) === ethers.parseEther("0.15"), "bob balance");
const deposits = await bank.queryFilter(bank.filters.Deposit(), 0, "latest");
expect(deposits.length === 1 && deposits[0].args[1] === one, `Deposit events: ${deposits.length}`);

// A revert: ethers reports the reason from eth_estimateGas / eth_call.
try {
  await bank.connect(bob).withdraw(ethers.parseEther("5"));
  fail("withdraw beyond balance did not revert");
} catch (e) {
  expect(String(e.shortMessage || e.message).includes("Bank: insufficient balance"), `revert reason: ${e.shortMessage || e.message}`);
}
const block = await provider.getBlock("latest");
expect(block && block.number >= 4, "latest block");
console.log(`ok: deploy, deposit, transfer, withdraw, events, revert reason (head ${block.number})`);
