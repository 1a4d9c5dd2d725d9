// Browser check of the devnet dashboard in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser download).
//
//   node dashboard.mjs <page url> <screenshot dir> <node name>...
//
// Against `devnet up` (the page carries the admin session). Opens the page; waits until every
// named node's card is drawn (first render) and shows a fast head > 0, then until every head has
// grown; checks the fast-block table; waits for snail blocks, storage statistics and a second
// epoch on the committee timeline; screenshot dashboard.png. Contracts: deploys the bundled Bank
// with the first dev account, sends deposit (0.01 ether), waits for its receipt and Deposit
// event, calls totalDeposits; withdraws more than deposited and reads the revert reason;
// deploys Bank again from a pasted forge-shaped artifact; screenshot dashboard-contracts.png. Faults: kills the primary from
// its card, waits for the card to show it killed and for a view change; screenshot
// dashboard-killed.png; then starts it again from the card and waits for it to run; sets another
// node byzantine (withhold, then honest) and sees its card say so; partitions that node from
// the rest and heals, reading the partition bar. Prints one
// JSON line with the figures. Exits non-zero on any console error, page error, failed request
// or HTTP error, or when a wait (each has a deadline) times out.
import { chromium } from "playwright-core";

import { readFileSync } from "node:fs";
import path from "node:path";

