#include "erp/erp_source.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "erp/demo_erp.hpp"
#include "erp/query_file.hpp"
#include "support/pg_cluster.hpp"

namespace {

namespace fs = std::filesystem;
using namespace portal;
using erp::column;
using erp::erp_source;
using erp::erp_unavailable;
using erp::inventory_record;
using erp::query_kind;

const std::string queries_dir = std::string(PORTAL_SOURCE_DIR) + "/queries/";

std::string portable_inventory() {
    return erp::load_query_file(queries_dir + "portable_inventory.sql", query_kind::inventory);
}
std::string portable_customers() {
    return erp::load_query_file(queries_dir + "portable_customers.sql", query_kind::customers);
}

const std::vector<std::string> status_words{"Quarantined", "Issued to Job", "Sales Reserved",
                                            "Staged to Job", "Failed QC",     "Pending QC",
                                            "Approved QC",  "Available"};

// A directory removed at exit; its name has a blank so SQLite paths are quoted properly.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "erp source test.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

temp_dir& scratch() {
    static temp_dir dir;
    return dir;
}

// The demo ERP, built once per test process.
const std::string& demo_path() {
    static const std::string path = [] {
        std::string p = (scratch().path / "demo erp.db").string();
        erp::build_demo_erp(p);
        return p;
    }();
    return path;
}

app::database_settings sqlite_settings(const std::string& path = demo_path()) {
    app::database_settings s;
    s.driver = "sqlite";
    s.name = path;
    s.timeout_seconds = 5;
    return s;
}

// Direct reads of an SQLite file with the C API, independent of the code under test.
class sqlite_reader {
public:
    explicit sqlite_reader(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path);
    }
    ~sqlite_reader() { sqlite3_close(db_); }
    long long number(const std::string& sql, const std::string& bind = {}) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
            throw std::runtime_error(sqlite3_errmsg(db_));
        if (!bind.empty()) sqlite3_bind_text(s, 1, bind.c_str(), -1, SQLITE_TRANSIENT);
        long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
        sqlite3_finalize(s);
        return v;
    }

private:
    sqlite3* db_ = nullptr;
};

long long direct_stock_count(const std::string& path, const std::string& customer) {
    sqlite_reader db(path);
    return db.number(
        "SELECT COUNT(*) FROM dtfifo f JOIN dmprod pr ON pr.pr_id = f.fi_prid "
        "JOIN dmpr1 p1 ON p1.p1_id = pr.pr_user5 WHERE TRIM(p1.p1_name) = ? AND f.fi_balance > 0",
        customer);
}

std::string value(const inventory_record& r, column c) { return r[c].value_or("<null>"); }

