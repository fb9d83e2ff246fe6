// The store functions behind /admin/sessions and /admin/audit on every back end that can run here
// (SQLite, PostgreSQL natively and through ODBC): PortalSettings (migration 3), the audit export's
// keyset pages, the idle-only session delete, and one housekeeping run at a fixed instant.
#include "app/housekeeping.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/login_attempts_repository.hpp"
#include "store/migrations.hpp"
#include "store/sessions_repository.hpp"
#include "store/settings_repository.hpp"
#include "support/pg_cluster.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>

namespace store = portal::store;
using namespace std::chrono_literals;
using store::time_point;

namespace {

portal::test::pg_cluster& cluster() {
    static std::unique_ptr<portal::test::pg_cluster> instance = [] {
        auto c = std::make_unique<portal::test::pg_cluster>();
        c->execute("CREATE ROLE portal_admin_pages LOGIN PASSWORD 'pages-secret'");
        return c;
    }();
    return *instance;
}

time_point base_time() {
    return std::chrono::sys_days{std::chrono::year{2026} / 3 / 10} + 12h;
}

std::string unique_name(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

class sessions_audit_store_test : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        portal::app::database_settings settings;
        settings.timeout_seconds = 10;
        if (GetParam() == "sqlite") {
            dir_ = std::filesystem::temp_directory_path() / unique_name("portal_admin_pages");
            std::filesystem::create_directories(dir_);
            settings.driver = "sqlite";
            settings.name = (dir_ / "portal.db").string();
        } else {
            const std::string name = unique_name("admin_pages");
            cluster().execute("CREATE DATABASE " + name + " OWNER portal_admin_pages");
            settings.driver = GetParam() == "postgresql" ? "postgresql" : "PostgreSQL Unicode";
            settings.server = cluster().host();
            settings.port = cluster().port();
            settings.name = name;
            settings.username = "portal_admin_pages";
            settings.password = "pages-secret";
        }
        db_ = std::make_unique<store::database>(settings, 2);
        store::migrate(*db_);
        cfg_.secret_key = std::string(48, 'k');
    }
    void TearDown() override {
        db_.reset();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    int make_customer(const std::string& email) {
        store::new_customer c;
        c.first_name = "Ada";
        c.last_name = "Lovelace";
        c.email = email;
        c.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
        c.erp_customer_name = "Acme Foods";
        return store::customers_repository(*db_).create(c, base_time()).customer_id;
    }

    void add_session(const std::string& id, int customer, time_point last_seen) {
        store::customer_session_record r;
        r.session_id = id;
        r.customer_id = customer;
        r.created_at = base_time() - 1h;
        r.last_seen = last_seen;
        r.expires_at = base_time() + 7h;
        r.ip_address = "192.0.2.1";
        r.csrf_secret = "c";
        store::sessions_repository(*db_).create_customer_session(r);
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::database> db_;
    portal::app::config cfg_;
};

}  // namespace

TEST_P(sessions_audit_store_test, settings_are_created_replaced_and_cleared) {
    store::settings_repository settings(*db_);
    EXPECT_FALSE(settings.find("session_idle_limit_minutes"));
    settings.save("session_idle_limit_minutes", std::string("30"), "admin", base_time());
    auto found = settings.find("session_idle_limit_minutes");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->value, "30");
    EXPECT_EQ(found->updated_by, "admin");
    EXPECT_EQ(found->updated_at, base_time());
    settings.save("session_idle_limit_minutes", std::nullopt, "other", base_time() + 1min);
    found = settings.find("session_idle_limit_minutes");
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->value);
    EXPECT_EQ(found->updated_by, "other");

    namespace app = portal::app;
    EXPECT_FALSE(app::read_idle_limit(*db_).minutes);
    app::save_idle_limit(*db_, 45, "admin", base_time());
    EXPECT_EQ(app::read_idle_limit(*db_).minutes, 45);
    settings.save("session_idle_limit_minutes", std::string("1"), "hand-edited", base_time());
    EXPECT_FALSE(app::read_idle_limit(*db_).minutes);  // below the minimum: off
}

