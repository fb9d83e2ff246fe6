// Several instances behave as one (SPEC §8): one PostgreSQL store, two portal instances on
// loopback sharing it (same SECRET_KEY), and Debian's haproxy in front of them, round robin.
// Through the balancer a customer's requests land on alternating instances and all work with the
// one session; a kick or a deactivation made on one instance holds on the other at the very next
// request; sign-in throttling counts across both; a set-password link made on one instance is
// shown once by the page the other renders; and killing one instance mid-load loses no committed
// change while the other keeps serving.
#include "store/database.hpp"
#include "support/admin_fixture.hpp"
#include "support/haproxy.hpp"
#include "support/pg_cluster.hpp"
#include "support/pg_store.hpp"
#include "support/web_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using namespace portal;
using namespace portal::testing;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The instance that answered, as haproxy names it ("a" or "b").
std::string served_by(const http_result& r) {
    return r.header("x-served-by");
}

// The per-instance tag that starts every X-Request-Id the portal sends.
std::string request_tag(const http_result& r) {
    const auto id = r.header("x-request-id");
    return id.substr(0, id.find('-'));
}

class scale_out : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { cluster_ = new test::pg_cluster(); }
    static void TearDownTestSuite() {
        delete cluster_;
        cluster_ = nullptr;
    }

    void SetUp() override {
        store_ = std::make_unique<pg_store>(*cluster_, unique_store_name("scale"));
        auto env = store_->portal_env();
        env["ADMIN_USERNAME"] = admin_user;
        env["ADMIN_PASSWORD_HASH"] = admin_password_hash();
        // The balancer's X-Forwarded-For is believed, as in a real deployment.
        env["TRUSTED_PROXIES"] = "127.0.0.1";
        // Both at once on an empty database, as a site's instances start after a deployment: the
        // migrations must serialise themselves.
        auto first =
            std::async(std::launch::async, [env] { return std::make_unique<portal_process>(env); });
        auto second =
            std::async(std::launch::async, [env] { return std::make_unique<portal_process>(env); });
        instances_["a"] = first.get();
        instances_["b"] = second.get();
        balancer_ = std::make_unique<haproxy>(std::vector<haproxy_server>{
            {"a", instances_["a"]->port()}, {"b", instances_["b"]->port()}});
        balancer_->wait_for_status("a", "UP");
        balancer_->wait_for_status("b", "UP");
        db_ = std::make_unique<store::database>(store_->settings(), 2);
        for (const auto& [name, p] : instances_)
            tags_[name] = request_tag(http_get(p->port(), "/healthz"));
        ASSERT_NE(tags_["a"], tags_["b"]);
    }

    void TearDown() override {
        if (HasFailure() && balancer_) std::cerr << "haproxy log:\n" << balancer_->output() << "\n";
        balancer_.reset();
        instances_.clear();
        db_.reset();
    }

    portal_process& instance(const std::string& name) { return *instances_.at(name); }
    static std::string other(const std::string& name) { return name == "a" ? "b" : "a"; }

    int add_customer(const std::string& email) {
        store::new_customer c;
        c.first_name = "Sam";
        c.last_name = "Scale";
        c.email = email;
        c.password_hash = customer_password_hash();
        c.erp_customer_name = "Acme Foods";
        auto r = store::customers_repository(*db_).create(c, std::chrono::system_clock::now());
        EXPECT_EQ(r.status, store::save_status::saved);
        return r.customer_id;
    }

    web_client via_balancer() { return web_client(balancer_->port()); }

    // A client of one instance directly (bypassing the balancer) with `from`'s cookies.
    web_client direct(const std::string& name, web_client& from) {
        web_client c(instance(name).port());
        c.cookies() = from.cookies();
        return c;
    }

    web_client signed_in_customer(const std::string& email) {
        auto c = via_balancer();
        auto r = c.login(email, customer_password);
        EXPECT_EQ(r.status, 303) << r.body;
        EXPECT_EQ(r.header("location"), "/inventory");
        return c;
    }

    web_client signed_in_admin() {
        auto c = via_balancer();
        auto r = c.admin_login(admin_user, admin_password);
        EXPECT_EQ(r.status, 303) << r.body;
        return c;
    }

    long long count(const std::string& sql) {
        long long n = 0;
        db_->with_session([&](soci::session& s) { s << sql, soci::into(n); });
        return n;
    }

    std::string session_id_of(int customer_id) {
        std::string id;
        db_->with_session([&](soci::session& s) {
            s << "SELECT session_id FROM ActiveSessions WHERE customer_id = :id",
                soci::use(customer_id), soci::into(id);
        });
        return id;
    }

    // The customer's next request through the balancer, which must be answered by `expected`.
    http_result next_request_on(web_client& c, const std::string& expected,
                                const std::string& target) {
        auto r = c.get(target);
        EXPECT_EQ(served_by(r), expected)
            << "round robin should have sent this request to " << expected;
        return r;
    }

    static void expect_signed_out(const http_result& page, const std::string& what) {
        EXPECT_EQ(page.status, 303) << what << ": " << page.body;
        EXPECT_EQ(page.header("location").rfind("/login", 0), 0u)
            << what << ": " << page.header("location");
    }

    static test::pg_cluster* cluster_;
    std::unique_ptr<pg_store> store_;
    std::map<std::string, std::unique_ptr<portal_process>> instances_;
    std::map<std::string, std::string> tags_;
    std::unique_ptr<haproxy> balancer_;
    std::unique_ptr<store::database> db_;
};

