// Helpers for the browser tests: start the real portal binary, drive Debian's Chromium with
// playwright-core, save screenshots, and run axe-core.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
 * by Chromium as a console error). Returns the live array.
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
    errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ""}`);
  });
  return errors;
}

/** The demo's administrator (customer-portal demo sets ADMIN_USERNAME=admin when none is configured). */
export const DEMO_ADMIN = { username: "admin", password: "demo-password-2026" };

/** Signs `page` in through /admin-login and waits for the dashboard (or `next`). */
export async function adminSignIn(page, baseUrl, { username = DEMO_ADMIN.username, password = DEMO_ADMIN.password, next = "" } = {}) {
  await page.goto(`${baseUrl}/admin-login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith("/admin") && url.pathname !== "/admin-login"),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
}
