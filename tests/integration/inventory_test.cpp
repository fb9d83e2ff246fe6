// Live inventory against the real binary: isolation between customers, the API contract, and the
// ERP's failures (stale snapshot, outage, slow customer, single flight) with a real PostgreSQL ERP.
#include "auth/password_hash.hpp"
#include "erp/demo_erp.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "support/pg_cluster.hpp"
#include "support/web_client.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace portal;
using namespace portal::testing;
namespace json = boost::json;

namespace {

constexpr const char* demo_password = "demo-password-2026";

json::object api(web_client& c, const std::string& params, int expected = 200) {
    auto r = c.get("/api/v1/inventory" + params);
    EXPECT_EQ(r.status, expected) << params << ": " << r.body;
    return json::parse(r.body).as_object();
}

store::database local_store(const std::string& path) {
    app::database_settings s;
    s.driver = "sqlite";
    s.name = path;
    return store::database(s);
}

// The demo: SQLite ERP with the demo customers and accounts.
class demo_inventory : public ::testing::Test {
protected:
    static void SetUpTestSuite() { portal_ = new portal_process(env_map{}, {"demo"}); }
    static void TearDownTestSuite() {
        delete portal_;
        portal_ = nullptr;
    }
    web_client signed_in(const std::string& email) {
        web_client c(portal_->port());
        EXPECT_EQ(c.login(email, demo_password).status, 303);
        return c;
    }
    static portal_process* portal_;
};
portal_process* demo_inventory::portal_ = nullptr;

}  // namespace

TEST_F(demo_inventory, signed_out_api_is_401_json_and_page_redirects) {
    web_client c(portal_->port());
    auto r = c.get("/api/v1/inventory");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    EXPECT_EQ(r.body.rfind("{\"error\":", 0), 0u);
    auto page = c.get("/inventory?part=A");
    EXPECT_EQ(page.status, 303);
    EXPECT_EQ(page.header("location"), "/login?next=%2Finventory%3Fpart%3DA");
}

TEST_F(demo_inventory, response_has_the_contract_shape) {
    auto c = signed_in("alice@acme.example");
    auto r = c.get("/api/v1/inventory?per_page=5&sort=on_hand&order=desc");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("cache-control"), "no-store");
    auto body = json::parse(r.body).as_object();
    const auto& columns = body.at("columns").as_array();
    ASSERT_GE(columns.size(), 3u);
    EXPECT_EQ(columns[0], "customer");
    EXPECT_EQ(body.at("total").as_int64(), 600);
    EXPECT_EQ(body.at("page").as_int64(), 1);
    EXPECT_EQ(body.at("per_page").as_int64(), 5);
    EXPECT_EQ(body.at("rows").as_array().size(), 5u);
    EXPECT_FALSE(body.at("stale").as_bool());
    EXPECT_EQ(body.at("as_of").as_string().size(), 20u);
    for (const char* f : {"part", "bin", "status"}) EXPECT_TRUE(body.at("facets").as_object().contains(f));
    // Sorted by on_hand descending.
    std::size_t on_hand = 0;
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i] == "on_hand") on_hand = i;
    const auto& rows = body.at("rows").as_array();
    for (std::size_t i = 1; i < rows.size(); ++i)
        EXPECT_GE(rows[i - 1].as_array()[on_hand].to_number<double>(), rows[i].as_array()[on_hand].to_number<double>());
}

TEST_F(demo_inventory, a_customer_sees_only_its_own_rows_whatever_it_asks) {
    auto alice = signed_in("alice@acme.example");
    auto all = api(alice, "?per_page=1000");
    EXPECT_EQ(all.at("total").as_int64(), 600);
    for (const auto& row : all.at("rows").as_array()) EXPECT_EQ(row.as_array()[0], "Acme Foods");
    for (const std::string& widen : std::vector<std::string>{"?customer=Globex%20Corporation", "?customer=All", "?customer=Acme%20Foods%7CGlobex%20Corporation",
                                    "?erp_customer=Globex%20Corporation&customer=Globex%20Corporation", "?q=Globex",
                                    "?customer=globex%20corporation"}) {
        EXPECT_EQ(api(alice, widen).at("total").as_int64(), 0) << widen;
    }
    EXPECT_EQ(api(alice, "?customer=Acme%20Foods").at("total").as_int64(), 600);
}

