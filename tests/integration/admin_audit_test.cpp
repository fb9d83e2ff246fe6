// /admin/audit and /admin/audit.csv against the running binary: access, filters (actor, action,
// customer by id or email, UTC days), paging newest first, readable details, refused filters, and
// the CSV export (every filtered row, neutralised cells, BOM, audited).
#include "support/admin_fixture.hpp"

#include <gmock/gmock.h>

#include <regex>

using namespace portal;
using namespace portal::testing;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

using time_point = std::chrono::system_clock::time_point;

// 2026-03-01T00:00:00Z
time_point day_one() {
    return std::chrono::sys_days(std::chrono::year(2026) / 3 / 1);
}

class admin_audit_test : public admin_fixture {
  protected:
    long long add_entry(const std::string& actor, const std::string& action, time_point at,
                        std::optional<int> customer_id = {}, std::optional<std::string> email = {},
                        std::optional<std::string> details = {}) {
        store::new_audit_entry e;
        e.timestamp = at;
        e.admin_username = actor;
        e.action_type = action;
        e.target_customer_id = customer_id;
        e.target_customer_email = email;
        e.details = details;
        e.ip_address = "192.0.2.7";
        return store::audit_repository(db_).append(e);
    }

    static int rows(const std::string& html) {
        int n = 0;
        for (auto pos = html.find("data-audit-row"); pos != std::string::npos;
             pos = html.find("data-audit-row", pos + 1))
            ++n;
        return n;
    }

