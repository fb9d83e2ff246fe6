// Reading stock and customer names from the ERP (SPEC §5) through SOCI: SQLite, PostgreSQL or
// any ODBC driver, connections opened read-only where the driver allows, a small session pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/config.hpp"
#include "erp/inventory_columns.hpp"
#include "erp/query_file.hpp"

namespace soci {
class session;
}

namespace portal::erp {

// The ERP could not be reached or a query failed (connection refused, timeout, SQL error, a
// required column missing). The message is safe to log: it never holds the password or the
// connection string, and never the query text.
struct erp_unavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct inventory_result {
    std::vector<inventory_record> rows;
    column_set present{};  // the contract columns the query returned
};

// queries/deacom_<which>.sql for ODBC drivers (the real Deacom on SQL Server), and
// queries/portable_<which>.sql for "sqlite" and "postgresql".
std::string bundled_query_path(const std::string& assets_dir, const std::string& driver,
                               query_kind which);

// The ODBC connection string for `settings` (exposed for tests; it holds the password, so it
// must never be logged). Values are {braced} when they contain ; { } = or edge blanks.
std::string odbc_connection_string(const app::database_settings& settings);

// The libpq connection URI SOCI's postgresql backend gets (holds the password, see above):
// read-only transactions, connect and statement timeouts.
std::string postgresql_connection_string(const app::database_settings& settings);

// The SOCI sqlite3 connection string: the file opened read-only, busy timeout.
std::string sqlite_connection_string(const app::database_settings& settings);

class erp_source {
public:
    // The queries are the texts of validated query files (load_query_file). Nothing connects
    // until the first call. Thread-safe: up to `pool_size` queries run at once, each on its own
    // session; further callers wait for a free one (at most timeout_seconds).
    erp_source(app::database_settings settings, std::string inventory_query,
               std::string customers_query, std::size_t pool_size = 4);
    ~erp_source();
    erp_source(const erp_source&) = delete;
    erp_source& operator=(const erp_source&) = delete;

    // The stock of one ERP customer name (bound to :erp_customer). Columns are matched by alias,
    // ignoring case; unknown columns are ignored. Throws erp_unavailable.
    inventory_result fetch_inventory(const std::string& erp_customer);

    // The customers query's `name` column, trimmed, sorted, without empties and duplicates.
    // Throws erp_unavailable.
    std::vector<std::string> fetch_customers();

    // Start-up check: runs the inventory query for a customer name that cannot exist and the
    // customers query, and throws erp_unavailable naming what is wrong when the ERP cannot be
    // reached or a required column (part, on_hand, bin; name) is missing.
    void probe();

    // "driver, server:port, database" — for logs and check-config, without credentials.
    const std::string& description() const { return description_; }

private:
    class lease;
    friend class lease;

    std::unique_ptr<soci::session> open_session() const;
    std::unique_ptr<soci::session> take_session(bool& reused);
    void give_back(std::unique_ptr<soci::session> session);
    void forget_session();

    template <typename Work>
    auto with_session(const char* what, Work&& work);

    std::string scrub(std::string message) const;
    std::size_t size_hint(const std::string& erp_customer);
    void remember_size(const std::string& erp_customer, std::size_t rows);

    app::database_settings settings_;
    std::string inventory_query_;
    std::string customers_query_;
    std::string description_;
    std::size_t pool_size_;

    std::mutex mutex_;
    std::condition_variable session_freed_;
    std::vector<std::unique_ptr<soci::session>> idle_;
    std::size_t open_ = 0;  // sessions that exist: idle, in use or being opened
    std::unordered_map<std::string, std::size_t> size_hints_;  // last row count per customer
};

// Builds the ERP source from the configuration: the query files from ERP_*_QUERY_FILE or the
// bundled ones under cfg.assets_dir, loaded and checked (std::runtime_error naming the file).
std::unique_ptr<erp_source> make_erp_source(const app::config& cfg);

}  // namespace portal::erp
