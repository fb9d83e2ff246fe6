// Outgoing mail against a real SMTP server on loopback (Debian's python3-aiosmtpd): the welcome and
// admin-reset emails (recipient, Bcc, link, both parts, encoded non-ASCII subject and name), the
// durable outbox (SMTP down → the action still succeeds, the mail waits and goes out when the
// server is back, also across a portal restart), a prompt shutdown during a hanging transfer,
// giving up after the last attempt (MAIL_FAILED in the audit log), STARTTLS with AUTH, and
// check-config.
#include "app/application.hpp"
#include "auth/tokens.hpp"
#include "erp/demo_erp.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/outbox_repository.hpp"
#include "store/reset_tokens_repository.hpp"
#include "support/admin_fixture.hpp"
#include "support/smtp_sink.hpp"
#include "web/password_links.hpp"

#include <boost/asio.hpp>

#include <cstdlib>
#include <thread>

using namespace portal;
using namespace portal::testing;

namespace {

template <class Predicate>
bool eventually(Predicate done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return true;
}

app::database_settings sqlite_store(const std::string& path) {
    app::database_settings s;
    s.driver = "sqlite";
    s.name = path;
    return s;
}

int outbox_attempts(store::database& db) {
    int n = -1;
    db.with_session([&](soci::session& s) {
        s << "SELECT COALESCE(MAX(attempts), -1) FROM MailOutbox", soci::into(n);
    });
    return n;
}

std::string outbox_error(store::database& db) {
    std::string e;
    soci::indicator ind{};
    db.with_session([&](soci::session& s) {
        s << "SELECT last_error FROM MailOutbox ORDER BY id DESC LIMIT 1", soci::into(e, ind);
    });
    return ind == soci::i_ok ? e : std::string();
}

long long count_due_now(store::database& db) {
    long long n = 0;
    std::tm now = store::to_db_time(std::chrono::system_clock::now());
    db.with_session([&](soci::session& s) {
        s << "SELECT COUNT(*) FROM MailOutbox WHERE sent_at IS NULL AND next_attempt_at <= :n",
            soci::use(now), soci::into(n);
    });
    return n;
}

// The whole portal in this process (no HTTP): for the emails the admin pages send, without
// depending on those pages.
class in_process_portal {
  public:
    explicit in_process_portal(env_map extra) {
        // The sender reads its test timing from the process environment, as the binary does.
        setenv("MAIL_RETRY_SECONDS", "1", 1);
        env_map env{{"SECRET_KEY", test_secret_key()},
                    {"DB_DRIVER", "sqlite"},
                    {"DB_NAME", dir_.path + "/portal.db"},
                    {"ERP_DB_DRIVER", "sqlite"},
                    {"ERP_DB_NAME", dir_.path + "/no-erp.db"},
                    {"PORTAL_ASSETS_DIR", PORTAL_SOURCE_DIR},
                    {"APP_BASE_URL", "https://portal.example.test"},
                    {"LOG_LEVEL", "warning"}};
        for (auto& [k, v] : extra) env[k] = v;
        app_ = std::make_unique<app::application>(app::make_config(env, {}));
    }
    app::services& svc() { return app_->svc(); }
    store::database& db() { return app_->svc().db; }

    store::customer_record add_customer(const std::string& email, const std::string& first,
                                        const std::string& last) {
        store::new_customer c{first,        last, email, customer_password_hash(),
                              "Acme Foods", true, false};
        const auto r =
            store::customers_repository(db()).create(c, std::chrono::system_clock::now());
        return *store::customers_repository(db()).find_by_id(r.customer_id);
    }

  private:
    temp_dir dir_;
    std::unique_ptr<app::application> app_;
};

}  // namespace