    // The actions of the listed rows, in page order.
    static std::vector<std::string> row_actions(const std::string& html) {
        std::vector<std::string> out;
        static const std::regex row(R"re(data-audit-row data-action="([^"]*)")re");
        for (std::sregex_iterator it(html.begin(), html.end(), row), end; it != end; ++it)
            out.push_back((*it)[1]);
        return out;
    }

    // CSV records (CRLF-terminated lines; the test data has no line breaks inside cells).
    static std::vector<std::string> lines(const std::string& csv) {
        std::vector<std::string> out;
        std::size_t start = 0;
        for (auto end = csv.find("\r\n"); end != std::string::npos; end = csv.find("\r\n", start)) {
            out.push_back(csv.substr(start, end - start));
            start = end + 2;
        }
        return out;
    }
};

}  // namespace

TEST_F(admin_audit_test, every_route_refuses_signed_out_callers_and_customers) {
    add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    web_client anonymous(portal_.port());
    for (const std::string target :
         {"/admin/audit", "/admin/audit.csv", "/admin/audit?action=CUSTOMER_LOGIN"}) {
        auto r = anonymous.get(target);
        EXPECT_EQ(r.status, 303) << target;
        EXPECT_THAT(r.header("location"), StartsWith("/admin-login?next=%2Fadmin%2Faudit"))
            << target;
        EXPECT_EQ(customer.get(target).status, 403) << target;
    }
    EXPECT_TRUE(audit("AUDIT_EXPORT").empty());
}

TEST_F(admin_audit_test, no_route_changes_or_deletes_entries) {
    add_entry("admin", "CUSTOMER_CREATE", day_one());
    auto admin = signed_in_admin();
    const auto before = count("SELECT COUNT(*) FROM AuditLog");
    const auto token = admin.admin_csrf();
    for (const std::string target :
         {"/admin/audit", "/admin/audit.csv", "/admin/audit/1", "/admin/audit/1/delete"}) {
        const auto status = admin.post(target, {{"csrf_token", token}}).status;
        EXPECT_TRUE(status == 404 || status == 405) << target << " answered " << status;
        const auto del = http_request(
            portal_.port(), "DELETE", target, {},
            {{"Cookie", "portal_admin_session=" + admin.cookie("portal_admin_session")}});
        EXPECT_TRUE(del.status == 404 || del.status == 405) << target << " answered " << del.status;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog"), before);
}

TEST_F(admin_audit_test, filters_by_actor_action_customer_and_utc_days) {
    const auto t = day_one();
    using std::chrono::seconds;
    add_entry("admin", "CUSTOMER_CREATE", t + seconds(10), 7, "ada@example.com",
              R"({"email":"ada@example.com"})");
    add_entry("ada@example.com", "CUSTOMER_LOGIN",
              t + std::chrono::hours(23) + std::chrono::minutes(59) + seconds(59), 7,
              "ada@example.com");
    add_entry("grace@example.com", "CUSTOMER_LOGIN", t + std::chrono::days(1), 8,
              "grace@example.com");
    add_entry("Other-Admin", "CUSTOMER_DEACTIVATE", t + std::chrono::days(2), 8,
              "grace@example.com", R"({"is_active":{"from":true,"to":false}})");
    auto admin = signed_in_admin();

    auto count_for = [&](const std::string& query) {
        auto r = admin.get("/admin/audit" + query);
        EXPECT_EQ(r.status, 200) << query << "\n" << r.body;
        return rows(r.body);
    };
    const int logins = static_cast<int>(audit("ADMIN_LOGIN").size());  // the admin's own sign-in
    EXPECT_EQ(count_for(""), 4 + logins);
    EXPECT_EQ(count_for("?actor=ADMIN"),
              2 + logins);  // case-insensitive substring: admin, Other-Admin
    EXPECT_EQ(count_for("?actor=other"), 1);
    EXPECT_EQ(count_for("?action=CUSTOMER_LOGIN"), 2);
    EXPECT_EQ(count_for("?action=CUSTOMER_LOG"), 0);  // exact
    EXPECT_EQ(count_for("?customer=7"), 2);
    EXPECT_EQ(count_for("?customer=GRACE%40"), 2);
    EXPECT_EQ(count_for("?customer=example.com&action=CUSTOMER_LOGIN"), 2);
    // Dates are whole UTC days, both ends included.
    EXPECT_EQ(count_for("?from=2026-03-01&to=2026-03-01"), 2);
    EXPECT_EQ(count_for("?from=2026-03-02&to=2026-03-02"), 1);
    EXPECT_EQ(count_for("?from=2026-03-02&to=2026-03-03"), 2);
    EXPECT_EQ(count_for("?to=2026-02-28"), 0);
    EXPECT_EQ(count_for("?from=2026-03-01&to=2026-03-03&actor=grace&customer=8"), 1);

    // The filter form keeps what was asked, the select offers the actions, the export follows.
    auto page = admin.get("/admin/audit?actor=grace&action=CUSTOMER_LOGIN&from=2026-03-02");
    EXPECT_THAT(page.body, HasSubstr("value=\"grace\""));
    EXPECT_THAT(page.body, HasSubstr("<option value=\"CUSTOMER_LOGIN\" selected>"));
    EXPECT_THAT(page.body, HasSubstr("<option value=\"CUSTOMER_DEACTIVATE\">"));
    EXPECT_THAT(page.body, HasSubstr("value=\"2026-03-02\""));
    EXPECT_THAT(
        page.body,
        HasSubstr(
            "href=\"/admin/audit.csv?actor=grace&amp;action=CUSTOMER_LOGIN&amp;from=2026-03-02\""));
    EXPECT_THAT(page.body, HasSubstr("Dates are whole days in UTC"));
    auto none = admin.get("/admin/audit?actor=nobody");
    EXPECT_THAT(none.body, HasSubstr("No entries match these filters"));
}

TEST_F(admin_audit_test, details_are_readable_and_escaped) {
    add_entry(
        "admin", "CUSTOMER_DEACTIVATE", day_one(), 8, "grace@example.com",
        R"({"is_active":{"from":true,"to":false},"erp_customer_name":{"from":"Acme","to":null}})");
    add_entry("<script>alert(1)</script>", "CUSTOMER_LOGIN_FAILED", day_one(), {}, {},
              R"({"reason":"<b>unknown</b> email"})");
    add_entry("admin", "EXPORT", day_one(), {}, {}, "not json at all");
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/audit");
    ASSERT_EQ(page.status, 200);
    EXPECT_THAT(page.body, HasSubstr("<dt>is_active</dt><dd>true → false</dd>"));
    EXPECT_THAT(page.body, HasSubstr("<dt>erp_customer_name</dt><dd>Acme → none</dd>"));
    EXPECT_THAT(page.body, HasSubstr("Account deactivated"));
    EXPECT_THAT(page.body, HasSubstr("not json at all"));
    EXPECT_THAT(page.body, Not(HasSubstr("<script>alert(1)</script>")));
    EXPECT_THAT(page.body, Not(HasSubstr("<b>unknown</b>")));
    EXPECT_THAT(page.body, HasSubstr("&lt;script&gt;"));
    EXPECT_THAT(page.body, HasSubstr("href=\"/admin/customers/8\""));
    EXPECT_THAT(page.body,
                HasSubstr("<time class=\"nowrap\" data-local "
                          "datetime=\"2026-03-01T00:00:00Z\">2026-03-01 00:00 UTC</time>"));
}

TEST_F(admin_audit_test, pages_newest_first_and_keep_the_filters) {
    for (int i = 0; i < 120; ++i)
        add_entry("admin", "STEP_" + std::to_string(i), day_one() + std::chrono::minutes(i));
    add_entry("someone-else", "STEP_X", day_one());
    auto admin = signed_in_admin();

    auto first = admin.get("/admin/audit?actor=admin&to=2026-03-01");
    ASSERT_EQ(first.status, 200);
    auto actions = row_actions(first.body);
    ASSERT_EQ(actions.size(), 50u);
    EXPECT_EQ(actions.front(), "STEP_119");
    EXPECT_EQ(actions.back(), "STEP_70");
    EXPECT_THAT(first.body, HasSubstr("Showing 1–50 of 120 entries"));
    EXPECT_THAT(first.body, HasSubstr("Page 1 of 3"));
    EXPECT_THAT(first.body,
                HasSubstr("href=\"/admin/audit?actor=admin&amp;to=2026-03-01&amp;page=2\""));

    auto third = admin.get("/admin/audit?actor=admin&to=2026-03-01&page=3");
    actions = row_actions(third.body);
    ASSERT_EQ(actions.size(), 20u);
    EXPECT_EQ(actions.front(), "STEP_19");
    EXPECT_EQ(actions.back(), "STEP_0");
    EXPECT_THAT(third.body, HasSubstr("Showing 101–120 of 120 entries"));
    EXPECT_THAT(third.body, HasSubstr("rel=\"prev\""));
    EXPECT_THAT(third.body, Not(HasSubstr("rel=\"next\"")));

    auto past = admin.get("/admin/audit?actor=admin&to=2026-03-01&page=9");
    EXPECT_EQ(past.status, 200);
    EXPECT_EQ(rows(past.body), 0);
    EXPECT_THAT(past.body, HasSubstr("Go to the first page"));
}

TEST_F(admin_audit_test, bad_filters_answer_400_with_a_message) {
    auto admin = signed_in_admin();
    const std::pair<std::string, std::string> cases[] = {
        {"from=2026-13-01", "The From date must be a date written as YYYY-MM-DD"},
        {"from=yesterday", "The From date must be a date written as YYYY-MM-DD"},
        {"to=2026-02-30", "The To date must be a date written as YYYY-MM-DD"},
        {"from=2026-03-02&to=2026-03-01", "The From date is after the To date."},
        {"action=DROP%20TABLE", "The action filter must be an action name"},
        {"customer=99999999999", "The customer filter is not a valid customer id."},
        {"customer=0", "The customer filter is not a valid customer id."},
        {"actor=" + std::string(101, 'a'), "The actor filter can be at most 100 characters long."},
        {"page=0", "The parameter page must be a whole number"},
        {"page=abc", "The parameter page must be a whole number"},
    };
    for (const auto& [query, message] : cases) {
        auto page = admin.get("/admin/audit?" + query);
        EXPECT_EQ(page.status, 400) << query;
        EXPECT_THAT(page.body, HasSubstr(message)) << query;
        auto csv = admin.get("/admin/audit.csv?" + query);
        EXPECT_EQ(csv.status, 400) << query;
        EXPECT_THAT(csv.body, HasSubstr(message)) << query;
    }
    // The page with a refused filter still offers the form, filled in, to fix it.
    auto page = admin.get("/admin/audit?from=2026-03-02&to=2026-03-01");
    EXPECT_THAT(page.body, HasSubstr("role=\"alert\""));
    EXPECT_THAT(page.body, HasSubstr("value=\"2026-03-02\""));
    EXPECT_TRUE(audit("AUDIT_EXPORT").empty());
}

TEST_F(admin_audit_test, csv_exports_every_filtered_row_neutralised_and_is_audited) {
    // More rows than one batch of the stream, so the export crosses several keyset pages; several
    // entries share a second, so the keyset must break ties by log_id.
    for (int i = 0; i < 1234; ++i)
        add_entry("admin", "BULK", day_one() + std::chrono::seconds(i / 3), 7, "ada@example.com",
                  R"({"n":)" + std::to_string(i) + "}");
    add_entry("=HYPERLINK(\"http://evil.example\",\"x\")", "CUSTOMER_LOGIN_FAILED",
              day_one() + std::chrono::days(1), {}, "+ada@example.com",
              R"({"reason":"wrong password"})");
    add_entry("@SUM(1+1)", "CUSTOMER_LOGIN_FAILED", day_one() + std::chrono::days(1), {}, {},
              "-2+3");
    auto admin = signed_in_admin();

    auto all = admin.get("/admin/audit.csv?customer=ada&from=2026-03-01&to=2026-03-01");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_THAT(all.header("content-type"), StartsWith("text/csv; charset=utf-8"));
    EXPECT_THAT(all.header("content-disposition"), HasSubstr("attachment; filename=\"AuditLog_"));
    EXPECT_EQ(all.header("cache-control"), "no-store");
    ASSERT_THAT(all.body, StartsWith("\xEF\xBB\xBF"
                                     "log_id,timestamp_utc,actor,action,customer_id,customer_email,"
                                     "ip_address,user_agent,details\r\n"));
    auto records = lines(all.body.substr(3));
    ASSERT_EQ(records.size(), 1u + 1234u);
    // Newest first, each entry once.
    std::set<std::string> seen;
    for (std::size_t i = 1; i < records.size(); ++i) {
        EXPECT_TRUE(seen.insert(records[i]).second) << records[i];
        EXPECT_THAT(records[i], HasSubstr(",admin,BULK,7,ada@example.com,192.0.2.7,,"));
    }
    EXPECT_THAT(records[1], HasSubstr("\"{\"\"n\"\":1233}\""));
    EXPECT_THAT(records.back(), HasSubstr("\"{\"\"n\"\":0}\""));
    EXPECT_THAT(records[1], HasSubstr(",2026-03-01T00:06:51Z,"));

    // Formula-like text cells get an apostrophe; quotes are doubled.
    auto failed = admin.get("/admin/audit.csv?action=CUSTOMER_LOGIN_FAILED");
    ASSERT_EQ(failed.status, 200);
    records = lines(failed.body.substr(3));
    ASSERT_EQ(records.size(), 3u);
    EXPECT_THAT(
        records[1] + records[2],
        HasSubstr(
            R"csv(,"'=HYPERLINK(""http://evil.example"",""x"")",CUSTOMER_LOGIN_FAILED,,'+ada@example.com,)csv"));
    EXPECT_THAT(records[1] + records[2],
                HasSubstr(",'@SUM(1+1),CUSTOMER_LOGIN_FAILED,,,192.0.2.7,,'-2+3"));

    // Nothing matches: the header alone.
    auto none = admin.get("/admin/audit.csv?actor=nobody");
    EXPECT_EQ(lines(none.body.substr(3)).size(), 1u);

    // Each export is audited with its filters, and never lists itself.
    auto exports = audit("AUDIT_EXPORT");
    ASSERT_EQ(exports.size(), 3u);
    EXPECT_EQ(exports[2].admin_username, "admin");
    EXPECT_THAT(exports[2].details.value_or(""),
                HasSubstr(R"("filters":{"customer":"ada","from":"2026-03-01","to":"2026-03-01"})"));
    auto everything = admin.get("/admin/audit.csv");
    EXPECT_THAT(everything.body, Not(HasSubstr(R"(""filters"":{})")));
    EXPECT_EQ(lines(everything.body.substr(3)).size(),
              1u + static_cast<std::size_t>(count("SELECT COUNT(*) FROM AuditLog")) - 1u);
}
