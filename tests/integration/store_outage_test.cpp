// The local store failing under a running portal (SPEC §8): with the portal's store on a real
// PostgreSQL, the server is stopped (or refuses connections and ends the open ones) while
// customers and admins are signed in. Every request that needs the store gets a clear 503 (a page
// or JSON), the process keeps running, and once the store is back the same sessions work again
// without a restart. And `kill -9` right after a committed change loses nothing.
#include "store/database.hpp"
#include "support/admin_fixture.hpp"
#include "support/pg_cluster.hpp"
#include "support/pg_store.hpp"
#include "support/web_client.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <future>
#include <memory>

using namespace portal;
using namespace portal::testing;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class store_outage : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { cluster_ = new test::pg_cluster(); }
    static void TearDownTestSuite() {
        delete cluster_;
        cluster_ = nullptr;
    }

    void SetUp() override {
        store_ = std::make_unique<pg_store>(*cluster_, unique_store_name("outage"));
        portal_ = start_portal();
        db_ = std::make_unique<store::database>(store_->settings(), 2);
    }

    void TearDown() override {
        // A failed assertion must not leave the next test without its server.
        if (!cluster_->server_running()) cluster_->start_server();
        if (!database_accepts_connections_) set_connections_allowed(true);
        portal_.reset();
        db_.reset();
    }

    std::unique_ptr<portal_process> start_portal() {
        auto env = store_->portal_env();
        env["ADMIN_USERNAME"] = admin_user;
        env["ADMIN_PASSWORD_HASH"] = admin_password_hash();
        return std::make_unique<portal_process>(env);
    }

    int add_customer(const std::string& email) {
        store::new_customer c;
        c.first_name = "Dora";
        c.last_name = "Outage";
        c.email = email;
        c.password_hash = customer_password_hash();
        c.erp_customer_name = "Acme Foods";
        auto r = store::customers_repository(*db_).create(c, std::chrono::system_clock::now());
        EXPECT_EQ(r.status, store::save_status::saved);
        return r.customer_id;
    }

    web_client signed_in_customer(int port, const std::string& email) {
        web_client c(port);
        auto r = c.login(email, customer_password);
        EXPECT_EQ(r.status, 303) << r.body;
        EXPECT_EQ(r.header("location"), "/inventory");
        return c;
    }

    web_client signed_in_admin(int port) {
        web_client c(port);
        auto r = c.admin_login(admin_user, admin_password);
        EXPECT_EQ(r.status, 303) << r.body;
        return c;
    }

    long long count(const std::string& sql) {
        long long n = 0;
        db_->with_session([&](soci::session& s) { s << sql, soci::into(n); });
        return n;
    }

    // The other kind of outage: the server is up but ends every connection to this database and
    // refuses new ones (as a database being restored, or a pooler that lost its backend, does).
    void set_connections_allowed(bool allowed) {
        cluster_->execute("ALTER DATABASE " + store_->name + " ALLOW_CONNECTIONS " +
                          (allowed ? "true" : "false"));
        if (!allowed)
            cluster_->execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                store_->name + "'");
        database_accepts_connections_ = allowed;
    }

    // A 503 that tells the reader what happened and leaks nothing about the store.
    void expect_clear_503(const http_result& r, bool json, const std::string& what) {
        EXPECT_EQ(r.status, 503) << what << ": " << r.body;
        EXPECT_FALSE(r.header("x-request-id").empty()) << what;
        EXPECT_FALSE(r.header("content-security-policy").empty()) << what;
        if (json) {
            EXPECT_TRUE(contains(r.header("content-type"), "application/json")) << what;
            boost::system::error_code ec;
            auto body = boost::json::parse(r.body, ec);
            ASSERT_FALSE(ec) << what << ": " << r.body;
            ASSERT_TRUE(body.is_object() && body.as_object().contains("error"))
                << what << ": " << r.body;
            EXPECT_TRUE(
                contains(std::string(body.at("error").as_string()), "temporarily unavailable"))
                << what << ": " << r.body;
        } else {
            EXPECT_TRUE(contains(r.header("content-type"), "text/html")) << what;
            EXPECT_TRUE(contains(r.body, "temporarily unavailable")) << what << ": " << r.body;
        }
        for (const std::string& secret :
             {store_->password, store_->user, std::string("postgres"), std::string("dbname"),
              ":" + std::to_string(store_->port), std::string("SELECT "), std::string("soci")}) {
            EXPECT_FALSE(contains(r.body, secret))
                << what << " leaks \"" << secret << "\": " << r.body;
        }
    }

    static test::pg_cluster* cluster_;
    std::unique_ptr<pg_store> store_;
    std::unique_ptr<portal_process> portal_;
    std::unique_ptr<store::database> db_;
    bool database_accepts_connections_ = true;
};