TEST(mail, welcome_and_admin_reset_emails_carry_a_link_in_both_parts_with_encoded_names) {
    smtp_sink sink;
    in_process_portal portal(
        sink.portal_env("audit-copy@warehouse.example, second@warehouse.example"));
    const auto zoe = portal.add_customer("zoe@acme.example", "Zoë", "Ñúñez");

    const auto welcome = web::send_password_link(portal.svc(), zoe, web::link_kind::welcome);
    EXPECT_TRUE(welcome.emailed);
    EXPECT_TRUE(welcome.url.starts_with("https://portal.example.test/reset-password/"))
        << welcome.url;
    auto mails = sink.wait_for(1);
    ASSERT_EQ(mails.size(), 1u);
    const auto w = mails[0];  // a copy: `mails` is assigned again below
    EXPECT_EQ(w.rcpt_tos,
              (std::vector<std::string>{"zoe@acme.example", "audit-copy@warehouse.example",
                                        "second@warehouse.example"}));
    EXPECT_EQ(w.header("subject"), "Welcome to Customer Portal, Zoë");
    EXPECT_TRUE(w.raw_headers.at("subject").starts_with("=?UTF-8?B?"))
        << w.raw_headers.at("subject");
    EXPECT_EQ(w.header("to"), "Zoë Ñúñez <zoe@acme.example>");
    EXPECT_EQ(w.header("bcc"), "");
    EXPECT_FALSE(w.eight_bit) << "7-bit on the wire: headers encoded, bodies quoted-printable";
    EXPECT_EQ(find_reset_link(w.text), welcome.url);
    EXPECT_NE(w.html.find("href=\"" + welcome.url + "\""), std::string::npos);
    EXPECT_NE(w.text.find("72 hours"), std::string::npos);
    EXPECT_NE(w.html.find("Welcome, Zoë"), std::string::npos);
    EXPECT_NE(w.text.find("Customer Portal"), std::string::npos);
    EXPECT_EQ(w.inline_types, std::vector<std::string>{"image/png"});
    EXPECT_FALSE(w.header("date").empty());
    EXPECT_FALSE(w.header("message-id").empty());
    EXPECT_EQ(w.header("auto-submitted"), "auto-generated");

    auto token = welcome.url.substr(welcome.url.rfind('/') + 1);
    auto stored = store::reset_tokens_repository(portal.db())
                      .find_by_hash(auth::keyed_hash(test_secret_key(), token));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->purpose.value_or(""), "welcome");
    EXPECT_GT(stored->expiry_date - std::chrono::system_clock::now(), std::chrono::hours(71));

    const auto reset = web::send_password_link(portal.svc(), zoe, web::link_kind::reset);
    EXPECT_TRUE(reset.emailed);
    mails = sink.wait_for(2);
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(mails[1].header("subject"), "Set a new password for Customer Portal");
    EXPECT_EQ(find_reset_link(mails[1].text), reset.url);
    EXPECT_NE(mails[1].text.find("1 hour"), std::string::npos);
    EXPECT_NE(mails[1].header("message-id"), w.header("message-id"));
    // The newer link replaced the welcome link.
    EXPECT_FALSE(store::reset_tokens_repository(portal.db())
                     .find_by_hash(auth::keyed_hash(test_secret_key(), token)));
    token = reset.url.substr(reset.url.rfind('/') + 1);
    stored = store::reset_tokens_repository(portal.db())
                 .find_by_hash(auth::keyed_hash(test_secret_key(), token));
    ASSERT_TRUE(stored);
    EXPECT_LE(stored->expiry_date - std::chrono::system_clock::now(), std::chrono::hours(1));

    // Each exactly once: nothing left to send and nothing more arrived.
    EXPECT_TRUE(
        eventually([&] { return store::outbox_repository(portal.db()).count_pending() == 0; }));
    EXPECT_EQ(sink.messages().size(), 2u);
}

TEST(mail, without_smtp_the_link_is_not_emailed) {
    in_process_portal portal({});
    const auto ada = portal.add_customer("ada@acme.example", "Ada", "Lovelace");
    const auto link = web::send_password_link(portal.svc(), ada, web::link_kind::welcome);
    EXPECT_FALSE(link.emailed);
    EXPECT_TRUE(link.url.starts_with("https://portal.example.test/reset-password/"));
    EXPECT_EQ(store::outbox_repository(portal.db()).count_pending(), 0);
}

TEST(mail, smtp_down_the_action_succeeds_and_the_mail_goes_out_when_the_server_is_back) {
    const int port = free_port();  // nothing listens here yet
    env_map env = smtp_sink::portal_env_for(port);
    in_process_portal portal(env);
    const auto ada = portal.add_customer("ada@acme.example", "Ada", "Lovelace");

    const auto link = web::send_password_link(portal.svc(), ada, web::link_kind::welcome);
    EXPECT_TRUE(link.emailed) << "queued: the admin's action does not wait for SMTP";
    ASSERT_TRUE(eventually([&] { return outbox_attempts(portal.db()) >= 1; }))
        << "the sender tried and failed";
    EXPECT_FALSE(outbox_error(portal.db()).empty());
    EXPECT_EQ(store::outbox_repository(portal.db()).count_pending(), 1);

    smtp_sink sink(port);
    const auto mails = sink.wait_for(1);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(find_reset_link(mails[0].text), link.url);
    EXPECT_TRUE(
        eventually([&] { return store::outbox_repository(portal.db()).count_pending() == 0; }));
}

