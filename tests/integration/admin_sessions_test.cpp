// /admin/sessions against the running binary: who is signed in, kicking a session (ended at once,
// audited), the automatic sign-out of idle sessions (stored, validated, audited, applied by the
// housekeeping thread), and the housekeeping of expired sessions and old sign-in attempts.
#include "auth/tokens.hpp"
#include "store/sessions_repository.hpp"
#include "support/admin_fixture.hpp"

#include <gmock/gmock.h>

#include <thread>

using namespace portal;
using namespace portal::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

constexpr const char* chrome_on_windows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.130 Safari/537.36";
constexpr const char* safari_on_iphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

// Housekeeping every second, so its effects show up within a short, polled deadline.
class admin_sessions_test : public admin_fixture {
  protected:
    admin_sessions_test() : admin_fixture({{"HOUSEKEEPING_INTERVAL_SECONDS", "1"}}) {}

    // Signs a customer in through /login with a given User-Agent.
    web_client customer_with_agent(const std::string& email, const std::string& agent) {
        web_client c(portal_.port());
        const auto token = c.csrf_from("/login");
        auto r = c.post("/login",
                        {{"csrf_token", token},
                         {"email", email},
                         {"password", customer_password},
                         {"hp_email", ""}},
                        {{"User-Agent", agent}});
        EXPECT_EQ(r.status, 303) << r.body;
        return c;
    }

    // The kick form actions on the sessions page, in page order.
    static std::vector<std::string> kick_actions(const std::string& html) {
        std::vector<std::string> out;
        const std::string marker = "action=\"/admin/sessions/";
        for (auto pos = html.find(marker); pos != std::string::npos;
             pos = html.find(marker, pos + 1)) {
            const auto start = pos + std::string("action=\"").size();
            const auto action = html.substr(start, html.find('"', start) - start);
            if (action.ends_with("/kick")) out.push_back(action);
        }
        return out;
    }

    // Moves a customer's sessions' last activity into the past, as if idle since then.
    void make_idle(int customer_id, std::chrono::minutes ago) {
        db_.in_transaction([&](soci::session& s) {
            std::tm seen = store::to_db_time(std::chrono::system_clock::now() - ago);
            int id = customer_id;
            s << "UPDATE ActiveSessions SET last_seen = :t WHERE customer_id = :c", soci::use(seen),
                soci::use(id);
        });
    }

    long long sessions_of(int customer_id) {
        return count("SELECT COUNT(*) FROM ActiveSessions WHERE customer_id = " +
                     std::to_string(customer_id));
    }

    // Polls `done` until it holds or `limit` passes; true when it held.
    template <class F>
    static bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(15)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return done();
    }

    // Returns once a whole housekeeping run has started and finished since the call. Each run ends
    // stale admin sessions after it has applied the idle limit, so a stale sentinel's removal
    // marks the end of a run; the second sentinel, added after the first is gone, can only be
    // removed by a run that started after that.
    void wait_for_a_whole_run() {
        for (int i = 0; i < 2; ++i) {
            const std::string id = "sentinel-" + std::to_string(++sentinels_);
            store::admin_session_record stale;
            stale.session_id = id;
            stale.admin_username = "sentinel";
            stale.auth_method = "local";
            stale.created_at = std::chrono::system_clock::now() - std::chrono::hours(1);
            stale.last_seen = stale.created_at;
            stale.csrf_secret = "x";
            store::sessions_repository(db_).create_admin_session(stale);
            ASSERT_TRUE(eventually([&] {
                return count("SELECT COUNT(*) FROM AdminSessions WHERE session_id = '" + id +
                             "'") == 0;
            })) << portal_.output();
        }
    }

    http_result post_limit(web_client& admin, const std::string& value) {
        return admin.post("/admin/sessions/idle-limit",
                          {{"csrf_token", admin.admin_csrf()}, {"idle_minutes", value}});
    }

    std::optional<std::string> stored_limit() {
        std::optional<std::string> out;
        db_.with_session([&](soci::session& s) {
            std::string value;
            soci::indicator ind = soci::i_null;
            s << "SELECT value FROM PortalSettings WHERE name = 'session_idle_limit_minutes'",
                soci::into(value, ind);
            if (s.got_data() && ind == soci::i_ok) out = value;
        });
        return out;
    }

    int sentinels_ = 0;
};

}  // namespace