// Rows in a fixed order with on_hand rounded, so results from different drivers compare equal.
std::vector<std::string> canonical(const std::vector<inventory_record>& rows) {
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        std::string line;
        for (const auto& info : erp::columns) {
            if (info.id == column::on_hand) {
                char buffer[64];
                std::snprintf(buffer, sizeof buffer, "%.4f", r.on_hand.value_or(NAN));
                line += buffer;
            } else {
                line += r[info.id] ? "[" + *r[info.id] + "]" : "<null>";
            }
            line += '|';
        }
        out.push_back(std::move(line));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// ---------------------------------------------------------------------------------------------
// The demo ERP

TEST(demo_erp, is_the_same_for_the_same_seed) {
    const std::string a = (scratch().path / "timing a.db").string();
    const std::string b = (scratch().path / "timing b.db").string();
    auto start = std::chrono::steady_clock::now();
    erp::build_demo_erp(a, 42);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sqlite_reader db(a);
    long long rows = db.number("SELECT COUNT(*) FROM dtfifo");
    std::cout << "[ demo ERP ] " << rows << " dtfifo rows generated in " << seconds << " s\n";
    RecordProperty("demo_generation_seconds", std::to_string(seconds));
    EXPECT_GT(rows, 115'000);

    erp::build_demo_erp(b, 42);
    sqlite_reader other(b);
    const std::string checksum =
        "SELECT SUM(fi_id * 7 + CAST(fi_balance * 1000 AS INTEGER) + LENGTH(COALESCE(fi_userlot, "
        "'')) + LENGTH(COALESCE(fi_expires, ''))) FROM dtfifo";
    EXPECT_EQ(db.number(checksum), other.number(checksum));

    // Rebuilding over an existing file replaces it.
    erp::build_demo_erp(a, 7);
    sqlite_reader rebuilt(a);
    EXPECT_NE(rebuilt.number(checksum), other.number(checksum));
    EXPECT_FALSE(fs::exists(a + ".building-" + std::to_string(::getpid())));
}

TEST(demo_erp, holds_varied_realistic_data) {
    sqlite_reader db(demo_path());
    auto names = erp::demo_customer_names();
    ASSERT_EQ(names.size(), 8u);
    EXPECT_EQ(db.number("SELECT COUNT(*) FROM dmpr1"), 8);
    for (const auto& n : names)
        EXPECT_EQ(db.number("SELECT COUNT(*) FROM dmpr1 WHERE TRIM(p1_name) = ?", n), 1) << n;
    // Names the demo accounts depend on.
    for (const char* n : {"Bäckerei Müller GmbH", "Café Ñandú", "東京フーズ", "Globex Corporation"})
        EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;

    std::vector<long long> counts;
    for (const auto& n : names) counts.push_back(direct_stock_count(demo_path(), n));
    EXPECT_EQ(*std::max_element(counts.begin(), counts.end()), 100'000);
    EXPECT_EQ(*std::min_element(counts.begin(), counts.end()), 0);
    EXPECT_GE(std::count_if(counts.begin(), counts.end(), [](long long c) { return c > 0 && c < 50; }), 2);

    EXPECT_GT(db.number("SELECT COUNT(*) FROM dtfifo WHERE fi_balance <= 0"), 1'000);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dtfifo WHERE fi_balance < 0"), 0);
    EXPECT_GE(db.number("SELECT COUNT(*) FROM dmware"), 3);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dtfifo WHERE fi_userlot IS NULL AND fi_lotnum IS NULL"), 0);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dtfifo WHERE fi_expires IS NULL"), 0);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dtfifo WHERE fi_lotdate IS NULL"), 0);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dmloc WHERE lo_name LIKE 'A-01-02%'"), 0);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dmprod WHERE pr_descrip LIKE '%<script>%'"), 0);
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dmprod WHERE pr_descrip LIKE '<b>%'"), 0);
    for (const char* start : {"=", "+", "-", "@"}) {
        EXPECT_GT(db.number("SELECT COUNT(*) FROM dmprod WHERE substr(pr_descrip, 1, 1) = ?", start), 0)
            << start;
    }
    EXPECT_GT(db.number("SELECT COUNT(*) FROM dmprod WHERE pr_descrip GLOB '*[^ -~]*'"), 100);
}

// ---------------------------------------------------------------------------------------------
// erp_source over SQLite

TEST(erp_source_sqlite, fetches_each_customers_stock_exactly) {
    erp_source source(sqlite_settings(), portable_inventory(), portable_customers());
    source.probe();
    std::set<std::string> statuses;
    const std::regex iso_date(R"(\d{4}-\d{2}-\d{2})");
    for (const auto& name : erp::demo_customer_names()) {
        SCOPED_TRACE(name);
        auto result = source.fetch_inventory(name);
        EXPECT_EQ(static_cast<long long>(result.rows.size()), direct_stock_count(demo_path(), name));
        for (bool present : result.present) EXPECT_TRUE(present);
        std::size_t dates = 0;
        for (const auto& r : result.rows) {
            ASSERT_TRUE(r.on_hand.has_value());
            ASSERT_GT(*r.on_hand, 0.0);
            ASSERT_EQ(value(r, column::customer), name);  // also: CHAR padding trimmed
            ASSERT_TRUE(r[column::part].has_value());
            ASSERT_TRUE(r[column::bin].has_value());
            ASSERT_NE(r[column::bin]->back(), ' ');
            statuses.insert(value(r, column::status));
            for (column c : {column::expires, column::last_transaction, column::received}) {
                if (!r[c]) continue;
                ASSERT_TRUE(std::regex_match(*r[c], iso_date)) << *r[c];
                ASSERT_GE(*r[c], "1900-01-02");  // Deacom's "no date" became NULL
                ++dates;
            }
        }
        if (!result.rows.empty()) {
            EXPECT_GT(dates, 0u);
        }
    }
    EXPECT_EQ(statuses, std::set<std::string>(status_words.begin(), status_words.end()));
}

