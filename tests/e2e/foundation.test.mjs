// The page frame in a real browser: the sign-in page in light and dark themes and at phone width,
// the theme toggle, the show/hide password button, keyboard order, accessibility (axe), no console
// errors (a CSP violation is one), and the styled 404 page.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  PHONE,
  assertAccessible,
  assertFitsWidth,
  assertThemeBackground,
  launchBrowser,
  screenshot,
  startPortal,
  withPage as withFreshPage,
} from "./support.mjs";

let portal;
let browser;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** Runs `fn(page, errors)` in a fresh context; prints the portal's log when it fails. */
const withPage = (t, options, fn) => withFreshPage(t, { browser, portal, options }, fn);

/** The theme the page shows, as CSS resolves it (the html element's color-scheme). */
const shownTheme = (page) => page.evaluate(() => getComputedStyle(document.documentElement).colorScheme);

async function assertLoginForm(page) {
  const form = page.locator('form[action="/login"][method="post"]');
  await assert.doesNotReject(form.waitFor(), "the sign-in form posts to /login");
  assert.equal(await form.locator('input[name="email"]').count(), 1, "an email field named email");
  assert.equal(await form.locator('input[name="password"][type="password"]').count(), 1, "a password field");
  assert.equal(await form.locator('input[type="hidden"][name="csrf_token"]').count(), 1, "a hidden csrf_token");
  assert.equal(await form.locator('input[type="hidden"][name="next"]').count(), 1, "a hidden next");
  assert.equal(await form.locator('input[name="hp_email"]').count(), 1, "the hp_email honeypot");

  assert.equal(await form.locator('input[name="email"]').getAttribute("autocomplete"), "username");
  assert.equal(await form.locator('input[name="password"]').getAttribute("autocomplete"), "current-password");
  assert.equal(await form.locator('input[name="hp_email"]').inputValue(), "", "the honeypot starts empty");

  // Every visible field has a label a screen reader announces.
  await assert.doesNotReject(page.getByLabel("Email address").waitFor());
  await assert.doesNotReject(page.getByLabel("Password", { exact: true }).waitFor());

  // The honeypot is in the form but out of sight and out of the accessibility tree.
  const honeypot = form.locator('input[name="hp_email"]');
  assert.equal(await honeypot.getAttribute("tabindex"), "-1");
  assert.equal(await honeypot.getAttribute("autocomplete"), "off");
  assert.equal(
    await honeypot.evaluate((el) => el.closest('[aria-hidden="true"]') !== null),
    true,
    "the honeypot sits inside an aria-hidden wrapper",
  );
  const box = await honeypot.boundingBox();
  assert.ok(!box || box.x + box.width <= 0 || box.width <= 1, `the honeypot is off-screen (${JSON.stringify(box)})`);

  assert.equal(await page.locator('a[href="/forgot-password"]').count(), 1, "a Forgot password? link");
  assert.equal(await page.getByRole("link", { name: "Administrator sign-in" }).getAttribute("href"), "/admin-login");
}

