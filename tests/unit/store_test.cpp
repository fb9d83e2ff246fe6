// The local store against real back ends: SQLite (a temporary file), PostgreSQL (a throwaway
// cluster) natively and through ODBC ("PostgreSQL Unicode"). The T-SQL dialect cannot run here;
// its statements are checked for presence and shape.
#include "store/database.hpp"

#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/login_attempts_repository.hpp"
#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "store/reset_tokens_repository.hpp"
#include "store/sessions_repository.hpp"
#include "support/pg_cluster.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace store = portal::store;
using namespace std::chrono_literals;
using store::time_point;

namespace {

// A password with every character that could break a libpq or ODBC connection string.
const std::string tricky_password = "pa'ss;wo}rd {x= y\\z";
const std::string store_user = "portal_store";

portal::test::pg_cluster& cluster() {
    static std::unique_ptr<portal::test::pg_cluster> instance = [] {
        auto c = std::make_unique<portal::test::pg_cluster>();
        std::string escaped;
        for (char ch : tricky_password)
            escaped += ch == '\'' ? std::string("''") : std::string(1, ch);
        c->execute("CREATE ROLE " + store_user + " LOGIN PASSWORD '" + escaped + "'");
        return c;
    }();
    return *instance;
}

// Fixed instants, whole seconds, so comparisons do not depend on the clock.
time_point base_time() {
    return std::chrono::sys_days{std::chrono::year{2026} / 3 / 10} + 12h;
}

std::string unique_name(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

// A fresh, empty store on one back end, removed again afterwards (SQLite) or left in the
// throwaway cluster (PostgreSQL).
struct store_location {
    explicit store_location(const std::string& backend) {
        if (backend == "sqlite") {
            dir = std::filesystem::temp_directory_path() / unique_name("portal_store_test");
            settings.driver = "sqlite";
            // A parent that does not exist yet, with a space: the store creates it.
            settings.name = (dir / "data dir" / "portal.db").string();
        } else {
            const std::string name = unique_name("store");
            cluster().execute("CREATE DATABASE " + name + " OWNER " + store_user);
            settings.driver = backend == "postgresql" ? "postgresql" : "PostgreSQL Unicode";
            settings.server = cluster().host();
            settings.port = cluster().port();
            settings.name = name;
            settings.username = store_user;
            settings.password = tricky_password;
            database_name = name;
        }
        settings.timeout_seconds = 10;
    }
    ~store_location() {
        if (!dir.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    }

    portal::app::database_settings settings;
    std::filesystem::path dir;
    std::string database_name;
};

long long count_rows(store::database& db, const std::string& table) {
    return db.with_session([&](soci::session& s) {
        long long n = 0;
        s << "SELECT COUNT(*) FROM " + table, soci::into(n);
        return n;
    });
}

store::new_customer sample_customer(const std::string& email, const std::string& first = "Ada",
                                    const std::string& last = "Lovelace") {
    store::new_customer c;
    c.first_name = first;
    c.last_name = last;
    c.email = email;
    c.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    c.erp_customer_name = "Acme Foods";
    return c;
}

class store_test : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        location_ = std::make_unique<store_location>(GetParam());
        db_ = std::make_unique<store::database>(location_->settings, 4);
        store::migrate(*db_);
    }

    store::database& db() { return *db_; }
    store::dialect dialect() const { return db_->sql_dialect(); }

    int make_customer(const std::string& email) {
        store::customers_repository customers(db());
        auto r = customers.create(sample_customer(email), base_time());
        EXPECT_EQ(r.status, store::save_status::saved);
        return r.customer_id;
    }

    std::unique_ptr<store_location> location_;
    std::unique_ptr<store::database> db_;
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(backends, store_test, ::testing::Values("sqlite", "postgresql", "odbc"),
                         backend_name);

// What only a database server does: drop connections, speak SUBSTRING.
class server_store_test : public store_test {};
INSTANTIATE_TEST_SUITE_P(servers, server_store_test, ::testing::Values("postgresql", "odbc"),
                         backend_name);

// ---------------------------------------------------------------------------------------------
// Connections

TEST_P(store_test, ping_answers_and_dialect_matches) {
    EXPECT_TRUE(db().ping());
    EXPECT_EQ(dialect(),
              GetParam() == "sqlite" ? store::dialect::sqlite : store::dialect::postgresql);
    EXPECT_EQ(db().via_odbc(), GetParam() == "odbc");
}

TEST(store_sqlite, connections_use_wal_busy_timeout_and_foreign_keys) {
    store_location location("sqlite");
    store::database db(location.settings, 2);
    db.with_session([](soci::session& s) {
        std::string mode;
        int foreign_keys = 0, busy = 0, synchronous = -1;
        s << "PRAGMA journal_mode", soci::into(mode);
        s << "PRAGMA foreign_keys", soci::into(foreign_keys);
        s << "PRAGMA busy_timeout", soci::into(busy);
        s << "PRAGMA synchronous", soci::into(synchronous);
        EXPECT_EQ(mode, "wal");
        EXPECT_EQ(foreign_keys, 1);
        EXPECT_EQ(busy, 5000);
        EXPECT_EQ(synchronous, 1);  // NORMAL
    });
    EXPECT_TRUE(std::filesystem::is_directory(location.dir / "data dir"));
}

TEST_P(store_test, transaction_rolls_back_when_the_function_throws) {
    store::customers_repository customers(db());
    EXPECT_THROW(db().in_transaction([&](soci::session&) {
        // Joins the outer transaction, so it is undone with it.
        customers.create(sample_customer("rollback@example.com"), base_time());
        throw std::runtime_error("abort");
    }),
                 std::runtime_error);
    EXPECT_FALSE(customers.find_by_email("rollback@example.com"));
    EXPECT_FALSE(db().in_ambient_transaction());
}

TEST_P(store_test, nested_repository_calls_join_the_transaction) {
    store::customers_repository customers(db());
    store::sessions_repository sessions(db());
    const int id = db().in_transaction([&](soci::session&) {
        EXPECT_TRUE(db().in_ambient_transaction());
        auto created = customers.create(sample_customer("joined@example.com"), base_time());
        store::customer_session_record rec;
        rec.session_id = "joined-session";
        rec.customer_id = created.customer_id;
        rec.created_at = rec.last_seen = base_time();
        sessions.create_customer_session(rec);  // sees the uncommitted customer (foreign key)
        return created.customer_id;
    });
    EXPECT_TRUE(customers.find_by_id(id));
    EXPECT_TRUE(sessions.find_customer_session("joined-session"));
}

TEST_P(store_test, transaction_is_retried_after_a_busy_error) {
    int calls = 0;
    db().in_transaction([&](soci::session&) {
        if (++calls == 1) throw soci::sqlite3_soci_error("database is locked", 5 /* SQLITE_BUSY */);
    });
    EXPECT_EQ(calls, 2);
}

TEST_P(store_test, unreachable_store_is_unavailable_and_keeps_the_password_out) {
    auto settings = location_->settings;
    if (GetParam() == "sqlite") {
        // The parent "directory" is a file: the store cannot be created.
        std::ofstream(location_->dir / "blocker") << "x";
        settings.name = (location_->dir / "blocker" / "portal.db").string();
        EXPECT_THROW(store::database bad(settings), store::store_unavailable);
        return;
    }
    settings.port = 1;  // nothing listens there
    settings.timeout_seconds = 3;
    store::database unreachable(settings, 2);
    EXPECT_FALSE(unreachable.ping());
    store::customers_repository customers(unreachable);
    try {
        customers.count();
        FAIL() << "expected store_unavailable";
    } catch (const store::store_unavailable& e) {
        EXPECT_EQ(std::string(e.what()).find(tricky_password), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("pa'ss"), std::string::npos) << e.what();
    }
    EXPECT_THROW(store::migrate(unreachable), store::store_unavailable);
}

TEST_P(server_store_test, recovers_after_the_server_drops_its_connections) {
    store::database single(location_->settings, 1);
    store::customers_repository customers(single);
    ASSERT_TRUE(customers.create(sample_customer("before@example.com"), base_time()).status ==
                store::save_status::saved);
    auto kill_connections = [&] {
        cluster().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
            location_->database_name + "' AND pid <> pg_backend_pid()");
    };
    kill_connections();
    // A transaction that never reached COMMIT is rerun on a fresh connection.
    EXPECT_EQ(customers.create(sample_customer("after@example.com"), base_time()).status,
              store::save_status::saved);
    kill_connections();
    // So is a read.
    EXPECT_EQ(customers.count(), 2);
    EXPECT_TRUE(single.ping());
}

// ---------------------------------------------------------------------------------------------
// Migrations

TEST_P(store_test, migrations_reach_the_latest_version_and_are_idempotent) {
    EXPECT_EQ(store::schema_version(db()), store::latest_schema_version());
    EXPECT_EQ(store::latest_schema_version(), 4);
    store::migrate(db());  // again: nothing to do, no error
    EXPECT_EQ(store::schema_version(db()), store::latest_schema_version());
    EXPECT_EQ(count_rows(db(), "SchemaVersion"), store::latest_schema_version());
    for (const char* table : {"Customers", "ActiveSessions", "AuditLog", "PasswordResetTokens",
                              "LoginAttempts", "AdminSessions", "MailOutbox"}) {
        EXPECT_EQ(count_rows(db(), table), 0) << table;
    }
}

TEST_P(store_test, empty_database_has_version_zero) {
    store_location other(GetParam());
    store::database fresh(other.settings, 1);
    EXPECT_EQ(store::schema_version(fresh), 0);
}

TEST_P(store_test, two_processes_migrating_at_once_both_succeed) {
    store_location other(GetParam());
    // Two databases objects with their own pools stand for two processes starting together.
    store::database first(other.settings, 2), second(other.settings, 2);
    std::barrier start(2);
    std::atomic<int> failures{0};
    auto run = [&](store::database& db) {
        start.arrive_and_wait();
        try {
            store::migrate(db);
        } catch (const std::exception& e) {
            ++failures;
            ADD_FAILURE() << e.what();
        }
    };
    std::thread a(run, std::ref(first)), b(run, std::ref(second));
    a.join();
    b.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store::schema_version(first), store::latest_schema_version());
    EXPECT_EQ(count_rows(first, "SchemaVersion"), store::latest_schema_version());
}

