// The local store's connections: a SOCI pool from DB_* settings, leases, retried transactions.
#pragma once

#include "app/config.hpp"

#include <soci/soci.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <memory>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace portal::store {

// Which SQL the store speaks; the connection library (native or ODBC) is a separate matter.
enum class dialect { sqlite, postgresql, mssql };

std::string_view to_string(dialect d);

// sqlite / postgresql by name; an ODBC driver is mssql unless its name says PostgreSQL.
dialect dialect_for(const app::database_settings& settings);

// The store cannot be reached (connect failed, connection lost, pool exhausted): the HTTP layer
// answers 503. The message names the server but never carries the password.
struct store_unavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What SOCI is handed to connect. It holds the password: never log it.
std::string connection_string(const app::database_settings& settings);

// Error classification across back ends (SQLSTATE for PostgreSQL and ODBC, result codes for
// SQLite).
bool is_retryable(const soci::soci_error& e);  // serialization failure, deadlock, busy
bool is_unique_violation(const soci::soci_error& e);
bool is_connection_error(const soci::soci_error& e);

using time_point = std::chrono::system_clock::time_point;

// Times cross the SOCI boundary as std::tm holding UTC, whole seconds: SOCI 4.0.3 formats and
// parses std::tm with timegm, so no local time zone is involved on any back end.
std::tm to_db_time(time_point t);
time_point from_db_time(const std::tm& t);

// Values for a statement whose text is assembled at run time (optional filters, paging): each
// value gets its own placeholder name and lives here until the statement has run.
class bound_values {
  public:
    bound_values() = default;
    bound_values(const bound_values&) = delete;  // the binders point into this object
    bound_values& operator=(const bound_values&) = delete;

    std::string add(std::string value);
    std::string add(int value);
    std::string add(long long value);
    std::string add(time_point value);
    // Exchanges every value, by name, with `st` (whose text must use all of them).
    void bind(soci::statement& st);

  private:
    const std::string& next_name();

    std::deque<std::string> names_;
    std::deque<std::string> strings_;
    std::deque<int> ints_;
    std::deque<long long> longs_;
    std::deque<std::tm> times_;
    std::vector<std::function<void(soci::statement&)>> binders_;
};

// `text` as a LIKE pattern matching it anywhere, with `!` as the escape character (use
// `ESCAPE '!'`): the user's `%`, `_` and `[` match themselves.
std::string contains_pattern(std::string_view text);

// At most `max_chars` characters of UTF-8 `text`, cut on a character boundary: user agents and
// error texts must fit their NVARCHAR(n) / VARCHAR(n) columns, which refuse longer values.
std::string truncate_text(std::string_view text, std::size_t max_chars);

// SOCI's ODBC back end sizes a string column's buffer from its declared size, which for
// NVARCHAR(MAX) is 0, read as "allocate 100 MB". On SQL Server, long text columns are therefore
// selected as `short_text_column` (the value when it fits a bounded buffer, else NULL) and
// `long_text_flag` (1 when it did not fit), and the long ones are read with read_long_text.
// On the other dialects these are the plain column and 0.
std::string short_text_column(dialect d, const std::string& column);
std::string long_text_flag(dialect d, const std::string& column);
// The whole value, in chunks small enough for a bounded buffer even as UTF-8 (mssql and
// postgresql syntax); nullopt when the row is missing or the value is NULL.
std::optional<std::string> read_long_text(soci::session& s, dialect d, const std::string& table,
                                          const std::string& column, const std::string& key_column,
                                          long long key);

// Process-wide SQLite settings; call first thing in main, before any SQLite file is opened (later
// SQLite refuses them and nothing changes). SQLite keeps allocation statistics under one global
// mutex taken on every allocation: with two threads resolving sessions, that lock alone made
// each lookup a third dearer. The statistics are not used, so they are turned off.
void configure_sqlite_process();

class database {
  public:
    explicit database(const app::database_settings& settings, std::size_t pool_size = 8);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    dialect sql_dialect() const noexcept { return dialect_; }
    bool via_odbc() const noexcept { return settings_.is_odbc(); }
    std::size_t pool_size() const noexcept { return size_; }
    // "postgresql 127.0.0.1:5432/portal": for logs and error messages, no credentials.
    const std::string& description() const noexcept { return description_; }

    // A pooled session for the lifetime of the lease. Inside in_transaction on the same thread
    // it is the transaction's session, so repository calls made there join the transaction.
    class lease {
      public:
        lease(lease&& other) noexcept;
        lease& operator=(lease&&) = delete;
        ~lease();