TEST_F(admin_sessions_test, every_route_refuses_signed_out_callers_and_customers) {
    add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    web_client anonymous(portal_.port());

    auto page = anonymous.get("/admin/sessions");
    EXPECT_EQ(page.status, 303);
    EXPECT_EQ(page.header("location"), "/admin-login?next=%2Fadmin%2Fsessions");
    EXPECT_EQ(customer.get("/admin/sessions").status, 403);

    const auto token = customer.csrf_from("/inventory");
    for (const std::string target : {"/admin/sessions/idle-limit", "/admin/sessions/abc/kick"}) {
        auto r = anonymous.post(
            target, {{"csrf_token", anonymous.csrf_from("/admin-login")}, {"idle_minutes", "5"}});
        EXPECT_EQ(r.status, 303) << target;
        EXPECT_EQ(r.header("location"), "/admin-login") << target;
        EXPECT_EQ(customer.post(target, {{"csrf_token", token}, {"idle_minutes", "5"}}).status, 403)
            << target;
    }
    // Nothing happened: the customer is still signed in, no limit was stored.
    EXPECT_EQ(count("SELECT COUNT(*) FROM ActiveSessions"), 1);
    EXPECT_FALSE(stored_limit());
    EXPECT_EQ(customer.get("/inventory").status, 200);
}

TEST_F(admin_sessions_test, posts_without_a_csrf_token_are_refused) {
    const int ada = add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    auto admin = signed_in_admin();
    const auto kicks = kick_actions(admin.get("/admin/sessions").body);
    ASSERT_EQ(kicks.size(), 1u);

    EXPECT_EQ(admin.post(kicks[0], {}).status, 403);
    EXPECT_EQ(admin.post(kicks[0], {{"csrf_token", "forged"}}).status, 403);
    EXPECT_EQ(admin.post("/admin/sessions/idle-limit", {{"idle_minutes", "5"}}).status, 403);
    EXPECT_EQ(admin.post("/admin/sessions/idle-limit", {{"csrf_token", "x"}, {"idle_minutes", "5"}})
                  .status,
              403);

    EXPECT_EQ(sessions_of(ada), 1);
    EXPECT_FALSE(stored_limit());
    EXPECT_TRUE(audit("CUSTOMER_SESSION_KICK").empty());
    EXPECT_TRUE(audit("SETTINGS_UPDATE").empty());
    EXPECT_EQ(customer.get("/inventory").status, 200);
}

TEST_F(admin_sessions_test, lists_who_is_signed_in_with_readable_browsers) {
    auto admin = signed_in_admin();
    auto empty = admin.get("/admin/sessions");
    EXPECT_EQ(empty.status, 200);
    EXPECT_THAT(empty.body, HasSubstr("Nobody is signed in"));

    const int ada = add_customer("ada@example.com", "Acme Foods", true, "Ada", "Lovelace");
    const int grace = add_customer("grace@example.com", "Globex", true, "Grace", "Hopper");
    auto a1 = customer_with_agent("ada@example.com", chrome_on_windows);
    auto a2 = customer_with_agent("ada@example.com", safari_on_iphone);
    auto g = customer_with_agent("grace@example.com", "curl/8.5.0");

    auto page = admin.get("/admin/sessions");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header("cache-control"), "no-store");
    const auto& html = page.body;
    EXPECT_THAT(html, HasSubstr("3 sessions of 2 customers signed in now."));
    EXPECT_THAT(html, HasSubstr("Ada Lovelace"));
    EXPECT_THAT(html, HasSubstr("grace@example.com"));
    EXPECT_THAT(html, HasSubstr("href=\"/admin/customers/" + std::to_string(ada) + "\""));
    EXPECT_THAT(html, HasSubstr("href=\"/admin/customers/" + std::to_string(grace) + "\""));
    EXPECT_THAT(html, HasSubstr(">Chrome 120 on Windows<"));
    EXPECT_THAT(html, HasSubstr(">Safari 17 on iPhone<"));
    EXPECT_THAT(html, HasSubstr(">curl 8.5.0<"));
    // The full user agent stays available (title and for screen readers).
    EXPECT_THAT(html, HasSubstr("title=\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"));
    EXPECT_THAT(html, HasSubstr("127.0.0.1"));
    // Times for local-time.js, with UTC text before it runs.
    EXPECT_THAT(html, HasSubstr("<time class=\"nowrap\" data-local datetime=\""));
    EXPECT_THAT(html, HasSubstr(" UTC</time>"));
    EXPECT_THAT(html, HasSubstr("/static/js/local-time.js"));
    // Kick forms address the stored keyed hash, never the cookie's token.
    const auto kicks = kick_actions(html);
    EXPECT_EQ(kicks.size(), 3u);
    for (auto* c : {&a1, &a2, &g}) {
        const auto token = c->cookie("portal_session");
        ASSERT_FALSE(token.empty());
        EXPECT_THAT(html, Not(HasSubstr(token)));
        EXPECT_THAT(html, HasSubstr("/admin/sessions/" +
                                    auth::keyed_hash(test_secret_key(), token) + "/kick"));
    }
}

