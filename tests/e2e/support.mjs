// Helpers for the browser tests: start the real portal binary, drive Debian's Chromium with
// playwright-core, save screenshots, and run axe-core.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

// Debian's chromium, with nothing that reaches the network by itself.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** A TCP port that was free a moment ago (bound to port 0, then released). */
export async function freePort(host = "127.0.0.1") {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `$PORTAL_BINARY demo` in a fresh temporary working directory on a free loopback port and
 * waits until GET /healthz answers. Returns {baseUrl, output(), stop()}; stop() sends SIGTERM and
 * waits for the exit (SIGKILL after a grace period) and removes the directory.
 */
export async function startPortal({ env = {}, args = ["demo"], timeoutMs = 30_000 } = {}) {
  const binary = process.env.PORTAL_BINARY;
  if (!binary) throw new Error("PORTAL_BINARY is not set (the path of the built customer-portal)");
  await fs.access(binary);

  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "portal-e2e-"));
  const host = "127.0.0.1";
  const port = await freePort(host);
  const baseUrl = `http://${host}:${port}`;

  const chunks = [];
  const child = spawn(binary, args, {
    cwd: workDir,
    env: { ...process.env, HOST: host, PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => chunks.push(chunk));
  child.stderr.on("data", (chunk) => chunks.push(chunk));
  const output = () => Buffer.concat(chunks).toString("utf8");

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on("error", (error) => {
      exited = { code: null, signal: null, error };
      resolve(exited);
    });
  });

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exitPromise;
      clearTimeout(timer);
    }
    await fs.rm(workDir, { recursive: true, force: true });
    return exited;
  };

  // Poll /healthz until it answers 200, the process dies, or the deadline passes.
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`customer-portal exited before it answered (${JSON.stringify(exited)}):\n${output()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) break;
      lastError = new Error(`GET /healthz answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`customer-portal did not answer /healthz within ${timeoutMs} ms (${lastError}):\n${output()}`);
    }
    await delay(50);
  }

  return { baseUrl, port, workDir, process: child, output, stop };
}

/** playwright-core's Chromium, from Debian's package; never a downloaded browser. */
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

export function screenshotDir() {
  return process.env.SCREENSHOT_DIR || path.join(repoRoot, "build", "screenshots");
}

/** Saves a full-page PNG as <SCREENSHOT_DIR>/<name>.png and returns its path. */
export async function screenshot(page, name) {
  const dir = screenshotDir();
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, name.endsWith(".png") ? name : `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

let axeSource = null;

/**
 * Runs axe-core on the page (WCAG 2.x A and AA rules and best practices) and returns the
 * violations of impact serious or critical, each as {id, impact, help, nodes: [target…]}.
 */
export async function checkA11y(page, { exclude = [] } = {}) {
  axeSource ??= await fs.readFile(path.join(repoRoot, "node_modules", "axe-core", "axe.min.js"), "utf8");
  const injected = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!injected) {
    // The portal's Content-Security-Policy (script-src 'self') blocks an inline <script>, so
    // page.addScriptTag({content}) fails and logs a CSP error. Evaluating the source through the
    // DevTools protocol is not subject to CSP and leaves the page's console clean.
    await page.evaluate(`${axeSource}\n;void 0;`);
  }
  const violations = await page.evaluate(async (excluded) => {
    const context = excluded.length ? { exclude: excluded.map((selector) => [selector]) } : document;
    const result = await window.axe.run(context, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    }));
  }, exclude);
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Human-readable list of axe violations for an assertion message. */
export function formatViolations(violations) {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join("\n    ")}`).join("\n");
}

/**
 * Collects console errors, page errors and failed requests of a page (a CSP violation is reported
 * by Chromium as a console error). Requests the browser aborted itself (a navigation, a reload, a
 * download, a fetch the page cancelled) are not failures and are left out. Returns the live array.
 */