TEST(erp_source_sqlite, an_unknown_customer_has_no_stock_and_quotes_are_bound_not_pasted) {
    erp_source source(sqlite_settings(), portable_inventory(), portable_customers());
    EXPECT_TRUE(source.fetch_inventory("Nobody Ltd").rows.empty());
    EXPECT_TRUE(source.fetch_inventory("x' OR '1'='1").rows.empty());
    EXPECT_EQ(source.fetch_inventory("O'Reilly & Sons <Wholesale>").rows.size(), 250u);
}

TEST(erp_source_sqlite, fetches_customer_names_sorted_trimmed_and_unique) {
    erp_source source(sqlite_settings(), portable_inventory(), portable_customers());
    auto names = source.fetch_customers();
    auto expected = erp::demo_customer_names();
    std::sort(expected.begin(), expected.end());
    auto sorted = names;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, expected);
    EXPECT_EQ(names.front(), "Acme Foods");  // case-insensitive order

    erp_source messy(sqlite_settings(), portable_inventory(),
                     "SELECT ' zeta ' AS Name UNION ALL SELECT 'Alpha' UNION ALL SELECT 'alpha' "
                     "UNION ALL SELECT 'Alpha   ' UNION ALL SELECT '' UNION ALL SELECT NULL");
    EXPECT_EQ(messy.fetch_customers(), (std::vector<std::string>{"Alpha", "alpha", "zeta"}));
}

TEST(erp_source_sqlite, maps_columns_by_alias_ignoring_case_and_extra_columns) {
    erp_source source(sqlite_settings(),
                      "SELECT 'x' AS Extra, lo.lo_name AS BIN, pr.pr_codenum AS Part, "
                      "f.fi_balance AS ON_HAND, 'ignored' AS another FROM dtfifo f "
                      "JOIN dmprod pr ON pr.pr_id = f.fi_prid JOIN dmpr1 p1 ON p1.p1_id = pr.pr_user5 "
                      "JOIN dmloc lo ON lo.lo_id = f.fi_loid "
                      "WHERE TRIM(p1.p1_name) = :erp_customer AND f.fi_balance > 0",
                      portable_customers());
    auto result = source.fetch_inventory("Café Ñandú");
    ASSERT_EQ(result.rows.size(), 40u);
    for (const auto& info : erp::columns)
        EXPECT_EQ(result.present[static_cast<std::size_t>(info.id)], info.required) << info.name;
    EXPECT_TRUE(result.rows[0][column::part].has_value());
    EXPECT_FALSE(result.rows[0][column::description].has_value());
    source.probe();
}

