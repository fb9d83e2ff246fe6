// Customer sign-in, sessions, CSRF and throttling against the running binary, tested as an attacker would.
#include "auth/password_hash.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "support/web_client.hpp"

#include <gtest/gtest.h>

#include <regex>

using namespace portal;
using namespace portal::testing;

namespace {

constexpr const char* good_password = "correct horse battery";

class login_test : public ::testing::Test {
protected:
    login_test() : portal_(env_map{{"SESSION_IDLE_MINUTES", "60"}}), db_(settings()) {}

    app::database_settings settings() {
        app::database_settings s;
        s.driver = "sqlite";
        s.name = portal_.cwd() + "/portal.db";
        return s;
    }

    int add_customer(const std::string& email, const std::string& hash, bool active = true, bool must_reset = false) {
        store::new_customer c;
        c.first_name = "Ada";
        c.last_name = "Lovelace";
        c.email = email;
        c.password_hash = hash;
        c.erp_customer_name = "Acme Foods";
        c.is_active = active;
        c.must_reset_password = must_reset;
        auto r = store::customers_repository(db_).create(c, std::chrono::system_clock::now());
        EXPECT_EQ(r.status, store::save_status::saved);
        return r.customer_id;
    }

    void exec(const std::string& sql) {
        db_.with_session([&](soci::session& s) { s << sql; });
    }

    std::vector<std::string> audit_actions() {
        store::audit_filter f;
        f.per_page = 500;
        std::vector<std::string> out;
        for (const auto& e : store::audit_repository(db_).list(f)) out.push_back(e.action_type);
        return out;
    }

    portal_process portal_;
    store::database db_;
};

std::string normalise(std::string body, const std::vector<std::string>& remove) {
    body = std::regex_replace(body, std::regex("name=\"csrf_token\" value=\"[^\"]*\""), "CSRF");
    body = std::regex_replace(body, std::regex("name=\"csrf-token\" content=\"[^\"]*\""), "CSRF");
    for (const auto& r : remove) {
        for (auto pos = body.find(r); pos != std::string::npos; pos = body.find(r)) body.replace(pos, r.size(), "X");
    }
    return body;
}

}  // namespace

TEST_F(login_test, signed_out_customer_pages_redirect_to_login_with_next) {
    web_client c(portal_.port());
    auto r = c.get("/force-change-password");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/login?next=%2Fforce-change-password");
    auto logout = c.post("/logout", {{"csrf_token", "x"}});
    EXPECT_EQ(logout.status, 303);
    EXPECT_EQ(logout.header("location"), "/login");
}

TEST_F(login_test, sign_in_sets_a_hardened_cookie_and_records_the_login) {
    const int id = add_customer("ada@example.com", auth::hash_password(good_password));
    web_client c(portal_.port());
    auto r = c.login("  ADA@example.com ", good_password);
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.header("location"), "/inventory");
    std::string cookie;
    for (const auto& h : r.all("set-cookie"))
        if (h.rfind("portal_session=", 0) == 0) cookie = h;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
    EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // APP_BASE_URL is http here
    EXPECT_EQ(c.cookie("portal_session").size(), 43u);

    // Only a keyed hash is stored, never the token itself.
    std::string stored;
    db_.with_session([&](soci::session& s) { s << "SELECT session_id FROM ActiveSessions", soci::into(stored); });
    EXPECT_EQ(stored.size(), 64u);
    EXPECT_EQ(stored.find(c.cookie("portal_session")), std::string::npos);

    EXPECT_TRUE(store::customers_repository(db_).find_by_id(id)->last_login_date.has_value());
    auto actions = audit_actions();
    EXPECT_NE(std::find(actions.begin(), actions.end(), "CUSTOMER_LOGIN"), actions.end());
    EXPECT_EQ(c.get("/force-change-password").status, 200);
}