// A database the Flask portal used: its four tables with data, no SchemaVersion.
TEST_P(store_test, migrating_a_flask_database_keeps_its_rows_and_adds_ours) {
    store_location other(GetParam());
    store::database legacy(other.settings, 2);
    const bool pg = legacy.sql_dialect() == store::dialect::postgresql;
    const std::string id = pg ? "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                              : "INTEGER PRIMARY KEY AUTOINCREMENT";
    const std::string dt = pg ? "TIMESTAMP(0)" : "DATETIME";
    legacy.with_session([&](soci::session& s) {
        s << "CREATE TABLE Customers (customer_id " + id +
                 ", first_name VARCHAR(100) NOT NULL, "
                 "last_name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, "
                 "password_hash VARCHAR(255) NOT NULL, "
                 "erp_customer_name VARCHAR(4000) NOT NULL, is_active SMALLINT DEFAULT 1, "
                 "created_date " +
                 dt +
                 ", "
                 "last_login_date " +
                 dt + " NULL, must_reset_password SMALLINT DEFAULT 0)";
        s << "CREATE TABLE ActiveSessions (session_id VARCHAR(255) PRIMARY KEY, customer_id "
             "INTEGER NOT NULL "
             "REFERENCES Customers (customer_id) ON DELETE CASCADE, last_seen " +
                 dt +
                 ", ip_address VARCHAR(100), "
                 "user_agent VARCHAR(500), created_at " +
                 dt + ")";
        s << "CREATE TABLE AuditLog (log_id " + id + ", \"timestamp\" " + dt +
                 ", admin_username VARCHAR(100) NOT NULL, "
                 "action_type VARCHAR(50) NOT NULL, target_customer_id INTEGER NULL, "
                 "target_customer_email VARCHAR(255) NULL, "
                 "details TEXT NULL)";
        s << "CREATE TABLE PasswordResetTokens (token_id " + id +
                 ", customer_id INTEGER NOT NULL REFERENCES "
                 "Customers (customer_id), token_hash VARCHAR(255) NOT NULL UNIQUE, expiry_date " +
                 dt +
                 " NOT NULL, "
                 "is_used SMALLINT DEFAULT 0)";
        // The Flask portal's rows: a Werkzeug hash, a session without our columns, a NULL flag.
        s << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
             "erp_customer_name, is_active, "
             "created_date, last_login_date, must_reset_password) VALUES ('Grace', 'Hopper', "
             "'Grace@Example.com', "
             "'pbkdf2:sha256:600000$salt$abc', 'Acme Foods|Globex', 1, '2024-05-01 08:00:00', "
             "'2024-06-01 09:30:00', 0)";
        s << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
             "erp_customer_name, is_active, "
             "created_date) VALUES ('Old', 'Account', 'old@example.com', 'scrypt:32768:8:1$s$h', "
             "'All', NULL, "
             "'2023-01-01 00:00:00')";
        s << "INSERT INTO ActiveSessions (session_id, customer_id, last_seen, ip_address, "
             "user_agent, created_at) "
             "VALUES ('legacy-session', 1, '2026-03-10 11:59:00', '10.0.0.1', 'Mozilla/5.0', "
             "'2026-03-10 11:00:00')";
        s << "INSERT INTO AuditLog (\"timestamp\", admin_username, action_type, "
             "target_customer_id, "
             "target_customer_email, details) VALUES ('2024-05-01 08:00:00', 'admin', "
             "'CREATE_CUSTOMER', 1, "
             "'Grace@Example.com', '{\"erp\":\"Acme Foods\"}')";
        s << "INSERT INTO PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) "
             "VALUES "
             "(1, 'legacy-token-hash', '2026-03-10 13:00:00', 0)";
    });
    ASSERT_EQ(store::schema_version(legacy), 0);

    store::migrate(legacy);
    EXPECT_EQ(store::schema_version(legacy), store::latest_schema_version());

    store::customers_repository customers(legacy);
    auto grace = customers.find_by_email("grace@example.COM");
    ASSERT_TRUE(grace);
    EXPECT_EQ(grace->email, "Grace@Example.com");
    EXPECT_EQ(grace->password_hash, "pbkdf2:sha256:600000$salt$abc");
    EXPECT_EQ(grace->erp_customer_name, "Acme Foods|Globex");
    EXPECT_TRUE(grace->is_active);
    ASSERT_TRUE(grace->last_login_date);
    EXPECT_EQ(*grace->last_login_date,
              std::chrono::sys_days{std::chrono::year{2024} / 6 / 1} + 9h + 30min);
    auto old = customers.find_by_email("old@example.com");
    ASSERT_TRUE(old);
    EXPECT_FALSE(old->is_active);  // NULL reads as inactive, as in the Flask portal
    EXPECT_FALSE(old->last_login_date);
    EXPECT_EQ(customers.count(), 2);

    // The case-insensitive unique index now guards the old table too.
    EXPECT_EQ(customers.create(sample_customer("GRACE@example.com"), base_time()).status,
              store::save_status::duplicate_email);

    store::sessions_repository sessions(legacy);
    auto session = sessions.find_customer_session("legacy-session");
    ASSERT_TRUE(session);
    EXPECT_EQ(session->customer.email, "Grace@Example.com");
    EXPECT_FALSE(session->session.expires_at);
    EXPECT_TRUE(session->session.csrf_secret.empty());
    EXPECT_EQ(session->session.ip_address, "10.0.0.1");

    store::audit_repository audit(legacy);
    auto entries = audit.list({});
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].action_type, "CREATE_CUSTOMER");
    EXPECT_EQ(entries[0].details.value_or(""), "{\"erp\":\"Acme Foods\"}");
    EXPECT_FALSE(entries[0].ip_address);

    store::reset_tokens_repository tokens(legacy);
    auto token = tokens.find_valid("legacy-token-hash", base_time());
    ASSERT_TRUE(token);
    EXPECT_FALSE(token->purpose);
    EXPECT_FALSE(token->created_at);

    // New tables and columns are there and usable.
    EXPECT_EQ(count_rows(legacy, "MailOutbox"), 0);
    EXPECT_EQ(count_rows(legacy, "LoginAttempts"), 0);
    EXPECT_EQ(count_rows(legacy, "AdminSessions"), 0);
    EXPECT_EQ(sessions.count_customer_sessions(), 1);
    // Deleting the customer still cascades to its sessions (the Flask table's own constraint).
    legacy.in_transaction([](soci::session& s) {
        s << "DELETE FROM PasswordResetTokens";
        s << "DELETE FROM Customers WHERE customer_id = 1";
    });
    EXPECT_EQ(sessions.count_customer_sessions(), 0);
}