test::pg_cluster* scale_out::cluster_ = nullptr;

}  // namespace

TEST_F(scale_out, one_session_works_on_alternating_instances) {
    add_customer("sam@example.com");
    auto c = via_balancer();
    // The sign-in form comes from one instance and is posted to the other: its CSRF token and the
    // pre-session cookie hold on both.
    auto form = c.get("/login");
    ASSERT_EQ(form.status, 200);
    auto login = c.post("/login", {{"csrf_token", find_csrf(form.body)},
                                   {"email", "sam@example.com"},
                                   {"password", customer_password},
                                   {"hp_email", ""}});
    ASSERT_EQ(login.status, 303) << login.body;
    EXPECT_NE(served_by(login), served_by(form));

    std::map<std::string, int> answered;
    std::string previous = served_by(login);
    for (int i = 0; i < 12; ++i) {
        auto r = c.get(i % 3 == 2 ? "/inventory?part=A-100" : "/inventory");
        ASSERT_EQ(r.status, 200) << "request " << i << " on " << served_by(r) << ": " << r.body;
        const auto by = served_by(r);
        EXPECT_NE(by, previous) << "request " << i << " did not alternate";
        // The portal's own request id says the same instance answered.
        EXPECT_EQ(request_tag(r), tags_[by]) << "request " << i;
        ++answered[by];
        previous = by;
    }
    EXPECT_EQ(answered["a"], 6);
    EXPECT_EQ(answered["b"], 6);

    // An admin too: signed in through one, working on both.
    auto admin = signed_in_admin();
    std::set<std::string> admin_instances;
    for (int i = 0; i < 4; ++i) {
        auto r = admin.get("/admin/customers");
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_TRUE(contains(r.body, "sam@example.com"));
        admin_instances.insert(served_by(r));
    }
    EXPECT_EQ(admin_instances.size(), 2u);

    // Signing out on one instance signs out on both.
    const auto session_cookie = c.cookie("portal_session");
    ASSERT_FALSE(session_cookie.empty());
    auto home = c.get("/inventory");
    ASSERT_EQ(home.status, 200);
    auto out = c.post("/logout", {{"csrf_token", find_csrf(home.body)}});
    ASSERT_EQ(out.status, 303) << out.body;
    for (const std::string name : {"a", "b"}) {
        web_client stale(instance(name).port());
        stale.cookies()["portal_session"] = session_cookie;
        expect_signed_out(stale.get("/inventory"), "the signed-out session's cookie on " + name);
    }
}