TEST(erp_source_sqlite, reads_numbers_and_dates_whatever_type_the_driver_reports) {
    erp_source source(
        sqlite_settings(),
        "SELECT 'a' AS part, 12 AS on_hand, 'b' AS bin, '2027-03-01 10:00:00' AS expires, "
        "'2027/03/02' AS received, '20270303' AS last_transaction, 'L1   ' AS lot, '   ' AS po "
        "WHERE :erp_customer IS NOT NULL "
        "UNION ALL SELECT 'c', 2.5, 'd', NULL, 'not a date', NULL, NULL, NULL "
        "UNION ALL SELECT 'e', '1234.5000', 'f', NULL, NULL, NULL, NULL, NULL "
        "UNION ALL SELECT 'g', ' 7 ', 'h', NULL, NULL, NULL, NULL, NULL "
        "UNION ALL SELECT 'i', NULL, 'j', NULL, NULL, NULL, NULL, NULL",
        portable_customers());
    auto rows = source.fetch_inventory("any").rows;
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0].on_hand, 12.0);
    EXPECT_EQ(value(rows[0], column::expires), "2027-03-01");
    EXPECT_EQ(value(rows[0], column::received), "2027-03-02");
    EXPECT_EQ(value(rows[0], column::last_transaction), "2027-03-03");
    EXPECT_EQ(value(rows[0], column::lot), "L1");
    EXPECT_FALSE(rows[0][column::po].has_value());  // blank is empty
    EXPECT_EQ(rows[1].on_hand, 2.5);
    EXPECT_FALSE(rows[1][column::expires].has_value());
    EXPECT_EQ(value(rows[1], column::received), "not a date");  // kept, not dropped
    EXPECT_EQ(rows[2].on_hand, 1234.5);
    EXPECT_EQ(rows[3].on_hand, 7.0);
    EXPECT_FALSE(rows[4].on_hand.has_value());

    erp_source bad(sqlite_settings(),
                   "SELECT 'a' AS part, 'twelve' AS on_hand, 'b' AS bin WHERE :erp_customer <> ''",
                   portable_customers());
    try {
        bad.fetch_inventory("any");
        ADD_FAILURE() << "a non-numeric on_hand was accepted";
    } catch (const erp_unavailable& e) {
        EXPECT_NE(std::string(e.what()).find("on_hand"), std::string::npos) << e.what();
    }
}

TEST(erp_source_sqlite, probe_names_a_missing_required_column) {
    for (const char* missing : {"part", "on_hand", "bin"}) {
        SCOPED_TRACE(missing);
        std::string query = portable_inventory();
        // Rename the alias so the column is still there but not under its contract name.
        auto at = query.find(std::string(" AS ") + missing + ",");
        ASSERT_NE(at, std::string::npos);
        query.replace(at, 4 + std::string(missing).size(), std::string(" AS x_") + missing);
        erp_source source(sqlite_settings(), query, portable_customers());
        try {
            source.probe();
            ADD_FAILURE() << "probe accepted a query without " << missing;
        } catch (const erp_unavailable& e) {
            std::string message = e.what();
            EXPECT_NE(message.find(std::string("`") + missing + "`"), std::string::npos) << message;
            EXPECT_NE(message.find("required"), std::string::npos) << message;
        }
        // fetch_inventory refuses the same query even when rows come back.
        EXPECT_THROW(source.fetch_inventory("Acme Foods"), erp_unavailable);
    }

    erp_source no_name(sqlite_settings(), portable_inventory(), "SELECT p1_name AS customer FROM dmpr1");
    EXPECT_THROW(no_name.probe(), erp_unavailable);
}

TEST(erp_source_sqlite, the_connection_is_read_only) {
    EXPECT_NE(erp::sqlite_connection_string(sqlite_settings()).find("readonly=1"), std::string::npos);
    // The query-file check would refuse this; the connection must refuse it too.
    erp_source writer(sqlite_settings(),
                      "INSERT INTO dmpr1 (p1_id, p1_name) VALUES (999, :erp_customer) "
                      "RETURNING 'x' AS part, 1 AS on_hand, 'b' AS bin",
                      "UPDATE dmpr1 SET p1_name = 'hacked' RETURNING p1_name AS name");
    EXPECT_THROW(writer.fetch_inventory("Intruder"), erp_unavailable);
    EXPECT_THROW(writer.fetch_customers(), erp_unavailable);
    sqlite_reader db(demo_path());
    EXPECT_EQ(db.number("SELECT COUNT(*) FROM dmpr1"), 8);
    EXPECT_EQ(db.number("SELECT COUNT(*) FROM dmpr1 WHERE p1_name = 'hacked'"), 0);
}

TEST(erp_source_sqlite, a_missing_file_is_unavailable_and_not_created) {
    const std::string path = (scratch().path / "no such erp.db").string();
    erp_source source(sqlite_settings(path), portable_inventory(), portable_customers());
    EXPECT_THROW(source.fetch_inventory("Acme Foods"), erp_unavailable);
    EXPECT_THROW(source.probe(), erp_unavailable);
    EXPECT_FALSE(fs::exists(path));
}

