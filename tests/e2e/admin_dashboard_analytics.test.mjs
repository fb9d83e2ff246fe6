// The admin dashboard (/admin) and sign-in analytics (/admin/analytics) in a real browser against
// `customer-portal demo`, with two weeks of sign-ins written into the demo's store: live tiles
// linking to each admin page, ERP / store / mail status, the logins-per-day SVG chart (14 bars,
// colours from the theme, a table as its text alternative), most active customers and recent
// logins in the reader's time zone; light, dark and phone width, axe on each, no console errors.
// Screenshots: admin-dashboard{,-dark,-phone}, admin-analytics{,-dark,-phone}, admin-dashboard-mail-failed.
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
  storeSql,
  withPage,
} from "./support.mjs";

const ALICE = "alice@acme.example";
// Not UTC, so a time shown in the reader's zone differs from the server's UTC text.
const TIME_ZONE = "America/New_York";

// Sign-ins written into the store, by days before today (UTC). Day -12 has none on purpose.
const HISTORY = {
  "alice@acme.example": [-13, -10, -7, -5, -5, -5, -3, -1, 0],
  "gary@globex.example": [-11, -6, -6, -2, 0],
  "nina@northwind.example": [-9, -4, -4],
  "staff@warehouse.example": [-8],
};

let portal;
let browser;

const utcDay = (offset) => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + offset);
  return d;
};
const sqlTime = (d) => d.toISOString().slice(0, 19).replace("T", " ");

async function seedHistory() {
  const rows = [];
  for (const [email, days] of Object.entries(HISTORY)) {
    const id = await storeSql(portal, `SELECT customer_id FROM Customers WHERE email = '${email}'`);
    assert.match(id, /^\d+$/, `the demo has ${email}`);
    days.forEach((offset, i) => {
      // Spread over the day, never later than now (today's rows at 00:00 + i minutes).
      const at = new Date(utcDay(offset).getTime() + (offset === 0 ? i * 60_000 : (8 + i) * 3_600_000));
      rows.push(`('${sqlTime(at)}', '${email}', 'CUSTOMER_LOGIN', ${id}, '${email}', '203.0.113.${10 + i}')`);
    });
  }
  await storeSql(
    portal,
    `INSERT INTO AuditLog ("timestamp", admin_username, action_type, target_customer_id, target_customer_email, ip_address) VALUES ${rows.join(", ")}`,
  );
}

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  await seedHistory();
  // A real customer visit: a sign-in (counted today), a session, and an ERP query for the status.
  const context = await browser.newContext();
  const page = await context.newPage();
  await customerSignIn(page, portal.baseUrl, ALICE);
  const api = await page.request.get(`${portal.baseUrl}/api/v1/inventory?per_page=1`);
  assert.equal(api.status(), 200, "the demo ERP answers");
  await context.close(); // the session stays in the store: one customer signed in
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** A signed-in admin; the errors are collected from after the sign-in. */
const withAdminPage = (t, contextOptions, fn) =>
  withPage(
    t,
    {
      browser,
      portal,
      options: { viewport: { width: 1280, height: 900 }, timezoneId: TIME_ZONE, ...contextOptions },
      setup: (page) => adminSignIn(page, portal.baseUrl, { settle: true }),
      errorsAfterSetup: true,
    },
    fn,
  );

/** Every <time data-local> in `scope` shows the reader's zone (local-time.js ran), not the UTC text. */
async function assertLocalTimes(scope, what) {
  const times = await scope.locator("time[data-local]").evaluateAll((els) => els.map((el) => ({ text: el.textContent, title: el.title })));
  assert.ok(times.length > 0, `${what} shows times`);
  for (const t of times) {
    assert.doesNotMatch(t.text, /UTC/, `${what}: "${t.text}" is shown in the reader's time zone`);
    assert.match(t.title, /Z$/, `${what}: the exact UTC time is in the title`);
  }
}

const VARIANTS = [
  ["", { colorScheme: "light" }],
  ["-dark", { colorScheme: "dark" }],
  ["-phone", { ...PHONE, colorScheme: "light" }],
];

