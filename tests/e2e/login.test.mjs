// Sign-in, sign-out and the forced password change in a real browser against `customer-portal
// demo` (SPEC §4 /login, /logout, /force-change-password; §7 sessions): the error for a wrong
// password, landing on /inventory, the Sign out button ending the session, the live password
// rules, a refused and an accepted new password, and the old password no longer working.
// Screenshots: login-error, logout, force-change (light, dark, phone).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DEMO_PASSWORD,
  PHONE,
  assertAccessible,
  customerSignIn,
  launchBrowser,
  screenshot,
  startPortal,
  storeSql,
  submitCustomerSignIn,
  withPage as withFreshPage,
} from "./support.mjs";

const ALICE = "alice@acme.example";
const GARY = "gary@globex.example";
const NINA = "nina@northwind.example";

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

async function flagMustReset(email) {
  await storeSql(portal, `UPDATE Customers SET must_reset_password = 1 WHERE email = '${email}'`);
  assert.equal(await storeSql(portal, `SELECT must_reset_password FROM Customers WHERE email = '${email}'`), "1");
}

/** Runs `fn(page, errors, context)` in a fresh context; prints the portal's log when it fails. */
const withPage = (t, options, fn) => withFreshPage(t, { browser, portal, options }, fn);

/**
 * The one console error a page may show: Chromium logs "Failed to load resource … status of
 * <code>" when a document itself answers 4xx (here, a refused form answered 400). Anything else —
 * another status, another URL, a CSP violation, a script error, a failed request — is a fault.
 */
function unexpectedErrors(errors, allowed = []) {
  return errors.filter(
    (e) =>
      !allowed.some(
        ({ status, url }) =>
          e.startsWith("console: Failed to load resource: the server responded with a status of ") &&
          e.includes(` ${status} `) &&
          e.endsWith(`[${url}]`),
      ),
  );
}

const url = (p) => `${portal.baseUrl}${p}`;

/** The header of a signed-in page: the user chip and a Sign out button posting to /logout. */
async function assertSignedInHeader(page) {
  const header = page.locator("header.site-header");
  const signOut = header.locator('form[action="/logout"][method="post"]').getByRole("button", { name: "Sign out" });
  await assert.doesNotReject(signOut.waitFor({ state: "visible" }), "the header has a Sign out button");
  assert.equal(
    await header.locator('form[action="/logout"] input[type="hidden"][name="csrf_token"]').count(),
    1,
    "the Sign out form carries a csrf_token",
  );
  return signOut;
}

async function sessionCookie(context) {
  return (await context.cookies(portal.baseUrl)).find((c) => c.name === "portal_session");
}

/** The states of the password rules, e.g. {length: "ok", email: "ok", match: "bad"}. */
const ruleStates = (page) =>
  page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll("#password-rules [data-rule]")].map((li) => [li.dataset.rule, li.dataset.state])),
  );

/** Waits until the rule list shows `expected` (the script updates it on each input event). */
async function expectRules(page, expected, note) {
  try {
    await page.waitForFunction(
      (want) =>
        Object.entries(want).every(([rule, state]) => document.querySelector(`#password-rules [data-rule="${rule}"]`)?.dataset.state === state),
      expected,
      { timeout: 15_000 },
    );
  } catch {
    assert.deepEqual(await ruleStates(page), expected, note);
  }
  assert.deepEqual(await ruleStates(page), expected, note);
}

