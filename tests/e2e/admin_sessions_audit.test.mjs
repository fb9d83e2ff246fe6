// Sessions and the audit log in the admin area, in a real browser against `customer-portal demo`
// (SPEC §4 /admin/sessions, /admin/audit): customers signed in from several browsers listed with
// readable user agents and local times, ending one session through the confirmation (the customer
// is signed out at the next click), the automatic sign-out setting (a refused value, then a saved
// one), and the audit log filtered by action and customer, with readable details and the CSV
// export of the filtered rows. Each page is checked with axe and photographed in light, dark and
// phone width (390 px).
// Screenshots: admin-sessions, admin-sessions-dark, admin-sessions-phone, admin-sessions-idle-error,
// admin-audit, admin-audit-dark, admin-audit-phone, admin-audit-details.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  PHONE,
  adminSignIn,
  assertAccessible,
  assertFitsWidth,
  assertThemeBackground,
  customerSignIn,
  launchBrowser,
  screenshot,
  startPortal,
  withPage,
} from "./support.mjs";

const ALICE = "alice@acme.example";
const NINA = "nina@northwind.example";
const SAM = "staff@warehouse.example";
const GARY = "gary@globex.example";
const WINDOWS_CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36";
const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

let portal;
let browser;
const customers = {}; // email → signed-in browser context

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  // Three customers signed in from different browsers, as the sessions page should show them.
  for (const [email, userAgent] of [
    [ALICE, undefined],
    [NINA, IPHONE_SAFARI],
    [SAM, WINDOWS_CHROME],
  ]) {
    const context = await browser.newContext({ userAgent });
    const page = await context.newPage();
    await customerSignIn(page, portal.baseUrl, email, { settle: true });
    customers[email] = context;
  }
});

after(async () => {
  for (const context of Object.values(customers)) await context.close();
  await browser?.close();
  await portal?.stop();
});

function url(p) {
  return `${portal.baseUrl}${p}`;
}

/** A fresh signed-in admin context; prints the portal's log when `fn` fails. */
const withAdmin = (t, contextOptions, fn) =>
  withPage(
    t,
    {
      browser,
      portal,
      options: { locale: "en-US", timezoneId: "America/Chicago", colorScheme: "light", ...contextOptions },
      setup: (page) => adminSignIn(page, portal.baseUrl, { settle: true }),
      tailLines: 40,
    },
    fn,
  );

/**
 * Console errors, page errors and failed requests, less the expected: a document answering 4xx
 * as listed in `allowed` (Chromium logs it as a console error), and a favicon request cut short
 * by the next navigation (the browser's own fetch, not the page's).
 */
function unexpectedErrors(errors, allowed = []) {
  return errors.filter(
    (e) =>
      !allowed.some(
        ({ status, path }) =>
          e.startsWith("console: Failed to load resource: the server responded with a status of ") &&
          e.includes(` ${status} `) &&
          e.includes(`[${url(path)}`),
      ),
  );
}

const sessionRow = (page, email) => page.locator("tr[data-session-row]").filter({ hasText: email });