TEST_P(sessions_audit_store_test, audit_export_pages_cover_every_row_once_newest_first) {
    store::audit_repository audit(*db_);
    // Three entries per second, so pages must break ties on log_id.
    for (int i = 0; i < 25; ++i) {
        store::new_audit_entry e;
        e.timestamp = base_time() + std::chrono::seconds(i / 3);
        e.admin_username = i % 2 ? "admin" : "ada@example.com";
        e.action_type = i % 2 ? "CUSTOMER_UPDATE" : "CUSTOMER_LOGIN";
        e.details = R"({"i":)" + std::to_string(i) + "}";
        audit.append(e);
    }
    const auto max_id = store::max_audit_log_id(*db_);
    {
        store::new_audit_entry later;  // written after the export began: not in it
        later.timestamp = base_time() + 1h;
        later.admin_username = "admin";
        later.action_type = "AUDIT_EXPORT";
        audit.append(later);
    }
    store::audit_filter all;
    std::vector<std::string> seen;
    std::optional<store::audit_cursor> cursor;
    for (;;) {
        auto page = store::list_audit_after(*db_, all, cursor, max_id, 4);
        for (const auto& e : page) seen.push_back(e.details.value_or(""));
        if (page.size() < 4) break;
        cursor = store::audit_cursor{page.back().timestamp, page.back().log_id};
    }
    ASSERT_EQ(seen.size(), 25u);
    EXPECT_EQ(seen.front(), R"({"i":24})");
    EXPECT_EQ(seen.back(), R"({"i":0})");
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
    for (std::size_t i = 0; i < seen.size(); ++i)
        EXPECT_EQ(seen[i], R"({"i":)" + std::to_string(24 - i) + "}");

    store::audit_filter logins;
    logins.action_type = "CUSTOMER_LOGIN";
    EXPECT_EQ(store::list_audit_after(*db_, logins, std::nullopt, max_id, 100).size(), 13u);

    const auto actions = store::list_audit_actions(*db_);
    EXPECT_EQ(actions,
              (std::vector<std::string>{"AUDIT_EXPORT", "CUSTOMER_LOGIN", "CUSTOMER_UPDATE"}));
}

TEST_P(sessions_audit_store_test, idle_sessions_end_with_a_system_entry_and_busy_ones_stay) {
    const int ada = make_customer("ada@example.com");
    const int grace = make_customer("grace@example.com");
    const auto now = base_time();
    add_session("idle", ada, now - 31min);
    add_session("busy", grace, now - 1min);

    // The idle-only delete leaves a session seen since the cutoff alone.
    EXPECT_FALSE(store::delete_customer_session_if_idle(*db_, "busy", now - 30min));
    EXPECT_FALSE(store::delete_customer_session_if_idle(*db_, "missing", now));

    EXPECT_EQ(portal::app::end_idle_sessions(*db_, 30min, now), 1);
    store::sessions_repository sessions(*db_);
    EXPECT_FALSE(sessions.find_customer_session("idle"));
    EXPECT_TRUE(sessions.find_customer_session("busy"));
    store::audit_filter f;
    f.action_type = "CUSTOMER_SESSION_IDLE_END";
    auto entries = store::audit_repository(*db_).list(f);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, "SYSTEM");
    EXPECT_EQ(entries[0].target_customer_id, ada);
    EXPECT_EQ(
        entries[0].details.value_or(""),
        R"({"reason":"idle limit","idle_limit_minutes":30,"last_seen":"2026-03-10T11:29:00Z","ip_address":"192.0.2.1"})");
    EXPECT_EQ(portal::app::end_idle_sessions(*db_, 30min, now), 0);
}

TEST_P(sessions_audit_store_test, one_housekeeping_run_does_every_chore) {
    const int ada = make_customer("ada@example.com");
    const auto now = base_time();
    add_session("idle-20", ada, now - 20min);
    add_session("fresh", ada, now);
    store::customer_session_record expired;
    expired.session_id = "past-expiry";
    expired.customer_id = ada;
    expired.created_at = now - 9h;
    expired.last_seen = now;
    expired.expires_at = now - 1h;
    expired.csrf_secret = "c";
    store::sessions_repository(*db_).create_customer_session(expired);
    store::admin_session_record admin;
    admin.session_id = "admin-stale";
    admin.admin_username = "admin";
    admin.auth_method = "local";
    admin.created_at = now - 1h;
    admin.last_seen = now - 31min;
    admin.csrf_secret = "c";
    store::sessions_repository(*db_).create_admin_session(admin);
    store::login_attempts_repository attempts(*db_);
    attempts.record(store::attempt_scope::account, "old@example.com", false, now - 25h);
    attempts.record(store::attempt_scope::account, "new@example.com", false, now - 1h);
    portal::app::save_idle_limit(*db_, 15, "admin", now);

    portal::app::housekeeping chores(*db_, cfg_, 60s);  // never started: run_once only
    const auto r = chores.run_once(now);
    EXPECT_EQ(r.expired_customer_sessions, 1);
    EXPECT_EQ(r.idle_customer_sessions, 1);
    EXPECT_EQ(r.expired_admin_sessions, 1);
    EXPECT_EQ(r.old_login_attempts, 1);
    EXPECT_EQ(store::sessions_repository(*db_).count_customer_sessions(), 1);
    EXPECT_EQ(
        attempts.count_failures_since(store::attempt_scope::account, "new@example.com", now - 2h),
        1);
}

INSTANTIATE_TEST_SUITE_P(backends, sessions_audit_store_test,
                         ::testing::Values("sqlite", "postgresql", "postgresql_odbc"),
                         [](const auto& info) { return info.param; });