// ---------------------------------------------------------------------------------------------
// Customers

TEST_P(store_test, customer_create_and_find) {
    store::customers_repository customers(db());
    auto nc = sample_customer("Zoë.Ünicode@Example.com", "Zoë", "Ångström");
    nc.erp_customer_name = "Acme Foods|Globex";
    nc.must_reset_password = true;
    auto created = customers.create(nc, base_time());
    ASSERT_EQ(created.status, store::save_status::saved);
    ASSERT_GT(created.customer_id, 0);

    auto by_id = customers.find_by_id(created.customer_id);
    ASSERT_TRUE(by_id);
    EXPECT_EQ(by_id->first_name, "Zoë");
    EXPECT_EQ(by_id->last_name, "Ångström");
    EXPECT_EQ(by_id->email, "Zoë.Ünicode@Example.com");  // stored as given
    EXPECT_EQ(by_id->password_hash, nc.password_hash);
    EXPECT_EQ(by_id->erp_customer_name, "Acme Foods|Globex");
    EXPECT_TRUE(by_id->is_active);
    EXPECT_TRUE(by_id->must_reset_password);
    EXPECT_EQ(by_id->created_date, base_time());
    EXPECT_FALSE(by_id->last_login_date);

    auto by_email = customers.find_by_email("zoë.Ünicode@EXAMPLE.com");
    ASSERT_TRUE(by_email);
    EXPECT_EQ(by_email->customer_id, created.customer_id);
    EXPECT_FALSE(customers.find_by_email("nobody@example.com"));
    EXPECT_FALSE(customers.find_by_id(created.customer_id + 1000));
}

TEST_P(store_test, duplicate_email_in_another_case_is_refused) {
    store::customers_repository customers(db());
    const int first = make_customer("Jane.Doe@Example.com");
    auto again = customers.create(sample_customer("jane.doe@example.COM"), base_time());
    EXPECT_EQ(again.status, store::save_status::duplicate_email);
    EXPECT_EQ(customers.count(), 1);

    // The unique index itself refuses it, whatever the code above it does.
    EXPECT_THROW(db().with_session([](soci::session& s) {
        s << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
             "erp_customer_name) "
             "VALUES ('x', 'y', 'JANE.DOE@EXAMPLE.COM', 'h', 'A')";
    }),
                 soci::soci_error);
    try {
        db().with_session([](soci::session& s) {
            s << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
                 "erp_customer_name) "
                 "VALUES ('x', 'y', 'Jane.Doe@example.com', 'h', 'A')";
        });
    } catch (const soci::soci_error& e) {
        EXPECT_TRUE(store::is_unique_violation(e)) << e.what();
    }

    // Updating another account to that email is refused too; keeping one's own is fine.
    const int second = make_customer("other@example.com");
    store::customer_update change{"Other", "Person", "JANE.doe@example.com", "Globex"};
    EXPECT_EQ(customers.update(second, change), store::save_status::duplicate_email);
    change.email = "Other@Example.com";
    EXPECT_EQ(customers.update(second, change), store::save_status::saved);
    EXPECT_EQ(customers.find_by_id(second)->email, "Other@Example.com");
    EXPECT_EQ(customers.find_by_id(first)->email, "Jane.Doe@Example.com");
}

TEST_P(store_test, customer_updates) {
    store::customers_repository customers(db());
    const int id = make_customer("update@example.com");
    EXPECT_EQ(customers.update(id, {"Grace", "Hopper", "grace@example.com", "All"}),
              store::save_status::saved);
    auto c = customers.find_by_id(id);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->first_name, "Grace");
    EXPECT_EQ(c->last_name, "Hopper");
    EXPECT_EQ(c->email, "grace@example.com");
    EXPECT_EQ(c->erp_customer_name, "All");
    EXPECT_EQ(customers.update(id + 999, {"a", "b", "c@example.com", "d"}),
              store::save_status::not_found);

    EXPECT_TRUE(customers.set_must_reset_password(id, true));
    EXPECT_TRUE(customers.find_by_id(id)->must_reset_password);
    EXPECT_TRUE(customers.set_password_hash(id, "$argon2id$new"));
    c = customers.find_by_id(id);
    EXPECT_EQ(c->password_hash, "$argon2id$new");
    EXPECT_FALSE(c->must_reset_password);
    EXPECT_FALSE(customers.set_password_hash(id + 999, "x"));

    EXPECT_TRUE(customers.set_active(id, false));
    EXPECT_FALSE(customers.find_by_id(id)->is_active);
    EXPECT_TRUE(customers.set_active(id, true));
    EXPECT_TRUE(customers.find_by_id(id)->is_active);
    EXPECT_FALSE(customers.set_active(id + 999, true));

    const time_point login = base_time() + 3h + 17s;
    EXPECT_TRUE(customers.set_last_login(id, login + 250ms));  // stored to the second
    EXPECT_EQ(customers.find_by_id(id)->last_login_date, login);
}

TEST_P(store_test, customer_list_search_filter_sort_and_page) {
    store::customers_repository customers(db());
    auto add = [&](const std::string& first, const std::string& last, const std::string& email,
                   const std::string& erp, bool active) {
        auto nc = sample_customer(email, first, last);
        nc.erp_customer_name = erp;
        nc.is_active = active;
        auto r = customers.create(nc, base_time());
        EXPECT_EQ(r.status, store::save_status::saved);
        return r.customer_id;
    };
    const int ada = add("Ada", "Lovelace", "ada@example.com", "Acme Foods", true);
    const int alan = add("Alan", "Turing", "alan@bletchley.org", "Globex|Acme Foods", true);
    const int grace = add("Grace", "Hopper", "grace@navy.mil", "Initech", false);
    const int edsger = add("Edsger", "Dijkstra", "ed_100%@example.com", "All", true);

    auto ids = [](const store::customer_page& p) {
        std::vector<int> out;
        for (const auto& r : p.rows) out.push_back(r.customer_id);
        return out;
    };

    store::customer_query q;
    auto page = customers.list(q);
    EXPECT_EQ(page.total, 4);
    EXPECT_EQ(ids(page), (std::vector<int>{edsger, grace, ada, alan}));  // by last name

    q.search = "ACME";  // ERP name, any case
    page = customers.list(q);
    EXPECT_EQ(page.total, 2);
    EXPECT_EQ(ids(page), (std::vector<int>{ada, alan}));

    q.search = "ada lovelace";  // full name
    EXPECT_EQ(ids(customers.list(q)), std::vector<int>{ada});
    q.search = "BLETCHLEY";  // email
    EXPECT_EQ(ids(customers.list(q)), std::vector<int>{alan});
    q.search = "100%";  // LIKE wildcards in the search match themselves
    EXPECT_EQ(ids(customers.list(q)), std::vector<int>{edsger});
    q.search = "_";
    EXPECT_EQ(ids(customers.list(q)), std::vector<int>{edsger});
    q.search = "no such person";
    page = customers.list(q);
    EXPECT_EQ(page.total, 0);
    EXPECT_TRUE(page.rows.empty());

    q = {};
    q.status = store::status_filter::inactive;
    EXPECT_EQ(ids(customers.list(q)), std::vector<int>{grace});
    q.status = store::status_filter::active;
    EXPECT_EQ(customers.list(q).total, 3);
    EXPECT_EQ(customers.count(store::status_filter::active), 3);
    EXPECT_EQ(customers.count(store::status_filter::inactive), 1);
    EXPECT_EQ(customers.count(), 4);

    q = {};
    q.sort = store::customer_sort::first_name;
    q.descending = true;
    EXPECT_EQ(ids(customers.list(q)), (std::vector<int>{grace, edsger, alan, ada}));

    // Never-logged-in accounts come last in both directions.
    customers.set_last_login(alan, base_time() + 1h);
    customers.set_last_login(grace, base_time() + 2h);
    q.sort = store::customer_sort::last_login_date;
    q.descending = true;
    auto sorted = ids(customers.list(q));
    EXPECT_EQ(std::vector<int>(sorted.begin(), sorted.begin() + 2),
              (std::vector<int>{grace, alan}));
    q.descending = false;
    sorted = ids(customers.list(q));
    EXPECT_EQ(std::vector<int>(sorted.begin(), sorted.begin() + 2),
              (std::vector<int>{alan, grace}));

    q = {};
    q.sort = store::customer_sort::customer_id;
    q.per_page = 3;
    q.page = 2;
    page = customers.list(q);
    EXPECT_EQ(page.total, 4);
    EXPECT_EQ(ids(page), std::vector<int>{edsger});

    EXPECT_EQ(store::parse_customer_sort("email"), store::customer_sort::email);
    EXPECT_FALSE(store::parse_customer_sort("password_hash; DROP TABLE Customers"));
    EXPECT_EQ(store::parse_status_filter("inactive"), store::status_filter::inactive);
    EXPECT_FALSE(store::parse_status_filter("deleted"));
}