describe("dashboard", () => {
  for (const [suffix, options] of VARIANTS) {
    test(`tiles, status and links (admin-dashboard${suffix}); axe`, async (t) => {
      await withAdminPage(t, options, async (page, errors) => {
        await page.goto(`${portal.baseUrl}/admin`);
        await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
        assert.equal(await page.locator('.site-nav [aria-current="page"]').innerText(), "Dashboard");

        const tiles = page.getByRole("navigation", { name: "Administration" }).getByRole("link");
        assert.equal(await tiles.count(), 4, "four tiles");
        const expected = [
          ["/admin/customers", /^Customers 4 active · 0 inactive$/],
          ["/admin/sessions", /^Sessions 1 customers signed in now$/],
          ["/admin/audit", /^Audit log \d+ entries today \(UTC\)$/],
          ["/admin/analytics", /^Analytics \d+ logins in the last 7 days$/],
        ];
        for (const [i, [href, text]] of expected.entries()) {
          assert.equal(await tiles.nth(i).getAttribute("href"), href);
          assert.match((await tiles.nth(i).textContent()).replace(/\s+/g, " ").trim(), text);
        }
        // Alice's rows from the last 7 days plus today's real sign-in; gary's 3, nina's 2.
        const logins7 = Number(await page.locator('[data-figure="logins-7d"]').innerText());
        assert.ok(logins7 >= 12 && logins7 <= 14, `logins in 7 days: ${logins7}`);

        const erp = page.locator('[data-status="erp"]');
        assert.equal(await erp.locator("[data-state]").innerText(), "Reachable");
        assert.match(await erp.locator('[data-figure="cache-hit-rate"]').innerText(), /^\d+%$/);
        await assertLocalTimes(erp, "the ERP's last query");
        assert.equal(await page.locator('[data-status="store"] [data-state]').innerText(), "Reachable");
        assert.equal(await page.locator('[data-status="mail"] [data-state]').innerText(), "No failures");
        await assertLocalTimes(page.locator(".page-header"), "the page's time");

        await assertThemeBackground(page, options.colorScheme);
        if (options.isMobile) await assertFitsWidth(page);
        await page.waitForLoadState("networkidle");
        await screenshot(page, `admin-dashboard${suffix}`);
        await assertAccessible(page, `the dashboard${suffix}`);
        assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
      });
    });
  }

  test("the Analytics tile leads to the analytics page", async (t) => {
    await withAdminPage(t, { colorScheme: "light" }, async (page, errors) => {
      await page.goto(`${portal.baseUrl}/admin`);
      await page.getByRole("link", { name: /Analytics \d+ logins/ }).click();
      await page.waitForURL(`${portal.baseUrl}/admin/analytics`);
      await page.getByRole("heading", { level: 1, name: "Analytics" }).waitFor();
      assert.deepEqual(errors, []);
    });
  });
});