export function collectPageErrors(page) {
  const errors = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const where = message.location()?.url;
    errors.push(`console: ${message.text()}${where ? ` [${where}]` : ""}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "";
    if (reason === "net::ERR_ABORTED") return;
    errors.push(`requestfailed: ${request.url()} ${reason}`);
  });
  return errors;
}

/** The password of every demo account, the customers' and the administrator's. */
export const DEMO_PASSWORD = "demo-password-2026";

/** The demo's administrator (customer-portal demo sets ADMIN_USERNAME=admin when none is configured). */
export const DEMO_ADMIN = { username: "admin", password: DEMO_PASSWORD };

/** Context options for a phone (390x844, touch); tests add the colour scheme they want. */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/**
 * Signs `page` in through /admin-login and waits for the dashboard (or `next`); with `settle`, also
 * until the network is idle, so leaving the landing page aborts no request (its favicon, say).
 */
export async function adminSignIn(
  page,
  baseUrl,
  { username = DEMO_ADMIN.username, password = DEMO_ADMIN.password, next = "", settle = false } = {},
) {
  await page.goto(`${baseUrl}/admin-login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith("/admin") && url.pathname !== "/admin-login"),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
  if (settle) await page.waitForLoadState("networkidle");
}

/** Fills the customer sign-in form on the current page and submits it (no waiting). */
export async function submitCustomerSignIn(page, email, password = DEMO_PASSWORD) {
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(password);
  await form.getByRole("button", { name: "Sign in" }).click();
}

/**
 * Signs `page` in through /login as customer `email` and waits for `landing` (`next` when given,
 * else /inventory; /force-change-password for an account that must change its password); with
 * `settle`, also until the network is idle.
 */
export async function customerSignIn(
  page,
  baseUrl,
  email,
  { password = DEMO_PASSWORD, next = "", landing = next || "/inventory", settle = false } = {},
) {
  await page.goto(`${baseUrl}/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await Promise.all([page.waitForURL(`${baseUrl}${landing}`), submitCustomerSignIn(page, email, password)]);
  if (settle) await page.waitForLoadState("networkidle");
}

/**
 * Runs `fn(page, errors, context)` in a fresh context of `browser` (a 1280x800 viewport, then
 * `options`); `errors` is the page's live collectPageErrors list. `setup(page)`, when given, runs
 * first (a sign-in, say); with `errorsAfterSetup` what it causes is not collected. When anything
 * throws, `portal`'s output (its last `tailLines` lines, when given) is printed as a test
 * diagnostic, so the server's side of the failure is visible too. The context is always closed.
 */
export async function withPage(t, { browser, portal, options = {}, setup, errorsAfterSetup = false, tailLines }, fn) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  let errors = errorsAfterSetup ? null : collectPageErrors(page);
  try {
    if (setup) await setup(page);
    errors ??= collectPageErrors(page);
    await fn(page, errors, context);
  } catch (error) {
    const output = portal.output();
    t.diagnostic(
      tailLines
        ? `customer-portal output (last lines):\n${output.split("\n").slice(-tailLines).join("\n")}`
        : `customer-portal output:\n${output}`,
    );
    throw error;
  } finally {
    await context.close();
  }
}

/** Asserts that axe finds no serious or critical violation on the page (`where` names it in the message). */
export async function assertAccessible(page, where) {
  const violations = await checkA11y(page);
  assert.equal(
    violations.length,
    0,
    `axe found serious/critical violations${where ? ` on ${where}` : ""}:\n${formatViolations(violations)}`,
  );
}

/** Asserts that the page is no wider than the window (`than` names it in the message). */
export async function assertFitsWidth(page, than = "the phone") {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than ${than}`);
}

/** Asserts that the body's background is dark (scheme "dark") or light (any other). */
export async function assertThemeBackground(page, scheme) {
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = background.match(/\d+/g).map(Number);
  if (scheme === "dark") assert.ok(r + g + b < 150, `the dark theme has a dark background (${background})`);
  else assert.ok(r + g + b > 600, `the light theme has a light background (${background})`);
}

const run = promisify(execFile);

/**
 * Runs SQL on the local store of a `customer-portal demo` (data/demo/portal.db under its working
 * folder) while it runs, with the sqlite3 command-line shell, or Python's sqlite3 module when the
 * shell is missing. Returns what the statement printed, trimmed.
 */
export async function storeSql(portal, sql) {
  const db = path.join(portal.workDir, "data", "demo", "portal.db");
  try {
    const { stdout } = await run("sqlite3", ["-cmd", ".timeout 10000", db, sql]);
    return stdout.trim();
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
    const script = [
      "import sqlite3, sys",
      "c = sqlite3.connect(sys.argv[1], timeout=10)",
      "rows = c.execute(sys.argv[2]).fetchall()",
      "c.commit()",
      "print('\\n'.join('|'.join(str(v) for v in r) for r in rows))",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", script, db, sql]);
    return stdout.trim();
  }
}