TEST(erp_source_sqlite, an_sql_error_is_unavailable_without_the_query_text) {
    erp_source source(sqlite_settings(), "SELECT part, on_hand, bin FROM no_such_table WHERE x = :erp_customer",
                      portable_customers());
    try {
        source.fetch_inventory("Acme Foods");
        ADD_FAILURE() << "no error";
    } catch (const erp_unavailable& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("no_such_table"), std::string::npos) << message;
        EXPECT_EQ(message.find("SELECT"), std::string::npos) << message;
    }
    // The failed session was dropped; the source keeps working with a good query afterwards.
    erp_source good(sqlite_settings(), portable_inventory(), portable_customers());
    EXPECT_EQ(good.fetch_inventory("Café Ñandú").rows.size(), 40u);
}

TEST(erp_source_sqlite, many_threads_share_a_small_pool) {
    erp_source source(sqlite_settings(), portable_inventory(), portable_customers(), 2);
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            auto name = i % 2 ? std::string("Acme Foods") : std::string("Café Ñandú");
            if (source.fetch_inventory(name).rows.size() == (i % 2 ? 600u : 40u)) ++good;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(good.load(), 8);
}

// ---------------------------------------------------------------------------------------------
// Connection strings and defaults

TEST(erp_connection_strings, odbc_values_are_escaped_and_read_only_is_asked_for) {
    app::database_settings s;
    s.driver = "FreeTDS";
    s.server = "erp01";
    s.port = 1433;
    s.name = "DEACOM";
    s.username = "portal";
    s.password = "p;a}ss{w=rd";
    s.timeout_seconds = 12;
    std::string cs = erp::odbc_connection_string(s);
    EXPECT_EQ(cs.rfind("DRIVER=FreeTDS;SERVER=erp01;PORT=1433;DATABASE=DEACOM;UID=portal;", 0), 0u) << cs;
    EXPECT_NE(cs.find("PWD={p;a}}ss{w=rd};"), std::string::npos) << cs;
    EXPECT_NE(cs.find("ApplicationIntent=ReadOnly;"), std::string::npos) << cs;
    EXPECT_NE(cs.find("ClientCharset=UTF-8;"), std::string::npos) << cs;
    EXPECT_NE(cs.find("DMConnAttr={SQL_ATTR_LOGIN_TIMEOUT=12};"), std::string::npos) << cs;

    s.driver = "ODBC Driver 18 for SQL Server";
    s.windows_auth = true;
    cs = erp::odbc_connection_string(s);
    EXPECT_NE(cs.find("DRIVER=ODBC Driver 18 for SQL Server;SERVER=erp01,1433;"), std::string::npos) << cs;
    EXPECT_EQ(cs.find("PORT="), std::string::npos) << cs;
    EXPECT_NE(cs.find("Trusted_Connection=yes;"), std::string::npos) << cs;
    EXPECT_EQ(cs.find("PWD="), std::string::npos) << cs;
    EXPECT_NE(cs.find("ApplicationIntent=ReadOnly;"), std::string::npos) << cs;

    s.driver = "PostgreSQL Unicode";
    s.windows_auth = false;
    cs = erp::odbc_connection_string(s);
    EXPECT_NE(cs.find("ConnSettings={SET default_transaction_read_only = on; SET statement_timeout = 12000};"),
              std::string::npos) << cs;
    EXPECT_EQ(cs.find("ApplicationIntent"), std::string::npos) << cs;
}