describe("sessions", () => {
  for (const [name, options] of [
    ["admin-sessions", {}],
    ["admin-sessions-dark", { colorScheme: "dark" }],
    ["admin-sessions-phone", { ...PHONE }],
  ]) {
    test(`who is signed in (${name}); axe`, async (t) => {
      await withAdmin(t, options, async (page, errors) => {
        await page.goto(url("/admin/sessions"));
        await page.getByRole("heading", { level: 1, name: "Sessions" }).waitFor();
        assert.equal(await page.locator('.site-nav__link[aria-current="page"]').innerText(), "Sessions");
        for (const email of [ALICE, NINA, SAM]) {
          assert.equal(await sessionRow(page, email).count(), 1, `${email} is listed`);
        }
        assert.match(await page.locator("[data-session-summary]").innerText(), /3 sessions of 3 customers signed in now\./);
        const nina = sessionRow(page, NINA);
        assert.match(await nina.innerText(), /Nina Northwind/);
        assert.match(await nina.innerText(), /Safari 17 on iPhone/);
        assert.equal(await nina.locator(".sessions__ua").getAttribute("title"), IPHONE_SAFARI, "the full user agent is in the title");
        assert.match(await sessionRow(page, SAM).innerText(), /Chrome 120 on Windows/);
        assert.match(await sessionRow(page, ALICE).innerText(), /127\.0\.0\.1/);
        // Times are the admin's own (Chicago here), not the server's UTC text.
        const started = nina.locator("time[data-local]").first();
        assert.doesNotMatch(await started.innerText(), /UTC/, "local-time.js rewrote the time");
        assert.match((await started.getAttribute("title")) ?? "", /Z$/, "the exact UTC instant stays in the title");
        assert.match(await nina.getByRole("link", { name: "Nina Northwind" }).getAttribute("href"), /^\/admin\/customers\/\d+$/);
        // Each End session button says whose session it ends.
        await nina.getByRole("button", { name: `End session of Nina Northwind (${NINA})` }).waitFor();

        if (options.isMobile) await assertFitsWidth(page);
        if (options.colorScheme === "dark") await assertThemeBackground(page, "dark");
        await screenshot(page, name);
        await assertAccessible(page, "the sessions page");
        assert.deepEqual(unexpectedErrors(errors), [], "no console errors, CSP violations or failed requests");
      });
    });
  }

  test("ending a session asks first, signs the customer out at the next click, and is audited", async (t) => {
    // Gary signs in for this test alone, so the other tests' customers stay signed in.
    const gary = await browser.newContext();
    const garyPage = await gary.newPage();
    await customerSignIn(garyPage, portal.baseUrl, GARY);
    await garyPage.close();
    try {
      await withAdmin(t, {}, async (page, errors) => {
        await page.goto(url("/admin/sessions"));
        const button = sessionRow(page, GARY).getByRole("button", { name: /^End session/ });

        // Dismissed: nothing happens.
        page.once("dialog", (dialog) => dialog.dismiss());
        await button.click();
        assert.equal(await sessionRow(page, GARY).count(), 1);
        assert.equal(new URL(page.url()).pathname, "/admin/sessions");

        // Accepted: the session ends, with a message.
        let question = "";
        page.once("dialog", (dialog) => {
          question = dialog.message();
          dialog.accept();
        });
        await Promise.all([page.waitForURL(url("/admin/sessions")), button.click()]);
        await page.getByRole("status").filter({ hasText: "The session has been ended." }).waitFor();
        assert.match(question, /End the session of Gary Globex \(gary@globex\.example\)\?/);
        assert.equal(await sessionRow(page, GARY).count(), 0, "Gary is no longer listed");
        assert.equal(await sessionRow(page, NINA).count(), 1, "the others stay");

        // Gary's very next request lands on the sign-in page.
        const next = await gary.newPage();
        await next.goto(url("/inventory"));
        await next.waitForURL(url("/login?next=%2Finventory"));
        await next.close();

        // The audit log has it, by whom and for whom.
        await page.goto(url(`/admin/audit?action=CUSTOMER_SESSION_KICK&customer=${encodeURIComponent(GARY)}`));
        const kick = page.locator("tr[data-audit-row]");
        assert.equal(await kick.count(), 1);
        const text = await kick.innerText();
        assert.match(text, /Session ended by an admin/);
        assert.match(text, /\badmin\b/);
        assert.match(text, /gary@globex\.example/);
        assert.match(text, /ip_address:?\s*127\.0\.0\.1/);
        assert.deepEqual(unexpectedErrors(errors), [], "no console errors, CSP violations or failed requests");
      });
    } finally {
      await gary.close();
    }
  });

  test("automatic sign-out: a refused value, then a saved one", async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      await page.goto(url("/admin/sessions"));
      const field = page.getByLabel("End sessions idle for more than (minutes)");
      await field.fill("1");
      await Promise.all([page.waitForURL(url("/admin/sessions/idle-limit")), page.getByRole("button", { name: "Save" }).click()]);
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.innerText(), /Enter a whole number of minutes from 2 to 1440/);
      assert.equal(await field.getAttribute("aria-invalid"), "true");
      assert.match((await field.getAttribute("aria-describedby")) ?? "", /idle-error/);
      assert.equal(await field.inputValue(), "1", "the refused value is shown for correction");
      await screenshot(page, "admin-sessions-idle-error");
      await assertAccessible(page, "the sessions page with a refused limit");

      // A value different from whatever is stored now, so the change is audited.
      await page.goto(url("/admin/sessions"));
      const before = await page.getByLabel("End sessions idle for more than (minutes)").inputValue();
      const wanted = before === "240" ? "241" : "240";
      await page.getByLabel("End sessions idle for more than (minutes)").fill(wanted);
      await Promise.all([page.waitForURL(url("/admin/sessions")), page.getByRole("button", { name: "Save" }).click()]);
      await page.getByRole("status").filter({ hasText: "ended automatically" }).waitFor();
      assert.match(
        await page.locator("[data-idle-state]").innerText(),
        new RegExp(`On\\s+Sessions idle for more than ${wanted} minutes are ended automatically\\.`),
      );
      assert.equal(await page.getByLabel("End sessions idle for more than (minutes)").inputValue(), wanted);
      // Nobody has been idle that long: every session is still there.
      assert.equal(await sessionRow(page, NINA).count(), 1);

      // The audit log shows the change readably.
      await page.goto(url("/admin/audit?action=SETTINGS_UPDATE"));
      const latest = page.locator("tr[data-audit-row]").first();
      assert.match(await latest.innerText(), new RegExp(`session_idle_limit_minutes:?\\s*${before || "none"} → ${wanted}`));
      assert.deepEqual(unexpectedErrors(errors, [{ status: 400, path: "/admin/sessions/idle-limit" }]), []);
    });
  });
});