TEST_F(login_test, login_rotates_the_session_and_logout_ends_it_server_side) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    web_client c(portal_.port());
    ASSERT_EQ(c.login("ada@example.com", good_password).status, 303);
    const auto first = c.cookie("portal_session");
    ASSERT_EQ(c.login("ada@example.com", good_password).status, 303);
    const auto second = c.cookie("portal_session");
    EXPECT_NE(first, second);

    web_client stale(portal_.port());
    stale.cookies()["portal_session"] = first;
    EXPECT_EQ(stale.get("/force-change-password").status, 303) << "the session before the new login must end";

    web_client copy(portal_.port());
    copy.cookies()["portal_session"] = second;
    EXPECT_EQ(copy.get("/force-change-password").status, 200);

    // Sign out through the page's own form token.
    const auto token = find_csrf(c.get("/force-change-password").body);
    auto out = c.post("/logout", {{"csrf_token", token}});
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(out.header("location"), "/login");
    EXPECT_EQ(copy.get("/force-change-password").status, 303) << "a copied cookie must die with the session";
    auto actions = audit_actions();
    EXPECT_NE(std::find(actions.begin(), actions.end(), "CUSTOMER_LOGOUT"), actions.end());
}

TEST_F(login_test, idle_and_absolute_expiry_are_enforced_by_the_server) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    web_client idle(portal_.port());
    ASSERT_EQ(idle.login("ada@example.com", good_password).status, 303);
    exec("UPDATE ActiveSessions SET last_seen = '2000-01-01 00:00:00'");
    EXPECT_EQ(idle.get("/force-change-password").status, 303);

    web_client old(portal_.port());
    ASSERT_EQ(old.login("ada@example.com", good_password).status, 303);
    exec("UPDATE ActiveSessions SET expires_at = '2000-01-01 00:00:00'");
    EXPECT_EQ(old.get("/force-change-password").status, 303);
    long long left = -1;
    db_.with_session([&](soci::session& s) { s << "SELECT COUNT(*) FROM ActiveSessions", soci::into(left); });
    EXPECT_EQ(left, 0) << "expired sessions are deleted when seen";
}

TEST_F(login_test, forged_and_garbage_cookies_are_refused) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    for (const std::string& forged : std::vector<std::string>{"", "x", std::string(43, 'A'), std::string(64, '0'), "' OR 1=1 --"}) {
        web_client c(portal_.port());
        c.cookies()["portal_session"] = forged;
        EXPECT_EQ(c.get("/force-change-password").status, 303) << forged;
    }
    // The stored hash itself is not a valid cookie either.
    web_client c(portal_.port());
    ASSERT_EQ(c.login("ada@example.com", good_password).status, 303);
    std::string stored;
    db_.with_session([&](soci::session& s) { s << "SELECT session_id FROM ActiveSessions", soci::into(stored); });
    web_client thief(portal_.port());
    thief.cookies()["portal_session"] = stored;
    EXPECT_EQ(thief.get("/force-change-password").status, 303);
}

TEST_F(login_test, unknown_inactive_wrong_and_honeypot_get_the_same_page) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    add_customer("gone@example.com", auth::hash_password(good_password), false);
    web_client c(portal_.port());
    auto unknown = c.login("nobody@example.com", good_password);
    auto inactive = c.login("gone@example.com", good_password);
    auto wrong = c.login("ada@example.com", "wrong password here");
    const auto token = c.csrf_from("/login");
    auto honeypot = c.post("/login", {{"csrf_token", token}, {"email", "ada@example.com"},
                                      {"password", good_password}, {"hp_email", "bot@spam.example"}, {"next", ""}});
    for (const auto* r : {&unknown, &inactive, &wrong, &honeypot}) {
        EXPECT_EQ(r->status, 200);
        EXPECT_NE(r->body.find("Incorrect email or password."), std::string::npos);
        EXPECT_TRUE(r->all("set-cookie").empty() || r->all("set-cookie")[0].find("portal_session") == std::string::npos);
    }
    const std::vector<std::string> emails{"nobody@example.com", "gone@example.com", "ada@example.com"};
    EXPECT_EQ(normalise(unknown.body, emails), normalise(inactive.body, emails));
    EXPECT_EQ(normalise(unknown.body, emails), normalise(wrong.body, emails));
    EXPECT_EQ(normalise(unknown.body, emails), normalise(honeypot.body, emails));
    EXPECT_EQ(c.cookie("portal_session"), "");
}

