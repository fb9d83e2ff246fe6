// Self-service password reset in a real browser against `customer-portal demo` and a real SMTP
// server on loopback (tests/support/smtp_sink.py, Debian's python3-aiosmtpd): ask on
// /forgot-password, read the email from the server, open its link, choose a password, sign in with
// it; the used, expired and garbage link pages; the reset page sends no Referer. Screenshots:
// forgot-password (light, dark, phone), forgot-sent, email-forgot-password, reset-password (light,
// dark, phone), reset-done, reset-link-used, reset-link-expired, reset-link-invalid. axe on each page.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import {
  DEMO_PASSWORD,
  PHONE,
  assertAccessible,
  assertFitsWidth,
  assertThemeBackground,
  freePort,
  launchBrowser,
  screenshot,
  startPortal,
  storeSql,
  submitCustomerSignIn,
  withPage as withFreshPage,
} from "./support.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const ALICE = "alice@acme.example";
const GARY = "gary@globex.example";
const NINA = "nina@northwind.example";
const SECRET_KEY = "e2e-secret-key-for-reset-tests-0123456789abcdef";
const APP_BASE_URL = "http://portal.example.test:8080";
const BCC = "audit-copy@warehouse.example";

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** tests/support/smtp_sink.py on a free port, saving each message as NNNN.json in a fresh folder. */
async function startSink() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "portal-smtp-"));
  const port = await freePort();
  const child = spawn("/usr/bin/python3", [path.join(repoRoot, "tests/support/smtp_sink.py"), "--port", String(port), "--dir", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fs.access(path.join(dir, "ready"));
      break;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`smtp_sink.py did not start:\n${stderr}`);
    await delay(25);
  }
  const messages = async () => {
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith(".json")).sort();
    return Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(dir, n), "utf8"))));
  };
  /** Polls until a message matching `match` arrives; returns it. */
  const waitFor = async (match, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = (await messages()).find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no matching email within ${timeoutMs} ms; got ${JSON.stringify((await messages()).map((m) => m.headers.subject))}`);
      await delay(50);
    }
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  return { port, messages, waitFor, stop };
}

let sink;
let portal;
let browser;

before(async () => {
  sink = await startSink();
  portal = await startPortal({
    env: {
      SECRET_KEY,
      SMTP_SERVER: "127.0.0.1",
      SMTP_PORT: String(sink.port),
      SMTP_USE_TLS: "False",
      EMAIL_FROM: "Acme Warehouse <portal@warehouse.example>",
      EMAIL_BCC: BCC,
      APP_BASE_URL,
      MAIL_RETRY_SECONDS: "1",
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
  await sink?.stop();
});

const url = (p) => `${portal.baseUrl}${p}`;

const dbTime = (date) => date.toISOString().slice(0, 19).replace("T", " ");

/** A set-password link made directly in the store, as the portal makes them (keyed hash only). */
async function injectLink(email, { validForMs = 3_600_000, purpose = "reset" } = {}) {
  const token = crypto.randomBytes(32).toString("base64url");
  const hash = crypto.createHmac("sha256", SECRET_KEY).update(token).digest("hex");
  const id = await storeSql(portal, `SELECT customer_id FROM Customers WHERE email = '${email}'`);
  const now = new Date();
  await storeSql(
    portal,
    `INSERT INTO PasswordResetTokens (customer_id, token_hash, expiry_date, is_used, purpose, created_at) ` +
      `VALUES (${id}, '${hash}', '${dbTime(new Date(now.getTime() + validForMs))}', 0, '${purpose}', '${dbTime(now)}')`,
  );
  return `/reset-password/${token}`;
}

const withPage = (t, options, fn) => withFreshPage(t, { browser, portal, options }, fn);

/** Console errors other than Chromium's note that the document itself answered `status`. */
function unexpectedErrors(errors, status) {
  return errors.filter((e) => !(status && e.startsWith("console: Failed to load resource: the server responded with a status of " + status)));
}

describe("forgot password", () => {
  for (const [name, options] of [
    ["forgot-password", { colorScheme: "light" }],
    ["forgot-password-dark", { colorScheme: "dark" }],
    ["forgot-password-phone", { ...PHONE, colorScheme: "light" }],
  ]) {
    test(`the request page (${name}); axe`, async (t) => {
      await withPage(t, options, async (page, errors) => {
        await page.goto(url("/login"));
        await page.getByRole("link", { name: "Forgot password?" }).click();
        await page.waitForURL(url("/forgot-password"));
        await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Forgot your password?" }).waitFor());
        const form = page.locator('form[action="/forgot-password"][method="post"]');
        assert.equal(await form.locator('input[type="hidden"][name="csrf_token"]').count(), 1);
        assert.equal(await form.getByLabel("Email address").getAttribute("autocomplete"), "username");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "email", "focus starts on the email");
        if (options.isMobile) await assertFitsWidth(page);
        if (options.colorScheme === "dark") await assertThemeBackground(page, "dark");
        await screenshot(page, name);
        await assertAccessible(page, "/forgot-password");
        assert.deepEqual(errors, []);
      });
    });
  }

  test("forgot → the email's link → a new password → sign in with it", async (t) => {
    const newPassword = "Acme pallets 2027!";
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      await page.goto(url("/forgot-password"));
      await page.getByLabel("Email address").fill(ALICE);
      await page.getByRole("button", { name: "Send me a reset link" }).click();
      await page.waitForURL(url("/login"));
      await assert.doesNotReject(page.getByText("If an account exists for that address").waitFor());
      await screenshot(page, "forgot-sent");

      // The email, as the SMTP server received it.
      const mail = await sink.waitFor((m) => m.rcpt_tos[0] === ALICE && /Reset your/.test(m.headers.subject));
      assert.deepEqual(mail.rcpt_tos, [ALICE, BCC]);
      assert.equal(mail.headers.to, `Alice Acme <${ALICE}>`);
      assert.equal(mail.headers.from, "Acme Warehouse <portal@warehouse.example>");
      assert.equal(mail.content_type, "multipart/alternative");
      const link = mail.text.match(/https?:\/\/\S+\/reset-password\/[A-Za-z0-9_-]{43}/)?.[0];
      assert.ok(link, `a link in the text part:\n${mail.text}`);
      assert.ok(link.startsWith(`${APP_BASE_URL}/reset-password/`), "built from APP_BASE_URL");
      assert.ok(mail.html.includes(`href="${link}"`), "the same link in the HTML part");
      assert.ok(!mail.text.includes(DEMO_PASSWORD) && !mail.html.includes(DEMO_PASSWORD), "no password in the email");

      // A picture of the HTML part, with the inline logo shown from the portal's own file.
      const emailPage = await page.context().newPage();
      const logo = (await fs.readFile(path.join(repoRoot, "static/img/logo-email.png"))).toString("base64");
      await emailPage.setContent(mail.html.replaceAll(/src="cid:[^"]+"/g, `src="data:image/png;base64,${logo}"`));
      await screenshot(emailPage, "email-forgot-password");
      await emailPage.close();

      // The reset page: no Referer leaves it, not even for its own stylesheet.
      const referers = [];
      page.on("request", (request) => {
        if (request.url().startsWith(url("/static/"))) referers.push(request.headers()["referer"] ?? "");
      });
      const resetPath = new URL(link).pathname;
      const response = await page.goto(url(resetPath));
      assert.equal(response.status(), 200);
      assert.equal(response.headers()["referrer-policy"], "no-referrer");
      await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor());
      assert.ok(referers.length > 0 && referers.every((r) => r === ""), `no Referer on subresources: ${JSON.stringify(referers)}`);
      assert.equal(await page.evaluate(() => document.activeElement?.id), "password");

      // A mismatch is caught by the live rules and, if sent anyway, by the server; the link survives.
      await page.getByLabel("New password", { exact: true }).fill(newPassword);
      await page.getByLabel("Repeat the new password").fill(newPassword + "x");
      await page.waitForFunction(() => document.querySelector('#password-rules [data-rule="match"]')?.dataset.state === "bad");
      await page.getByRole("button", { name: "Save new password" }).click();
      await page.waitForLoadState();
      await assert.doesNotReject(page.getByText("The two passwords do not match.").waitFor());

      await page.getByLabel("New password", { exact: true }).fill(newPassword);
      await page.getByLabel("Repeat the new password").fill(newPassword);
      await page.getByRole("button", { name: "Save new password" }).click();
      await page.waitForURL(url("/login"));
      await assert.doesNotReject(page.getByText("Your password has been set. You can sign in now.").waitFor());
      await screenshot(page, "reset-done");
      await assertAccessible(page, "the sign-in page after a reset");

      // Not signed in by the reset; the new password signs in.
      await submitCustomerSignIn(page, ALICE, newPassword);
      await page.waitForURL(url("/inventory"));
      await page.waitForLoadState("networkidle");  // the grid's data, before leaving the page

      // The link is spent.
      const again = await page.goto(url(resetPath));
      assert.equal(again.status(), 410);
      await assert.doesNotReject(page.getByText("This link has already been used.").waitFor());
      await screenshot(page, "reset-link-used");
      await assertAccessible(page, "a used link");

      const notice = await sink.waitFor((m) => m.rcpt_tos[0] === ALICE && /was changed/.test(m.headers.subject));
      assert.match(notice.text, /was changed/);
      assert.deepEqual(unexpectedErrors(errors, 400).filter((e) => !e.includes(" 410 ")), []);
    });
  });
});

describe("set-password links", () => {
  for (const [name, options] of [
    ["reset-password", { colorScheme: "light" }],
    ["reset-password-dark", { colorScheme: "dark" }],
    ["reset-password-phone", { ...PHONE, colorScheme: "light" }],
  ]) {
    test(`the welcome link page and its live rules (${name}); axe`, async (t) => {
      const link = await injectLink(GARY, { validForMs: 72 * 3_600_000, purpose: "welcome" });
      await withPage(t, options, async (page, errors) => {
        const response = await page.goto(url(link));
        assert.equal(response.status(), 200);
        await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Choose your password" }).waitFor());
        assert.match(await page.locator("main").innerText(), new RegExp(`For ${GARY}`));
        const password = page.getByLabel("New password", { exact: true });
        await password.pressSequentially("short");
        await page.waitForFunction(() => document.querySelector('#password-rules [data-rule="length"]')?.dataset.state === "bad");
        if (options.isMobile) await assertFitsWidth(page);
        if (options.colorScheme === "dark") await assertThemeBackground(page, "dark");
        await screenshot(page, name);
        await assertAccessible(page, "the set-password page");
        assert.deepEqual(errors, []);
      });
    });
  }

  test("expired and garbage links say so, with a way to a new one; axe", async (t) => {
    const expired = await injectLink(NINA, { validForMs: -60_000 });
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      let response = await page.goto(url(expired));
      assert.equal(response.status(), 410);
      await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Link expired" }).waitFor());
      await assert.doesNotReject(page.getByText("This link has expired.").waitFor());
      assert.equal(await page.locator('input[name="password"]').count(), 0);
      await screenshot(page, "reset-link-expired");
      await assertAccessible(page, "an expired link");

      response = await page.goto(url("/reset-password/not-a-real-token"));
      assert.equal(response.status(), 404);
      await assert.doesNotReject(page.getByText("This link is not valid.").waitFor());
      await screenshot(page, "reset-link-invalid");
      await assertAccessible(page, "a garbage link");
      await page.getByRole("link", { name: "Get a new link" }).click();
      await page.waitForURL(url("/forgot-password"));
      assert.deepEqual(unexpectedErrors(errors, 410).filter((e) => !e.includes(" 404 ")), []);
    });
  });
});