describe("sign-in", () => {
  test("a wrong password: an alert, the email kept, fields marked invalid; axe", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors, context) => {
      await page.goto(url("/login"));
      // Before any attempt nothing is marked invalid.
      assert.equal(await page.locator('[aria-invalid="true"]').count(), 0);
      assert.equal(await page.getByRole("alert").count(), 0);

      await submitCustomerSignIn(page, ALICE, "not-the-password-2026");
      const alert = page.getByRole("alert");
      await alert.waitFor({ state: "visible" });
      assert.equal((await alert.innerText()).trim(), "Incorrect email or password.");
      assert.equal(new URL(page.url()).pathname, "/login", "still on the sign-in page");
      assert.equal(await sessionCookie(context), undefined, "no session cookie for a refused sign-in");

      const email = page.locator('input[name="email"]');
      const password = page.locator('input[name="password"]');
      assert.equal(await email.inputValue(), ALICE, "the email stays filled in");
      assert.equal(await password.inputValue(), "", "the password is never sent back");
      const alertId = await alert.getAttribute("id");
      assert.ok(alertId, "the alert has an id the fields can point at");
      for (const [name, field] of [["email", email], ["password", password]]) {
        assert.equal(await field.getAttribute("aria-invalid"), "true", `${name} is aria-invalid`);
        assert.equal(await field.getAttribute("aria-describedby"), alertId, `${name} is described by the alert`);
      }
      // The form is ready to try again: focus is in it (the email field, which keeps its autofocus).
      assert.equal(await page.evaluate(() => document.activeElement?.id), "email", "focus is on the email field");

      await screenshot(page, "login-error");
      await assertAccessible(page, "the sign-in page with an error");
      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });

  test("the right password lands on /inventory; Sign out ends the session", async (t) => {
    await withPage(t, { colorScheme: "light" }, async (page, errors, context) => {
      await customerSignIn(page, portal.baseUrl, ALICE);
      const signOut = await assertSignedInHeader(page);
      assert.match(await page.locator("header.site-header").innerText(), /Alice/, "the header names who is signed in");

      const cookie = await sessionCookie(context);
      assert.ok(cookie, "a portal_session cookie is set");
      assert.equal(cookie.httpOnly, true, "the session cookie is HttpOnly");
      assert.equal(cookie.sameSite, "Lax", "the session cookie is SameSite=Lax");

      // Signed in, /login sends the user on instead of showing the form again.
      await page.goto(url("/login"));
      await page.waitForURL(url("/inventory"));
      // Let the inventory page finish its own requests, so leaving it aborts none of them.
      await page.waitForLoadState("networkidle");

      await signOut.click();
      await page.waitForURL(url("/login"));
      const flash = page.getByRole("status").filter({ hasText: "You have been signed out." });
      await assert.doesNotReject(flash.waitFor({ state: "visible" }), "the signed-out message shows");
      assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0, "no Sign out button any more");
      assert.equal(await page.locator("form[action='/login']").count(), 1, "the sign-in form is back");
      assert.equal(await sessionCookie(context), undefined, "the session cookie is cleared");
      await page.waitForLoadState("networkidle");
      await screenshot(page, "logout");

      // The message is shown once.
      await page.reload();
      await page.locator("form[action='/login']").waitFor();
      assert.equal(await page.getByText("You have been signed out.").count(), 0, "the message does not come back on reload");

      // The session ended on the server too: the old cookie no longer opens the inventory.
      const stale = await fetch(url("/inventory"), {
        headers: { cookie: `portal_session=${cookie.value}` },
        redirect: "manual",
      });
      await stale.arrayBuffer();
      assert.equal(stale.status, 303, "the ended session is refused");
      assert.equal(stale.headers.get("location"), "/login?next=%2Finventory");

      // Going to /inventory again lands on the sign-in page, with the way back remembered.
      await page.goto(url("/inventory"));
      await page.waitForURL(url("/login?next=%2Finventory"));
      assert.equal(await page.locator('form[action="/login"] input[name="next"]').inputValue(), "/inventory");
      // … and signing in from there goes back to it.
      await submitCustomerSignIn(page, ALICE, DEMO_PASSWORD);
      await page.waitForURL(url("/inventory"));
      await assertSignedInHeader(page);
      await page.waitForLoadState("networkidle");

      assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
    });
  });
});