TEST(erp_connection_strings, postgresql_is_read_only_with_timeouts) {
    app::database_settings s;
    s.driver = "postgresql";
    s.server = "db";
    s.port = 5433;
    s.name = "erp";
    s.username = "reader";
    s.password = "it's a \\ secret";
    s.timeout_seconds = 7;
    std::string cs = erp::postgresql_connection_string(s);
    EXPECT_EQ(cs.rfind("postgresql://reader:it%27s%20a%20%5C%20secret@db:5433/erp?", 0), 0u) << cs;
    EXPECT_NE(cs.find("connect_timeout=7"), std::string::npos) << cs;
    EXPECT_NE(cs.find("options=-c%20default_transaction_read_only%3Don%20-c%20statement_timeout%3D7000"),
              std::string::npos) << cs;
    s.server = "/var/run/postgresql";
    cs = erp::postgresql_connection_string(s);
    EXPECT_NE(cs.find("@/erp?"), std::string::npos) << cs;
    EXPECT_NE(cs.find("&host=%2Fvar%2Frun%2Fpostgresql&port=5433"), std::string::npos) << cs;
    s.server = "db";

    erp_source source(s, portable_inventory(), portable_customers());
    EXPECT_EQ(source.description().find("secret"), std::string::npos);
    EXPECT_NE(source.description().find("db:5433"), std::string::npos) << source.description();
}

TEST(erp_connection_strings, bundled_queries_follow_the_driver) {
    EXPECT_EQ(erp::bundled_query_path("/opt/portal", "FreeTDS", query_kind::inventory),
              "/opt/portal/queries/deacom_inventory.sql");
    EXPECT_EQ(erp::bundled_query_path("/opt/portal/", "ODBC Driver 17 for SQL Server", query_kind::customers),
              "/opt/portal/queries/deacom_customers.sql");
    EXPECT_EQ(erp::bundled_query_path("/opt/portal", "sqlite", query_kind::inventory),
              "/opt/portal/queries/portable_inventory.sql");
    EXPECT_EQ(erp::bundled_query_path("/opt/portal", "postgresql", query_kind::customers),
              "/opt/portal/queries/portable_customers.sql");
    for (auto kind : {query_kind::inventory, query_kind::customers})
        for (const char* driver : {"FreeTDS", "sqlite"})
            EXPECT_TRUE(fs::exists(erp::bundled_query_path(PORTAL_SOURCE_DIR, driver, kind)));
}

TEST(erp_connection_strings, make_erp_source_loads_the_bundled_queries) {
    app::config cfg;
    cfg.assets_dir = PORTAL_SOURCE_DIR;
    cfg.erp = sqlite_settings();
    auto source = erp::make_erp_source(cfg);
    source->probe();
    EXPECT_EQ(source->fetch_inventory("Acme Foods").rows.size(), 600u);

    cfg.erp_inventory_query_file = (scratch().path / "bad inventory.sql").string();
    {
        std::ofstream out(cfg.erp_inventory_query_file);
        out << "SELECT 1 AS part; DELETE FROM dtfifo";
    }
    try {
        erp::make_erp_source(cfg);
        ADD_FAILURE() << "a two-statement query file was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(cfg.erp_inventory_query_file), std::string::npos) << e.what();
    }
}

// ---------------------------------------------------------------------------------------------
// The same data through PostgreSQL, natively and over ODBC

const std::string reader_user = "erp_reader";
// Everything an ODBC or libpq connection string must escape.
const std::string reader_password = "p;a}ss{w=rd 'q' \\ x";

class erp_source_postgresql : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            cluster_ = std::make_unique<test::pg_cluster>();
            cluster_->create_database("erp");
            test::copy_sqlite_to_postgres(*cluster_, demo_path(), "erp");
            std::string quoted_password = "'";
            for (char c : reader_password) quoted_password += c == '\'' ? std::string("''") : std::string(1, c);
            quoted_password += "'";
            cluster_->execute("CREATE ROLE " + reader_user + " LOGIN PASSWORD " + quoted_password +
                              "; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + reader_user, "erp");
        } catch (const std::exception& e) {
            start_error_ = e.what();
            cluster_.reset();
        }
    }
    static void TearDownTestSuite() { cluster_.reset(); }

    void SetUp() override {
        // No skipping: a machine that cannot run PostgreSQL fails here, with the server's log.
        ASSERT_TRUE(cluster_) << "PostgreSQL test cluster did not start:\n" << start_error_;
    }

    static app::database_settings native(const std::string& user = reader_user,
                                         const std::string& password = reader_password) {
        app::database_settings s;
        s.driver = "postgresql";
        s.server = cluster_->host();
        s.port = cluster_->port();
        s.name = "erp";
        s.username = user;
        s.password = password;
        s.timeout_seconds = 10;
        return s;
    }
    static app::database_settings odbc(const std::string& user = reader_user,
                                       const std::string& password = reader_password) {
        auto s = native(user, password);
        s.driver = "PostgreSQL Unicode";
        return s;
    }

    // Ends the server side of every connection to the ERP database.
    static void terminate_erp_connections() {
        cluster_->execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = 'erp' AND pid <> pg_backend_pid()");
    }

    static std::unique_ptr<test::pg_cluster> cluster_;
    static std::string start_error_;
};
std::unique_ptr<test::pg_cluster> erp_source_postgresql::cluster_;
std::string erp_source_postgresql::start_error_;