test::pg_cluster* store_outage::cluster_ = nullptr;

}  // namespace

TEST_F(store_outage, a_stopped_store_gives_503_and_the_same_sessions_work_again_when_it_is_back) {
    const int id = add_customer("dora@example.com");
    add_customer("other@example.com");
    const int port = portal_->port();
    auto customer = signed_in_customer(port, "dora@example.com");
    auto admin = signed_in_admin(port);
    ASSERT_EQ(customer.get("/inventory").status, 200);
    ASSERT_EQ(admin.get("/admin/customers").status, 200);
    const std::string admin_token = admin.admin_csrf();
    ASSERT_FALSE(admin_token.empty());
    const std::string customer_cookie = customer.cookie("portal_session");
    const std::string admin_cookie = admin.cookie("portal_admin_session");
    // A second browser at the sign-in form, with its pre-session CSRF token, before the outage.
    web_client newcomer(port);
    const std::string newcomer_token = newcomer.csrf_from("/login");
    ASSERT_FALSE(newcomer_token.empty());

    cluster_->stop_server();

    expect_clear_503(customer.get("/inventory"), false, "customer page");
    expect_clear_503(customer.get("/api/v1/inventory"), true, "inventory API");
    expect_clear_503(customer.get("/inventory/export.csv"), false, "export");
    expect_clear_503(admin.get("/admin/customers"), false, "admin page");
    expect_clear_503(admin.post("/admin/customers/" + std::to_string(id) + "/deactivate",
                                {{"csrf_token", admin_token}}),
                     false, "admin write");
    expect_clear_503(newcomer.post("/login", {{"csrf_token", newcomer_token},
                                              {"email", "other@example.com"},
                                              {"password", customer_password},
                                              {"hp_email", ""}}),
                     false, "sign-in");
    // Liveness does not need the store; readiness says which dependency is missing.
    EXPECT_EQ(http_get(port, "/healthz").status, 200);
    auto ready = http_get(port, "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_TRUE(contains(ready.body, "\"store\":false")) << ready.body;

    // Several clients at once during the outage: every one answered, none left hanging.
    std::vector<std::future<int>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::async(std::launch::async, [&, i] {
            web_client c(port);
            c.cookies() = customer.cookies();
            int answered_503 = 0;
            for (int k = 0; k < 10; ++k)
                if (c.get(i % 2 ? "/inventory" : "/api/v1/inventory").status == 503) ++answered_503;
            return answered_503;
        }));
    }
    for (auto& f : clients) EXPECT_EQ(f.get(), 10);
    EXPECT_TRUE(portal_->running()) << portal_->output();
    // A 503 is not a sign-out: the browser keeps its session cookie.
    EXPECT_EQ(customer.cookie("portal_session"), customer_cookie);
    EXPECT_EQ(admin.cookie("portal_admin_session"), admin_cookie);

    cluster_->start_server();

    // Every pooled connection died with the server: each of the next requests must find a good one.
    for (int i = 0; i < 20; ++i) {
        auto page = customer.get("/inventory");
        ASSERT_EQ(page.status, 200)
            << "request " << i << " after the store came back: " << page.body;
    }
    EXPECT_EQ(admin.get("/admin/customers").status, 200);
    EXPECT_TRUE(contains(http_get(port, "/readyz").body, "\"store\":true"));
    EXPECT_EQ(customer.cookie("portal_session"), customer_cookie);
    // The write refused during the outage did not happen, even in part.
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE customer_id = " + std::to_string(id) +
                    " AND is_active = 1"),
              1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_DEACTIVATE'"), 0);
    // The refused sign-in can be made now, with the same form.
    auto late = newcomer.post("/login", {{"csrf_token", newcomer_token},
                                         {"email", "other@example.com"},
                                         {"password", customer_password},
                                         {"hp_email", ""}});
    EXPECT_EQ(late.status, 303) << late.body;
    EXPECT_TRUE(portal_->running());
}