TEST(mail, mail_pending_at_shutdown_is_delivered_by_the_next_start) {
    temp_dir store_dir;
    const int port = free_port();
    const env_map env = smtp_sink::portal_env_for(port);
    store::database db(sqlite_store(store_dir.path + "/portal.db"));
    {
        portal_process first(env, {"serve"}, store_dir.path);
        store::new_customer c{
            "Ada", "Lovelace", "ada@acme.example", customer_password_hash(), "Acme Foods",
            true,  false};
        store::customers_repository(db).create(c, std::chrono::system_clock::now());
        web_client browser(first.port());
        const auto token = browser.csrf_from("/forgot-password");
        auto r = browser.post("/forgot-password",
                              {{"csrf_token", token}, {"email", "ada@acme.example"}});
        EXPECT_EQ(r.status, 303) << "the request succeeds with the mail server down";
        ASSERT_TRUE(eventually([&] { return outbox_attempts(db) >= 1; })) << first.output();
        EXPECT_EQ(first.terminate(), 0);
    }
    EXPECT_EQ(store::outbox_repository(db).count_pending(), 1);

    smtp_sink sink(port);
    portal_process second(env, {"serve"}, store_dir.path);
    const auto mails = sink.wait_for(1);
    ASSERT_EQ(mails.size(), 1u) << second.output();
    EXPECT_EQ(mails[0].rcpt_tos.at(0), "ada@acme.example");
    const auto link = find_reset_link(mails[0].text);
    ASSERT_FALSE(link.empty());
    EXPECT_EQ(http_get(second.port(), link.substr(link.find("/reset-password/"))).status, 200)
        << "and the link works";
    EXPECT_TRUE(eventually([&] { return store::outbox_repository(db).count_pending() == 0; }));
    EXPECT_EQ(sink.messages().size(), 1u);
}

TEST(mail, shutdown_does_not_wait_for_a_hanging_mail_server_and_hands_the_message_back) {
    // A server that accepts the connection and then says nothing.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    silent.non_blocking(true);
    temp_dir store_dir;
    portal_process portal(smtp_sink::portal_env_for(silent.local_endpoint().port()), {"serve"},
                          store_dir.path);
    store::database db(sqlite_store(store_dir.path + "/portal.db"));
    store::outbound_mail mail{"ada@acme.example", "", "Hello", "text", ""};
    store::outbox_repository(db).enqueue(mail, std::chrono::system_clock::now());

    boost::asio::ip::tcp::socket held(io);
    ASSERT_TRUE(eventually([&] {
        boost::system::error_code ec;
        silent.accept(held, ec);
        return !ec;
    })) << "the sender connected";
    EXPECT_EQ(portal.terminate(std::chrono::seconds(8)), 0)
        << "stopped promptly, not after the SMTP timeout";
    EXPECT_EQ(outbox_attempts(db), 0)
        << "an interrupted transfer is not counted as a failed attempt";
    EXPECT_EQ(store::outbox_repository(db).count_pending(), 1);
    EXPECT_EQ(count_due_now(db), 1) << "handed back: due again at once, not hidden for the lease";
}

TEST(mail, the_last_failed_attempt_gives_up_and_is_audited) {
    temp_dir store_dir;
    portal_process portal(smtp_sink::portal_env_for(free_port()), {"serve"}, store_dir.path);
    store::database db(sqlite_store(store_dir.path + "/portal.db"));
    store::outbound_mail mail{"\"Ada\" <ada@acme.example>", "", "Welcome", "text", ""};
    const auto id = store::outbox_repository(db).enqueue(mail, std::chrono::system_clock::now());
    int almost = store::outbox_max_attempts - 1;
    db.with_session([&](soci::session& s) {
        s << "UPDATE MailOutbox SET attempts = :a WHERE id = :id", soci::use(almost), soci::use(id);
    });

    std::vector<store::audit_entry> failed;
    ASSERT_TRUE(eventually([&] {
        store::audit_filter f;
        f.action_type = "MAIL_FAILED";
        failed = store::audit_repository(db).list(f);
        return !failed.empty();
    })) << portal.output();
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].admin_username, "SYSTEM");
    EXPECT_EQ(failed[0].target_customer_email.value_or(""), "ada@acme.example");
    EXPECT_NE(failed[0].details.value_or("").find("\"outbox_id\":" + std::to_string(id)),
              std::string::npos);
    EXPECT_EQ(store::outbox_repository(db).count_failed(), 1);
    EXPECT_EQ(store::outbox_repository(db).count_pending(), 0);
    EXPECT_NE(portal.output().find("given up"), std::string::npos) << "and logged";
}

