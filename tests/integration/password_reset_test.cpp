// Self-service password reset against the running binary and a real SMTP server on loopback
// (SPEC §4 /forgot-password, /reset-password/<token>; §7): one email per request with the link in
// both parts, identical answers for unknown / inactive / known emails, single-use links that a
// refused password does not use up, expired / used / garbage links, sessions ended, no automatic
// sign-in, the password-changed notice, throttling, the Referrer-Policy and the request log.
#include "auth/tokens.hpp"
#include "store/outbox_repository.hpp"
#include "store/reset_tokens_repository.hpp"
#include "support/admin_fixture.hpp"
#include "support/smtp_sink.hpp"

#include <set>
#include <thread>

using namespace portal;
using namespace portal::testing;

namespace {

constexpr const char* new_password = "a brand new passphrase";

struct sink_first {
    smtp_sink sink_;
};

// The sink is a base listed first, so it runs before the portal starts.
class password_reset_test : public sink_first, public admin_fixture {
  protected:
    password_reset_test() : admin_fixture(with_base_url(sink_.portal_env())) {}

    static env_map with_base_url(env_map env) {
        env["APP_BASE_URL"] = "https://portal.example.test/";
        return env;
    }

    http_result request_reset(web_client& c, const std::string& email) {
        const auto token = c.csrf_from("/forgot-password");
        EXPECT_FALSE(token.empty());
        return c.post("/forgot-password", {{"csrf_token", token}, {"email", email}});
    }

    // Waits until the outbox is empty (every queued message sent), then returns what arrived:
    // so a count checks "exactly once", not "at least once".
    std::vector<received_mail> delivered(std::size_t expected) {
        auto all = sink_.wait_for(expected);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (store::outbox_repository(db_).count_pending() > 0 &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        EXPECT_EQ(store::outbox_repository(db_).count_pending(), 0);
        return sink_.messages();
    }

    static std::string path_of(const std::string& link) {
        const auto pos = link.find("/reset-password/");
        return pos == std::string::npos ? std::string() : link.substr(pos);
    }

    std::string token_for(int customer_id, std::chrono::system_clock::duration valid_for,
                          const std::string& purpose = "reset") {
        const auto token = auth::random_token();
        const auto now = std::chrono::system_clock::now();
        store::reset_tokens_repository(db_).create(
            customer_id, auth::keyed_hash(test_secret_key(), token), now + valid_for, purpose, now);
        return token;
    }

    http_result set_password(web_client& c, const std::string& path, const std::string& password,
                             const std::string& confirm) {
        const auto page = c.get(path);
        return c.post(path, {{"csrf_token", find_csrf(page.body)},
                             {"password", password},
                             {"password_confirm", confirm}});
    }
};

}  // namespace

TEST_F(password_reset_test,
       forgot_password_emails_one_link_with_both_parts_to_the_account_and_bcc) {
    const int id = add_customer("zoe@acme.example", "Acme Foods", true, "Zoë", "Ñúñez");
    web_client c(portal_.port());
    auto r = request_reset(c, "  ZOE@acme.example ");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/login");
    EXPECT_NE(c.get("/login").body.find("If an account exists for that address"),
              std::string::npos);

    const auto mails = delivered(1);
    ASSERT_EQ(mails.size(), 1u);
    const auto& m = mails[0];
    EXPECT_EQ(m.mail_from, "portal@warehouse.example");
    EXPECT_EQ(m.rcpt_tos,
              (std::vector<std::string>{"zoe@acme.example", "audit-copy@warehouse.example"}));
    EXPECT_EQ(m.header("to"), "Zoë Ñúñez <zoe@acme.example>");
    EXPECT_NE(m.raw_headers.at("to").find("=?UTF-8?B?"), std::string::npos)
        << "the name is RFC 2047-encoded";
    EXPECT_EQ(m.header("bcc"), "") << "Bcc recipients are envelope-only";
    EXPECT_EQ(m.header("from"), "Acme Warehouse <portal@warehouse.example>");
    EXPECT_EQ(m.header("subject"), "Reset your Customer Portal password");
    EXPECT_TRUE(m.header("date").ends_with("+0000")) << m.header("date");
    EXPECT_TRUE(m.header("message-id").ends_with("@warehouse.example>")) << m.header("message-id");
    EXPECT_EQ(m.content_type, "multipart/alternative");
    EXPECT_FALSE(m.eight_bit);
    EXPECT_LE(m.max_line_length, 78);

    const auto link = find_reset_link(m.text);
    ASSERT_FALSE(link.empty()) << m.text;
    EXPECT_TRUE(link.starts_with("https://portal.example.test/reset-password/"))
        << "built from APP_BASE_URL, not Host";
    EXPECT_NE(m.html.find("href=\"" + link + "\""), std::string::npos)
        << "the HTML part carries the same link";
    EXPECT_NE(m.text.find("Zoë"), std::string::npos);
    EXPECT_NE(m.text.find("1 hour"), std::string::npos);
    EXPECT_EQ(m.inline_types, std::vector<std::string>{"image/png"}) << "the logo travels inline";
    EXPECT_NE(m.html.find("src=\"cid:"), std::string::npos);

    // The store keeps only a keyed hash of the 256-bit token, valid for one hour.
    const auto token = link.substr(link.rfind('/') + 1);
    EXPECT_EQ(token.size(), 43u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens WHERE token_hash = '" +
                    auth::keyed_hash(test_secret_key(), token) +
                    "' AND customer_id = " + std::to_string(id)),
              1);
    auto stored = store::reset_tokens_repository(db_).find_by_hash(
        auth::keyed_hash(test_secret_key(), token));
    ASSERT_TRUE(stored);
    const auto lifetime = stored->expiry_date - std::chrono::system_clock::now();
    EXPECT_GT(lifetime, std::chrono::minutes(58));
    EXPECT_LE(lifetime, std::chrono::minutes(60));
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens WHERE token_hash = '" + token + "'"),
              0);
    // Nor does the outbox hold the link legibly: the bodies are sealed with a key from SECRET_KEY.
    EXPECT_EQ(count("SELECT COUNT(*) FROM MailOutbox WHERE text_body LIKE '%" + token +
                    "%' OR html_body LIKE '%" + token + "%'"),
              0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM MailOutbox WHERE text_body LIKE 'enc1:%' AND html_body "
                    "LIKE 'enc1:%'"),
              1);

    auto requests = audit("CUSTOMER_PW_RESET_REQUEST");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].target_customer_id, id);
    EXPECT_EQ(requests[0].details.value_or(""), R"({"result":"link emailed"})");
}