TEST_P(store_test, customer_list_over_ten_thousand_accounts) {
    constexpr int n = 10000;
    db().in_transaction([&](soci::session& s) {
        std::vector<std::string> first, last, email, hash, erp;
        std::vector<int> active;
        for (int i = 0; i < n; ++i) {
            char padded[8];
            std::snprintf(padded, sizeof padded, "%05d", i);
            first.push_back("First" + std::string(padded));
            last.push_back("Last" + std::string(padded));
            email.push_back("user" + std::to_string(i) + "@example.com");
            hash.push_back("h");
            erp.push_back("Customer " + std::to_string(i % 50));
            active.push_back(i % 3 != 0 ? 1 : 0);
        }
        s << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
             "erp_customer_name, is_active, "
             "must_reset_password) VALUES (:f, :l, :e, :h, :n, :a, 0)",
            soci::use(first), soci::use(last), soci::use(email), soci::use(hash), soci::use(erp),
            soci::use(active);
    });
    store::customers_repository customers(db());
    store::customer_query q;
    q.per_page = 25;
    q.descending = true;
    auto page = customers.list(q);
    EXPECT_EQ(page.total, n);
    ASSERT_EQ(page.rows.size(), 25u);
    EXPECT_EQ(page.rows.front().last_name, "Last09999");
    q.page = 400;
    page = customers.list(q);
    ASSERT_EQ(page.rows.size(), 25u);
    EXPECT_EQ(page.rows.back().last_name, "Last00000");
    q.page = 401;
    EXPECT_TRUE(customers.list(q).rows.empty());

    q = {};
    q.search = "USER4242@";
    page = customers.list(q);
    ASSERT_EQ(page.total, 1);
    EXPECT_EQ(page.rows[0].email, "user4242@example.com");
    q.search = "customer 7";
    q.status = store::status_filter::active;
    q.per_page = 1000;
    page = customers.list(q);
    int expected = 0;
    for (int i = 7; i < n; i += 50) expected += i % 3 != 0;
    EXPECT_EQ(page.total, expected);
    EXPECT_EQ(static_cast<int>(page.rows.size()), expected);
    EXPECT_EQ(customers.count(store::status_filter::inactive), (n + 2) / 3);
}

// ---------------------------------------------------------------------------------------------
// Sessions

TEST_P(store_test, customer_sessions) {
    store::sessions_repository sessions(db());
    store::customers_repository customers(db());
    const int ada = make_customer("ada@example.com");
    const int bob =
        customers.create(sample_customer("bob@example.com", "Bob", "Builder"), base_time())
            .customer_id;
    customers.set_must_reset_password(bob, true);

    store::customer_session_record rec;
    rec.session_id = "hash-a1";
    rec.customer_id = ada;
    rec.created_at = base_time();
    rec.last_seen = base_time();
    rec.expires_at = base_time() + 8h;
    rec.ip_address = "2001:db8::1";
    rec.user_agent = std::string(600, 'U');  // longer than the column: cut, not refused
    rec.csrf_secret = "csrf-a1";
    sessions.create_customer_session(rec);
    rec.session_id = "hash-a2";
    rec.user_agent = "curl/8";
    rec.last_seen = base_time() + 5min;
    sessions.create_customer_session(rec);
    rec.session_id = "hash-b1";
    rec.customer_id = bob;
    rec.last_seen = base_time() + 10min;
    sessions.create_customer_session(rec);

    auto found = sessions.find_customer_session("hash-b1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->session.customer_id, bob);
    EXPECT_EQ(found->session.created_at, base_time());
    EXPECT_EQ(found->session.last_seen, base_time() + 10min);
    EXPECT_EQ(found->session.expires_at, base_time() + 8h);
    EXPECT_EQ(found->session.ip_address, "2001:db8::1");
    EXPECT_EQ(found->session.csrf_secret, "csrf-a1");
    EXPECT_EQ(found->customer.first_name, "Bob");
    EXPECT_EQ(found->customer.last_name, "Builder");
    EXPECT_EQ(found->customer.email, "bob@example.com");
    EXPECT_EQ(found->customer.erp_customer_name, "Acme Foods");
    EXPECT_TRUE(found->customer.is_active);
    EXPECT_TRUE(found->customer.must_reset_password);
    EXPECT_EQ(sessions.find_customer_session("hash-a1")->session.user_agent.size(), 500u);
    EXPECT_FALSE(sessions.find_customer_session("no-such-hash"));

    EXPECT_TRUE(sessions.touch_customer_session("hash-a1", base_time() + 20min));
    EXPECT_EQ(sessions.find_customer_session("hash-a1")->session.last_seen, base_time() + 20min);
    EXPECT_FALSE(sessions.touch_customer_session("no-such-hash", base_time()));

    auto listing = sessions.list_customer_sessions();
    ASSERT_EQ(listing.size(), 3u);
    EXPECT_EQ(listing[0].session_id, "hash-a1");  // most recently seen first
    EXPECT_EQ(listing[0].email, "ada@example.com");
    EXPECT_EQ(listing[0].first_name, "Ada");
    EXPECT_EQ(listing[1].session_id, "hash-b1");
    EXPECT_EQ(listing[1].last_name, "Builder");
    EXPECT_EQ(listing[2].user_agent, "curl/8");
    EXPECT_EQ(sessions.count_customer_sessions(), 3);

    EXPECT_TRUE(sessions.delete_customer_session("hash-b1"));
    EXPECT_FALSE(sessions.delete_customer_session("hash-b1"));
    EXPECT_EQ(sessions.delete_customer_sessions(ada), 2);
    EXPECT_EQ(sessions.count_customer_sessions(), 0);
}

// Session lookups keep their statement prepared per connection (database::with_prepared): they
// must still see what another instance changed a moment ago, and keep working after a reconnect.
TEST_P(store_test, prepared_session_lookups_see_changes_made_elsewhere) {
    store::database other(location_->settings, 1);
    store::database single(location_->settings, 1);
    store::sessions_repository here(single);
    store::sessions_repository there(other);
    const int ada = make_customer("ada@example.com");
    store::customer_session_record rec;
    rec.session_id = "hash-prepared";
    rec.customer_id = ada;
    rec.created_at = base_time();
    rec.last_seen = base_time();
    rec.csrf_secret = "c";
    there.create_customer_session(rec);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(here.find_customer_session("hash-prepared"));
    EXPECT_FALSE(here.find_customer_session("hash-unknown"));
    store::customers_repository(other).set_active(ada, false);
    auto found = here.find_customer_session("hash-prepared");
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->customer.is_active);
    ASSERT_TRUE(there.delete_customer_session("hash-prepared"));
    EXPECT_FALSE(here.find_customer_session("hash-prepared"));

    store::admin_session_record admin;
    admin.session_id = "admin-prepared";
    admin.admin_username = "admin";
    admin.auth_method = "local";
    admin.created_at = base_time();
    admin.last_seen = base_time();
    there.create_admin_session(admin);
    EXPECT_TRUE(here.find_admin_session("admin-prepared"));
    there.delete_admin_session("admin-prepared");
    EXPECT_FALSE(here.find_admin_session("admin-prepared"));
    // The writer on the same file is not blocked by a statement the reader keeps prepared.
    there.create_customer_session(rec);
    EXPECT_TRUE(here.find_customer_session("hash-prepared"));
    EXPECT_TRUE(there.touch_customer_session("hash-prepared", base_time() + 1h));
    EXPECT_EQ(here.find_customer_session("hash-prepared")->session.last_seen, base_time() + 1h);
}

