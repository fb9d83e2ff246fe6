#include "app/demo.hpp"

#include "auth/password_hash.hpp"
#include "auth/tokens.hpp"
#include "erp/demo_erp.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

#include <filesystem>

namespace portal::app {

namespace {

struct demo_account {
    const char* first_name;
    const char* last_name;
    const char* email;
    const char* erp_names;
    const char* about;
};

// Names are the demo ERP's (erp/demo_erp.cpp); the passwords are printed, so they are demo-only.
constexpr demo_account accounts[] = {
    {"Alice", "Acme", "alice@acme.example", "Acme Foods", "one customer (600 rows)"},
    {"Gary", "Globex", "gary@globex.example", "Globex Corporation", "one customer (100,000 rows)"},
    {"Nina", "Northwind", "nina@northwind.example", "Northwind Traders|Bäckerei Müller GmbH",
     "two customers (15,000 rows)"},
    {"Sam", "Staff", "staff@warehouse.example", "All", "every customer (internal staff)"},
};
constexpr const char* demo_password = "demo-password-2026";

}  // namespace

std::vector<demo_login> prepare_demo(config& cfg) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path("data") / "demo";
    fs::create_directories(dir);
    const auto erp_path = (dir / "erp.db").string();
    if (!fs::exists(erp_path)) erp::build_demo_erp(erp_path);

    if (cfg.secret_key.size() < 32) cfg.secret_key = auth::random_token() + auth::random_token();
    cfg.store = {};
    cfg.store.driver = "sqlite";
    cfg.store.name = (dir / "portal.db").string();
    cfg.erp = {};
    cfg.erp.driver = "sqlite";
    cfg.erp.name = erp_path;
    cfg.erp_inventory_query_file.clear();
    cfg.erp_customers_query_file.clear();

    store::database db(cfg.store);
    store::migrate(db);
    store::customers_repository customers(db);
    const auto hash = auth::hash_password(demo_password);
    std::vector<demo_login> logins;
    for (const auto& a : accounts) {
        if (auto existing = customers.find_by_email(a.email)) {
            customers.update(existing->customer_id, {a.first_name, a.last_name, a.email, a.erp_names});
            customers.set_password_hash(existing->customer_id, hash);
            customers.set_active(existing->customer_id, true);
        } else {
            store::new_customer c{a.first_name, a.last_name, a.email, hash, a.erp_names, true, false};
            customers.create(c, std::chrono::system_clock::now());
        }
        logins.push_back({a.about, a.email, demo_password});
    }
    if (cfg.admin_username.empty()) {
        cfg.admin_username = "admin";
        cfg.admin_password_hash = hash;
        logins.push_back({"administrator", "admin", demo_password});
    }
    return logins;
}

}  // namespace portal::app