describe("sign-in page", () => {
  test("light theme: fields, security headers, keyboard order, password toggle, axe", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      const response = await page.goto(`${portal.baseUrl}/login`);
      assert.equal(response.status(), 200);
      const csp = response.headers()["content-security-policy"] ?? "";
      assert.match(csp, /script-src 'self'/, "a Content-Security-Policy limits scripts to the site");
      assert.doesNotMatch(csp, /unsafe-inline/, "the CSP allows no inline script or style");
      assert.equal(response.headers()["x-content-type-options"], "nosniff");
      await page.waitForLoadState("networkidle");

      assert.equal(await shownTheme(page), "light");
      assert.match(await page.title(), /Sign in/);
      assert.equal(await page.locator("main#main").count(), 1, "one main landmark, the skip link's target");
      await assertLoginForm(page);

      // The theme is applied before first paint by a classic script in <head>, not a module.
      const earlyThemeScript = await page.evaluate(() => {
        const s = document.head.querySelector('script[src*="/static/js/theme-init.js"]');
        return s !== null && !s.type && !s.defer && !s.async;
      });
      assert.ok(earlyThemeScript, "theme-init.js is a blocking script in <head>");

      // Keyboard only. The email field has focus on arrival; Tab goes on to the password and the
      // Sign in button, and the honeypot never takes focus; Shift+Tab leads back to the skip link.
      const focusedName = () =>
        page.evaluate(() => {
          const el = document.activeElement;
          return el?.getAttribute("name") || el?.classList?.[0] || el?.tagName;
        });
      assert.equal(await focusedName(), "email", "the email field has focus on arrival");
      const forward = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press("Tab");
        forward.push(await focusedName());
      }
      const passwordAt = forward.indexOf("password");
      const submitAt = forward.indexOf("button"); // the submit button's first class
      assert.ok(passwordAt >= 0, `Tab reaches the password (order: ${forward.join(", ")})`);
      assert.ok(!forward.includes("hp_email"), `the honeypot is never focused (order: ${forward.join(", ")})`);
      assert.ok(submitAt > passwordAt, `then the Sign in button (order: ${forward.join(", ")})`);
      await page.locator('input[name="email"]').focus();
      const backward = [];
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press("Shift+Tab");
        backward.push(await focusedName());
      }
      assert.ok(backward.includes("skip-link"), `Shift+Tab reaches the skip link (order: ${backward.join(", ")})`);
      assert.ok(!backward.includes("hp_email"), `the honeypot is never focused (order: ${backward.join(", ")})`);

      // Focus is visible: the focused field draws an outline or a ring.
      await page.locator('input[name="email"]').focus();
      const ring = await page.locator('input[name="email"]').evaluate((el) => {
        const s = getComputedStyle(el);
        return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
      });
      assert.ok(ring, "the focused email field shows a focus indicator");

      // Show/hide password.
      const password = page.locator('input[name="password"]');
      await password.fill("correct horse");
      const toggle = page.getByRole("button", { name: "Show password" });
      await toggle.click();
      assert.equal(await password.getAttribute("type"), "text");
      await page.getByRole("button", { name: "Hide password" }).click();
      assert.equal(await password.getAttribute("type"), "password");
      await password.fill("");

      await screenshot(page, "login-light");
      await assertAccessible(page);
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });

  test("dark theme from the system preference", async (t) => {
    await withPage(t, { colorScheme: "dark" }, async (page, errors) => {
      await page.goto(`${portal.baseUrl}/login`);
      await page.waitForLoadState("networkidle");
      assert.equal(await shownTheme(page), "dark");
      await assertThemeBackground(page, "dark");
      await assertLoginForm(page);
      await screenshot(page, "login-dark");
      await assertAccessible(page);
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });

  test("the theme toggle switches and is remembered across reloads", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      await page.goto(`${portal.baseUrl}/login`);
      const toggle = page.locator("button[data-theme-toggle]");
      await toggle.waitFor({ state: "visible" });
      assert.equal(await shownTheme(page), "light");
      assert.equal(await toggle.getAttribute("aria-pressed"), "false");

      await toggle.click();
      assert.equal(await shownTheme(page), "dark");
      assert.equal(await toggle.getAttribute("aria-pressed"), "true");

      await page.reload();
      // Set before the stylesheet applies, by the blocking script in <head>.
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
      assert.equal(await shownTheme(page), "dark");
      await toggle.waitFor({ state: "visible" });
      assert.equal(await toggle.getAttribute("aria-pressed"), "true");
      await assertAccessible(page);

      await toggle.click();
      await page.reload();
      assert.equal(await shownTheme(page), "light", "choosing light again is remembered too");
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });

  test("phone width (390x844): nothing overflows sideways", async (t) => {
    await withPage(t, { ...PHONE, colorScheme: "light" }, async (page, errors) => {
      await page.goto(`${portal.baseUrl}/login`);
      await page.waitForLoadState("networkidle");
      await assertLoginForm(page);
      await assertFitsWidth(page);
      for (const name of ["email", "password"]) {
        const box = await page.locator(`input[name="${name}"]`).boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= 390, `${name} fits the screen (${JSON.stringify(box)})`);
      }
      const submit = await page.getByRole("button", { name: "Sign in" }).boundingBox();
      assert.ok(submit.height >= 40, `the Sign in button is a comfortable touch target (${submit.height}px)`);
      await screenshot(page, "login-phone");
      await assertAccessible(page);
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });
});

describe("administrator sign-in page", () => {
  test("has its own form with username and password", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      const response = await page.goto(`${portal.baseUrl}/admin-login`);
      assert.equal(response.status(), 200);
      const form = page.locator('form[action="/admin-login"][method="post"]');
      for (const name of ["username", "password", "csrf_token", "hp_email"]) {
        assert.equal(await form.locator(`input[name="${name}"]`).count(), 1, `a field named ${name}`);
      }
      assert.equal(await form.locator('input[name="password"]').getAttribute("autocomplete"), "current-password");
      await screenshot(page, "admin-login");
      await assertAccessible(page);
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });
});

describe("error pages", () => {
  test("a missing page answers a styled 404", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors) => {
      const url = `${portal.baseUrl}/no-such-page-${Date.now()}`;
      const response = await page.goto(url);
      assert.equal(response.status(), 404);
      assert.match(response.headers()["content-type"] ?? "", /text\/html/);
      await page.waitForLoadState("networkidle");

      await assert.doesNotReject(page.getByRole("heading", { level: 1, name: /not found/i }).waitFor());
      assert.match(await page.locator("main").innerText(), /404/);
      assert.equal(await page.getByRole("link", { name: /home page/i }).count(), 1, "a way back home");
      // Styled: the layout's stylesheet is applied (sticky header, themed background).
      const styled = await page.evaluate(() => ({
        header: getComputedStyle(document.querySelector(".site-header")).position,
        background: getComputedStyle(document.body).backgroundColor,
      }));
      assert.equal(styled.header, "sticky", "the stylesheet is applied to the 404 page");
      assert.notEqual(styled.background, "rgba(0, 0, 0, 0)");

      await screenshot(page, "not-found");
      await assertAccessible(page);
      // Chromium reports the page's own 404 status as a console error; anything else is a fault.
      const unexpected = errors.filter(
        (e) => !(e.startsWith("console: Failed to load resource") && e.includes(" 404 ") && e.endsWith(`[${url}]`)),
      );
      assert.deepEqual(unexpected, [], "no console errors besides the page's own 404");
    });
  });
});