const [url, shots, ...nodes] = process.argv.slice(2);
if (!url || !shots || nodes.length === 0) {
  console.error("usage: node dashboard.mjs <url> <screenshot dir> <node name>...");
  process.exit(2);
}
const shot = path.join(shots, "dashboard.png");
const WAIT_MS = Number(process.env.DASHBOARD_WAIT_MS || 60000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
});
const errors = [];
let result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });

  // A helper in the page: the fast head each named node's card shows (-1 when absent).
  await page.addInitScript(() => {
    window.__tcHeads = (names) =>
      names.map((n) => {
        const el = document.querySelector(`.node[data-node="${n}"] .fast-head`);
        return el ? Number(el.textContent) : -1;
      });
  });
  await page.goto(url, { waitUntil: "load" });
  // First render: performance.now() (ms since navigation start) when every node's card is on
  // the page (drawn from the feed's snapshot); then when every card shows a block.
  const firstRenderMs = await (
    await page.waitForFunction(
      (names) => (window.__tcHeads(names).every((h) => h >= 0) ? performance.now() : null),
      nodes,
      { timeout: WAIT_MS, polling: "raf" },
    )
  ).jsonValue();
  const firstBlockMs = await (
    await page.waitForFunction(
      (names) => (window.__tcHeads(names).every((h) => h > 0) ? performance.now() : null),
      nodes,
      { timeout: WAIT_MS },
    )
  ).jsonValue();
  const before = await page.evaluate((names) => window.__tcHeads(names), nodes);
  await page.waitForFunction(
    ([names, b]) => window.__tcHeads(names).every((h, i) => h > b[i]),
    [nodes, before],
    { timeout: WAIT_MS },
  );
  const after = await page.evaluate((names) => window.__tcHeads(names), nodes);
  const rows = await page.$$eval("#fast-blocks tbody tr", (r) => r.length);
  // The other panels fill in as snail blocks are mined and storage statistics arrive (every 5 s).
  await page.waitForSelector("#snail-blocks tbody tr", { timeout: WAIT_MS });
  await page.waitForSelector("#storage details.storage", { timeout: WAIT_MS });
  const snailRows = await page.$$eval("#snail-blocks tbody tr", (r) => r.length);
  const pbftRows = await page.$$eval("table.instances tbody tr", (r) => r.length);
  const primaries = await page.$$eval(".node .role.primary", (r) => r.length);
  const forks = await page.$$eval("#fast-blocks tr.conflict", (r) => r.length);
  const storageTables = await page.$$eval("#storage details.storage", (t) => t.length);
  const conn = (await page.textContent("#conn"))?.trim();
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const wasm = performance.getEntriesByType("resource").find((r) => r.name.endsWith(".wasm"));
    return {
      domContentLoadedMs: n ? Math.round(n.domContentLoadedEventEnd) : null,
      wasmFetchedMs: wasm ? Math.round(wasm.responseEnd) : null,
      wasmTransferBytes: wasm ? wasm.transferSize : null,
    };
  });
  // A committee rotation: a second epoch on the timeline.
  await page.waitForFunction(() => document.querySelectorAll("#committee .epoch").length >= 2, null, {
    timeout: 2 * WAIT_MS,
  });
  const epochs = await page.$$eval("#committee .epoch", (e) => e.length);
  await page.screenshot({ path: shot, fullPage: true });
  result = { firstRenderMs: Math.round(firstRenderMs), firstBlockMs: Math.round(firstBlockMs), before, after, rows, snailRows, storageTables, pbftRows, primaries, forks, conn, epochs, ...nav };

  // Contracts: deploy Bank with the first dev account, deposit, read totalDeposits.
  await page.waitForSelector("#account option", { state: "attached", timeout: WAIT_MS });
  await page.click("#deploy");
  const contract = await page.waitForSelector("#contracts .contract[data-name=Bank]", { timeout: WAIT_MS });
  result.bank = await contract.getAttribute("data-address");
  result.deployReceipt = (await page.textContent("#deploy-out .receipt[data-status=success]"))?.trim();
  const deposit = '#contracts .contract[data-name=Bank] .fn[data-fn="deposit"]';
  await page.fill(`${deposit} input.value`, "0.01 ether");
  await page.click(`${deposit} button.invoke`);
  await page.waitForSelector(`${deposit} .receipt[data-status=success] .event[data-event=Deposit]`, { timeout: WAIT_MS });
  result.depositEvent = (await page.textContent(`${deposit} .event[data-event=Deposit]`))?.trim();
  const total = '#contracts .contract[data-name=Bank] .fn[data-fn="totalDeposits"]';
  await page.click(`${total} button.invoke`);
  await page.waitForSelector(`${total} .values`, { timeout: WAIT_MS });
  result.totalDeposits = (await page.textContent(`${total} .values`))?.trim();
  // A failing transaction shows the contract's revert reason.
  const withdraw = '#contracts .contract[data-name=Bank] .fn[data-fn="withdraw"]';
  await page.fill(`${withdraw} input.arg`, "1000000000000000000000");
  await page.click(`${withdraw} button.invoke`);
  await page.waitForSelector(`${withdraw} .out.result.bad`, { timeout: WAIT_MS });
  result.withdrawError = (await page.textContent(`${withdraw} .out.result.bad`))?.trim();
  // A pasted artifact in forge's shape ({abi, bytecode: {object}}) deploys too.
  const bank = JSON.parse(readFileSync(new URL("../../node/exec/contracts/Bank.json", import.meta.url), "utf8"));
  await page.check("#use-paste");
  await page.fill("#artifact", JSON.stringify({ abi: bank.abi, bytecode: { object: bank.bytecode } }));
  await page.click("#deploy");
  const pasted = await page.waitForSelector("#contracts .contract[data-name=contract]", { timeout: WAIT_MS });
  result.pasted = await pasted.getAttribute("data-address");
  await page.locator("#contracts").screenshot({ path: path.join(shots, "dashboard-contracts.png") });

  // Faults: kill the primary from its card; it shows killed, and the committee changes view.
  // The list shows the newest first (at most 10): a new view change changes its first row.
  const firstViewChange = () => document.querySelector("#consensus .vc")?.textContent ?? "";
  const viewChangeBefore = await page.evaluate(firstViewChange);
  const primary = await page.$eval(".node:has(.role.primary)", (el) => el.dataset.node);
  const card = `.node[data-node="${primary}"]`;
  await page.click(`${card} button[data-action=kill]`);
  await page.waitForSelector(`${card}[data-status=killed]`, { timeout: WAIT_MS });
  await page.waitForSelector(`${card} .result.ok`, { timeout: WAIT_MS });
  result.killed = primary;
  result.killResult = (await page.textContent(`${card} .result.ok`))?.trim();
  await page.waitForFunction(
    (before) => {
      const first = document.querySelector("#consensus .vc")?.textContent ?? "";
      return first !== "" && first !== before;
    },
    viewChangeBefore,
    { timeout: WAIT_MS },
  );
  result.viewChanges = await page.$$eval("#consensus .vc", (r) => r.length);
  result.viewChange = (await page.textContent("#consensus .vc"))?.trim();
  await page.screenshot({ path: path.join(shots, "dashboard-killed.png"), fullPage: true });
  // And start it again from its card.
  await page.click(`${card} button[data-action=start]`);
  await page.waitForSelector(`${card}[data-status=running]`, { timeout: WAIT_MS });
  await page.waitForFunction(
    (c) => (document.querySelector(`${c} .result.ok`)?.textContent ?? "").startsWith("start"),
    card,
    { timeout: WAIT_MS },
  );
  result.restarted = (await page.textContent(`${card} .result.ok`))?.trim();

  // Byzantine mode on another node: its card shows the mode, then honest again.
  const other = nodes.find((n) => n !== primary);
  const ocard = `.node[data-node="${other}"]`;
  await page.selectOption(`${ocard} select.byzantine`, "withhold");
  await page.waitForSelector(`${ocard} .byz`, { timeout: WAIT_MS });
  result.byzantine = (await page.textContent(`${ocard} .byz`))?.trim();
  await page.selectOption(`${ocard} select.byzantine`, "honest");
  await page.waitForSelector(`${ocard} .byz`, { state: "detached", timeout: WAIT_MS });

  // Partition: select that node, cut it from the rest, then heal.
  await page.check(`${ocard} .pick input`);
  await page.click("#partition");
  await page.waitForFunction(
    () => (document.querySelector(".faultbar .result.ok")?.textContent ?? "").startsWith("partition"),
    null,
    { timeout: WAIT_MS },
  );
  await page.waitForFunction((n) => document.querySelector("#partition-now")?.textContent.includes(n), other, {
    timeout: WAIT_MS,
  });
  result.partition = (await page.textContent("#partition-now"))?.trim();
  await page.click("#heal");
  await page.waitForFunction(
    () =>
      (document.querySelector(".faultbar .result.ok")?.textContent ?? "").startsWith("heal") &&
      document.querySelector("#partition-now")?.textContent === "none",
    null,
    { timeout: WAIT_MS },
  );
  result.healed = true;
} catch (e) {
  errors.push(`check failed: ${e.message ?? e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...result, errors }));
process.exit(errors.length === 0 ? 0 : 1);