TEST_F(login_test, throttling_answers_429_and_refuses_even_the_right_password) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    web_client c(portal_.port());
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c.login("ada@example.com", "wrong password " + std::to_string(i)).status, 200);
    auto blocked = c.login("ada@example.com", good_password);
    EXPECT_EQ(blocked.status, 429);
    EXPECT_FALSE(blocked.header("retry-after").empty());
    EXPECT_NE(blocked.body.find("Too many sign-in attempts"), std::string::npos);
    EXPECT_EQ(c.cookie("portal_session"), "");
    auto actions = audit_actions();
    EXPECT_NE(std::find(actions.begin(), actions.end(), "CUSTOMER_LOGIN_THROTTLED"), actions.end());
    EXPECT_NE(std::find(actions.begin(), actions.end(), "CUSTOMER_LOGIN_FAILED"), actions.end());
}

TEST_F(login_test, throttling_counts_per_address_across_accounts) {
    web_client c(portal_.port());
    for (int i = 0; i < 50; ++i) c.login("user" + std::to_string(i) + "@example.com", "wrong password");
    EXPECT_EQ(c.login("another@example.com", "wrong password").status, 429);
}

TEST_F(login_test, csrf_missing_or_wrong_is_403_and_changes_nothing) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    web_client c(portal_.port());
    c.get("/login");  // gets the pre-session cookie
    auto missing = c.post("/login", {{"email", "ada@example.com"}, {"password", good_password}});
    EXPECT_EQ(missing.status, 403);
    auto wrong = c.post("/login", {{"csrf_token", "forged"}, {"email", "ada@example.com"}, {"password", good_password}});
    EXPECT_EQ(wrong.status, 403);
    web_client other(portal_.port());
    const auto foreign_token = other.csrf_from("/login");  // valid, but for another browser's cookie
    auto foreign = c.post("/login", {{"csrf_token", foreign_token}, {"email", "ada@example.com"}, {"password", good_password}});
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(c.cookie("portal_session"), "");

    ASSERT_EQ(c.login("ada@example.com", good_password).status, 303);
    const auto session = c.cookie("portal_session");
    EXPECT_EQ(c.post("/logout", {{"csrf_token", "nope"}}).status, 403);
    EXPECT_EQ(c.post("/logout", {{"csrf_token", foreign_token}}).status, 403);
    EXPECT_EQ(c.cookie("portal_session"), session);
    EXPECT_EQ(c.get("/force-change-password").status, 200) << "the session must survive a forged logout";
    // The header form is accepted too (scripts send it).
    const auto token = find_csrf(c.get("/force-change-password").body);
    EXPECT_EQ(c.post("/logout", {}, {{"X-CSRF-Token", token}}).status, 303);
}

TEST_F(login_test, werkzeug_hashed_account_signs_in_and_is_rehashed_to_argon2id) {
    const int id = add_customer(
        "legacy@example.com",
        "pbkdf2:sha256:260000$abcdefghijklmnop$32145652c28d6d344f8c69f9cc5f7cc11983eaa02d35d7c77c7d44362b527e33");
    const int id2 = add_customer(
        "scrypt@example.com",
        "scrypt:32768:8:1$abcdefghijklmnop$2098a7c25c0a0a626a77c6bb619c1cb62e3595cdd318877cfcae6f29f6bc3c0a96c382016c051a26f7f2071b3cb5f082a6fb7efcf6d61b466055c44fc47317b0");
    web_client c(portal_.port());
    ASSERT_EQ(c.login("legacy@example.com", "secret").status, 303);
    ASSERT_EQ(c.login("scrypt@example.com", "secret").status, 303);
    store::customers_repository customers(db_);
    EXPECT_EQ(customers.find_by_id(id)->password_hash.rfind("$argon2id$", 0), 0u);
    EXPECT_EQ(customers.find_by_id(id2)->password_hash.rfind("$argon2id$", 0), 0u);
    web_client again(portal_.port());
    EXPECT_EQ(again.login("legacy@example.com", "secret").status, 303);
}