TEST_F(erp_source_postgresql, returns_the_same_stock_as_sqlite_natively_and_over_odbc) {
    erp_source lite(sqlite_settings(), portable_inventory(), portable_customers());
    erp_source pg(native(), portable_inventory(), portable_customers());
    erp_source over_odbc(odbc(), portable_inventory(), portable_customers());
    pg.probe();
    over_odbc.probe();

    auto names = lite.fetch_customers();
    EXPECT_EQ(pg.fetch_customers(), names);
    EXPECT_EQ(over_odbc.fetch_customers(), names);

    std::set<std::string> statuses;
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto expected = lite.fetch_inventory(name);
        auto native_result = pg.fetch_inventory(name);
        auto odbc_result = over_odbc.fetch_inventory(name);
        EXPECT_EQ(native_result.present, expected.present);
        EXPECT_EQ(odbc_result.present, expected.present);
        auto want = canonical(expected.rows);
        ASSERT_EQ(want.size(), static_cast<std::size_t>(direct_stock_count(demo_path(), name)));
        auto got_native = canonical(native_result.rows);
        auto got_odbc = canonical(odbc_result.rows);
        ASSERT_EQ(got_native.size(), want.size());
        ASSERT_EQ(got_odbc.size(), want.size());
        // Compare row by row so a failure shows the first differing row, not 100,000.
        for (std::size_t i = 0; i < want.size(); ++i) {
            ASSERT_EQ(got_native[i], want[i]) << "postgresql row " << i;
            ASSERT_EQ(got_odbc[i], want[i]) << "ODBC row " << i;
        }
        for (const auto& r : odbc_result.rows) statuses.insert(value(r, column::status));
    }
    EXPECT_EQ(statuses, std::set<std::string>(status_words.begin(), status_words.end()));
}

TEST_F(erp_source_postgresql, connections_are_read_only_even_for_a_superuser) {
    const std::string write =
        "INSERT INTO dmpr1 (p1_id, p1_name) VALUES (999, CAST(:erp_customer AS VARCHAR(60))) "
        "RETURNING 'x' AS part, 1 AS on_hand, 'b' AS bin";
    for (auto settings : {native(cluster_->superuser(), cluster_->superuser_password()),
                          odbc(cluster_->superuser(), cluster_->superuser_password())}) {
        SCOPED_TRACE(settings.driver);
        erp_source writer(settings, write, portable_customers());
        try {
            writer.fetch_inventory("Intruder");
            ADD_FAILURE() << "the write went through";
        } catch (const erp_unavailable& e) {
            EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
        }
    }
    erp_source check(native(), portable_inventory(), portable_customers());
    EXPECT_EQ(check.fetch_customers().size(), 8u);
}

TEST_F(erp_source_postgresql, a_wrong_password_is_unavailable_and_never_in_the_message) {
    const std::string wrong = "Wr0ng;pa}ss{word";
    for (auto settings : {native(reader_user, wrong), odbc(reader_user, wrong)}) {
        SCOPED_TRACE(settings.driver);
        erp_source source(settings, portable_inventory(), portable_customers());
        try {
            source.probe();
            ADD_FAILURE() << "connected with a wrong password";
        } catch (const erp_unavailable& e) {
            std::string message = e.what();
            EXPECT_EQ(message.find("Wr0ng"), std::string::npos) << message;
            EXPECT_EQ(message.find("pa}ss"), std::string::npos) << message;
            EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
        }
    }
}

