// Customer accounts in the admin area, in a real browser against `customer-portal demo` (SPEC §4
// /admin/customers…): the list (sort by header, search, status), creating an account with the
// searchable ERP picker and the keyboard, refused fields, the one-time set-password link, editing,
// deactivating through the confirmation dialog (and through its page without JavaScript), and
// the read-only "view as customer" grid. Each page is checked with axe and photographed in
// light, dark and phone width (390 px).
// Screenshots: admin-customers-*, admin-customer-*, admin-view-as-*.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  PHONE,
  adminSignIn,
  assertAccessible,
  assertFitsWidth,
  launchBrowser,
  screenshot,
  startPortal,
  withPage,
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

const url = (p) => `${portal.baseUrl}${p}`;

/** A fresh signed-in admin context; prints the portal's log when `fn` fails. */
const withAdmin = (t, contextOptions, fn) =>
  withPage(
    t,
    {
      browser,
      portal,
      options: { locale: "en-US", colorScheme: "light", ...contextOptions },
      setup: (page) => adminSignIn(page, portal.baseUrl),
    },
    fn,
  );

/**
 * Console errors, CSP violations and failed requests, other than the document's own expected 4xx
 * status (a refused form). (Requests a navigation cut short are left out by collectPageErrors.)
 */
function assertNoErrors(errors, allowedStatuses = []) {
  const unexpected = errors.filter(
    (e) =>
      !allowedStatuses.some((status) =>
        e.startsWith(`console: Failed to load resource: the server responded with a status of ${status} `),
      ),
  );
  assert.deepEqual(unexpected, [], "no console errors, CSP violations or failed requests");
}

const listNames = (page) => page.locator("tbody a.table__primary").allInnerTexts();

/** Opens the new-customer form and fills the name and email fields. */
async function startNewCustomer(page, { first, last, email }) {
  await page.goto(url("/admin/customers"));
  await Promise.all([page.waitForURL(url("/admin/customers/new")), page.getByRole("link", { name: "New customer" }).click()]);
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email address").fill(email);
}

async function gridReady(page) {
  await page.waitForFunction(() => document.querySelector("[data-inventory]")?.dataset.state === "ready");
}