TEST_F(login_test, next_goes_only_to_same_site_paths) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    const std::vector<std::pair<std::string, std::string>> cases{
        {"/inventory?part=A-100", "/inventory?part=A-100"},
        {"//evil.example/x", "/inventory"},
        {"/\\evil.example", "/inventory"},
        {"https://evil.example/", "/inventory"},
        {"javascript:alert(1)", "/inventory"},
        {"/%2fevil.example", "/inventory"},
        {"/inventory\r\nSet-Cookie: x=y", "/inventory"},
    };
    for (const auto& [next, expected] : cases) {
        web_client c(portal_.port());
        auto r = c.login("ada@example.com", good_password, next);
        EXPECT_EQ(r.header("location"), expected) << next;
    }
}

TEST_F(login_test, must_reset_password_is_forced_before_anything_else) {
    const int id = add_customer("new@example.com", auth::hash_password(good_password), true, true);
    web_client other_device(portal_.port());
    ASSERT_EQ(other_device.login("new@example.com", good_password).status, 303);

    web_client c(portal_.port());
    auto r = c.login("new@example.com", good_password, "/inventory");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/force-change-password");
    EXPECT_EQ(c.get("/inventory").header("location"), "/force-change-password");

    auto page = c.get("/force-change-password");
    ASSERT_EQ(page.status, 200);
    const auto token = find_csrf(page.body);
    auto bad_current = c.post("/force-change-password", {{"csrf_token", token}, {"current_password", "nope"},
                                                         {"password", "a brand new secret"}, {"password_confirm", "a brand new secret"}});
    EXPECT_EQ(bad_current.status, 400);
    EXPECT_NE(bad_current.body.find("current password is not correct"), std::string::npos);
    auto too_short = c.post("/force-change-password", {{"csrf_token", token}, {"current_password", good_password},
                                                       {"password", "short"}, {"password_confirm", "short"}});
    EXPECT_EQ(too_short.status, 400);
    EXPECT_NE(too_short.body.find("12"), std::string::npos);
    auto mismatch = c.post("/force-change-password", {{"csrf_token", token}, {"current_password", good_password},
                                                      {"password", "a brand new secret"}, {"password_confirm", "another new secret"}});
    EXPECT_EQ(mismatch.status, 400);
    auto is_email = c.post("/force-change-password", {{"csrf_token", token}, {"current_password", good_password},
                                                      {"password", "new@example.com"}, {"password_confirm", "new@example.com"}});
    EXPECT_EQ(is_email.status, 400);

    auto done = c.post("/force-change-password", {{"csrf_token", token}, {"current_password", good_password},
                                                  {"password", "a brand new secret"}, {"password_confirm", "a brand new secret"}});
    EXPECT_EQ(done.status, 303);
    EXPECT_EQ(done.header("location"), "/inventory");
    auto customer = store::customers_repository(db_).find_by_id(id);
    EXPECT_FALSE(customer->must_reset_password);
    EXPECT_TRUE(auth::verify_password(customer->password_hash, "a brand new secret"));
    EXPECT_EQ(other_device.get("/force-change-password").status, 303) << "other sessions end";
    EXPECT_EQ(c.get("/force-change-password").status, 200) << "this browser keeps a fresh session";
    auto actions = audit_actions();
    EXPECT_NE(std::find(actions.begin(), actions.end(), "CUSTOMER_PASSWORD_CHANGE"), actions.end());
}

TEST_F(login_test, signed_in_customer_is_sent_on_from_the_login_page) {
    add_customer("ada@example.com", auth::hash_password(good_password));
    web_client c(portal_.port());
    ASSERT_EQ(c.login("ada@example.com", good_password).status, 303);
    auto r = c.get("/login?next=%2Finventory%3Fbin%3DB-1");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/inventory?bin=B-1");
}