TEST_F(demo_inventory, several_names_and_all_see_the_union_with_the_customer_column) {
    auto nina = signed_in("nina@northwind.example");
    EXPECT_EQ(api(nina, "").at("total").as_int64(), 15'000);
    EXPECT_EQ(api(nina, "?customer=Northwind%20Traders").at("total").as_int64(), 10'000);
    EXPECT_EQ(api(nina, "?customer=B%C3%A4ckerei%20M%C3%BCller%20GmbH").at("total").as_int64(), 5'000);
    EXPECT_EQ(api(nina, "?customer=Acme%20Foods").at("total").as_int64(), 0);

    auto staff = signed_in("staff@warehouse.example");
    const auto everything = api(staff, "?per_page=1").at("total").as_int64();
    EXPECT_EQ(everything, 600 + 5'000 + 40 + 3 + 10'000 + 100'000 + 250);
    EXPECT_EQ(api(staff, "?customer=Globex%20Corporation&per_page=1").at("total").as_int64(), 100'000);
}

TEST_F(demo_inventory, facets_cascade_from_the_other_filters) {
    auto alice = signed_in("alice@acme.example");
    auto plain = api(alice, "");
    auto statuses = plain.at("facets").at("status").as_array();
    ASSERT_GE(statuses.size(), 2u);
    const std::string status(statuses[0].as_string());
    auto filtered = api(alice, "?per_page=1000&status=" + url_encode(status));
    // The status facet ignores the status filter itself; part and bin narrow to rows of that status.
    EXPECT_EQ(filtered.at("facets").at("status").as_array().size(), statuses.size());
    EXPECT_LE(filtered.at("facets").at("part").as_array().size(), plain.at("facets").at("part").as_array().size());
    for (const auto& row : filtered.at("rows").as_array()) EXPECT_EQ(row.as_array().back(), status.c_str());
}

TEST_F(demo_inventory, bad_parameters_are_400_json) {
    auto alice = signed_in("alice@acme.example");
    for (const std::string& bad : std::vector<std::string>{"?per_page=0", "?per_page=1001", "?page=0", "?page=abc", "?sort=password_hash",
                                  "?order=sideways", "?q=" + std::string(300, 'a')}) {
        auto r = alice.get("/api/v1/inventory" + bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(r.body.rfind("{\"error\":\"", 0), 0u) << r.body;
    }
}

TEST_F(demo_inventory, json_is_gzipped_when_the_client_accepts_it) {
    auto alice = signed_in("alice@acme.example");
    auto r = alice.get("/api/v1/inventory?per_page=200", {{"Accept-Encoding", "gzip, deflate"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-encoding"), "gzip");
    EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);
}

TEST_F(demo_inventory, deactivation_mid_session_ends_access_at_once) {
    auto db = local_store(portal_->cwd() + "/data/demo/portal.db");
    store::customers_repository customers(db);
    auto c = signed_in("staff@warehouse.example");
    ASSERT_EQ(c.get("/api/v1/inventory?per_page=1").status, 200);
    const int id = customers.find_by_email("staff@warehouse.example")->customer_id;
    customers.set_active(id, false);
    EXPECT_EQ(c.get("/api/v1/inventory?per_page=1").status, 401);
    customers.set_active(id, true);
    EXPECT_EQ(c.get("/api/v1/inventory?per_page=1").status, 401) << "the session stays ended";
}

TEST_F(demo_inventory, ready_when_store_and_erp_answer) {
    auto r = http_get(portal_->port(), "/readyz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"ready","store":true,"erp":true})");
}

TEST_F(demo_inventory, inventory_page_renders_for_a_customer) {
    auto alice = signed_in("alice@acme.example");
    auto r = alice.get("/inventory");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("Acme Foods"), std::string::npos);
    EXPECT_NE(r.body.find("/static/js/inventory.js"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// A real PostgreSQL ERP, reached natively and through ODBC, with outages and a slow customer.

namespace {

class postgres_erp : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        cluster_ = new test::pg_cluster();
        scratch_ = new temp_dir();
        const auto demo = scratch_->path + "/demo-erp.db";
        erp::build_demo_erp(demo);
        cluster_->create_database("erp");
        test::copy_sqlite_to_postgres(*cluster_, demo, "erp");
        // Globex's query waits for advisory lock 42 when a test holds it: a deterministic slow customer.
        cluster_->execute(
            "CREATE FUNCTION slow_gate(name text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$ BEGIN "
            "IF name LIKE 'Globex%' THEN PERFORM pg_advisory_xact_lock_shared(42); END IF; RETURN true; END $$",
            "erp");
        std::ifstream in(std::string(PORTAL_SOURCE_DIR) + "/queries/portable_inventory.sql");
        std::stringstream sql;
        sql << in.rdbuf();
        std::string text = sql.str();
        const auto where = text.rfind("AND f.fi_balance > 0");
        text.insert(where, "AND slow_gate(p1.p1_name) ");
        gated_query_ = scratch_->path + "/gated_inventory.sql";
        std::ofstream(gated_query_) << text;
    }
    static void TearDownTestSuite() {
        delete cluster_;
        delete scratch_;
    }

    env_map erp_env(const std::string& driver, int cache_seconds) {
        return {{"ERP_DB_DRIVER", driver},
                {"ERP_DB_SERVER", cluster_->host()},
                {"ERP_DB_PORT", std::to_string(cluster_->port())},
                {"ERP_DB_NAME", "erp"},
                {"ERP_DB_USERNAME", cluster_->superuser()},
                {"ERP_DB_PASSWORD", cluster_->superuser_password()},
                {"ERP_DB_TIMEOUT", "5"},
                {"ERP_CACHE_SECONDS", std::to_string(cache_seconds)},
                {"ERP_INVENTORY_QUERY_FILE", gated_query_}};
    }

    static void add_account(const portal_process& p, const std::string& email, const std::string& erp_name) {
        auto db = local_store(p.cwd() + "/portal.db");
        store::new_customer c{"Test", "User", email, auth::hash_password(demo_password), erp_name, true, false};
        store::customers_repository(db).create(c, std::chrono::system_clock::now());
    }

    static double metric(const portal_process& p, const std::string& name) {
        auto body = http_get(p.port(), "/metrics").body;
        const auto pos = body.find("\n" + name + " ");
        return pos == std::string::npos ? 0.0 : std::stod(body.substr(pos + name.size() + 2));
    }

    static void set_erp_reachable(bool reachable) {
        cluster_->execute(std::string("ALTER DATABASE erp ALLOW_CONNECTIONS ") + (reachable ? "true" : "false"));
        if (!reachable)
            cluster_->execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'erp'");
    }

    static test::pg_cluster* cluster_;
    static temp_dir* scratch_;
    static std::string gated_query_;
};
test::pg_cluster* postgres_erp::cluster_ = nullptr;
temp_dir* postgres_erp::scratch_ = nullptr;
std::string postgres_erp::gated_query_;

}  // namespace

TEST_F(postgres_erp, native_and_odbc_back_ends_serve_the_same_stock) {
    for (const std::string& driver : std::vector<std::string>{"postgresql", "PostgreSQL Unicode"}) {
        portal_process p(erp_env(driver, 30));
        add_account(p, "alice@acme.example", "Acme Foods");
        web_client c(p.port());
        ASSERT_EQ(c.login("alice@acme.example", demo_password).status, 303);
        auto body = api(c, "?per_page=1000&sort=part");
        EXPECT_EQ(body.at("total").as_int64(), 600) << driver;
        for (const auto& row : body.at("rows").as_array()) EXPECT_EQ(row.as_array()[0], "Acme Foods");
    }
}

TEST_F(postgres_erp, concurrent_first_viewers_share_one_erp_query) {
    portal_process p(erp_env("postgresql", 30));
    add_account(p, "alice@acme.example", "Acme Foods");
    std::vector<web_client> clients;
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back(p.port());
        ASSERT_EQ(clients.back().login("alice@acme.example", demo_password).status, 303);
    }
    const double before = metric(p, "portal_erp_queries_total");
    std::vector<std::future<int>> pending;
    for (auto& c : clients)
        pending.push_back(std::async(std::launch::async, [&c] { return c.get("/api/v1/inventory").status; }));
    for (auto& f : pending) EXPECT_EQ(f.get(), 200);
    // The background start-up probe is not an inventory query for a customer; only fetches count.
    EXPECT_EQ(metric(p, "portal_erp_queries_total") - before, 1.0);
    for (auto& c : clients) EXPECT_EQ(c.get("/api/v1/inventory").status, 200);
    EXPECT_EQ(metric(p, "portal_erp_queries_total") - before, 1.0) << "served from the snapshot";
}

TEST_F(postgres_erp, a_slow_customer_does_not_delay_another) {
    auto env = erp_env("postgresql", 30);
    env["THREADS"] = "2";  // a general pool of 8 threads, a quick lane of 2
    portal_process p(env);
    add_account(p, "gary@globex.example", "Globex Corporation");
    add_account(p, "alice@acme.example", "Acme Foods");
    web_client gary(p.port()), alice(p.port());
    ASSERT_EQ(gary.login("gary@globex.example", demo_password).status, 303);
    ASSERT_EQ(alice.login("alice@acme.example", demo_password).status, 303);
    ASSERT_EQ(api(alice, "?per_page=1").at("total").as_int64(), 600);
    const std::string misses = "portal_erp_cache_total{result=\"miss\"}";
    const double misses_before = metric(p, misses);

    soci::session holder("postgresql", cluster_->connection_string("erp"));
    holder << "SELECT pg_advisory_lock(42)";
    // More of Globex's viewers wait than the general pool has threads: every one of its threads
    // is taken, yet the quick lane keeps answering Acme's API and /healthz.
    constexpr int viewers = 12, general_threads = 8;
    std::vector<web_client> garys(viewers, gary);
    std::vector<std::future<int>> slow;
    for (auto& g : garys)
        slow.push_back(std::async(std::launch::async, [&g] { return g.get("/api/v1/inventory?per_page=1").status; }));
    // A viewer counts a cache miss once it waits for the ERP on a general-lane thread; /metrics
    // is on the quick lane, so it can tell when all of them wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    while (metric(p, misses) - misses_before < general_threads && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(metric(p, misses) - misses_before, general_threads) << "the general pool is full of waiting viewers";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(alice.get("/api/v1/inventory?page=" + std::to_string(i + 1)).status, 200);
    EXPECT_EQ(http_get(p.port(), "/healthz").status, 200);
    for (auto& f : slow)
        EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "Globex must still be waiting";
    holder << "SELECT pg_advisory_unlock(42)";
    for (auto& f : slow) EXPECT_EQ(f.get(), 200);
}

TEST_F(postgres_erp, outage_serves_the_stale_snapshot_or_a_clear_503_then_recovers) {
    portal_process p(erp_env("postgresql", 0));  // every request asks the ERP
    add_account(p, "alice@acme.example", "Acme Foods");
    add_account(p, "gary@globex.example", "Globex Corporation");
    web_client alice(p.port()), gary(p.port());
    ASSERT_EQ(alice.login("alice@acme.example", demo_password).status, 303);
    ASSERT_EQ(gary.login("gary@globex.example", demo_password).status, 303);
    auto fresh = api(alice, "");
    EXPECT_FALSE(fresh.at("stale").as_bool());

    set_erp_reachable(false);
    auto stale = api(alice, "");
    EXPECT_TRUE(stale.at("stale").as_bool());
    EXPECT_EQ(stale.at("as_of"), fresh.at("as_of"));
    EXPECT_EQ(stale.at("total").as_int64(), 600);
    auto down = gary.get("/api/v1/inventory");
    EXPECT_EQ(down.status, 503);
    EXPECT_NE(down.body.find("not answering"), std::string::npos);
    EXPECT_EQ(down.body.find("postgres"), std::string::npos) << "no connection details leak";
    EXPECT_EQ(http_get(p.port(), "/healthz").status, 200);

    set_erp_reachable(true);
    EXPECT_FALSE(api(alice, "").at("stale").as_bool());
    EXPECT_EQ(api(gary, "?per_page=1").at("total").as_int64(), 100'000);
}

TEST(erp_query_files, a_write_statement_is_refused_at_start) {
    temp_dir dir;
    const auto bad = dir.path + "/evil.sql";
    std::ofstream(bad) << "SELECT 1 AS part WHERE 'x' = :erp_customer; DELETE FROM dtfifo";
    auto r = run_portal({"serve"}, {{"SECRET_KEY", test_secret_key()}, {"DB_NAME", dir.path + "/p.db"},
                                    {"ERP_DB_DRIVER", "sqlite"}, {"ERP_DB_NAME", dir.path + "/erp.db"},
                                    {"ERP_INVENTORY_QUERY_FILE", bad}, {"PORTAL_ASSETS_DIR", PORTAL_SOURCE_DIR}},
                        dir.path);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("evil.sql"), std::string::npos) << r.output;
}