describe("analytics", () => {
  for (const [suffix, options] of VARIANTS) {
    test(`figures, chart and lists (admin-analytics${suffix}); axe`, async (t) => {
      await withAdminPage(t, options, async (page, errors) => {
        await page.goto(`${portal.baseUrl}/admin/analytics`);
        await page.getByRole("heading", { level: 1, name: "Analytics" }).waitFor();
        assert.equal(await page.locator('.site-nav [aria-current="page"]').innerText(), "Analytics");
        assert.equal(await page.locator('[data-figure="active-customers"]').innerText(), "4");
        assert.equal(await page.locator('[data-figure="sessions-now"]').innerText(), "1");
        const unique = Number(await page.locator('[data-figure="unique-7d"]').innerText());
        assert.equal(unique, 3, "alice, gary and nina signed in within 7 days (staff 8 days ago)");

        // The chart: an image named by its title, 14 bars, the value of each matching the table.
        const chart = page.getByRole("img", { name: /Customer logins per day, last 14 days \(UTC\)/ });
        await chart.waitFor();
        const bars = chart.locator("rect.chart__bar");
        assert.equal(await bars.count(), 14);
        const values = await bars.evaluateAll((els) => els.map((el) => Number(el.dataset.value)));
        // Oldest first: day -13 … today. Day -12 had none; today has alice's two and gary's one.
        assert.equal(values[0], 1);
        assert.equal(values[1], 0);
        assert.equal(values[13], 3);
        const box = await chart.boundingBox();
        assert.ok(box.width > 300 && box.height >= 200, `the chart has room (${JSON.stringify(box)})`);
        // Every bar sits inside the chart, even at phone width.
        for (let i = 0; i < 14; i++) {
          const b = await bars.nth(i).boundingBox();
          assert.ok(b.x >= box.x - 0.5 && b.x + b.width <= box.x + box.width + 0.5, `bar ${i} is inside the chart`);
        }

        // Colours come from the theme's custom properties, and the bars stand out from the card.
        const colours = await page.evaluate(() => {
          const bar = document.querySelector("rect.chart__bar:not(.chart__bar--zero)");
          const label = document.querySelector("text.chart__label");
          const card = bar.closest(".card");
          return {
            bar: getComputedStyle(bar).fill,
            label: getComputedStyle(label).fill,
            card: getComputedStyle(card).backgroundColor,
          };
        });
        const want = options.colorScheme === "dark"
          ? { bar: "rgb(91, 156, 245)", label: "rgb(154, 168, 183)" }
          : { bar: "rgb(47, 111, 214)", label: "rgb(82, 96, 112)" };
        assert.equal(colours.bar, want.bar, "bars use --chart-bar");
        assert.equal(colours.label, want.label, "labels use --text-muted");
        assert.notEqual(colours.bar, colours.card);

        // The text alternative: a table of the same 14 days, behind a disclosure.
        const details = page.locator("details.analytics-chart__table");
        assert.equal(await details.getAttribute("open"), null, "closed at first");
        await details.locator("summary").click();
        const rows = page.locator("#logins-per-day-table tbody tr");
        await rows.first().waitFor({ state: "visible" });
        assert.equal(await rows.count(), 14);
        const tableValues = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector("td").textContent)));
        assert.deepEqual(tableValues, values, "the table says what the chart shows");

        // Most active: alice first, each name links to the customer's page.
        const top = page.locator("#most-active-table tbody tr");
        assert.equal(await top.count(), 4);
        const first = top.first().getByRole("link");
        assert.equal(await first.innerText(), "Alice Acme");
        assert.match(await first.getAttribute("href"), /^\/admin\/customers\/\d+$/);
        await assertLocalTimes(page.locator("#most-active-table"), "most active customers");

        const recent = page.locator("#recent-logins-table tbody tr");
        assert.equal(await recent.count(), 19, "every sign-in so far (18 written, 1 real), newest first");
        assert.match(await recent.first().innerText(), /alice@acme\.example/);
        await assertLocalTimes(page.locator("#recent-logins-table"), "recent logins");

        await assertThemeBackground(page, options.colorScheme);
        if (options.isMobile) await assertFitsWidth(page);
        await page.waitForLoadState("networkidle");
        await chart.scrollIntoViewIfNeeded();
        await screenshot(page, `admin-analytics${suffix}`);
        await assertAccessible(page, `the analytics page${suffix}`);
        assert.deepEqual(errors, [], "no console errors, CSP violations or failed requests");
      });
    });
  }
});

describe("mail failures", () => {
  test("a message given up is highlighted on the dashboard (admin-dashboard-mail-failed)", async (t) => {
    const now = sqlTime(new Date());
    await storeSql(
      portal,
      `INSERT INTO MailOutbox (recipient, subject, text_body, created_at, attempts, next_attempt_at, last_error) ` +
        `VALUES ('gone@example.com', 'Welcome', 'Hello', '${now}', 8, '${now}', '550 no such user')`,
    );
    await withAdminPage(t, { colorScheme: "light" }, async (page, errors) => {
      await page.goto(`${portal.baseUrl}/admin`);
      const mail = page.locator('[data-status="mail"]');
      assert.equal(await mail.locator("[data-state]").innerText(), "Failures");
      assert.equal(await mail.locator('[data-figure="mail-failed"]').innerText(), "1");
      assert.match(await mail.innerText(), /1 email could not be delivered after 8 attempts/);
      const border = await mail.evaluate((el) => getComputedStyle(el).borderLeftColor);
      assert.equal(border, "rgb(180, 35, 24)", "the card is framed in the danger colour");
      await mail.scrollIntoViewIfNeeded();
      await screenshot(page, "admin-dashboard-mail-failed");
      await assertAccessible(page, "the dashboard with failed mail");
      assert.deepEqual(errors, []);
    });
  });
});