TEST_F(erp_source_postgresql, a_session_killed_by_the_server_is_replaced) {
    for (auto settings : {native(), odbc()}) {
        SCOPED_TRACE(settings.driver);
        erp_source source(settings, portable_inventory(), portable_customers(), 1);
        EXPECT_EQ(source.fetch_inventory("Café Ñandú").rows.size(), 40u);
        terminate_erp_connections();
        EXPECT_EQ(source.fetch_inventory("Café Ñandú").rows.size(), 40u);
        EXPECT_EQ(source.fetch_customers().size(), 8u);
    }
}

TEST_F(erp_source_postgresql, a_slow_query_times_out) {
    const std::string slow =
        "SELECT 'a' AS part, 1 AS on_hand, 'b' AS bin FROM pg_sleep(20) "
        "WHERE CAST(:erp_customer AS VARCHAR(60)) IS NOT NULL";
    for (auto settings : {native(), odbc()}) {
        SCOPED_TRACE(settings.driver);
        settings.timeout_seconds = 1;
        erp_source source(settings, slow, portable_customers());
        try {
            source.fetch_inventory("Acme Foods");
            ADD_FAILURE() << "no timeout";
        } catch (const erp_unavailable& e) {
            EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
        }
    }
}

// A TCP listener that never answers: connecting succeeds, the login never completes.
class silent_server {
public:
    silent_server() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
            ::listen(fd_, 16) < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
            throw std::runtime_error("silent_server: cannot listen");
        port_ = ntohs(addr.sin_port);
    }
    ~silent_server() { ::close(fd_); }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

TEST(erp_source_unreachable, a_server_that_never_answers_times_out_the_login) {
    silent_server server;
    for (const char* driver : {"postgresql", "PostgreSQL Unicode"}) {
        SCOPED_TRACE(driver);
        app::database_settings s;
        s.driver = driver;
        s.server = "127.0.0.1";
        s.port = server.port();
        s.name = "erp";
        s.username = "u";
        s.password = "secret-password";
        s.timeout_seconds = 2;
        auto source = std::make_shared<erp_source>(s, portable_inventory(), portable_customers());
        // Run it on a thread so that a missing timeout fails the test instead of hanging it.
        auto outcome = std::make_shared<std::promise<std::string>>();
        auto done = outcome->get_future();
        std::thread([source, outcome] {
            try {
                source->probe();
                outcome->set_value("connected");
            } catch (const erp_unavailable& e) {
                outcome->set_value(std::string("unavailable: ") + e.what());
            } catch (const std::exception& e) {
                outcome->set_value(std::string("other exception: ") + e.what());
            }
        }).detach();
        ASSERT_EQ(done.wait_for(std::chrono::seconds(60)), std::future_status::ready)
            << "the login timeout did not fire";
        std::string result = done.get();
        EXPECT_EQ(result.rfind("unavailable: ", 0), 0u) << result;
        EXPECT_EQ(result.find("secret-password"), std::string::npos) << result;
    }
}

TEST(erp_source_unreachable, a_closed_port_is_unavailable) {
    int port;
    {
        silent_server probe_port;
        port = probe_port.port();
    }  // closed again: nothing listens there now
    for (const char* driver : {"postgresql", "PostgreSQL Unicode"}) {
        SCOPED_TRACE(driver);
        app::database_settings s;
        s.driver = driver;
        s.server = "127.0.0.1";
        s.port = port;
        s.name = "erp";
        s.username = "u";
        s.password = "secret-password";
        s.timeout_seconds = 5;
        erp_source source(s, portable_inventory(), portable_customers());
        try {
            source.fetch_inventory("Acme Foods");
            ADD_FAILURE() << "connected to a closed port";
        } catch (const erp_unavailable& e) {
            std::string message = e.what();
            EXPECT_NE(message.find("cannot connect"), std::string::npos) << message;
            EXPECT_EQ(message.find("secret-password"), std::string::npos) << message;
        }
    }
}

}  // namespace