describe("admin: customer accounts", () => {
  test("list: sort by a header, search, filter by status", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      await page.goto(url("/admin/customers"));
      assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Customers");
      await page.getByText("Showing 1–4 of 4 customers").waitFor();
      assert.deepEqual(await listNames(page), ["Alice Acme", "Gary Globex", "Nina Northwind", "Sam Staff"]);
      assert.equal(await page.locator("th", { hasText: "Name" }).getAttribute("aria-sort"), "ascending");
      // "All" accounts are marked as seeing every customer's stock.
      assert.equal(await page.locator("tr", { hasText: "Sam Staff" }).locator(".badge", { hasText: "All customers" }).count(), 1);
      await assertAccessible(page, "the customer list");
      await screenshot(page, "admin-customers-light");

      // A header link sorts (and says so with aria-sort); a second click reverses.
      await Promise.all([page.waitForURL(/sort=email&order=asc/), page.getByRole("link", { name: "Email" }).click()]);
      assert.equal(await page.locator("th", { hasText: "Email" }).getAttribute("aria-sort"), "ascending");
      await Promise.all([page.waitForURL(/sort=email&order=desc/), page.getByRole("link", { name: "Email" }).click()]);
      assert.deepEqual(await listNames(page), ["Sam Staff", "Nina Northwind", "Gary Globex", "Alice Acme"]);

      // Search by ERP name (Enter submits), then a status change applies at once.
      await page.getByLabel("Search").fill("globex");
      await Promise.all([page.waitForURL(/q=globex/), page.getByLabel("Search").press("Enter")]);
      assert.deepEqual(await listNames(page), ["Gary Globex"]);
      await Promise.all([page.waitForURL(/status=inactive/), page.getByLabel("Status").selectOption("inactive")]);
      await page.getByRole("heading", { name: "No customers match" }).waitFor();
      await assertAccessible(page, "the empty search result");
      await Promise.all([page.waitForURL(url("/admin/customers")), page.getByRole("link", { name: "Show all customers" }).click()]);
      assert.equal((await listNames(page)).length, 4);
      assertNoErrors(errors);
    });
  });

  test("create with the searchable ERP picker, then edit", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      await startNewCustomer(page, { first: "", last: "", email: "" });
      // Nothing filled in: the server refuses with a summary and marked fields.
      await Promise.all([page.waitForURL(url("/admin/customers")), page.getByRole("button", { name: "Create account" }).click()]);
      const summary = page.locator("[data-error-summary]");
      await summary.waitFor();
      assert.ok(await summary.evaluate((el) => el === document.activeElement), "the error summary has the focus");
      assert.equal(await page.getByLabel("First name").getAttribute("aria-invalid"), "true");
      assert.match(await page.locator("#first_name-error").innerText(), /Enter a first name/);
      assert.match(await page.locator("#erp-error").innerText(), /Choose at least one ERP customer/);
      await assertAccessible(page, "the refused form");
      await screenshot(page, "admin-customer-new-errors");

      await page.getByLabel("First name").fill("Grace");
      await page.getByLabel("Last name").fill("Hopper");
      await page.getByLabel("Email address").fill("grace.hopper@example.com");

      // The picker: type to narrow, Down into the list, Space ticks; chips show the choice.
      const filter = page.getByLabel("Find an ERP customer");
      await filter.fill("acme");
      const shown = page.locator(".erp-picker__option:not([hidden])");
      assert.deepEqual(await shown.allInnerTexts(), ["Acme Foods"]);
      await filter.press("ArrowDown");
      await page.keyboard.press("Space");
      assert.ok(await page.getByRole("checkbox", { name: "Acme Foods" }).isChecked());
      // Accents do not matter; Enter ticks the only match and never submits the form.
      await filter.fill("muller");
      await filter.press("Enter");
      assert.ok(await page.getByRole("checkbox", { name: "Bäckerei Müller GmbH" }).isChecked());
      assert.equal(new URL(page.url()).pathname, "/admin/customers");
      await filter.fill("zzz");
      await page.locator("[data-erp-empty]", { hasText: "No ERP customer matches." }).waitFor();
      await filter.press("Escape");
      assert.equal(await filter.inputValue(), "");
      assert.ok((await shown.count()) >= 8, "Escape shows every name again");
      const chips = page.locator("[data-erp-chips] li");
      assert.deepEqual(await chips.allInnerTexts().then((a) => a.map((s) => s.replace("×", "").trim())), [
        "Acme Foods",
        "Bäckerei Müller GmbH",
      ]);
      // A chip's button removes that name.
      await page.getByRole("button", { name: "Remove Bäckerei Müller GmbH" }).click();
      assert.equal(await page.getByRole("checkbox", { name: "Bäckerei Müller GmbH" }).isChecked(), false);
      await page.getByRole("checkbox", { name: "Café Ñandú" }).check();
      // "All customers" sets the single names aside.
      await page.getByLabel("All customers").check();
      await page.getByText("Single names are set aside").waitFor();
      assert.ok(await page.getByRole("checkbox", { name: "Acme Foods", includeHidden: true }).isDisabled());
      assert.equal(await page.getByRole("checkbox", { name: "Acme Foods" }).count(), 0, "the names are out of the way");
      await assertAccessible(page, "the form with All chosen");
      await page.getByLabel("All customers").uncheck();
      assert.equal(await page.getByRole("checkbox", { name: "Acme Foods" }).isDisabled(), false);
      await assertAccessible(page, "the new-customer form");
      await screenshot(page, "admin-customer-new-light");

      await Promise.all([page.waitForURL(/\/admin\/customers\/\d+$/), page.getByRole("button", { name: "Create account" }).click()]);
      await page.getByText("The account has been created.").waitFor();
      assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Grace Hopper");
      // Mail is not set up in the demo: the link is shown once, with what to do with it.
      const link = page.getByLabel("Set-password link for Grace Hopper");
      assert.match(await link.inputValue(), /^http:\/\/localhost:5001\/reset-password\/[A-Za-z0-9_-]{43}$/);
      await page.getByText("It is shown only this once").waitFor();
      assert.equal(await page.getByRole("checkbox", { name: "Acme Foods" }).isChecked(), true);
      assert.equal(await page.getByRole("checkbox", { name: "Café Ñandú" }).isChecked(), true);
      await assertAccessible(page, "the new account with its link");
      await screenshot(page, "admin-customer-created-light");
      const accountUrl = page.url();

      // Edit: a new last name; the link is gone after a reload.
      await page.getByLabel("Last name").fill("Murray Hopper");
      await Promise.all([page.waitForURL(accountUrl), page.getByRole("button", { name: "Save changes" }).click()]);
      await page.getByText("The changes have been saved.").waitFor();
      assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Grace Murray Hopper");
      assert.equal(await page.locator("#link-notice-url").count(), 0, "the link is shown only once");
      assertNoErrors(errors, [400]);
    });
  });

  test("deactivate through the confirmation dialog; activate again", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      await page.goto(url("/admin/customers?q=nina"));
      await Promise.all([page.waitForURL(/\/admin\/customers\/\d+$/), page.getByRole("link", { name: "Nina Northwind" }).click()]);
      await assertAccessible(page, "an account page");
      await screenshot(page, "admin-customer-light");

      const dialog = page.getByRole("dialog", { name: "Deactivate Nina Northwind?" });
      await page.getByRole("link", { name: "Deactivate…" }).click();
      await dialog.waitFor();
      assert.ok(await dialog.getByRole("button", { name: "Cancel" }).evaluate((el) => el === document.activeElement), "Cancel has the focus");
      await assertAccessible(page, "the open confirmation dialog");
      await screenshot(page, "admin-customer-deactivate-dialog");
      // Escape cancels: nothing happens.
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(await page.locator(".customer-header .badge", { hasText: "Active" }).count(), 1);

      await page.getByRole("link", { name: "Deactivate…" }).click();
      await Promise.all([page.waitForLoadState("load"), dialog.getByRole("button", { name: "Deactivate account" }).click()]);
      await page.getByText("The account has been deactivated and its sessions ended.").waitFor();
      assert.equal(await page.locator(".customer-header .badge", { hasText: "Inactive" }).count(), 1);
      await page.getByRole("button", { name: "Activate" }).click();
      await page.getByText("The account has been activated.").waitFor();
      assert.equal(await page.locator(".customer-header .badge", { hasText: "Active" }).count(), 1);
      assertNoErrors(errors);
    });
  });

  test("without JavaScript the confirmation is a page of its own", { timeout: 240_000 }, async (t) => {
    let confirmPath = "";
    await withAdmin(t, { javaScriptEnabled: false }, async (page) => {
      await page.goto(url("/admin/customers?q=gary"));
      await Promise.all([page.waitForURL(/\/admin\/customers\/\d+$/), page.getByRole("link", { name: "Gary Globex" }).click()]);
      await Promise.all([page.waitForURL(/\/deactivate$/), page.getByRole("link", { name: "Deactivate…" }).click()]);
      confirmPath = new URL(page.url()).pathname;
      await page.getByRole("heading", { name: "Deactivate Gary Globex?" }).waitFor();
      await screenshot(page, "admin-customer-confirm-nojs");
      await Promise.all([page.waitForURL(/\/admin\/customers\/\d+$/), page.getByRole("button", { name: "Deactivate account" }).click()]);
      await page.getByText("The account has been deactivated and its sessions ended.").waitFor();
      await Promise.all([page.waitForURL(/\/admin\/customers\/\d+$/), page.getByRole("button", { name: "Activate" }).click()]);
      await page.getByText("The account has been activated.").waitFor();
    });
    // axe runs as a script, so the same page is checked in a browser with JavaScript.
    await withAdmin(t, {}, async (page, errors) => {
      await page.goto(url(confirmPath));
      await page.getByRole("heading", { name: "Deactivate Gary Globex?" }).waitFor();
      await assertAccessible(page, "the confirmation page");
      assertNoErrors(errors);
    });
  });

  test("view as customer: the customer's grid, read-only and bannered", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, {}, async (page, errors) => {
      await page.goto(url("/admin/customers?q=alice"));
      await page.getByRole("link", { name: "Alice Acme" }).click();
      await Promise.all([page.waitForURL(/\/inventory$/), page.getByRole("link", { name: "View as customer" }).click()]);
      await gridReady(page);
      await page.getByText("Viewing as Alice Acme (alice@acme.example) — read-only preview").waitFor();
      assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Acme Foods");
      await page.locator("[data-summary]", { hasText: "Showing 1–100 of 600 rows" }).waitFor();
      assert.equal(await page.locator("[data-export-menu]").count(), 0, "no Export in the preview");
      // Filters work as they do for the customer, through the admin's own API.
      const answered = page.waitForResponse((r) => /\/admin\/customers\/\d+\/api\/inventory/.test(r.url()));
      await page.getByLabel("Rows per page").selectOption("25");
      assert.equal((await answered).status(), 200);
      await gridReady(page);
      assert.equal(await page.locator("[data-rows] tr").count(), 25);
      await assertAccessible(page, "the view-as grid");
      await screenshot(page, "admin-view-as-light");
      assertNoErrors(errors);
    });
  });

  test("dark theme", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, { colorScheme: "dark" }, async (page, errors) => {
      await page.goto(url("/admin/customers"));
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), "dark");
      await assertAccessible(page, "the dark list");
      await screenshot(page, "admin-customers-dark");
      await page.getByRole("link", { name: "Sam Staff" }).click();
      await page.getByRole("heading", { name: "Sam Staff" }).waitFor();
      await assertAccessible(page, "a dark account page");
      await screenshot(page, "admin-customer-dark");
      await page.getByRole("link", { name: "Reset password…" }).click();
      await page.getByRole("dialog", { name: "Reset the password of Sam Staff?" }).waitFor();
      await assertAccessible(page, "the dark dialog");
      await screenshot(page, "admin-customer-reset-dialog-dark");
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.goto(url("/admin/customers/new"));
      await assertAccessible(page, "the dark form");
      await screenshot(page, "admin-customer-new-dark");
      await page.goto(url("/admin/customers?q=nina"));
      await page.getByRole("link", { name: "Nina Northwind" }).click();
      await page.getByRole("link", { name: "View as customer" }).click();
      await gridReady(page);
      await assertAccessible(page, "the dark view-as grid");
      await screenshot(page, "admin-view-as-dark");
      assertNoErrors(errors);
    });
  });

  test("phone width (390 px)", { timeout: 240_000 }, async (t) => {
    await withAdmin(t, PHONE, async (page, errors) => {
      await page.goto(url("/admin/customers"));
      await assertFitsWidth(page, "the window");
      await assertAccessible(page, "the list on a phone");
      await screenshot(page, "admin-customers-phone");
      await page.getByRole("link", { name: "Alice Acme" }).click();
      await page.getByRole("heading", { name: "Alice Acme" }).waitFor();
      await assertFitsWidth(page, "the window");
      await assertAccessible(page, "an account on a phone");
      await screenshot(page, "admin-customer-phone");
      await page.getByRole("link", { name: "Deactivate…" }).click();
      await page.getByRole("dialog").waitFor();
      await screenshot(page, "admin-customer-dialog-phone");
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.goto(url("/admin/customers/new"));
      await assertFitsWidth(page, "the window");
      await assertAccessible(page, "the form on a phone");
      await screenshot(page, "admin-customer-new-phone");
      await page.goto(url("/admin/customers?q=alice"));
      await page.getByRole("link", { name: "Alice Acme" }).click();
      await page.getByRole("link", { name: "View as customer" }).click();
      await gridReady(page);
      await assertAccessible(page, "the view-as grid on a phone");
      await screenshot(page, "admin-view-as-phone");
      assertNoErrors(errors);
    });
  });
});