describe("forced password change", () => {
  // Gary's account only serves these pictures; the whole change is done with Nina's below, so
  // neither test depends on the other.
  for (const [name, options] of [
    ["force-change", { colorScheme: "light" }],
    ["force-change-dark", { colorScheme: "dark" }],
    ["force-change-phone", { ...PHONE, colorScheme: "light" }],
  ]) {
    test(`the page and its live rules (${name}); axe`, async (t) => {
      await flagMustReset(GARY);
      await withPage(t, options, async (page, errors) => {
        await customerSignIn(page, portal.baseUrl, GARY, { landing: "/force-change-password" });
        await assertSignedInHeader(page);
        await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor());
        assert.match(await page.locator("main").innerText(), /Before you continue, please replace the password you were given\./);

        const form = page.locator('form[action="/force-change-password"][method="post"]');
        for (const field of ["csrf_token", "current_password", "password", "password_confirm"]) {
          assert.equal(await form.locator(`input[name="${field}"]`).count(), 1, `a field named ${field}`);
        }
        assert.equal(await form.locator('input[name="password"]').getAttribute("autocomplete"), "new-password");
        assert.equal(await form.locator('input[name="password_confirm"]').getAttribute("autocomplete"), "new-password");
        assert.equal(await form.locator('input[name="current_password"]').getAttribute("autocomplete"), "current-password");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "current_password", "focus starts on the current password");
        await assert.doesNotReject(page.getByLabel("Current password", { exact: true }).waitFor());
        await assert.doesNotReject(page.getByLabel("New password", { exact: true }).waitFor());
        await assert.doesNotReject(page.getByLabel("Repeat the new password", { exact: true }).waitFor());

        // The rules start idle and react as the user types.
        const password = page.getByLabel("New password", { exact: true });
        const confirm = page.getByLabel("Repeat the new password", { exact: true });
        await expectRules(page, { length: "idle", email: "idle", match: "idle" }, "nothing typed yet");
        await password.pressSequentially("short");
        await expectRules(page, { length: "bad", email: "ok", match: "idle" }, "a short password");
        await password.fill(GARY.toUpperCase());
        await expectRules(page, { length: "ok", email: "bad", match: "idle" }, "the email address, in capitals");
        await password.fill("");
        await password.pressSequentially("warehouse-2027-b");
        await confirm.pressSequentially("warehouse-2027");
        await expectRules(page, { length: "ok", email: "ok", match: "bad" }, "the second entry differs");
        // The state is in words too, for screen readers (the list describes the field).
        assert.equal(await password.getAttribute("aria-describedby"), "password-rules");
        assert.match(await page.locator('#password-rules [data-rule="match"]').innerText(), /Both entries match/);
        assert.equal(await page.locator('#password-rules [data-rule="match"] .visually-hidden').textContent(), ": not met yet");
        assert.equal(await page.locator('#password-rules [data-rule="length"] .visually-hidden').textContent(), ": met");
        // The markers differ in colour between met and not met (and in shape, drawn by a mask).
        const colours = await page.evaluate(() => ({
          ok: getComputedStyle(document.querySelector('#password-rules [data-rule="length"]')).color,
          bad: getComputedStyle(document.querySelector('#password-rules [data-rule="match"]')).color,
          bullet: getComputedStyle(document.querySelector("#password-rules")).listStyleType,
        }));
        assert.notEqual(colours.ok, colours.bad, "met and not-met rules look different");
        assert.equal(colours.bullet, "none", "the list draws its own markers");

        if (options.isMobile) {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
          for (const field of ["current_password", "password", "password_confirm"]) {
            const box = await page.locator(`#${field}`).boundingBox();
            assert.ok(box.x >= 0 && box.x + box.width <= 390, `${field} fits the screen (${JSON.stringify(box)})`);
          }
        }
        if (options.colorScheme === "dark") {
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          const [r, g, b] = background.match(/\d+/g).map(Number);
          assert.ok(r + g + b < 150, `the dark theme has a dark background (${background})`);
        }

        await screenshot(page, name);
        await assertAccessible(page, "the forced password change page");

        // Until the password is changed, every other customer page sends the user back here.
        await page.goto(url("/inventory"));
        await page.waitForURL(url("/force-change-password"));
        const api = await page.request.get(url("/api/v1/inventory"));
        assert.equal(api.status(), 403, "the inventory API refuses too (JSON, not a redirect)");
        assert.match(api.headers()["content-type"] ?? "", /json/);
        assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
      });
    });
  }

  test("a refused, then an accepted new password; the old one stops working", async (t) => {
    await flagMustReset(NINA);
    const newPassword = "Northwind stock 2027!";
    await withPage(t, { colorScheme: "light" }, async (page, errors, context) => {
      await customerSignIn(page, portal.baseUrl, NINA, { landing: "/force-change-password" });
      const firstSession = (await sessionCookie(context)).value;

      const form = page.locator('form[action="/force-change-password"]');
      const save = form.getByRole("button", { name: "Save new password" });
      const fillForm = async (current, password, confirm) => {
        await page.getByLabel("Current password", { exact: true }).fill(current);
        await page.getByLabel("New password", { exact: true }).fill(password);
        await page.getByLabel("Repeat the new password", { exact: true }).fill(confirm);
      };

      // A mismatched confirmation is refused with an alert; nothing changes.
      await fillForm(DEMO_PASSWORD, newPassword, `${newPassword}?`);
      await expectRules(page, { length: "ok", email: "ok", match: "bad" }, "the live rules saw the mismatch first");
      await save.click();
      const alert = page.getByRole("alert");
      await alert.waitFor({ state: "visible" });
      assert.equal((await alert.innerText()).trim(), "The two new passwords do not match.");
      assert.equal(page.url(), url("/force-change-password"));
      for (const field of ["current_password", "password", "password_confirm"]) {
        assert.equal(await page.locator(`#${field}`).inputValue(), "", `${field} is not sent back`);
      }
      await assertAccessible(page, "the password change page with an error");

      // A wrong current password is refused too.
      await fillForm("not-the-password-2026", newPassword, newPassword);
      await save.click();
      await page.getByRole("alert").filter({ hasText: "Your current password is not correct." }).waitFor();

      // Still flagged: the inventory is out of reach.
      assert.equal(await storeSql(portal, `SELECT must_reset_password FROM Customers WHERE email = '${NINA}'`), "1");
      await page.goto(url("/inventory"));
      await page.waitForURL(url("/force-change-password"));

      // A valid new password: on to the inventory, with a message, in a new session.
      await fillForm(DEMO_PASSWORD, newPassword, newPassword);
      await expectRules(page, { length: "ok", email: "ok", match: "ok" }, "every rule met");
      await save.click();
      await page.waitForURL(url("/inventory"));
      const changed = page.getByRole("status").filter({ hasText: "Your password has been changed." });
      await assert.doesNotReject(changed.waitFor({ state: "visible" }), "the password-changed message shows");
      const signOut = await assertSignedInHeader(page);
      const secondSession = (await sessionCookie(context)).value;
      assert.notEqual(secondSession, firstSession, "a new session after the change");
      assert.equal(await storeSql(portal, `SELECT must_reset_password FROM Customers WHERE email = '${NINA}'`), "0");
      assert.equal(
        await storeSql(portal, `SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_PASSWORD_CHANGE' AND target_customer_email = '${NINA}'`),
        "1",
        "the change is in the audit log, once",
      );
      const stale = await fetch(url("/inventory"), { headers: { cookie: `portal_session=${firstSession}` }, redirect: "manual" });
      await stale.arrayBuffer();
      assert.equal(stale.status, 303, "the session from before the change has ended");
      await page.waitForLoadState("networkidle");

      await signOut.click();
      await page.waitForURL(url("/login"));
      await page.getByRole("status").filter({ hasText: "You have been signed out." }).waitFor();

      // The old password fails …
      await submitCustomerSignIn(page, NINA, DEMO_PASSWORD);
      await page.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
      // … and the new one works, straight to the inventory this time.
      await page.locator('input[name="password"]').fill(newPassword);
      await page.locator('form[action="/login"]').getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(url("/inventory"));
      await assertSignedInHeader(page);
      await page.waitForLoadState("networkidle");

      // The two refused changes answered 400; Chromium logs each as a failed resource load.
      const unexpected = unexpectedErrors(errors, [{ status: 400, url: url("/force-change-password") }]);
      assert.deepEqual(unexpected, [], "no console errors besides the refused forms' 400s");
      assert.equal(errors.length - unexpected.length, 2, `exactly the two refusals were logged:\n${errors.join("\n")}`);
    });
  });
});
