// /admin/analytics and the /admin dashboard against the running binary, with sign-ins written
// into the store at known times; and the analytics SQL on SQLite, PostgreSQL and PostgreSQL
// through ODBC (the T-SQL text is checked for shape: SQL Server cannot run here).
#include "store/analytics_repository.hpp"
#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "support/admin_fixture.hpp"
#include "support/pg_cluster.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>

#include <unistd.h>

using namespace portal;
using namespace portal::testing;
using namespace std::chrono;

namespace {

store::time_point now_s() {
    return floor<seconds>(system_clock::now());
}

std::string iso_day(sys_days d) {
    const year_month_day ymd{d};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

// The part of a page from the element with this id to the end of its table.
std::string table_with_id(const std::string& html, const std::string& id) {
    const auto start = html.find("id=\"" + id + "\"");
    if (start == std::string::npos) return {};
    const auto end = html.find("</table>", start);
    return html.substr(start, end - start);
}

// The number shown in the element marked data-figure="name".
std::string figure(const std::string& html, const std::string& name) {
    const std::regex re("data-figure=\"" + name + "\">([^<]*)<");
    std::smatch m;
    return std::regex_search(html, m, re) ? m[1].str() : std::string("(missing)");
}

std::vector<std::string> all_matches(const std::string& text, const std::string& pattern) {
    const std::regex re(pattern);
    std::vector<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.push_back((*it)[1].str());
    return out;
}

class admin_analytics_test : public admin_fixture {
  protected:
    // A sign-in as the portal writes it: actor = the email, target = the account.
    void login_at(store::time_point at, std::optional<int> customer_id, const std::string& email,
                  const std::string& action = store::customer_login_action) {
        store::new_audit_entry e;
        e.timestamp = at;
        e.admin_username = email;
        e.action_type = action;
        e.target_customer_id = customer_id;
        e.target_customer_email = email;
        e.ip_address = "192.0.2.7";
        store::audit_repository(db_).append(e);
    }
};

}  // namespace

TEST_F(admin_analytics_test, refuses_signed_out_and_customer_sessions) {
    add_customer("carol@example.com");
    for (const std::string page : {"/admin", "/admin/analytics"}) {
        web_client anonymous(portal_.port());
        auto r = anonymous.get(page);
        EXPECT_EQ(r.status, 303) << page;
        EXPECT_EQ(r.header("location").rfind("/admin-login", 0), 0u) << r.header("location");
        EXPECT_EQ(r.body.find("Logins per day"), std::string::npos);

        auto customer = signed_in_customer("carol@example.com");
        auto refused = customer.get(page);
        EXPECT_EQ(refused.status, 403) << page;
        EXPECT_EQ(refused.body.find("data-figure"), std::string::npos);

        auto admin = signed_in_admin();
        auto ok = admin.get(page);
        EXPECT_EQ(ok.status, 200) << page;
        EXPECT_EQ(ok.header("cache-control"), "no-store");
    }
}

TEST_F(admin_analytics_test, counts_logins_per_utc_day_with_empty_days) {
    const int a = add_customer("a@example.com");
    const int b = add_customer("b@example.com");
    const auto now = now_s();
    const sys_days today = floor<days>(now);
    const auto day = [&](int back) { return store::time_point(today - days(back)); };

    // Just outside the window: the last second of the day before its first day.
    login_at(day(13) - seconds(1), a, "a@example.com");
    // The window's first day, from its first second.
    login_at(day(13), a, "a@example.com");
    login_at(day(13) + hours(23) + minutes(59) + seconds(59), b, "b@example.com");
    for (int i = 0; i < 3; ++i) login_at(day(5) + hours(8 + i), a, "a@example.com");
    login_at(day(2) + hours(23) + minutes(59) + seconds(59), b, "b@example.com");
    login_at(day(0), b, "b@example.com");
    // Not sign-ins: a failure and another action on a counted day.
    login_at(day(5) + hours(1), a, "a@example.com", "CUSTOMER_LOGIN_FAILED");
    login_at(day(5) + hours(2), a, "a@example.com", "CUSTOMER_LOGOUT");
    // A sign-in row that names no account still counts as a sign-in.
    login_at(day(2) + hours(1), std::nullopt, "legacy@example.com");

    std::map<std::string, long long> expected;
    expected[iso_day(today - days(13))] = 2;
    expected[iso_day(today - days(5))] = 3;
    expected[iso_day(today - days(2))] = 2;
    expected[iso_day(today)] = 1;

    auto admin = signed_in_admin();
    auto page = admin.get("/admin/analytics");
    ASSERT_EQ(page.status, 200);

    const std::regex row(
        R"re(<tr data-day="(\d{4}-\d{2}-\d{2})">.*?<td class="num">(\d+)</td></tr>)re");
    const auto table = table_with_id(page.body, "logins-per-day-table");
    std::vector<std::pair<std::string, long long>> shown;
    for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it)
        shown.emplace_back((*it)[1].str(), std::stoll((*it)[2].str()));
    ASSERT_EQ(shown.size(), 14u) << table;
    EXPECT_EQ(shown.front().first, iso_day(today - days(13)));
    EXPECT_EQ(shown.back().first, iso_day(today));
    long long zero_days = 0;
    for (const auto& [d, n] : shown) {
        const auto it = expected.find(d);
        EXPECT_EQ(n, it == expected.end() ? 0 : it->second) << d;
        if (n == 0) ++zero_days;
    }
    EXPECT_EQ(zero_days, 10);