TEST_P(server_store_test, prepared_session_lookups_survive_dropped_connections) {
    store::database single(location_->settings, 1);
    store::sessions_repository sessions(single);
    const int ada = make_customer("ada@example.com");
    store::customer_session_record rec;
    rec.session_id = "hash-reconnect";
    rec.customer_id = ada;
    rec.created_at = base_time();
    rec.last_seen = base_time();
    sessions.create_customer_session(rec);
    ASSERT_TRUE(sessions.find_customer_session("hash-reconnect"));
    cluster().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                      location_->database_name + "' AND pid <> pg_backend_pid()");
    EXPECT_TRUE(sessions.find_customer_session("hash-reconnect"));
    EXPECT_TRUE(sessions.find_customer_session("hash-reconnect"));
}

TEST_P(store_test, expired_customer_sessions_are_deleted) {
    store::sessions_repository sessions(db());
    const int ada = make_customer("ada@example.com");
    const time_point now = base_time();
    auto add = [&](const std::string& id, time_point created, time_point seen,
                   std::optional<time_point> expires) {
        store::customer_session_record rec;
        rec.session_id = id;
        rec.customer_id = ada;
        rec.created_at = created;
        rec.last_seen = seen;
        rec.expires_at = expires;
        sessions.create_customer_session(rec);
    };
    add("fresh", now - 1h, now - 1min, now + 7h);
    add("idle", now - 2h, now - 61min, now + 6h);
    add("past-expiry", now - 9h, now - 1min, now - 1s);
    add("legacy-fresh", now - 7h, now - 1min, std::nullopt);
    add("legacy-old", now - 9h, now - 1min, std::nullopt);
    EXPECT_EQ(sessions.delete_expired_customer_sessions(now, 60min, 8h), 3);
    EXPECT_TRUE(sessions.find_customer_session("fresh"));
    EXPECT_TRUE(sessions.find_customer_session("legacy-fresh"));
    EXPECT_FALSE(sessions.find_customer_session("idle"));
    EXPECT_FALSE(sessions.find_customer_session("past-expiry"));
    EXPECT_FALSE(sessions.find_customer_session("legacy-old"));
}

TEST_P(store_test, deleting_a_customer_cascades_to_sessions) {
    store::sessions_repository sessions(db());
    const int ada = make_customer("ada@example.com");
    store::customer_session_record rec;
    rec.session_id = "cascade";
    rec.customer_id = ada;
    rec.created_at = rec.last_seen = base_time();
    sessions.create_customer_session(rec);
    db().in_transaction([&](soci::session& s) {
        s << "DELETE FROM Customers WHERE customer_id = :id", soci::use(ada);
    });
    EXPECT_EQ(sessions.count_customer_sessions(), 0);
}

TEST_P(store_test, admin_sessions) {
    store::sessions_repository sessions(db());
    store::admin_session_record rec;
    rec.session_id = "admin-hash";
    rec.admin_username = "CORP\\jsmith";
    rec.auth_method = "ldap";
    rec.created_at = base_time();
    rec.last_seen = base_time();
    rec.ip_address = "192.0.2.7";
    rec.user_agent = "Firefox";
    rec.csrf_secret = "admin-csrf";
    sessions.create_admin_session(rec);
    rec.session_id = "admin-old";
    rec.auth_method = "local";
    rec.created_at = base_time() - 9h;
    rec.last_seen = base_time() - 1min;
    rec.ip_address.clear();
    sessions.create_admin_session(rec);

    auto found = sessions.find_admin_session("admin-hash");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->admin_username, "CORP\\jsmith");
    EXPECT_EQ(found->auth_method, "ldap");
    EXPECT_EQ(found->created_at, base_time());
    EXPECT_EQ(found->ip_address, "192.0.2.7");
    EXPECT_EQ(found->user_agent, "Firefox");
    EXPECT_EQ(found->csrf_secret, "admin-csrf");
    EXPECT_FALSE(sessions.find_admin_session("nope"));
    EXPECT_EQ(sessions.count_admin_sessions(), 2);

    EXPECT_TRUE(sessions.touch_admin_session("admin-hash", base_time() + 30min));
    EXPECT_EQ(sessions.find_admin_session("admin-hash")->last_seen, base_time() + 30min);
    EXPECT_EQ(sessions.delete_expired_admin_sessions(base_time() + 31min, 60min, 8h),
              1);  // admin-old
    EXPECT_TRUE(sessions.find_admin_session("admin-hash"));
    EXPECT_EQ(sessions.delete_expired_admin_sessions(base_time() + 91min, 60min, 8h), 1);  // idle
    EXPECT_EQ(sessions.count_admin_sessions(), 0);
    EXPECT_FALSE(sessions.delete_admin_session("admin-hash"));
}