        soci::session& get() const noexcept { return *session_; }
        soci::session& operator*() const noexcept { return *session_; }
        soci::session* operator->() const noexcept { return session_; }

      private:
        friend class database;
        lease(database* owner, soci::session* s, std::size_t position, bool owned) noexcept
            : owner_(owner), session_(s), position_(position), owned_(owned) {}

        database* owner_;
        soci::session* session_;
        std::size_t position_;
        bool owned_;
    };

    // Waits up to timeout_seconds for a free connection; throws store_unavailable.
    lease session();

    // Runs fn(session) on a leased session, for reads: after a lost connection it runs once more
    // on a fresh one; connection failures become store_unavailable. Writes go in in_transaction.
    template <class F>
    auto with_session(F&& fn) -> std::invoke_result_t<F&, soci::session&>;

    // Runs fn(session) in a transaction, committed when fn returns. Retries the whole function
    // on serialization failures, deadlocks and SQLite busy errors (and once after a lost
    // connection), so fn must be safe to run again. Nested calls join the outer transaction.
    template <class F>
    auto in_transaction(F&& fn) -> std::invoke_result_t<F&, soci::session&>;

    // Runs fn(statement) on a statement prepared once per pooled connection and kept with it, for
    // the lookups made on every request (a session by id): parsing and planning the SQL costs as
    // much as running it. `T(soci::session&)` binds T's own members and prepares; fn sets the
    // inputs, executes and reads. The statement is dropped when it fails or its connection is
    // reopened. Inside a transaction, and over ODBC (whose cursors SOCI does not close between
    // executions), T is made fresh each time. Reads only; a lost connection is retried once.
    template <class T, class F>
    auto with_prepared(F&& fn) -> std::invoke_result_t<F&, T&>;

    // True when this thread is inside in_transaction for this database.
    bool in_ambient_transaction() const noexcept;

    // Readiness: a connection answers `SELECT 1`. Never throws.
    bool ping() noexcept;

  private:
    void run(const std::function<void(soci::session&)>& fn);
    void run_transaction(const std::function<void(soci::session&)>& fn);

    void run_prepared(std::type_index key, const std::function<std::shared_ptr<void>(soci::session&)>& make,
                      const std::function<void(void*)>& fn);

    void give_back(std::size_t position) noexcept;
    void open_slot(std::size_t position);
    void prepare_connection(soci::session& s);
    void begin(soci::session& s);
    void commit(soci::session& s);
    void rollback_quietly(soci::session& s) noexcept;
    [[noreturn]] void rethrow_translated(const soci::soci_error& e, soci::session* s) const;
    std::string scrub(std::string text) const;

    app::database_settings settings_;
    dialect dialect_;
    std::size_t size_;
    std::string description_;
    std::string connect_string_;
    soci::connection_pool pool_;
    std::vector<unsigned char> opened_;  // per slot; only touched by the slot's current holder
    // Per slot, like opened_; declared after pool_ so the statements go before their connections.
    std::vector<std::unordered_map<std::type_index, std::shared_ptr<void>>> prepared_;
};

template <class F>
auto database::with_session(F&& fn) -> std::invoke_result_t<F&, soci::session&> {
    using result_type = std::invoke_result_t<F&, soci::session&>;
    if constexpr (std::is_void_v<result_type>) {
        run([&](soci::session& s) { fn(s); });
    } else {
        std::optional<result_type> result;
        run([&](soci::session& s) { result.emplace(fn(s)); });
        return std::move(*result);
    }
}

template <class F>
auto database::in_transaction(F&& fn) -> std::invoke_result_t<F&, soci::session&> {
    using result_type = std::invoke_result_t<F&, soci::session&>;
    if constexpr (std::is_void_v<result_type>) {
        run_transaction([&](soci::session& s) { fn(s); });
    } else {
        std::optional<result_type> result;
        run_transaction([&](soci::session& s) { result.emplace(fn(s)); });
        return std::move(*result);
    }
}

template <class T, class F>
auto database::with_prepared(F&& fn) -> std::invoke_result_t<F&, T&> {
    using result_type = std::invoke_result_t<F&, T&>;
    const auto make = [](soci::session& s) -> std::shared_ptr<void> { return std::make_shared<T>(s); };
    if constexpr (std::is_void_v<result_type>) {
        run_prepared(typeid(T), make, [&](void* st) { fn(*static_cast<T*>(st)); });
    } else {
        std::optional<result_type> result;
        run_prepared(typeid(T), make, [&](void* st) { result.emplace(fn(*static_cast<T*>(st))); });
        return std::move(*result);
    }
}

}  // namespace portal::store