TEST_F(scale_out, a_kick_on_one_instance_signs_the_customer_out_on_the_other_at_once) {
    const int id = add_customer("sam@example.com");
    auto customer = signed_in_customer("sam@example.com");
    // Each instance has served this session already, so nothing of it can be "learnt" later.
    for (const std::string name : {"a", "b"})
        ASSERT_EQ(direct(name, customer).get("/inventory").status, 200) << name;

    auto admin = signed_in_admin();
    const auto token = admin.admin_csrf();
    ASSERT_FALSE(token.empty());
    const auto session_id = session_id_of(id);
    ASSERT_FALSE(session_id.empty());

    auto kicked = admin.post("/admin/sessions/" + session_id + "/kick", {{"csrf_token", token}});
    ASSERT_EQ(kicked.status, 303) << kicked.body;
    const auto on = served_by(kicked);
    ASSERT_FALSE(on.empty());

    expect_signed_out(next_request_on(customer, other(on), "/inventory"),
                      "next request on the other instance");
    for (const std::string name : {"a", "b"}) {
        expect_signed_out(direct(name, customer).get("/inventory"), "page on " + name);
        EXPECT_EQ(direct(name, customer).get("/api/v1/inventory").status, 401) << name;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_SESSION_KICK' AND "
                    "target_customer_id = " +
                    std::to_string(id)),
              1);
    // The kick ended that session only: signing in again works, through either.
    EXPECT_EQ(signed_in_customer("sam@example.com").get("/inventory").status, 200);
}

TEST_F(scale_out, a_deactivation_on_one_instance_signs_the_customer_out_on_the_other_at_once) {
    const int id = add_customer("sam@example.com");
    auto customer = signed_in_customer("sam@example.com");
    for (const std::string name : {"a", "b"})
        ASSERT_EQ(direct(name, customer).get("/inventory").status, 200) << name;

    auto admin = signed_in_admin();
    const auto token = admin.admin_csrf();
    auto done = admin.post("/admin/customers/" + std::to_string(id) + "/deactivate",
                           {{"csrf_token", token}});
    ASSERT_EQ(done.status, 303) << done.body;
    const auto on = served_by(done);
    ASSERT_FALSE(on.empty());

    expect_signed_out(next_request_on(customer, other(on), "/inventory"),
                      "next request on the other instance");
    // The confirmation travels in a cookie, so the page after the redirect shows it whichever
    // instance renders it.
    auto confirmation = direct(other(on), admin).get(done.header("location"));
    EXPECT_EQ(confirmation.status, 200);
    EXPECT_TRUE(contains(confirmation.body, "The account has been deactivated"))
        << confirmation.body;
    for (const std::string name : {"a", "b"}) {
        expect_signed_out(direct(name, customer).get("/inventory"), "page on " + name);
        // And the account cannot sign in again on either.
        web_client again(instance(name).port());
        auto r = again.login("sam@example.com", customer_password);
        EXPECT_NE(r.status, 303) << name;
        EXPECT_TRUE(again.cookie("portal_session").empty()) << name;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_DEACTIVATE' AND "
                    "target_customer_id = " +
                    std::to_string(id)),
              1);
}