TEST_F(password_reset_test, unknown_inactive_and_known_emails_get_identical_answers) {
    add_customer("known@acme.example");
    add_customer("asleep@acme.example", "Acme Foods", false);
    std::vector<http_result> answers;
    std::vector<std::string> pages;
    for (const char* email : {"known@acme.example", "nobody@acme.example", "asleep@acme.example"}) {
        web_client c(portal_.port());
        answers.push_back(request_reset(c, email));
        pages.push_back(c.get("/login").body);
    }
    for (std::size_t i = 1; i < answers.size(); ++i) {
        EXPECT_EQ(answers[i].status, answers[0].status);
        EXPECT_EQ(answers[i].header("location"), answers[0].header("location"));
        EXPECT_EQ(answers[i].body, answers[0].body);
        EXPECT_EQ(answers[i].all("set-cookie").size(), answers[0].all("set-cookie").size());
        EXPECT_EQ(find_csrf(pages[i]).empty(), find_csrf(pages[0]).empty());
    }
    // Only the active account is written to.
    const auto mails = delivered(1);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].rcpt_tos[0], "known@acme.example");
    const auto requests = audit("CUSTOMER_PW_RESET_REQUEST");
    ASSERT_EQ(requests.size(), 3u);
    std::set<std::string> results;
    for (const auto& e : requests) results.insert(e.details.value_or(""));
    EXPECT_EQ(results, (std::set<std::string>{R"({"result":"link emailed"})",
                                              R"({"result":"unknown email"})",
                                              R"({"result":"inactive account"})"}));
}