// A set-password link waiting for the admin who made it (web/link_notices.hpp): an opaque value
// on the admin's session row, taken by one request only, gone with the session.
TEST_P(store_test, admin_session_notice_round_trip) {
    using value = std::optional<std::string>;
    store::sessions_repository sessions(db());
    store::admin_session_record rec;
    rec.admin_username = "admin";
    rec.auth_method = "local";
    rec.created_at = base_time();
    rec.last_seen = base_time();
    rec.csrf_secret = "admin-csrf";
    for (const char* id : {"admin-a", "admin-b"}) {
        rec.session_id = id;
        sessions.create_admin_session(rec);
    }
    const auto has = [&](const std::string& id) {
        return store::admin_session_has_notice(db(), id);
    };
    const auto change = [&](const std::string& id, bool only_if_pending, value to, value* seen) {
        return store::change_admin_session_notice(db(), id, only_if_pending,
                                                  [&](const value& stored) {
                                                      if (seen) *seen = stored;
                                                      return to;
                                                  });
    };

    // No session, or nothing to take: false, and the function is not called.
    value seen = "not called";
    EXPECT_FALSE(change("nope", false, "enc1:x", &seen));
    EXPECT_FALSE(change("admin-a", true, std::nullopt, &seen));
    EXPECT_EQ(seen, "not called");
    EXPECT_FALSE(has("admin-a"));

    // The widest value round-trips on every back end (sealed values are ASCII).
    const std::string wide = "enc1:" + std::string(store::admin_notice_width - 5, 'A');
    EXPECT_TRUE(change("admin-a", false, wide, &seen));
    EXPECT_EQ(seen, std::nullopt);
    EXPECT_TRUE(has("admin-a"));
    EXPECT_FALSE(has("admin-b"));
    EXPECT_EQ(sessions.find_admin_session("admin-a")->csrf_secret, "admin-csrf");
    // Handing back the same value keeps it; taking reads it and clears it.
    EXPECT_TRUE(change("admin-a", true, wide, &seen));
    EXPECT_EQ(seen, wide);
    EXPECT_TRUE(has("admin-a"));
    EXPECT_TRUE(change("admin-a", true, std::nullopt, &seen));
    EXPECT_EQ(seen, wide);
    EXPECT_FALSE(has("admin-a"));
    EXPECT_FALSE(change("admin-a", true, std::nullopt, nullptr));

    // Too wide for the column: refused, nothing stored.
    EXPECT_THROW(change("admin-a", false, std::string(store::admin_notice_width + 1, 'A'), nullptr),
                 std::length_error);
    EXPECT_FALSE(has("admin-a"));
    // Inside a caller's transaction, it goes when that transaction rolls back.
    EXPECT_THROW(db().in_transaction([&](soci::session&) {
        EXPECT_TRUE(change("admin-a", false, "enc1:rolled-back", nullptr));
        throw std::runtime_error("the caller's next statement failed");
    }),
                 std::runtime_error);
    EXPECT_FALSE(has("admin-a"));

    // Two requests of one session taking at once: each notice is taken exactly once.
    constexpr int rounds = 20;
    std::atomic<int> taken{0};
    std::barrier sync(2);
    auto taker = [&](bool writer) {
        for (int i = 0; i < rounds; ++i) {
            if (writer) change("admin-b", false, "enc1:round-" + std::to_string(i), nullptr);
            sync.arrive_and_wait();
            if (change("admin-b", true, std::nullopt, nullptr)) ++taken;
            sync.arrive_and_wait();
        }
    };
    std::thread first(taker, true), second(taker, false);
    first.join();
    second.join();
    EXPECT_EQ(taken.load(), rounds);

    // Ending the session ends its notice.
    EXPECT_TRUE(change("admin-b", false, "enc1:left", nullptr));
    EXPECT_TRUE(sessions.delete_admin_session("admin-b"));
    EXPECT_FALSE(has("admin-b"));
    EXPECT_FALSE(change("admin-b", false, "enc1:again", nullptr));
}

// ---------------------------------------------------------------------------------------------
// Audit log

TEST_P(store_test, audit_append_list_filter_and_count) {
    store::audit_repository audit(db());
    auto add = [&](int minutes, const std::string& actor, const std::string& action,
                   std::optional<int> customer, std::optional<std::string> email,
                   std::optional<std::string> details) {
        store::new_audit_entry e;
        e.timestamp = base_time() + std::chrono::minutes(minutes);
        e.admin_username = actor;
        e.action_type = action;
        e.target_customer_id = customer;
        e.target_customer_email = email;
        e.details = details;
        if (actor != "SYSTEM") {
            e.ip_address = "198.51.100.4";
            e.user_agent = "Edge";
        }
        return audit.append(e);
    };
    const long long first =
        add(0, "admin", "CREATE_CUSTOMER", 7, "ada@example.com", R"({"erp":"Acme"})");
    add(1, "ada@example.com", "LOGIN", 7, "ada@example.com", std::nullopt);
    add(2, "CORP\\jsmith", "DEACTIVATE_CUSTOMER", 8, "bob@example.com", std::nullopt);
    add(3, "SYSTEM", "SESSION_CLEANUP", std::nullopt, std::nullopt, R"({"removed":3})");
    const long long last =
        add(4, "admin", "LOGIN_FAILED", std::nullopt, "Unknown@Example.com", std::nullopt);
    EXPECT_GT(last, first);

    auto all = audit.list({});
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.front().log_id, last);  // newest first
    EXPECT_EQ(all.back().log_id, first);
    EXPECT_EQ(all.back().timestamp, base_time());
    EXPECT_EQ(all.back().details.value_or(""), R"({"erp":"Acme"})");
    EXPECT_EQ(all.back().target_customer_id, 7);
    EXPECT_EQ(all.back().ip_address.value_or(""), "198.51.100.4");
    EXPECT_EQ(all.back().user_agent.value_or(""), "Edge");
    EXPECT_FALSE(all[1].target_customer_id);  // SYSTEM entry
    EXPECT_FALSE(all[1].ip_address);
    EXPECT_EQ(audit.count({}), 5);

    store::audit_filter f;
    f.actor = "ADMIN";  // substring, any case
    EXPECT_EQ(audit.count(f), 2);
    f = {};
    f.actor = "corp\\";
    EXPECT_EQ(audit.list(f).at(0).action_type, "DEACTIVATE_CUSTOMER");
    f = {};
    f.action_type = "LOGIN";  // exact, so LOGIN_FAILED is not included
    EXPECT_EQ(audit.count(f), 1);
    f = {};
    f.customer_id = 7;
    EXPECT_EQ(audit.count(f), 2);
    f = {};
    f.customer_email = "unknown@";
    EXPECT_EQ(audit.count(f), 1);
    f = {};
    f.from = base_time() + 1min;
    f.to = base_time() + 3min;
    auto window = audit.list(f);
    ASSERT_EQ(window.size(), 2u);
    EXPECT_EQ(window[0].action_type, "DEACTIVATE_CUSTOMER");
    EXPECT_EQ(window[1].action_type, "LOGIN");

    f = {};
    f.per_page = 2;
    f.page = 3;
    auto paged = audit.list(f);
    ASSERT_EQ(paged.size(), 1u);
    EXPECT_EQ(paged[0].log_id, first);
}

TEST_P(store_test, long_audit_details_round_trip) {
    store::audit_repository audit(db());
    std::string details = "{\"note\":\"";
    for (int i = 0; i < 3000; ++i) details += "é€";
    details += "\"}";
    store::new_audit_entry e;
    e.timestamp = base_time();
    e.admin_username = "admin";
    e.action_type = "NOTE";
    e.details = details;
    audit.append(e);
    EXPECT_EQ(audit.list({}).at(0).details.value_or(""), details);
}

// ---------------------------------------------------------------------------------------------
// Reset tokens

TEST_P(store_test, reset_tokens) {
    store::reset_tokens_repository tokens(db());
    const int ada = make_customer("ada@example.com");
    const int id = tokens.create(ada, "token-hash-1", base_time() + 1h, "welcome", base_time());
    ASSERT_GT(id, 0);
    tokens.create(ada, "token-hash-expired", base_time() - 1s, "reset", base_time() - 1h);

    auto valid = tokens.find_valid("token-hash-1", base_time());
    ASSERT_TRUE(valid);
    EXPECT_EQ(valid->token_id, id);
    EXPECT_EQ(valid->customer_id, ada);
    EXPECT_EQ(valid->expiry_date, base_time() + 1h);
    EXPECT_FALSE(valid->is_used);
    EXPECT_EQ(valid->purpose, "welcome");
    EXPECT_EQ(valid->created_at, base_time());
    EXPECT_FALSE(tokens.find_valid("token-hash-1", base_time() + 1h));  // expiry is exclusive
    EXPECT_FALSE(tokens.find_valid("token-hash-expired", base_time()));
    EXPECT_FALSE(tokens.find_valid("unknown", base_time()));

    EXPECT_TRUE(tokens.mark_used(id, base_time()));
    EXPECT_FALSE(tokens.mark_used(id, base_time()));
    EXPECT_FALSE(tokens.find_valid("token-hash-1", base_time()));

    tokens.create(ada, "token-hash-2", base_time() + 1h, "reset", base_time());
    EXPECT_EQ(tokens.consume("token-hash-2", base_time()), ada);
    EXPECT_FALSE(tokens.consume("token-hash-2", base_time()));
    EXPECT_FALSE(tokens.consume("token-hash-expired", base_time()));

    EXPECT_EQ(tokens.delete_for_customer(ada), 3);
    EXPECT_EQ(count_rows(db(), "PasswordResetTokens"), 0);
}

