// The portal's configuration: SPEC §2 keys, read from the environment first, then a .env file.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace portal::app {

// A key that is missing or malformed; main prints what() on one line and exits 2.
struct config_error : std::runtime_error {
    std::string key;
    config_error(std::string key_, const std::string& message)
        : std::runtime_error(key_ + ": " + message), key(std::move(key_)) {}
};

// Where a database lives: the local store (DB_*) or the ERP (ERP_DB_*).
struct database_settings {
    std::string driver;  // "sqlite", "postgresql" or an ODBC driver name
    std::string server;
    std::optional<int> port;
    std::string name;  // a file path for sqlite
    std::string username;
    std::string password;
    bool windows_auth = false;
    int timeout_seconds = 30;

    bool is_sqlite() const { return driver == "sqlite"; }
    bool is_postgresql() const { return driver == "postgresql"; }
    bool is_odbc() const { return !is_sqlite() && !is_postgresql(); }
};

struct smtp_settings {
    std::string server;
    int port = 25;
    bool use_tls = false;
    std::string username;
    std::string password;
    std::string from;
    std::string bcc;
    bool configured() const { return !server.empty(); }
};

struct ldap_settings {
    std::string server;
    std::string domain;
    std::optional<int> port;
    std::string service_account;
    std::string service_password;
    std::string base_dn;
    std::string admin_group;
    bool configured() const { return !server.empty(); }
};

struct config {
    std::string secret_key;
    std::chrono::hours session_hours{8};
    std::chrono::minutes session_idle{60};

    database_settings store;
    database_settings erp;
    std::string erp_inventory_query_file;  // empty: the bundled query for erp.driver
    std::string erp_customers_query_file;
    std::chrono::seconds erp_cache{30};

    smtp_settings smtp;
    std::string app_base_url = "http://localhost:5001";
    std::string admin_username;
    std::string admin_password_hash;
    ldap_settings ldap;

    std::string host = "0.0.0.0";
    int port = 5001;
    int threads = 0;  // 0: one per core
    std::vector<std::string> trusted_proxies;

    std::string log_level = "info";
    std::string log_file;  // empty: stdout
    bool log_json = false;

    std::string assets_dir;  // holds templates/, static/ and queries/

    bool secure_cookies() const { return app_base_url.rfind("https://", 0) == 0; }
};

// Parses the Flask portal's .env syntax: KEY=VALUE lines, blank lines, `#` comments (whole line or
// after an unquoted value), single or double quotes, an optional `export ` prefix.
std::map<std::string, std::string> parse_dotenv(const std::string& text);

// Builds the configuration: `environment` wins over `dotenv`. Throws config_error.
config make_config(const std::map<std::string, std::string>& environment,
                   const std::map<std::string, std::string>& dotenv);

// Reads the process environment and `env_file` (default ".env", optional unless given explicitly).
config load_config(const std::optional<std::string>& env_file);

// The `serve`-time checks: SECRET_KEY present and at least 32 bytes.
void require_server_secret(const config& cfg);

}  // namespace portal::app
