// Browser check of the devnet dashboard in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser download).
//
//   node dashboard.mjs <page url> <screenshot.png> <node name>...
//
// Opens the page; waits until every named node's card is drawn (first render) and shows a fast
// head > 0, then until every head has grown; checks the fast-block table; waits for snail blocks
// and storage statistics to show; reads the connection pill; saves a full-page screenshot and
// prints one JSON line with the figures. Exits non-zero on any console error, page error, failed
// request or HTTP error, or when a wait times out.
import { chromium } from "playwright-core";

const [url, shot, ...nodes] = process.argv.slice(2);
if (!url || !shot || nodes.length === 0) {
  console.error("usage: node dashboard.mjs <url> <screenshot.png> <node name>...");
  process.exit(2);
}
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
  await page.screenshot({ path: shot, fullPage: true });
  result = { firstRenderMs: Math.round(firstRenderMs), firstBlockMs: Math.round(firstBlockMs), before, after, rows, snailRows, storageTables, pbftRows, primaries, forks, conn, ...nav };
} catch (e) {
  errors.push(`check failed: ${e.message ?? e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...result, errors }));
process.exit(errors.length === 0 ? 0 : 1);