describe("audit log", () => {
  for (const [name, options] of [
    ["admin-audit", {}],
    ["admin-audit-dark", { colorScheme: "dark" }],
    ["admin-audit-phone", { ...PHONE }],
  ]) {
    test(`filtering by action and customer (${name}); axe`, async (t) => {
      await withAdmin(t, options, async (page, errors) => {
        await page.goto(url("/admin/audit"));
        await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
        assert.ok((await page.locator("tr[data-audit-row]").count()) >= 4, "the sign-ins so far are listed");
        assert.equal(await page.locator('.site-nav__link[aria-current="page"]').innerText(), "Audit");

        // Customer sign-ins, from the action select.
        await page.getByLabel("Action").selectOption("CUSTOMER_LOGIN");
        await Promise.all([page.waitForURL(/action=CUSTOMER_LOGIN/), page.getByRole("button", { name: "Filter" }).click()]);
        const rows = page.locator("tr[data-audit-row]");
        assert.ok((await rows.count()) >= 3, "at least Alice's, Nina's and Sam's sign-ins");
        for (const action of await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action)))
          assert.equal(action, "CUSTOMER_LOGIN");
        const table = await page.locator(".audit__table").innerText();
        for (const email of [ALICE, NINA, SAM]) assert.ok(table.includes(email), `${email}'s sign-in is listed`);
        if (options.isMobile) await assertFitsWidth(page);
        if (options.colorScheme === "dark") await assertThemeBackground(page, "dark");
        await screenshot(page, name);
        await assertAccessible(page, "the audit log filtered by action");

        // Narrowed to one customer by email: the filters combine.
        await page.getByLabel("Customer").fill("nina@");
        await Promise.all([page.waitForURL(/customer=nina%40/), page.getByRole("button", { name: "Filter" }).click()]);
        assert.equal(await rows.count(), 1);
        assert.match(await rows.first().innerText(), /Customer signed in/);
        assert.match(await rows.first().innerText(), /nina@northwind\.example/);
        assert.equal(await page.getByLabel("Action").inputValue(), "CUSTOMER_LOGIN", "the form keeps the filters");
        assert.doesNotMatch(await rows.first().locator("time[data-local]").innerText(), /UTC/);

        // The export link carries the same filters, and answers the filtered rows as CSV.
        const href = await page.getByRole("link", { name: /Export CSV/ }).getAttribute("href");
        assert.equal(href, "/admin/audit.csv?action=CUSTOMER_LOGIN&customer=nina%40");
        const csv = await page.request.get(url(href));
        assert.equal(csv.status(), 200);
        assert.match(csv.headers()["content-type"], /^text\/csv/);
        const body = await csv.text();
        const records = body.replace(/^\uFEFF/, "").trim().split("\r\n");
        assert.equal(records.length, 2, body);
        assert.match(records[1], /,nina@northwind\.example,CUSTOMER_LOGIN,\d+,nina@northwind\.example,127\.0\.0\.1,/);

        if (options.isMobile) await assertFitsWidth(page);
        await assertAccessible(page, "the audit log filtered by action and customer");
        assert.deepEqual(unexpectedErrors(errors), [], "no console errors, CSP violations or failed requests");
      });
    });
  }

  test("details read as changes (admin-audit-details); axe", async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      // Whatever earlier tests left, at least the admins' own sign-ins carry details.
      await page.goto(url("/admin/audit"));
      const details = page.locator(".audit__details").first();
      await details.waitFor();
      assert.match(await details.innerText(), /method:?\s*local/);
      // Every field filter narrows to what it says: the actor's own link.
      const actor = page.locator("tr[data-audit-row] .audit__actor").first();
      const who = (await actor.innerText()).trim();
      await Promise.all([page.waitForURL(/[?&]actor=/), actor.click()]);
      assert.equal(await page.getByLabel("Actor").inputValue(), who);
      for (const cell of await page.locator("tr[data-audit-row] .audit__actor").allInnerTexts())
        assert.ok(cell.toLowerCase().includes(who.toLowerCase()), `${cell} matches the actor ${who}`);
      await page.goto(url("/admin/audit"));
      await screenshot(page, "admin-audit-details");
      await assertAccessible(page, "the whole audit log");
      assert.deepEqual(unexpectedErrors(errors), [], "no console errors, CSP violations or failed requests");
    });
  });

  test("a bad date is refused with a message, the filters kept", async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      const response = await page.goto(url("/admin/audit?from=2026-02-30&actor=admin"));
      assert.equal(response.status(), 400);
      await page.getByRole("alert").filter({ hasText: "The From date must be a date written as YYYY-MM-DD" }).waitFor();
      assert.equal(await page.getByLabel("Actor").inputValue(), "admin");
      assert.equal(await page.locator("tr[data-audit-row]").count(), 0);
      await assertAccessible(page, "the audit log with a refused filter");
      assert.deepEqual(unexpectedErrors(errors, [{ status: 400, path: "/admin/audit?from=2026-02-30" }]), []);
    });
  });
});