    // The chart draws the same 14 values in the same order, zero days included.
    const auto values =
        all_matches(page.body, R"re(<rect class="chart__bar[^"]*"[^>]*data-value="(\d+)")re");
    ASSERT_EQ(values.size(), 14u);
    for (std::size_t i = 0; i < values.size(); ++i)
        EXPECT_EQ(std::stoll(values[i]), shown[i].second) << shown[i].first;
    EXPECT_NE(
        page.body.find("role=\"img\" aria-labelledby=\"logins-chart-title logins-chart-desc\""),
        std::string::npos);
    EXPECT_NE(page.body.find("8 logins in total"), std::string::npos);
    EXPECT_NE(page.body.find("UTC"), std::string::npos);
    // No inline styles anywhere (the CSP would block them).
    EXPECT_EQ(page.body.find("style="), std::string::npos);
}

TEST_F(admin_analytics_test, seven_day_figures_count_logins_and_unique_customers) {
    const int a = add_customer("a@example.com");
    const int b = add_customer("b@example.com");
    const int c = add_customer("c@example.com");
    add_customer("off@example.com", "Acme Foods", false);
    const auto now = now_s();
    login_at(now - hours(1), a, "a@example.com");
    login_at(now - days(3), a, "a@example.com");
    login_at(now - days(6) - hours(23), b, "b@example.com");
    login_at(now - days(7) - minutes(5), c, "c@example.com");  // outside the 7 days
    login_at(now - days(2), b, "b@example.com", "CUSTOMER_LOGIN_FAILED");

    auto admin = signed_in_admin();
    auto page = admin.get("/admin/analytics");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(figure(page.body, "logins-7d"), "3");
    EXPECT_EQ(figure(page.body, "unique-7d"), "2");
    EXPECT_EQ(figure(page.body, "active-customers"), "3");
    EXPECT_EQ(figure(page.body, "sessions-now"), "0");

    // A real sign-in counts at once, and so does its session.
    auto customer = signed_in_customer("c@example.com");
    page = admin.get("/admin/analytics");
    EXPECT_EQ(figure(page.body, "logins-7d"), "4");
    EXPECT_EQ(figure(page.body, "unique-7d"), "3");
    EXPECT_EQ(figure(page.body, "sessions-now"), "1");
}

TEST_F(admin_analytics_test, most_active_customers_in_order_with_links) {
    const int a = add_customer("a@example.com", "Acme Foods", true, "Ann", "Able");
    const int b = add_customer("b@example.com", "Acme Foods", true, "Ben", "Baker");
    const int c = add_customer("c@example.com", "Acme Foods", true, "Cat", "Cole");
    const int d = add_customer("d@example.com", "Acme Foods", true, "<b>Dan</b>", "O'Dell & Co");
    const int old = add_customer("old@example.com", "Acme Foods", true, "Olga", "Old");
    const auto now = now_s();
    for (int i = 0; i < 5; ++i) login_at(now - days(20) + hours(i), a, "a@example.com");
    // b and c tie on three; c signed in more recently, so c comes first.
    for (int i = 0; i < 3; ++i) login_at(now - days(10) + hours(i), b, "b@example.com");
    for (int i = 0; i < 3; ++i) login_at(now - days(9) + hours(i), c, "c@example.com");
    login_at(now - days(1), d, "d@example.com");
    // Many sign-ins, but all older than 30 days.
    for (int i = 0; i < 9; ++i) login_at(now - days(31) - hours(i), old, "old@example.com");
    // Failures do not make anyone active.
    for (int i = 0; i < 9; ++i)
        login_at(now - days(2), d, "d@example.com", "CUSTOMER_LOGIN_FAILED");

    auto admin = signed_in_admin();
    auto page = admin.get("/admin/analytics");
    ASSERT_EQ(page.status, 200);
    const auto table = table_with_id(page.body, "most-active-table");
    const auto ids = all_matches(table, R"re(<tr data-customer-id="(\d+)">)re");
    const auto logins = all_matches(table, R"re(<span data-logins>(\d+)</span>)re");
    const std::vector<std::string> want_ids{std::to_string(a), std::to_string(c), std::to_string(b),
                                            std::to_string(d)};
    EXPECT_EQ(ids, want_ids);
    EXPECT_EQ(logins, (std::vector<std::string>{"5", "3", "3", "1"}));
    EXPECT_NE(table.find("href=\"/admin/customers/" + std::to_string(a) + "\">Ann Able</a>"),
              std::string::npos);
    // Names are escaped.
    EXPECT_EQ(page.body.find("<b>Dan</b>"), std::string::npos);
    EXPECT_NE(table.find("&lt;b&gt;Dan&lt;/b&gt; O&apos;Dell &amp; Co"), std::string::npos)
        << table;
}

TEST_F(admin_analytics_test, at_most_ten_most_active_and_twenty_recent_logins_newest_first) {
    const auto now = now_s();
    std::vector<int> ids;
    for (int i = 0; i < 12; ++i) {
        const std::string email = "user" + std::to_string(i) + "@example.com";
        ids.push_back(add_customer(email));
        // user0 once, user1 twice, …: user11 is the most active.
        for (int k = 0; k <= i; ++k) login_at(now - hours(i * 12 + k + 1), ids.back(), email);
    }
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/analytics");
    ASSERT_EQ(page.status, 200);

    const auto top = all_matches(table_with_id(page.body, "most-active-table"),
                                 R"re(<tr data-customer-id="(\d+)">)re");
    ASSERT_EQ(top.size(), 10u);
    EXPECT_EQ(top.front(), std::to_string(ids[11]));
    EXPECT_EQ(top.back(), std::to_string(ids[2]));

    const auto recent = table_with_id(page.body, "recent-logins-table");
    const auto times = all_matches(recent, R"re(<time data-local datetime="([^"]+)")re");
    ASSERT_EQ(times.size(), 20u);
    for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i - 1], times[i]);
    // The newest is user0's sign-in an hour ago.
    EXPECT_NE(recent.find("user0@example.com"), std::string::npos);
    EXPECT_NE(recent.find("192.0.2.7"), std::string::npos);
}

TEST_F(admin_analytics_test, empty_store_shows_empty_states_and_a_zero_chart) {
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/analytics");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(figure(page.body, "logins-7d"), "0");
    EXPECT_EQ(figure(page.body, "unique-7d"), "0");
    EXPECT_NE(page.body.find("No logins in the last 30 days"), std::string::npos);
    EXPECT_NE(page.body.find("No logins yet"), std::string::npos);
    EXPECT_EQ(all_matches(page.body, R"re(data-value="(\d+)")re"),
              std::vector<std::string>(14, "0"));
}

TEST_F(admin_analytics_test, dashboard_shows_live_counts_and_links) {
    add_customer("a@example.com");
    add_customer("b@example.com");
    add_customer("off1@example.com", "Acme Foods", false);
    const int off2 = add_customer("off2@example.com", "Acme Foods", false);
    const auto now = now_s();
    login_at(now - days(2), off2, "off2@example.com");
    login_at(now - days(8), off2, "off2@example.com");  // older than 7 days

    auto admin = signed_in_admin();
    auto customer = signed_in_customer("a@example.com");
    auto page = admin.get("/admin");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(figure(page.body, "customers-active"), "2");
    EXPECT_EQ(figure(page.body, "customers-inactive"), "2");
    EXPECT_EQ(figure(page.body, "sessions-now"), "1");
    EXPECT_EQ(figure(page.body, "logins-7d"), "2");  // the row above and a's real sign-in

    // Audit entries today (UTC): whatever the store holds for today, counted independently.
    const sys_days today = floor<days>(now_s());
    store::audit_filter f;
    f.from = store::time_point(today);
    f.to = store::time_point(today + days(1));
    const auto today_count = store::audit_repository(db_).count(f);
    EXPECT_GE(today_count, 2);  // at least the admin's and a's sign-ins
    EXPECT_EQ(figure(page.body, "audit-today"), std::to_string(today_count));

    for (const char* link : {"href=\"/admin/customers\"", "href=\"/admin/sessions\"",
                             "href=\"/admin/audit\"", "href=\"/admin/analytics\""})
        EXPECT_NE(page.body.find(std::string("class=\"stat stat--link\" ") + link),
                  std::string::npos)
            << link;

    // The counts are live: a change in the store shows on the next request.
    store::customers_repository(db_).set_active(off2, true);
    page = admin.get("/admin");
    EXPECT_EQ(figure(page.body, "customers-active"), "3");
    EXPECT_EQ(figure(page.body, "customers-inactive"), "1");

    // Store and ERP status.
    EXPECT_NE(page.body.find("data-status=\"store\""), std::string::npos);
    EXPECT_NE(page.body.find("SQLite"), std::string::npos);
    EXPECT_NE(page.body.find("data-status=\"erp\""), std::string::npos);
    EXPECT_NE(page.body.find("Not queried yet"), std::string::npos);
    EXPECT_EQ(figure(page.body, "cache-hit-rate"), "—");
    EXPECT_EQ(page.body.find("style="), std::string::npos);
}

TEST_F(admin_analytics_test, dashboard_reports_an_unreachable_erp) {
    // This portal has no ERP configured: a customer's inventory request fails, and the dashboard
    // says so with the time of that query.
    add_customer("a@example.com");
    auto customer = signed_in_customer("a@example.com");
    const auto api = customer.get("/api/v1/inventory");
    ASSERT_NE(api.status, 200) << api.body;

    auto page = signed_in_admin().get("/admin");
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.body.find(">Unreachable</span>"), std::string::npos);
    const auto erp = page.body.substr(page.body.find("data-status=\"erp\""));
    EXPECT_NE(erp.substr(0, erp.find("</section>")).find("<time data-local datetime=\""),
              std::string::npos);
    EXPECT_EQ(figure(page.body, "cache-hit-rate"), "0%");
}