TEST_F(store_outage, a_store_that_ends_connections_and_refuses_new_ones_gives_503_then_recovers) {
    add_customer("dora@example.com");
    const int port = portal_->port();
    auto customer = signed_in_customer(port, "dora@example.com");
    auto admin = signed_in_admin(port);
    ASSERT_EQ(customer.get("/inventory").status, 200);

    set_connections_allowed(false);
    expect_clear_503(customer.get("/inventory"), false, "customer page");
    expect_clear_503(customer.get("/api/v1/inventory"), true, "inventory API");
    expect_clear_503(admin.get("/admin/sessions"), false, "admin page");
    EXPECT_TRUE(portal_->running()) << portal_->output();

    set_connections_allowed(true);
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(customer.get("/inventory").status, 200) << "request " << i;
    EXPECT_EQ(admin.get("/admin/sessions").status, 200);
}

TEST_F(store_outage, kill_minus_nine_right_after_committed_changes_loses_none_of_them) {
    const int id = add_customer("dora@example.com");
    auto customer = signed_in_customer(portal_->port(), "dora@example.com");
    ASSERT_EQ(customer.get("/inventory").status, 200);
    auto admin = signed_in_admin(portal_->port());
    const std::string token = admin.admin_csrf();

    auto created = admin.post("/admin/customers", {{"csrf_token", token},
                                                   {"first_name", "Nina"},
                                                   {"last_name", "New"},
                                                   {"email", "nina@example.com"},
                                                   {"erp_customer_name", "Acme Foods"}});
    ASSERT_EQ(created.status, 303) << created.body;
    auto deactivated = admin.post("/admin/customers/" + std::to_string(id) + "/deactivate",
                                  {{"csrf_token", token}});
    ASSERT_EQ(deactivated.status, 303) << deactivated.body;
    // No graceful anything: the answer has been sent, the process dies at once.
    portal_->kill_hard();

    // Checked straight in the store first, then through a new portal on it.
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE email = 'nina@example.com'"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE customer_id = " + std::to_string(id) +
                    " AND is_active = 0"),
              1);
    EXPECT_EQ(
        count("SELECT COUNT(*) FROM ActiveSessions WHERE customer_id = " + std::to_string(id)), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_CREATE' AND "
                    "target_customer_email = 'nina@example.com'"),
              1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_DEACTIVATE' AND "
                    "target_customer_id = " +
                    std::to_string(id)),
              1);

    portal_ = start_portal();
    const int port = portal_->port();
    web_client old_customer(port);
    old_customer.cookies() = customer.cookies();
    auto page = old_customer.get("/inventory");
    EXPECT_EQ(page.status, 303);
    EXPECT_EQ(page.header("location").rfind("/login", 0), 0u);
    web_client again(port);
    EXPECT_NE(again.login("dora@example.com", customer_password).status, 303);

    // The admin's own session was committed too: it carries over to the new process.
    web_client same_admin(port);
    same_admin.cookies() = admin.cookies();
    auto listed = same_admin.get("/admin/customers?status=all");
    ASSERT_EQ(listed.status, 200);
    EXPECT_TRUE(contains(listed.body, "nina@example.com"));
}