TEST_F(password_reset_test, the_link_sets_the_password_once_ends_sessions_and_does_not_sign_in) {
    const int id = add_customer("ada@acme.example");
    db_.with_session([&](soci::session& s) {
        s << "UPDATE Customers SET must_reset_password = 1 WHERE customer_id = :id", soci::use(id);
    });
    auto before = signed_in_customer("ada@acme.example");  // a session from before the reset
    EXPECT_EQ(before.get("/force-change-password").status, 200);

    web_client c(portal_.port());
    request_reset(c, "ada@acme.example");
    const auto link = find_reset_link(delivered(1).at(0).text);
    const auto path = path_of(link);
    ASSERT_FALSE(path.empty());

    auto page = c.get(path);
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
    EXPECT_NE(page.body.find("<meta name=\"referrer\" content=\"no-referrer\">"),
              std::string::npos);
    EXPECT_EQ(page.header("cache-control"), "no-store");
    EXPECT_NE(page.body.find("ada@acme.example"), std::string::npos);
    EXPECT_NE(page.body.find("data-password-rules"), std::string::npos);

    // Refused passwords do not use the link up.
    auto r = set_password(c, path, new_password, "something else entirely");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("do not match"), std::string::npos);
    r = set_password(c, path, "short", "short");
    EXPECT_EQ(r.status, 400);
    r = set_password(c, path, "ada@acme.example", "ada@acme.example");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(c.get(path).status, 200) << "still valid after refused passwords";
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE customer_id = " + std::to_string(id) +
                    " AND must_reset_password = 1"),
              1);

    r = set_password(c, path, new_password, new_password);
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/login");
    EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
    EXPECT_TRUE(c.cookie("portal_session").empty()) << "not signed in automatically";
    EXPECT_NE(c.get("/login").body.find("Your password has been set"), std::string::npos);

    // The old session is gone; the new password works, the old one does not; the flag is cleared.
    EXPECT_EQ(before.get("/inventory").status, 303);
    EXPECT_EQ(
        count("SELECT COUNT(*) FROM ActiveSessions WHERE customer_id = " + std::to_string(id)), 0);
    EXPECT_EQ(web_client(portal_.port()).login("ada@acme.example", customer_password).status, 200)
        << "the old password is refused (the sign-in page again)";
    web_client fresh(portal_.port());
    r = fresh.login("ada@acme.example", new_password);
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/inventory") << "must_reset_password was cleared";
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE customer_id = " + std::to_string(id) +
                    " AND password_hash LIKE '$argon2id$%'"),
              1);

    // Used: a clear message, and a second POST changes nothing.
    page = c.get(path);
    EXPECT_EQ(page.status, 410);
    EXPECT_NE(page.body.find("already been used"), std::string::npos);
    EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
    r = c.post(path, {{"csrf_token", find_csrf(c.get("/forgot-password").body)},
                      {"password", "yet another passphrase"},
                      {"password_confirm", "yet another passphrase"}});
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(web_client(portal_.port()).login("ada@acme.example", new_password).header("location"),
              "/inventory");

    // The notice: no password in it, a way out if it was not them.
    const auto mails = delivered(2);
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(mails[1].header("subject"), "Your Customer Portal password was changed");
    EXPECT_EQ(mails[1].rcpt_tos[0], "ada@acme.example");
    EXPECT_NE(mails[1].text.find("/forgot-password"), std::string::npos);
    for (const auto& m : mails) {
        EXPECT_EQ(m.raw.find(new_password), std::string::npos);
        EXPECT_EQ(m.raw.find(customer_password), std::string::npos);
    }

    const auto resets = audit("CUSTOMER_PW_RESET");
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_EQ(resets[0].target_customer_id, id);
    // The token never reaches the request log, not even from a request refused before the
    // handler runs (no CSRF token: 403).
    const auto token = link.substr(link.rfind('/') + 1);
    EXPECT_EQ(web_client(portal_.port()).post("/reset-password/" + token, {{"password", "x"}}).status, 403);
    EXPECT_EQ(portal_.output().find(token), std::string::npos);
}

TEST_F(password_reset_test, expired_used_and_garbage_links_get_clear_distinct_messages) {
    const int id = add_customer("old@acme.example");
    const auto expired = token_for(id, -std::chrono::minutes(1));
    web_client c(portal_.port());
    auto page = c.get("/reset-password/" + expired);
    EXPECT_EQ(page.status, 410);
    EXPECT_NE(page.body.find("This link has expired"), std::string::npos);
    EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
    EXPECT_EQ(page.body.find("name=\"password\""), std::string::npos) << "no form for a dead link";
    auto r = c.post("/reset-password/" + expired,
                    {{"csrf_token", find_csrf(c.get("/forgot-password").body)},
                     {"password", new_password},
                     {"password_confirm", new_password}});
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(
        web_client(portal_.port()).login("old@acme.example", customer_password).header("location"),
        "/inventory");

    for (const std::string& garbage :
         {std::string("abc"), auth::random_token(), std::string(43, '!'),
          std::string("%3Cscript%3E"), std::string(2000, 'a')}) {
        page = c.get("/reset-password/" + garbage);
        EXPECT_EQ(page.status, 404) << garbage;
        EXPECT_NE(page.body.find("This link is not valid"), std::string::npos) << garbage;
    }
    // A newer link replaces an older one.
    const auto first = token_for(id, std::chrono::hours(1));
    web_client requester(portal_.port());
    request_reset(requester, "old@acme.example");
    delivered(1);
    EXPECT_EQ(c.get("/reset-password/" + first).status, 404);
}