TEST_P(store_test, reset_token_is_single_use_under_two_threads) {
    const int ada = make_customer("ada@example.com");
    store::reset_tokens_repository setup(db());
    constexpr int rounds = 20;
    for (int i = 0; i < rounds; ++i) {
        setup.create(ada, "race-" + std::to_string(i), base_time() + 1h, "reset", base_time());
    }
    std::atomic<int> wins{0};
    std::barrier sync(2);
    auto racer = [&] {
        store::reset_tokens_repository tokens(db());
        for (int i = 0; i < rounds; ++i) {
            sync.arrive_and_wait();
            if (tokens.consume("race-" + std::to_string(i), base_time())) ++wins;
        }
    };
    std::thread a(racer), b(racer);
    a.join();
    b.join();
    EXPECT_EQ(wins.load(), rounds);  // exactly one winner per token

    // The same with mark_used by id.
    const int id = setup.create(ada, "race-by-id", base_time() + 1h, "reset", base_time());
    std::atomic<int> marked{0};
    std::thread c([&] { marked += setup.mark_used(id, base_time()); });
    std::thread d([&] { marked += setup.mark_used(id, base_time()); });
    c.join();
    d.join();
    EXPECT_EQ(marked.load(), 1);
}

// ---------------------------------------------------------------------------------------------
// Login attempts

TEST_P(store_test, login_attempts) {
    store::login_attempts_repository attempts(db());
    using scope = store::attempt_scope;
    const time_point t = base_time();
    attempts.record(scope::account, "Ada@Example.com", false, t - 20min);
    attempts.record(scope::account, "ada@example.com", false, t - 5min);
    attempts.record(scope::account, "ADA@example.com", false, t - 1min);
    attempts.record(scope::address, "2001:DB8::1", false, t - 1min);
    attempts.record(scope::account, "bob@example.com", false, t - 1min);
    attempts.record(scope::account, "ada@example.com", true, t);

    EXPECT_EQ(attempts.count_failures_since(scope::account, "ada@example.com", t - 15min), 2);
    EXPECT_EQ(attempts.count_failures_since(scope::account, "ada@example.com", t - 1h), 3);
    EXPECT_EQ(attempts.count_failures_since(scope::address, "2001:db8::1", t - 1h), 1);
    EXPECT_EQ(attempts.count_failures_since(scope::address, "ada@example.com", t - 1h), 0);

    EXPECT_EQ(attempts.clear_failures(scope::account, "Ada@example.com"), 3);
    EXPECT_EQ(attempts.count_failures_since(scope::account, "ada@example.com", t - 1h), 0);
    EXPECT_EQ(attempts.count_failures_since(scope::account, "bob@example.com", t - 1h), 1);
    EXPECT_EQ(count_rows(db(), "LoginAttempts"), 3);  // bob's, the address's, the success

    EXPECT_EQ(attempts.delete_older_than(t), 2);
    EXPECT_EQ(count_rows(db(), "LoginAttempts"), 1);
}

// ---------------------------------------------------------------------------------------------
// Mail outbox

TEST_P(store_test, outbox_enqueue_claim_send_and_fail) {
    store::outbox_repository outbox(db());
    const time_point t = base_time();
    std::string html = "<p>";
    for (int i = 0; i < 2500; ++i) html += "Grüße ✓ ";
    html += "</p>";
    const long long welcome = outbox.enqueue(
        {"ada@example.com", "audit@example.com", "Welcome", "Set your password", html}, t);
    const long long reset =
        outbox.enqueue({"bob@example.com", "", "Reset", "Reset link", ""}, t + 1s);
    EXPECT_EQ(outbox.count_pending(), 2);

    EXPECT_TRUE(outbox.claim_due(t - 1s, 10, 5min).empty());  // not due yet
    auto claimed = outbox.claim_due(t + 1s, 10, 5min);
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_EQ(claimed[0].id, welcome);  // oldest first
    EXPECT_EQ(claimed[0].recipient, "ada@example.com");
    EXPECT_EQ(claimed[0].bcc, "audit@example.com");
    EXPECT_EQ(claimed[0].subject, "Welcome");
    EXPECT_EQ(claimed[0].text_body, "Set your password");
    EXPECT_EQ(claimed[0].html_body, html);
    EXPECT_EQ(claimed[0].created_at, t);
    EXPECT_EQ(claimed[0].attempts, 0);
    EXPECT_EQ(claimed[1].id, reset);
    EXPECT_TRUE(claimed[1].bcc.empty());
    EXPECT_TRUE(claimed[1].html_body.empty());

    // Claimed messages are hidden from other senders until the lease runs out.
    EXPECT_TRUE(outbox.claim_due(t + 2s, 10, 5min).empty());
    EXPECT_TRUE(outbox.mark_sent(welcome, t + 3s));
    EXPECT_FALSE(outbox.mark_failed(welcome, "already sent", t + 3s));
    EXPECT_TRUE(outbox.mark_failed(reset, "451 try later", t + 3s));
    EXPECT_EQ(outbox.count_pending(), 1);

    EXPECT_TRUE(outbox.claim_due(t + 3s + 59s, 10, 5min).empty());  // backoff: 1 minute
    claimed = outbox.claim_due(t + 3s + 60s, 10, 5min);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].attempts, 1);
    EXPECT_EQ(claimed[0].last_error, "451 try later");

    // A sender that died with the claim: the message comes due again after the lease.
    EXPECT_EQ(outbox.claim_due(t + 3s + 60s + 5min, 10, 5min).size(), 1u);

    time_point now = t + 1h;
    for (int i = 1; i < store::outbox_max_attempts; ++i) {
        EXPECT_TRUE(outbox.mark_failed(reset, std::string(2000, 'e'), now));  // long errors are cut
        now += 2h;
    }
    EXPECT_EQ(outbox.count_pending(), 0);
    EXPECT_EQ(outbox.count_failed(), 1);
    EXPECT_TRUE(outbox.claim_due(now + 24h, 10, 5min).empty());
}

TEST_P(store_test, outbox_claims_are_exclusive_between_senders) {
    store::outbox_repository outbox(db());
    constexpr int messages = 30;
    for (int i = 0; i < messages; ++i) {
        outbox.enqueue({"user" + std::to_string(i) + "@example.com", "", "Hi", "Body", ""},
                       base_time());
    }
    std::vector<long long> got_a, got_b;
    std::barrier sync(2);
    auto sender = [&](std::vector<long long>& got) {
        store::outbox_repository mine(db());
        sync.arrive_and_wait();
        for (int round = 0; round < 10; ++round) {
            for (auto& m : mine.claim_due(base_time(), 4, 10min)) got.push_back(m.id);
        }
    };
    std::thread a(sender, std::ref(got_a)), b(sender, std::ref(got_b));
    a.join();
    b.join();
    std::set<long long> all(got_a.begin(), got_a.end());
    all.insert(got_b.begin(), got_b.end());
    EXPECT_EQ(got_a.size() + got_b.size(), all.size());  // nobody claimed a message twice
    EXPECT_EQ(static_cast<int>(all.size()), messages);
}

// ---------------------------------------------------------------------------------------------
// Helpers and dialect checks that need no particular back end

// The chunked reader SQL Server's NVARCHAR(MAX) columns go through, run with PostgreSQL syntax.
TEST_P(server_store_test, long_text_is_read_in_chunks) {
    std::string text;
    for (int i = 0; i < 2345; ++i) text += "ab€";
    store::outbox_repository outbox(db());
    const long long id = outbox.enqueue({"x@example.com", "", "s", text, ""}, base_time());
    db().with_session([&](soci::session& s) {
        EXPECT_EQ(store::read_long_text(s, store::dialect::postgresql, "MailOutbox", "text_body",
                                        "id", id),
                  text);
        EXPECT_FALSE(store::read_long_text(s, store::dialect::postgresql, "MailOutbox", "html_body",
                                           "id", id));
        EXPECT_FALSE(store::read_long_text(s, store::dialect::postgresql, "MailOutbox", "text_body",
                                           "id", id + 1));
    });
}

