// The grid's Export menu in a real browser: with a filter applied through the address, the menu's
// Excel and CSV items download exactly the rows the API gives for that filter, checked by the same
// reader the integration tests use (tests/integration/xlsx_check.py, openpyxl and Python's csv).
// The menu closes on Escape and on a click outside.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { assertAccessible, customerSignIn, launchBrowser, screenshot, startPortal, withPage } from "./support.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHECKER = path.join(repoRoot, "tests", "integration", "xlsx_check.py");
const NINA = "nina@northwind.example"; // two ERP customers, 15,000 rows
const MENU = "[data-export-menu]";
const MARKUP_MISSING =
  "the Export menu markup ([data-export-menu], see static/js/export-menu.js) is not in templates/inventory.mustache yet";

let portal;
let browser;
let downloads;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  downloads = await fs.mkdtemp(path.join(os.tmpdir(), "portal-e2e-export-"));
});

after(async () => {
  await browser?.close();
  await portal?.stop();
  if (downloads) await fs.rm(downloads, { recursive: true, force: true });
});

async function gridReady(page) {
  await page.waitForFunction(() => document.querySelector("[data-inventory]")?.dataset.state === "ready");
}

/** Runs xlsx_check.py and returns its JSON summary. */
function check(args) {
  const result = spawnSync("/usr/bin/python3", [CHECKER, ...args], { encoding: "utf8", timeout: 120_000 });
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`xlsx_check.py failed (${result.status}): ${result.stdout}\n${result.stderr}`);
  }
}

/** Opens the menu, chooses `format` and saves the download; returns its path and suggested name. */
async function downloadThroughMenu(page, format) {
  const menu = page.locator(MENU);
  await menu.locator("summary").click();
  const item = menu.locator(`a[data-export-format="${format}"]`);
  await item.waitFor({ state: "visible" });
  const [download] = await Promise.all([page.waitForEvent("download"), item.click()]);
  const file = path.join(downloads, `menu-${format}-${download.suggestedFilename()}`);
  await download.saveAs(file);
  assert.equal(await download.failure(), null, "the download completed");
  return { file, name: download.suggestedFilename(), href: await item.getAttribute("href") };
}

describe("export menu", () => {
  test("Excel and CSV from the menu hold the filtered rows", async (t) => {
    const options = { locale: "en-US", acceptDownloads: true };
    await withPage(t, { browser, portal, options }, async (page, errors) => {
      // The filter and sort are applied through the address, as a bookmark or a shared link would:
      // the sign-in form's `next` sends the browser on to it.
      const next = "/inventory?status=Available&sort=on_hand&order=desc&per_page=25";
      await customerSignIn(page, portal.baseUrl, NINA, { next });
      await gridReady(page);
      if ((await page.locator(MENU).count()) === 0) {
        t.skip(MARKUP_MISSING);
        return;
      }

      // The menu's links carry the address's filters and sort, not its paging.
      const excel = await downloadThroughMenu(page, "xlsx");
      const href = new URL(excel.href, portal.baseUrl);
      assert.equal(href.pathname, "/inventory/export.xlsx");
      assert.deepEqual(Object.fromEntries(href.searchParams), { status: "Available", sort: "on_hand", order: "desc" });
      assert.match(excel.name, /^Inventory_Northwind_Traders_.*_\d{8}_\d{6}\.xlsx$/);
      assert.equal(await page.locator(MENU).evaluate((el) => el.open), false, "choosing an item closes the menu");
      assert.equal(new URL(page.url()).pathname, "/inventory", "the page stays");
      const csv = await downloadThroughMenu(page, "csv");
      assert.match(csv.name, /\.csv$/);

      // The same filter through the API, and the files through real readers.
      const api = await page.request.get(`${portal.baseUrl}/api/v1/inventory?status=Available&sort=on_hand&order=desc&per_page=1000`);
      assert.equal(api.status(), 200);
      const body = await api.json();
      const apiFile = path.join(downloads, "api.json");
      await fs.writeFile(apiFile, JSON.stringify(body));
      const summary = check(["--xlsx", excel.file, "--csv", csv.file, "--api", apiFile, "--total", String(body.total)]);
      assert.deepEqual(summary.errors, []);
      assert.equal(summary.rows, body.total);
      assert.ok(body.total > 1000 && body.total < 15_000, `the filter narrowed the rows (${body.total})`);

      // Escape and a click outside close the menu; Escape gives focus back to its button.
      const menu = page.locator(MENU);
      await menu.locator("summary").click();
      assert.equal(await menu.evaluate((el) => el.open), true);
      await screenshot(page, "inventory-export-menu");
      await assertAccessible(page);
      await page.keyboard.press("Escape");
      assert.equal(await menu.evaluate((el) => el.open), false, "Escape closes the menu");
      assert.equal(await menu.locator("summary").evaluate((el) => el === document.activeElement), true);
      await menu.locator("summary").click();
      await page.locator("[data-grid-wrap]").click({ position: { x: 5, y: 5 } });
      assert.equal(await menu.evaluate((el) => el.open), false, "a click outside closes the menu");

      // A download is a navigation the browser turns into a file: Chromium reports it as aborted,
      // which collectPageErrors leaves out.
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });
});