TEST_F(password_reset_test, a_welcome_link_sets_the_first_password) {
    const int id = add_customer("new@acme.example");
    const auto token = token_for(id, std::chrono::hours(72), "welcome");
    web_client c(portal_.port());
    auto page = c.get("/reset-password/" + token);
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("Choose your password"), std::string::npos);
    auto r = set_password(c, "/reset-password/" + token, new_password, new_password);
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(web_client(portal_.port()).login("new@acme.example", new_password).header("location"),
              "/inventory");
    const auto resets = audit("CUSTOMER_PW_RESET");
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_EQ(resets[0].details.value_or(""), R"({"purpose":"welcome"})");
}

TEST_F(password_reset_test, changing_the_password_on_the_change_page_sends_the_notice) {
    add_customer("chg@acme.example");
    auto c = signed_in_customer("chg@acme.example");
    const auto token = find_csrf(c.get("/force-change-password").body);
    auto r = c.post("/force-change-password", {{"csrf_token", token},
                                               {"current_password", customer_password},
                                               {"password", new_password},
                                               {"password_confirm", new_password}});
    EXPECT_EQ(r.status, 303);
    const auto mails = delivered(1);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].header("subject"), "Your Customer Portal password was changed");
    EXPECT_NE(mails[0].text.find("127.0.0.1"), std::string::npos) << "says from where";
    EXPECT_FALSE(mails[0].html.empty());
}

TEST_F(password_reset_test, requests_are_throttled_per_email_quietly_and_per_address_with_429) {
    add_customer("busy@acme.example");
    for (int i = 0; i < 5; ++i) {
        web_client c(portal_.port());
        auto r = request_reset(c, "busy@acme.example");
        EXPECT_EQ(r.status, 303) << "the per-email limit keeps the neutral answer";
    }
    EXPECT_EQ(delivered(3).size(), 3u) << "at most 3 emails per address in the window";
    std::multiset<std::string> results;
    for (const auto& e : audit("CUSTOMER_PW_RESET_REQUEST")) results.insert(e.details.value_or(""));
    EXPECT_EQ(results.count(R"({"result":"link emailed"})"), 3u);
    EXPECT_EQ(results.count(R"j({"result":"throttled (email)"})j"), 2u);

    // 5 accepted so far from 127.0.0.1; the address limit is 10.
    web_client c(portal_.port());
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(request_reset(c, "someone" + std::to_string(i) + "@x.example").status, 303);
    auto r = request_reset(c, "late@x.example");
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(r.header("retry-after").empty());
    EXPECT_NE(r.body.find("Too many reset requests"), std::string::npos);
    // Sign-in is not affected by reset requests.
    EXPECT_EQ(
        web_client(portal_.port()).login("busy@acme.example", customer_password).header("location"),
        "/inventory");
}

TEST_F(password_reset_test, bad_input_is_a_400_with_the_form_again) {
    web_client c(portal_.port());
    auto r = request_reset(c, "not-an-email");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("Enter the email address you sign in with"), std::string::npos);
    r = request_reset(c, "");
    EXPECT_EQ(r.status, 400);
    // Without a CSRF token: 403, nothing sent.
    r = c.post("/forgot-password", {{"email", "x@acme.example"}});
    EXPECT_EQ(r.status, 403);
}

// Without SMTP_SERVER the page says reset links cannot be sent, and a POST stays neutral.
class password_reset_without_mail_test : public admin_fixture {};

TEST_F(password_reset_without_mail_test, the_page_explains_and_nothing_breaks) {
    add_customer("ada@acme.example");
    web_client c(portal_.port());
    auto page = c.get("/forgot-password");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("cannot send email"), std::string::npos);
    auto r = c.post("/forgot-password", {{"csrf_token", find_csrf(c.get("/login").body)},
                                         {"email", "ada@acme.example"}});
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(count("SELECT COUNT(*) FROM MailOutbox"), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);
}