TEST(mail, starttls_and_login_when_configured) {
    temp_dir certs;
    const std::string cert = certs.path + "/cert.pem", key = certs.path + "/key.pem";
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    smtp_sink sink(0, {"mailer:s3cret pass", cert, key});
    env_map env = sink.portal_env();
    env["SMTP_USE_TLS"] = "True";
    env["SMTP_USERNAME"] = "mailer";
    env["SMTP_PASSWORD"] = "s3cret pass";

    {
        // Without trusting the server's certificate nothing is sent: certificates are verified.
        temp_dir store_dir;
        portal_process portal(env, {"serve"}, store_dir.path);
        store::database db(sqlite_store(store_dir.path + "/portal.db"));
        store::outbound_mail mail{"ada@acme.example", "", "Hello", "text", ""};
        store::outbox_repository(db).enqueue(mail, std::chrono::system_clock::now());
        ASSERT_TRUE(eventually([&] { return outbox_attempts(db) >= 1; }));
        EXPECT_NE(outbox_error(db).find("certificate"), std::string::npos) << outbox_error(db);
        EXPECT_EQ(portal.output().find("s3cret"), std::string::npos)
            << "the password is never logged";
    }
    EXPECT_TRUE(sink.messages().empty());

    env["CURL_CA_BUNDLE"] = cert;
    temp_dir store_dir;
    portal_process portal(env, {"serve"}, store_dir.path);
    store::database db(sqlite_store(store_dir.path + "/portal.db"));
    store::outbound_mail mail{"ada@acme.example", "", "Hello", "text", ""};
    store::outbox_repository(db).enqueue(mail, std::chrono::system_clock::now());
    const auto mails = sink.wait_for(1);
    ASSERT_EQ(mails.size(), 1u) << portal.output();
    EXPECT_TRUE(mails[0].tls);
    EXPECT_EQ(mails[0].auth_login, "mailer");
}

TEST(mail, check_config_reports_each_dependency_on_one_line) {
    temp_dir dir;
    erp::build_demo_erp(dir.path + "/erp.db");
    smtp_sink sink;
    env_map env = sink.portal_env();
    env["SECRET_KEY"] = test_secret_key();
    env["DB_NAME"] = dir.path + "/portal.db";
    env["ERP_DB_DRIVER"] = "sqlite";
    env["ERP_DB_NAME"] = dir.path + "/erp.db";
    env["PORTAL_ASSETS_DIR"] = PORTAL_SOURCE_DIR;

    auto r = run_portal({"check-config"}, env, dir.path);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("local store: ok"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ERP: ok"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("SMTP: ok, 127.0.0.1:" + std::to_string(sink.port())),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("LDAP: not configured"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("admin sign-in: closed"), std::string::npos) << r.output;
    env["ADMIN_USERNAME"] = "boss";
    env["ADMIN_PASSWORD_HASH"] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA";
    r = run_portal({"check-config"}, env, dir.path);
    EXPECT_NE(r.output.find("admin sign-in: local super-admin 'boss'"), std::string::npos) << r.output;

    sink.stop();
    r = run_portal({"check-config"}, env, dir.path);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("SMTP: FAILED"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ERP: ok"), std::string::npos) << r.output;

    env.erase("SMTP_SERVER");
    r = run_portal({"check-config"}, env, dir.path);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("SMTP: not configured"), std::string::npos) << r.output;

    env["SMTP_SERVER"] = "127.0.0.1";
    env["EMAIL_FROM"] = "not an address";
    r = run_portal({"check-config"}, env, dir.path);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("EMAIL_FROM"), std::string::npos) << r.output;
}