TEST_F(admin_sessions_test, kick_ends_the_session_at_once_and_is_audited) {
    const int ada = add_customer("ada@example.com");
    add_customer("grace@example.com", "Globex", true, "Grace", "Hopper");
    auto customer = customer_with_agent("ada@example.com", chrome_on_windows);
    auto other = signed_in_customer("grace@example.com");
    ASSERT_EQ(customer.get("/inventory").status, 200);
    auto admin = signed_in_admin();

    const std::string id = auth::keyed_hash(test_secret_key(), customer.cookie("portal_session"));
    const std::string action = "/admin/sessions/" + id + "/kick";
    auto r = admin.post(action, {{"csrf_token", admin.admin_csrf()}});
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/admin/sessions");
    auto after = admin.get("/admin/sessions");
    EXPECT_THAT(after.body, HasSubstr("The session has been ended."));
    EXPECT_THAT(after.body, Not(HasSubstr("ada@example.com")));

    // The customer's very next request is signed out; the other customer is untouched.
    auto next = customer.get("/inventory");
    EXPECT_EQ(next.status, 303);
    EXPECT_EQ(next.header("location"), "/login?next=%2Finventory");
    EXPECT_EQ(sessions_of(ada), 0);
    EXPECT_EQ(other.get("/inventory").status, 200);

    auto entries = audit("CUSTOMER_SESSION_KICK");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, "admin");
    EXPECT_EQ(entries[0].target_customer_id, ada);
    EXPECT_EQ(entries[0].target_customer_email, "ada@example.com");
    const auto details = entries[0].details.value_or("");
    EXPECT_THAT(details, HasSubstr("\"ip_address\":\"127.0.0.1\""));
    EXPECT_THAT(details, HasSubstr("\"user_agent\":\"Chrome 120 on Windows\""));
    EXPECT_THAT(details, Not(HasSubstr(id)));
    EXPECT_EQ(entries[0].ip_address.value_or(""), "127.0.0.1");

    // Gone already, or never there: 404, and nothing more is audited.
    EXPECT_EQ(admin.post(action, {{"csrf_token", admin.admin_csrf()}}).status, 404);
    EXPECT_EQ(admin
                  .post("/admin/sessions/" + std::string(64, 'a') + "/kick",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              404);
    EXPECT_EQ(admin
                  .post("/admin/sessions/" + std::string(300, 'b') + "/kick",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              404);
    // The cookie's token is not an id: it finds nothing.
    EXPECT_EQ(admin
                  .post("/admin/sessions/" + other.cookie("portal_session") + "/kick",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              404);
    EXPECT_EQ(audit("CUSTOMER_SESSION_KICK").size(), 1u);
    EXPECT_EQ(other.get("/inventory").status, 200);
}

TEST_F(admin_sessions_test, idle_limit_is_validated_stored_and_audited_as_a_diff) {
    auto admin = signed_in_admin();
    for (const std::string bad :
         {"abc", "1", "1441", "-5", "2.5", "+5", "10 minutes", "99999999999999999999"}) {
        auto r = post_limit(admin, bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_THAT(r.body, HasSubstr("Enter a whole number of minutes from 2 to 1440")) << bad;
        EXPECT_THAT(r.body, HasSubstr("aria-invalid=\"true\"")) << bad;
    }
    EXPECT_FALSE(stored_limit());
    EXPECT_TRUE(audit("SETTINGS_UPDATE").empty());

    auto saved = post_limit(admin, " 30 ");
    EXPECT_EQ(saved.status, 303);
    EXPECT_EQ(saved.header("location"), "/admin/sessions");
    EXPECT_EQ(stored_limit(), "30");
    auto page = admin.get("/admin/sessions");
    EXPECT_THAT(
        page.body,
        HasSubstr(
            "Sessions idle for more than <strong>30 minutes</strong> are ended automatically."));
    EXPECT_THAT(page.body, HasSubstr("value=\"30\""));
    EXPECT_THAT(page.body, HasSubstr("Last changed by admin"));

    EXPECT_EQ(post_limit(admin, "45").status, 303);
    EXPECT_EQ(post_limit(admin, "45").status, 303);  // unchanged: saved, not audited again
    EXPECT_EQ(post_limit(admin, "").status, 303);
    EXPECT_FALSE(stored_limit());
    EXPECT_EQ(post_limit(admin, "0").status, 303);  // off already
    EXPECT_THAT(admin.get("/admin/sessions").body, HasSubstr(">Off</span>"));

    auto entries = audit("SETTINGS_UPDATE");  // newest first
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[2].details.value_or(""),
              R"({"session_idle_limit_minutes":{"from":null,"to":30}})");
    EXPECT_EQ(entries[1].details.value_or(""),
              R"({"session_idle_limit_minutes":{"from":30,"to":45}})");
    EXPECT_EQ(entries[0].details.value_or(""),
              R"({"session_idle_limit_minutes":{"from":45,"to":null}})");
    for (const auto& e : entries) EXPECT_EQ(e.admin_username, "admin");
}

TEST_F(admin_sessions_test, saving_a_limit_ends_sessions_already_idle_past_it) {
    const int ada = add_customer("ada@example.com");
    const int grace = add_customer("grace@example.com", "Globex", true, "Grace", "Hopper");
    auto idle = signed_in_customer("ada@example.com");
    auto busy = signed_in_customer("grace@example.com");
    make_idle(ada, std::chrono::minutes(20));
    auto admin = signed_in_admin();

    // Applied before the answer: no waiting for the next housekeeping run.
    EXPECT_EQ(post_limit(admin, "15").status, 303);
    EXPECT_EQ(sessions_of(ada), 0);
    EXPECT_EQ(sessions_of(grace), 1);
    EXPECT_EQ(idle.get("/inventory").status, 303);
    EXPECT_EQ(busy.get("/inventory").status, 200);
    auto ended = audit("CUSTOMER_SESSION_IDLE_END");
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].admin_username, "SYSTEM");
    EXPECT_EQ(ended[0].target_customer_id, ada);
    EXPECT_THAT(ended[0].details.value_or(""), HasSubstr("\"idle_limit_minutes\":15"));
}