TEST_F(scale_out, sign_in_throttling_counts_failures_on_both_instances) {
    add_customer("sam@example.com");
    auto c = via_balancer();
    const auto token = c.csrf_from("/login");
    ASSERT_FALSE(token.empty());
    std::map<std::string, int> failures;
    for (int i = 0; i < 10; ++i) {
        auto r = c.post("/login", {{"csrf_token", token},
                                   {"email", i % 2 ? "Sam@Example.com" : "sam@example.com"},
                                   {"password", "wrong password " + std::to_string(i)},
                                   {"hp_email", ""}});
        ASSERT_EQ(r.status, 200) << "attempt " << i << ": " << r.body;
        EXPECT_TRUE(c.cookie("portal_session").empty());
        ++failures[served_by(r)];
    }
    // Spread over both: neither instance alone has seen ten.
    EXPECT_EQ(failures["a"], 5);
    EXPECT_EQ(failures["b"], 5);

    // The eleventh — with the right password — is refused, wherever it lands.
    for (const std::string name : {"a", "b"}) {
        web_client direct_client(instance(name).port());
        auto r = direct_client.login("sam@example.com", customer_password);
        EXPECT_EQ(r.status, 429) << name << ": " << r.body;
        EXPECT_FALSE(r.header("retry-after").empty()) << name;
        EXPECT_TRUE(direct_client.cookie("portal_session").empty()) << name;
    }
    auto through = c.post("/login", {{"csrf_token", token},
                                     {"email", "sam@example.com"},
                                     {"password", customer_password},
                                     {"hp_email", ""}});
    EXPECT_EQ(through.status, 429);
    // Another account is not affected.
    add_customer("kim@example.com");
    EXPECT_EQ(via_balancer().login("kim@example.com", customer_password).status, 303);
}

TEST_F(scale_out,
       killing_one_instance_mid_load_loses_no_committed_change_and_the_other_keeps_serving) {
    add_customer("sam@example.com");
    auto customer = signed_in_customer("sam@example.com");
    auto admin = signed_in_admin();
    const auto token = admin.admin_csrf();
    ASSERT_FALSE(token.empty());

    struct outcome {
        std::string email;  // empty for reads
        int status;
        std::string served_by;
        bool after_down;
    };
    std::mutex mutex;
    std::vector<outcome> writes, reads;
    std::atomic<bool> stop{false}, down{false};
    std::atomic<int> writes_ok{0}, reads_ok{0};

    // Admin work: create customers (a customer row and an audit row each), one after another.
    auto writer = std::async(std::launch::async, [&] {
        web_client w(balancer_->port());
        w.cookies() = admin.cookies();
        for (int i = 0; !stop; ++i) {
            const auto email = "load-" + std::to_string(i) + "@example.com";
            const bool was_down = down;
            http_result r;
            try {
                r = w.post("/admin/customers", {{"csrf_token", token},
                                                {"first_name", "Load"},
                                                {"last_name", std::to_string(i)},
                                                {"email", email},
                                                {"erp_customer_name", "Acme Foods"}});
            } catch (const std::exception&) {
                r.status = -1;  // the balancer dropped the connection
            }
            std::lock_guard lock(mutex);
            writes.push_back({email, r.status, served_by(r), was_down});
            if (r.status == 303) ++writes_ok;
        }
    });
    // Customer work: reads, two clients.
    std::vector<std::future<void>> readers;
    for (int k = 0; k < 2; ++k) {
        readers.push_back(std::async(std::launch::async, [&] {
            web_client rc(balancer_->port());
            rc.cookies() = customer.cookies();
            while (!stop) {
                const bool was_down = down;
                http_result r;
                try {
                    r = rc.get("/inventory");
                } catch (const std::exception&) {
                    r.status = -1;
                }
                std::lock_guard lock(mutex);
                reads.push_back({{}, r.status, served_by(r), was_down});
                if (r.status == 200) ++reads_ok;
            }
        }));
    }
    // Polls the counters the workers keep; false (and the workers stopped) after a minute.
    const auto wait_until = [&](const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                stop = true;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    };

    ASSERT_TRUE(wait_until([&] { return writes_ok >= 6 && reads_ok >= 20; }))
        << "no load before the kill";
    instance("a").kill_hard();
    try {
        balancer_->wait_for_status("a", "DOWN");
    } catch (const std::exception& e) {
        stop = true;
        FAIL() << e.what();
    }
    down = true;
    const int writes_at_down = writes_ok, reads_at_down = reads_ok;
    ASSERT_TRUE(wait_until([&] {
        return writes_ok >= writes_at_down + 6 && reads_ok >= reads_at_down + 20;
    })) << "the load stalled after the kill";
    stop = true;
    writer.get();
    for (auto& r : readers) r.get();

    // Reads are idempotent: one cut off by the kill was retried on b by the balancer.
    int reads_on_a = 0;
    for (const auto& r : reads) {
        EXPECT_EQ(r.status, 200) << "a read " << (r.after_down ? "after" : "before")
                                 << " a was down, served by " << r.served_by;
        if (r.after_down) {
            EXPECT_EQ(r.served_by, "b");
        }
        if (r.served_by == "a") ++reads_on_a;
    }
    EXPECT_GT(reads_on_a, 0) << "the load did not reach a before it was killed";

    // Writes: every one answered 303 is in the store with its audit entry. A write cut off by the
    // kill is not retried (it may have been committed). Besides the one in flight, one sent before
    // the balancer marked a down can fail too (on a kept-alive connection to the dead instance), so
    // failures are bounded by time (none after a is down), not by count.
    int failed = 0;
    for (const auto& w : writes) {
        const auto in_store =
            count("SELECT COUNT(*) FROM Customers WHERE email = '" + w.email + "'");
        const auto audited = count(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_CREATE' AND "
            "target_customer_email = '" +
            w.email + "'");
        if (w.status == 303) {
            EXPECT_EQ(in_store, 1)
                << w.email << " was answered 303 by " << w.served_by << " but is not in the store";
            EXPECT_EQ(audited, 1) << w.email << " was answered 303 by " << w.served_by
                                  << " but has no audit entry";
        } else {
            ++failed;
            EXPECT_FALSE(w.after_down)
                << w.email << " failed with " << w.status << " after a was marked down";
            EXPECT_TRUE(w.status == 502 || w.status == 503 || w.status == -1)
                << w.email << ": " << w.status;
        }
        if (w.after_down) {
            EXPECT_EQ(w.served_by, "b") << w.email;
        }
    }
    std::cout << "[ load     ] " << writes.size() << " creates (" << failed
              << " cut off by the kill), " << reads.size() << " reads (" << reads_on_a
              << " on a before it died)\n";

    // The survivor carries on with the same sessions.
    EXPECT_TRUE(instance("b").running()) << instance("b").output();
    auto page = customer.get("/inventory");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(served_by(page), "b");
    EXPECT_EQ(admin.get("/admin/customers").status, 200);
}

