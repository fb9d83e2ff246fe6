// Administrator sign-in: ADMIN_USERNAME / ADMIN_PASSWORD_HASH, separate sessions, throttling,
// honeypot, CSRF and the closed state, against the running binary.
#include "support/admin_fixture.hpp"

using namespace portal;
using namespace portal::testing;

namespace {

class admin_login_test : public admin_fixture {};

std::string without_tokens(std::string body) {
    for (const char* marker : {"name=\"csrf_token\" value=\"", "name=\"csrf-token\" content=\""}) {
        for (auto pos = body.find(marker); pos != std::string::npos;
             pos = body.find(marker, pos + 1)) {
            const auto start = pos + std::string(marker).size();
            body.erase(start, body.find('"', start) - start);
        }
    }
    return body;
}

}  // namespace

TEST_F(admin_login_test, local_admin_signs_in_and_out_and_is_audited) {
    auto c = signed_in_admin();
    EXPECT_FALSE(c.cookie("portal_admin_session").empty());
    EXPECT_TRUE(c.cookie("portal_session").empty());
    auto dash = c.get("/admin");
    EXPECT_EQ(dash.status, 200);
    EXPECT_EQ(dash.header("cache-control"), "no-store");
    // Signed in already: the sign-in page sends the admin on.
    EXPECT_EQ(c.get("/admin-login").status, 303);

    auto logins = audit("ADMIN_LOGIN");
    ASSERT_EQ(logins.size(), 1u);
    EXPECT_EQ(logins[0].admin_username, "admin");
    EXPECT_EQ(logins[0].details.value_or(""), R"({"method":"local"})");

    auto out = c.post("/logout", {{"csrf_token", c.admin_csrf()}});
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(out.header("location"), "/admin-login");
    EXPECT_EQ(c.get("/admin").status, 303);
    EXPECT_EQ(audit("ADMIN_LOGOUT").size(), 1u);
}

TEST_F(admin_login_test, next_is_followed_only_within_the_admin_area) {
    web_client a(portal_.port());
    EXPECT_EQ(a.admin_login(admin_user, admin_password, "/admin/audit?action=X").header("location"),
              "/admin/audit?action=X");
    web_client b(portal_.port());
    EXPECT_EQ(b.admin_login(admin_user, admin_password, "/inventory").header("location"), "/admin");
    web_client c(portal_.port());
    EXPECT_EQ(c.admin_login(admin_user, admin_password, "//evil.example/admin").header("location"),
              "/admin");
    web_client d(portal_.port());
    EXPECT_EQ(d.admin_login(admin_user, admin_password, "/admin/../inventory").header("location"),
              "/admin");
}

TEST_F(admin_login_test, wrong_password_unknown_user_and_honeypot_get_the_same_answer) {
    web_client c(portal_.port());
    auto wrong = c.admin_login(admin_user, "not the password");
    auto unknown = c.admin_login("root", "not the password");
    auto token = c.csrf_from("/admin-login");
    auto honeypot = c.post("/admin-login", {{"csrf_token", token},
                                            {"username", admin_user},
                                            {"password", admin_password},
                                            {"hp_email", "bot@example.com"}});
    EXPECT_EQ(wrong.status, 200);
    EXPECT_NE(wrong.body.find("Incorrect username or password."), std::string::npos);
    // The same page, apart from the echoed user name.
    auto same = [](std::string body, const std::string& name) {
        const auto field = "value=\"" + name + "\"";
        if (auto pos = body.find(field); pos != std::string::npos)
            body.replace(pos, field.size(), "value=\"X\"");
        return without_tokens(body);
    };
    EXPECT_EQ(same(wrong.body, admin_user), same(unknown.body, "root"));
    EXPECT_EQ(same(wrong.body, admin_user), same(honeypot.body, admin_user));
    EXPECT_TRUE(c.cookie("portal_admin_session").empty());
    EXPECT_EQ(audit("ADMIN_LOGIN_FAILED").size(), 3u);
    EXPECT_EQ(audit("ADMIN_LOGIN").size(), 0u);
}

TEST_F(admin_login_test, sign_in_without_csrf_token_is_refused) {
    web_client c(portal_.port());
    c.csrf_from("/admin-login");
    auto r = c.post("/admin-login",
                    {{"username", admin_user}, {"password", admin_password}, {"hp_email", ""}});
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(c.cookie("portal_admin_session").empty());
}

TEST_F(admin_login_test, throttled_after_ten_failures_even_with_the_right_password) {
    web_client c(portal_.port());
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(c.admin_login("Admin", "guess " + std::to_string(i)).status, 200);
    auto r = c.admin_login(admin_user, admin_password);
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(r.header("retry-after").empty());
    EXPECT_TRUE(c.cookie("portal_admin_session").empty());
}

TEST_F(admin_login_test, customer_and_admin_sessions_never_open_each_others_routes) {
    add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    EXPECT_EQ(customer.get("/admin").status, 403);

    auto admin = signed_in_admin();
    EXPECT_EQ(admin.get("/inventory").status, 403);
    EXPECT_EQ(admin.get("/api/v1/inventory").status, 403);

    // A customer's token presented as the admin cookie opens nothing.
    web_client forged(portal_.port());
    forged.cookies()["portal_admin_session"] = customer.cookie("portal_session");
    EXPECT_EQ(forged.get("/admin").status, 303);
    EXPECT_EQ(forged.get("/admin").header("location"), "/admin-login?next=%2Fadmin");
}

TEST_F(admin_login_test, metrics_open_to_signed_in_admins) {
    auto c = signed_in_admin();
    auto r = c.get("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("portal_http_requests_total"), std::string::npos);
}

TEST(admin_login_closed, without_admin_settings_sign_in_is_closed_and_says_why) {
    portal_process portal;
    web_client c(portal.port());
    auto page = c.get("/admin-login");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("not set up on this server"), std::string::npos);
    auto r = c.admin_login("admin", "anything at all");
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(c.cookie("portal_admin_session").empty());
}