TEST_F(admin_sessions_test, housekeeping_ends_sessions_that_go_idle_past_the_limit) {
    const int ada = add_customer("ada@example.com");
    const int grace = add_customer("grace@example.com", "Globex", true, "Grace", "Hopper");
    auto idle = signed_in_customer("ada@example.com");
    auto busy = signed_in_customer("grace@example.com");
    auto admin = signed_in_admin();
    ASSERT_EQ(post_limit(admin, "10").status, 303);
    EXPECT_EQ(sessions_of(ada), 1);  // nobody was idle yet

    // Ada stops using the portal: 11 minutes without a request, as far as the store knows. The
    // limit set through the page is now applied by the background thread alone.
    make_idle(ada, std::chrono::minutes(11));
    EXPECT_TRUE(eventually([&] { return sessions_of(ada) == 0; })) << portal_.output();
    EXPECT_EQ(idle.get("/inventory").status, 303);
    EXPECT_EQ(sessions_of(grace), 1);
    EXPECT_EQ(busy.get("/inventory").status, 200);

    auto ended = audit("CUSTOMER_SESSION_IDLE_END");
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].admin_username, "SYSTEM");
    EXPECT_EQ(ended[0].target_customer_email, "ada@example.com");
    EXPECT_THAT(ended[0].details.value_or(""), HasSubstr("\"idle_limit_minutes\":10"));

    // Turned off: idle sessions are left to the server's own timeout again.
    ASSERT_EQ(post_limit(admin, "0").status, 303);
    make_idle(grace, std::chrono::minutes(30));
    wait_for_a_whole_run();
    EXPECT_EQ(sessions_of(grace), 1);
    EXPECT_EQ(audit("CUSTOMER_SESSION_IDLE_END").size(), 1u);
}