// When mail is not set up, the set-password link of a new account is shown once by the page the
// create redirects to. Behind a round-robin balancer that page is rendered by the other instance:
// the link waits in the store, on the admin's session row (web/link_notices.hpp), so that instance
// shows it, and once shown it is gone for both.
TEST_F(scale_out, a_new_accounts_link_notice_shows_after_the_redirect_lands_on_the_other_instance) {
    auto admin = signed_in_admin();
    auto created = admin.post("/admin/customers", {{"csrf_token", admin.admin_csrf()},
                                                   {"first_name", "Nina"},
                                                   {"last_name", "New"},
                                                   {"email", "nina@example.com"},
                                                   {"erp_customer_name", "Acme Foods"}});
    ASSERT_EQ(created.status, 303) << created.body;
    auto page = admin.get(created.header("location"));
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(served_by(page), other(served_by(created)));
    EXPECT_TRUE(contains(page.body, "The welcome email was not sent"))
        << "no set-password link shown";
    EXPECT_TRUE(contains(page.body, "/reset-password/"));
    // Shown once: the next look, on the instance that made the link, has nothing.
    auto again = admin.get(created.header("location"));
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(served_by(again), served_by(created));
    EXPECT_FALSE(contains(again.body, "The welcome email was not sent"));
    EXPECT_FALSE(contains(again.body, "/reset-password/"));
    EXPECT_EQ(count("SELECT COUNT(*) FROM AdminSessions WHERE pending_notice IS NOT NULL"), 0);
}