TEST(store_connection, odbc_strings_quote_what_needs_it) {
    portal::app::database_settings s;
    s.driver = "ODBC Driver 17 for SQL Server";
    s.server = "sql01";
    s.port = 1433;
    s.name = "CustomerPortalDB";
    s.username = "portal";
    s.password = "a;b}c";
    EXPECT_EQ(store::connection_string(s),
              "DRIVER={ODBC Driver 17 for SQL "
              "Server};SERVER=sql01,1433;DATABASE=CustomerPortalDB;UID=portal;"
              "PWD={a;b}}c};");
    s.windows_auth = true;
    EXPECT_EQ(store::connection_string(s),
              "DRIVER={ODBC Driver 17 for SQL Server};SERVER=sql01,1433;DATABASE=CustomerPortalDB;"
              "Trusted_Connection=yes;");
    s.driver = "FreeTDS";
    s.windows_auth = false;
    s.password = "plain";
    EXPECT_EQ(
        store::connection_string(s),
        "DRIVER={FreeTDS};SERVER=sql01;PORT=1433;DATABASE=CustomerPortalDB;UID=portal;PWD=plain;");
    EXPECT_EQ(store::dialect_for(s), store::dialect::mssql);
    s.driver = "PostgreSQL Unicode";
    EXPECT_EQ(store::dialect_for(s), store::dialect::postgresql);
    s.driver = "postgresql";
    EXPECT_EQ(store::dialect_for(s), store::dialect::postgresql);
    s.driver = "sqlite";
    EXPECT_EQ(store::dialect_for(s), store::dialect::sqlite);
}

TEST(store_connection, libpq_string_escapes_quotes_and_backslashes) {
    portal::app::database_settings s;
    s.driver = "postgresql";
    s.server = "db.internal";
    s.port = 5432;
    s.name = "portal";
    s.username = "portal";
    s.password = "it's\\x";
    const std::string cs = store::connection_string(s);
    EXPECT_NE(cs.find("password='it\\'s\\\\x'"), std::string::npos) << cs;
    EXPECT_NE(cs.find("host='db.internal'"), std::string::npos) << cs;
    EXPECT_NE(cs.find("connect_timeout="), std::string::npos) << cs;
}

TEST(store_helpers, truncate_and_patterns) {
    EXPECT_EQ(store::truncate_text("abcdef", 3), "abc");
    EXPECT_EQ(store::truncate_text("ééé", 2), "éé");
    EXPECT_EQ(store::truncate_text("ab", 5), "ab");
    EXPECT_EQ(store::contains_pattern("50%_[x]!"), "%50!%!_![x]!!%");
    const time_point t = base_time() + 1500ms;
    EXPECT_EQ(store::from_db_time(store::to_db_time(t)), base_time() + 1s);
}

// SQL Server cannot run here: check that its list has every version the others have, that every
// statement is guarded so version 1 is a no-op on the Flask portal's CustomerPortalDB, and that it
// creates the Flask tables with their exact column names.
TEST(store_mssql_dialect, statements_exist_for_every_version) {
    const auto& mssql = store::schema_for(store::dialect::mssql);
    for (store::dialect other : {store::dialect::sqlite, store::dialect::postgresql}) {
        const auto& reference = store::schema_for(other);
        ASSERT_EQ(mssql.migrations.size(), reference.migrations.size());
        for (std::size_t i = 0; i < reference.migrations.size(); ++i) {
            EXPECT_EQ(mssql.migrations[i].version, reference.migrations[i].version);
            EXPECT_FALSE(mssql.migrations[i].statements.empty());
        }
    }
    EXPECT_EQ(mssql.migrations.back().version, store::latest_schema_version());
    EXPECT_NE(mssql.lock.find("sp_getapplock"), std::string::npos);
    EXPECT_NE(mssql.create_version_table.find("IF OBJECT_ID(N'SchemaVersion'"), std::string::npos);

    for (const auto& m : mssql.migrations) {
        for (const auto& statement : m.statements) {
            const bool guarded = statement.rfind("IF OBJECT_ID(", 0) == 0 ||
                                 statement.rfind("IF COL_LENGTH(", 0) == 0 ||
                                 statement.rfind("IF NOT EXISTS (", 0) == 0;
            EXPECT_TRUE(guarded) << statement;
            for (const char* foreign : {"AUTOINCREMENT", "SERIAL", "GENERATED", " TEXT",
                                        "TIMESTAMP(", "BOOLEAN", "ADD COLUMN", "DROP ", "RENAME"}) {
                EXPECT_EQ(statement.find(foreign), std::string::npos)
                    << foreign << " in " << statement;
            }
            // Only new columns, and only nullable ones.
            if (statement.find("ALTER TABLE") != std::string::npos) {
                EXPECT_NE(statement.find(" NULL"), std::string::npos) << statement;
                EXPECT_EQ(statement.find("NOT NULL"), std::string::npos) << statement;
            }
        }
    }

    std::string v1;
    for (const auto& statement : mssql.migrations.front().statements) v1 += statement + "\n";
    for (const char* expected :
         {"CREATE TABLE Customers (customer_id INT IDENTITY(1,1) PRIMARY KEY, first_name "
          "NVARCHAR(100) NOT NULL, "
          "last_name NVARCHAR(100) NOT NULL, email NVARCHAR(255) NOT NULL UNIQUE, password_hash "
          "NVARCHAR(255) NOT "
          "NULL, erp_customer_name NVARCHAR(4000) NOT NULL, is_active BIT DEFAULT 1, created_date "
          "DATETIME DEFAULT "
          "GETDATE(), last_login_date DATETIME NULL, must_reset_password BIT DEFAULT 0)",
          "session_id NVARCHAR(255) PRIMARY KEY",
          "REFERENCES Customers (customer_id) ON DELETE CASCADE",
          "created_at DATETIME DEFAULT GETUTCDATE()", "log_id INT IDENTITY(1,1) PRIMARY KEY",
          "[timestamp] DATETIME DEFAULT GETDATE()", "details NVARCHAR(MAX) NULL",
          "token_hash NVARCHAR(255) NOT NULL UNIQUE", "expiry_date DATETIME NOT NULL",
          "is_used BIT DEFAULT 0"}) {
        EXPECT_NE(v1.find(expected), std::string::npos) << expected;
    }
}

// The three dialects describe the same logical schema: every column named in one version's
// statements is named in the other dialects' statements for that version.
TEST(store_dialects, same_tables_and_columns_everywhere) {
    const char* names[] = {"Customers",
                           "ActiveSessions",
                           "AuditLog",
                           "PasswordResetTokens",
                           "LoginAttempts",
                           "AdminSessions",
                           "MailOutbox",
                           "customer_id",
                           "first_name",
                           "last_name",
                           "email",
                           "password_hash",
                           "erp_customer_name",
                           "is_active",
                           "created_date",
                           "last_login_date",
                           "must_reset_password",
                           "session_id",
                           "last_seen",
                           "ip_address",
                           "user_agent",
                           "created_at",
                           "log_id",
                           "timestamp",
                           "admin_username",
                           "action_type",
                           "target_customer_id",
                           "target_customer_email",
                           "details",
                           "token_id",
                           "token_hash",
                           "expiry_date",
                           "is_used",
                           "scope",
                           "subject",
                           "attempted_at",
                           "succeeded",
                           "auth_method",
                           "csrf_secret",
                           "expires_at",
                           "recipient",
                           "bcc",
                           "text_body",
                           "html_body",
                           "attempts",
                           "next_attempt_at",
                           "sent_at",
                           "last_error",
                           "purpose",
                           "pending_notice"};
    for (store::dialect d :
         {store::dialect::sqlite, store::dialect::postgresql, store::dialect::mssql}) {
        std::string all;
        for (const auto& m : store::schema_for(d).migrations) {
            for (const auto& statement : m.statements) all += statement + "\n";
        }
        for (const char* name : names) {
            EXPECT_NE(all.find(name), std::string::npos)
                << name << " missing for " << store::to_string(d);
        }
    }
}