TEST_F(admin_sessions_test, housekeeping_removes_expired_sessions_and_old_sign_in_attempts) {
    const int ada = add_customer("ada@example.com");
    const auto now = std::chrono::system_clock::now();
    store::sessions_repository sessions(db_);
    store::customer_session_record expired;
    expired.session_id = "expired-customer-session";
    expired.customer_id = ada;
    expired.created_at = now - std::chrono::hours(9);
    expired.last_seen = now - std::chrono::minutes(5);
    expired.expires_at = now - std::chrono::hours(1);
    expired.csrf_secret = "x";
    sessions.create_customer_session(expired);
    store::admin_session_record stale_admin;
    stale_admin.session_id = "stale-admin-session";
    stale_admin.admin_username = "admin";
    stale_admin.auth_method = "local";
    stale_admin.created_at = now - std::chrono::hours(1);
    stale_admin.last_seen = now - std::chrono::minutes(31);
    stale_admin.csrf_secret = "x";
    sessions.create_admin_session(stale_admin);
    db_.in_transaction([&](soci::session& s) {
        std::tm old = store::to_db_time(now - std::chrono::hours(25)),
                fresh = store::to_db_time(now);
        s << "INSERT INTO LoginAttempts (scope, subject, attempted_at, succeeded) VALUES "
             "('account', 'old@example.com', :t, 0)",
            soci::use(old);
        s << "INSERT INTO LoginAttempts (scope, subject, attempted_at, succeeded) VALUES "
             "('account', 'new@example.com', :t, 0)",
            soci::use(fresh);
    });
    auto admin = signed_in_admin();  // a live admin session, which must survive

    EXPECT_TRUE(eventually([&] {
        return count(
                   "SELECT COUNT(*) FROM ActiveSessions WHERE session_id = "
                   "'expired-customer-session'") == 0 &&
               count(
                   "SELECT COUNT(*) FROM AdminSessions WHERE session_id = 'stale-admin-session'") ==
                   0 &&
               count("SELECT COUNT(*) FROM LoginAttempts WHERE subject = 'old@example.com'") == 0;
    })) << portal_.output();
    EXPECT_EQ(count("SELECT COUNT(*) FROM LoginAttempts WHERE subject = 'new@example.com'"), 1);
    EXPECT_EQ(admin.get("/admin/sessions").status, 200);
    // Ordinary expiry is not an administrator's or the idle limit's doing: not audited as one.
    EXPECT_TRUE(audit("CUSTOMER_SESSION_IDLE_END").empty());
}

TEST_F(admin_sessions_test, a_store_value_that_is_not_a_limit_counts_as_off) {
    const int ada = add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    db_.in_transaction([&](soci::session& s) {
        s << "INSERT INTO PortalSettings (name, value) VALUES ('session_idle_limit_minutes', "
             "'soon')";
    });
    make_idle(ada, std::chrono::minutes(20));
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/sessions");
    EXPECT_EQ(page.status, 200);
    EXPECT_THAT(page.body, HasSubstr(">Off</span>"));
    // Housekeeping logs the value and keeps running, ending nothing.
    wait_for_a_whole_run();
    EXPECT_EQ(sessions_of(ada), 1);
    EXPECT_THAT(portal_.output(), HasSubstr("holds 'soon', not a number of minutes"));
}

TEST(admin_sessions_housekeeping, a_malformed_interval_stops_start_up_with_one_clear_line) {
    temp_dir dir;
    auto r = run_portal({"serve"},
                        {{"SECRET_KEY", test_secret_key()},
                         {"DB_NAME", dir.path + "/portal.db"},
                         {"PORTAL_ASSETS_DIR", PORTAL_SOURCE_DIR},
                         {"PORT", std::to_string(free_port())},
                         {"HOUSEKEEPING_INTERVAL_SECONDS", "soon"}},
                        dir.path);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(
        r.output,
        HasSubstr(
            "HOUSEKEEPING_INTERVAL_SECONDS: must be a whole number of seconds from 1 to 3600"));
}

TEST(admin_sessions_housekeeping, shutdown_does_not_wait_for_the_next_run) {
    // The default interval is a minute; SIGTERM must not wait it out.
    portal_process portal;
    EXPECT_EQ(portal.terminate(std::chrono::seconds(10)), 0) << portal.output();
}