TEST_F(admin_analytics_test, dashboard_highlights_failed_mail) {
    store::outbox_repository outbox(db_);
    const auto now = now_s();
    store::outbound_mail mail{"x@example.com", "", "Welcome", "Hello", ""};

    auto admin = signed_in_admin();
    auto page = admin.get("/admin");
    EXPECT_EQ(figure(page.body, "mail-pending"), "0");
    EXPECT_EQ(figure(page.body, "mail-failed"), "0");
    EXPECT_EQ(page.body.find("dashboard-status--alert"), std::string::npos);
    EXPECT_NE(page.body.find(">No failures</span>"), std::string::npos);

    // One waiting for its next try (not due for a minute, so no sender takes it meanwhile), one
    // given up after the last attempt.
    const auto waiting = outbox.enqueue(mail, now);
    outbox.mark_failed(waiting, "connection refused", now);
    const auto dead = outbox.enqueue(mail, now);
    for (int i = 0; i < store::outbox_max_attempts; ++i)
        outbox.mark_failed(dead, "550 no such user", now);
    ASSERT_EQ(outbox.count_failed(), 1);

    page = admin.get("/admin");
    EXPECT_EQ(figure(page.body, "mail-pending"), "1");
    EXPECT_EQ(figure(page.body, "mail-failed"), "1");
    EXPECT_NE(page.body.find("dashboard-status--alert"), std::string::npos);
    EXPECT_NE(page.body.find("class=\"dashboard-status__failed\" data-figure=\"mail-failed\""),
              std::string::npos);
    EXPECT_NE(page.body.find("1 email could not be delivered"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The SQL on every back end that runs here.

namespace {

const std::string pg_password = "analytics 'pw'";

test::pg_cluster& cluster() {
    static std::unique_ptr<test::pg_cluster> instance = [] {
        auto c = std::make_unique<test::pg_cluster>();
        c->execute("CREATE ROLE analytics LOGIN PASSWORD 'analytics ''pw'''");
        return c;
    }();
    return *instance;
}

class analytics_store_test : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        const std::string name =
            "analytics_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
        app::database_settings s;
        if (GetParam() == "sqlite") {
            dir_ = std::filesystem::temp_directory_path() / name;
            std::filesystem::create_directories(dir_);
            s.driver = "sqlite";
            s.name = (dir_ / "portal.db").string();
        } else {
            cluster().execute("CREATE DATABASE " + name + " OWNER analytics");
            s.driver = GetParam() == "postgresql" ? "postgresql" : "PostgreSQL Unicode";
            s.server = cluster().host();
            s.port = cluster().port();
            s.name = name;
            s.username = "analytics";
            s.password = pg_password;
        }
        s.timeout_seconds = 10;
        db_ = std::make_unique<store::database>(s, 2);
        store::migrate(*db_);
    }
    void TearDown() override {
        db_.reset();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    int customer(const std::string& email, const std::string& first) {
        store::new_customer c{first, "Test", email, "x", "Acme Foods", true, false};
        return store::customers_repository(*db_).create(c, base_).customer_id;
    }
    void login(store::time_point at, std::optional<int> id, const std::string& email,
               const std::string& action = store::customer_login_action) {
        store::new_audit_entry e;
        e.timestamp = at;
        e.admin_username = email;
        e.action_type = action;
        e.target_customer_id = id;
        e.target_customer_email = email;
        store::audit_repository(*db_).append(e);
    }

    // A fixed clock: 2026-03-10 12:00 UTC.
    const sys_days day0_ = sys_days{year{2026} / 3 / 10};
    const store::time_point base_ = store::time_point(day0_) + hours(12);
    std::filesystem::path dir_;
    std::unique_ptr<store::database> db_;
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(backends, analytics_store_test,
                         ::testing::Values("sqlite", "postgresql", "odbc"), backend_name);

TEST_P(analytics_store_test, figures_match_on_every_back_end) {
    const int a = customer("a@example.com", "Ann");
    const int b = customer("b@example.com", "Ben");
    const int c = customer("c@example.com", "Cat");
    const auto d = [&](int back) { return store::time_point(day0_ - days(back)); };
    login(d(13) - seconds(1), a, "a@example.com");  // just before the window
    login(d(13), a, "a@example.com");               // its first second
    login(d(13) + hours(23) + minutes(59) + seconds(59), b, "b@example.com");
    login(d(5) + hours(3), a, "a@example.com");
    login(d(5) + hours(4), a, "a@example.com");
    login(d(5) + hours(5), c, "c@example.com");
    login(d(5) + hours(6), c, "c@example.com", "CUSTOMER_LOGIN_FAILED");
    login(d(1) + hours(6), std::nullopt, "legacy@example.com");
    login(d(0) + hours(1), b, "b@example.com");
    login(d(0) + days(1), b, "b@example.com");  // tomorrow: after the window

    store::analytics_repository analytics(*db_);
    const auto per_day = analytics.logins_per_day(day0_ - days(13), 14);
    ASSERT_EQ(per_day.size(), 14u);
    std::vector<long long> counts;
    for (const auto& p : per_day) counts.push_back(p.logins);
    EXPECT_EQ(counts, (std::vector<long long>{2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 1}));
    EXPECT_EQ(per_day.front().day, day0_ - days(13));
    EXPECT_EQ(per_day.back().day, day0_);

    const auto week_from = base_ - days(7);
    EXPECT_EQ(analytics.count_logins(week_from, base_), 5);         // d5 ×3, d1, d0
    EXPECT_EQ(analytics.count_unique_logins(week_from, base_), 3);  // a, b, c (legacy has no id)

    const auto top = analytics.most_active(base_ - days(30), base_ + days(2), 10);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].customer_id, a);  // 4
    EXPECT_EQ(top[0].logins, 4);
    EXPECT_EQ(top[0].first_name, "Ann");
    EXPECT_EQ(top[0].last_login, d(5) + hours(4));
    EXPECT_EQ(top[1].customer_id, b);  // 3, latest tomorrow
    EXPECT_EQ(top[2].customer_id, c);  // 1
    EXPECT_EQ(analytics.most_active(base_ - days(30), base_ + days(2), 1).size(), 1u);

    const auto recent = analytics.recent_logins(3);
    ASSERT_EQ(recent.size(), 3u);
    EXPECT_EQ(recent[0].at, d(0) + days(1));
    EXPECT_EQ(recent[0].first_name, "Ben");
    EXPECT_EQ(recent[1].at, d(0) + hours(1));
    EXPECT_EQ(recent[2].email, "legacy@example.com");
    EXPECT_FALSE(recent[2].customer_id.has_value());
    EXPECT_TRUE(recent[2].first_name.empty());
}

TEST(analytics_sql, tsql_pieces_have_the_expected_shape) {
    using store::dialect;
    EXPECT_EQ(store::analytics_sql::utc_day(dialect::mssql, "\"timestamp\""),
              "CONVERT(CHAR(10), \"timestamp\", 23)");
    EXPECT_EQ(store::analytics_sql::first_rows(dialect::mssql, ":p1"),
              " OFFSET 0 ROWS FETCH NEXT :p1 ROWS ONLY");
    EXPECT_EQ(store::analytics_sql::first_rows(dialect::postgresql, ":p1"), " LIMIT :p1");
    EXPECT_EQ(store::analytics_sql::utc_day(dialect::sqlite, "t"), "substr(t, 1, 10)");
}
