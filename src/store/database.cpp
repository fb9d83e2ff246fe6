#include "store/database.hpp"

#include <soci/odbc/soci-odbc.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <soci/version.h>

#if __has_include(<libpq-fe.h>)
#include <soci/postgresql/soci-postgresql.h>
#else
// soci-postgresql.h includes <libpq-fe.h>, which lives in /usr/include/postgresql, outside the
// build's include path. All we need from it is the error class (to read SQLSTATE) and the
// factory, so they are declared here exactly as SOCI 4.0.3's header declares them.
static_assert(SOCI_VERSION == 400003, "check this declaration against soci-postgresql.h");
namespace soci {
class SOCI_DECL_IMPORT postgresql_soci_error : public soci_error {
  public:
    postgresql_soci_error(std::string const& msg, char const* sqlst);
    std::string sqlstate() const;
    error_category get_error_category() const SOCI_OVERRIDE { return cat_; }

  private:
    char sqlstate_[5];
    error_category cat_;
};
}  // namespace soci
extern "C" SOCI_DECL_IMPORT soci::backend_factory const* factory_postgresql();
#endif

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

namespace portal::store {

namespace {

// The transactions running on this thread, so leases taken inside one join it instead of taking
// a second pooled connection (which would not see its uncommitted writes, and could deadlock).
struct ambient_transaction {
    const database* owner;
    soci::session* session;
};
thread_local std::vector<ambient_transaction> t_ambient;

soci::session* ambient_session_for(const database* owner) {
    for (auto it = t_ambient.rbegin(); it != t_ambient.rend(); ++it) {
        if (it->owner == owner) return it->session;
    }
    return nullptr;
}

struct ambient_scope {
    ambient_scope(const database* owner, soci::session* s) { t_ambient.push_back({owner, s}); }
    ~ambient_scope() { t_ambient.pop_back(); }
    ambient_scope(const ambient_scope&) = delete;
    ambient_scope& operator=(const ambient_scope&) = delete;
};

bool contains_ci(std::string_view haystack, std::string_view needle) {
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                          [](char a, char b) {
                              return std::tolower(static_cast<unsigned char>(a)) ==
                                     std::tolower(static_cast<unsigned char>(b));
                          });
    return it != haystack.end();
}

// An ODBC attribute value that could end the attribute early (`;`, braces, `=`, edge spaces) goes
// in braces, with a `}` inside written twice. Plain values stay bare: psqlODBC does not unbrace
// numeric attributes such as PORT.
std::string odbc_value(std::string_view value, bool always_brace = false) {
    const bool needs_braces =
        always_brace || value.find_first_of(";{}=") != std::string_view::npos ||
        (!value.empty() && (std::isspace(static_cast<unsigned char>(value.front())) ||
                            std::isspace(static_cast<unsigned char>(value.back()))));
    if (!needs_braces) return std::string(value);
    std::string out = "{";
    for (char c : value) {
        out += c;
        if (c == '}') out += '}';
    }
    out += '}';
    return out;
}

// libpq keyword values in single quotes, with `'` and `\` escaped by a backslash.
std::string libpq_quoted(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    out += '\'';
    return out;
}

std::string sqlstate_of(const soci::soci_error& e) {
    if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) return pg->sqlstate();
    if (auto* odbc = dynamic_cast<const soci::odbc_soci_error*>(&e)) {
        return reinterpret_cast<const char*>(odbc->odbc_error_code());
    }
    return {};
}

int sqlite_result_of(const soci::soci_error& e) {
    if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) return lite->result();
    return -1;
}

int odbc_native_code_of(const soci::soci_error& e) {
    if (auto* odbc = dynamic_cast<const soci::odbc_soci_error*>(&e)) {
        return static_cast<int>(odbc->native_error_code());
    }
    return 0;
}

bool session_lost(soci::session* s) noexcept {
    if (s == nullptr) return false;
    try {
        return !s->is_connected();
    } catch (...) {
        return true;
    }
}

}  // namespace

std::string_view to_string(dialect d) {
    switch (d) {
        case dialect::sqlite:
            return "sqlite";
        case dialect::postgresql:
            return "postgresql";
        case dialect::mssql:
            return "mssql";
    }
    return "unknown";
}

dialect dialect_for(const app::database_settings& settings) {
    if (settings.is_sqlite()) return dialect::sqlite;
    if (settings.is_postgresql()) return dialect::postgresql;
    return contains_ci(settings.driver, "postgresql") ? dialect::postgresql : dialect::mssql;
}

std::string connection_string(const app::database_settings& settings) {
    if (settings.is_sqlite()) {
        // SOCI's sqlite3 back end takes a string without `=` as the whole file name, which keeps
        // paths with spaces intact; its key=value parser splits on spaces.
        if (settings.name.find('=') == std::string::npos) return settings.name;
        return "db=\"" + settings.name + "\"";
    }
    if (settings.is_postgresql()) {
        std::string cs;
        auto add = [&cs](std::string_view key, std::string_view value) {
            if (!cs.empty()) cs += ' ';
            cs.append(key).append("=").append(libpq_quoted(value));
        };
        if (!settings.server.empty()) add("host", settings.server);
        if (settings.port) add("port", std::to_string(*settings.port));
        add("dbname", settings.name);
        if (!settings.username.empty()) add("user", settings.username);
        if (!settings.password.empty()) add("password", settings.password);
        add("connect_timeout", std::to_string(std::max(1, settings.timeout_seconds)));
        add("application_name", "customer-portal");
        return cs;
    }
    // ODBC. Microsoft's SQL Server drivers ignore PORT and want SERVER=host,port instead.
    const bool microsoft_driver =
        contains_ci(settings.driver, "SQL Server") && !contains_ci(settings.driver, "FreeTDS");
    std::string cs = "DRIVER=" + odbc_value(settings.driver, true) + ";";
    if (!settings.server.empty()) {
        std::string server = settings.server;
        if (settings.port && microsoft_driver) server += "," + std::to_string(*settings.port);
        cs += "SERVER=" + odbc_value(server) + ";";
    }
    if (settings.port && !microsoft_driver)
        cs += "PORT=" + odbc_value(std::to_string(*settings.port)) + ";";
    cs += "DATABASE=" + odbc_value(settings.name) + ";";
    if (settings.windows_auth) {
        cs += "Trusted_Connection=yes;";
    } else {
        if (!settings.username.empty()) cs += "UID=" + odbc_value(settings.username) + ";";
        if (!settings.password.empty()) cs += "PWD=" + odbc_value(settings.password) + ";";
    }
    return cs;
}

std::tm to_db_time(time_point t) {
    const std::time_t seconds =
        std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
    std::tm out{};
    gmtime_r(&seconds, &out);
    return out;
}

time_point from_db_time(const std::tm& t) {
    std::tm copy = t;
    return std::chrono::system_clock::from_time_t(timegm(&copy));
}

const std::string& bound_values::next_name() {
    names_.push_back("p" + std::to_string(names_.size()));
    return names_.back();
}

std::string bound_values::add(std::string value) {
    strings_.push_back(std::move(value));
    const std::string& name = next_name();
    binders_.push_back(
        [&v = strings_.back(), &name](soci::statement& st) { st.exchange(soci::use(v, name)); });
    return ":" + name;
}

std::string bound_values::add(int value) {
    ints_.push_back(value);
    const std::string& name = next_name();
    binders_.push_back(
        [&v = ints_.back(), &name](soci::statement& st) { st.exchange(soci::use(v, name)); });
    return ":" + name;
}

std::string bound_values::add(long long value) {
    longs_.push_back(value);
    const std::string& name = next_name();
    binders_.push_back(
        [&v = longs_.back(), &name](soci::statement& st) { st.exchange(soci::use(v, name)); });
    return ":" + name;
}

std::string bound_values::add(time_point value) {
    times_.push_back(to_db_time(value));
    const std::string& name = next_name();
    binders_.push_back(
        [&v = times_.back(), &name](soci::statement& st) { st.exchange(soci::use(v, name)); });
    return ":" + name;
}

void bound_values::bind(soci::statement& st) {
    for (auto& binder : binders_) binder(st);
}

std::string contains_pattern(std::string_view text) {
    std::string out = "%";
    for (char c : text) {
        if (c == '!' || c == '%' || c == '_' || c == '[') out += '!';
        out += c;
    }
    out += '%';
    return out;
}

std::string truncate_text(std::string_view text, std::size_t max_chars) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        // Count lead bytes only; continuation bytes are 10xxxxxx.
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            if (chars == max_chars) return std::string(text.substr(0, i));
            ++chars;
        }
    }
    return std::string(text);
}

namespace {
// UTF-16 code units per chunk; as UTF-8 at most three bytes each, inside an NVARCHAR(4000) buffer.
constexpr long long text_chunk_units = 1000;
}  // namespace

std::string short_text_column(dialect d, const std::string& column) {
    if (d != dialect::mssql) return column;
    return "CASE WHEN DATALENGTH(" + column + ") <= " + std::to_string(2 * text_chunk_units) +
           " THEN CAST(" + column + " AS NVARCHAR(4000)) END";
}

std::string long_text_flag(dialect d, const std::string& column) {
    if (d != dialect::mssql) return "0";
    return "CASE WHEN DATALENGTH(" + column + ") > " + std::to_string(2 * text_chunk_units) +
           " THEN 1 ELSE 0 END";
}

std::optional<std::string> read_long_text(soci::session& s, dialect d, const std::string& table,
                                          const std::string& column, const std::string& key_column,
                                          long long key) {
    const std::string length_sql =
        d == dialect::mssql
            ? "SELECT DATALENGTH(" + column + ") / 2 FROM " + table + " WHERE " + key_column +
                  " = :k"
            : "SELECT char_length(" + column + ") FROM " + table + " WHERE " + key_column + " = :k";
    const std::string chunk_sql =
        d == dialect::mssql
            ? "SELECT CAST(SUBSTRING(" + column + ", :s, :n) AS NVARCHAR(4000)) FROM " + table +
                  " WHERE " + key_column + " = :k"
            : "SELECT CAST(substring(" + column +
                  ", CAST(:s AS INTEGER), CAST(:n AS INTEGER)) AS VARCHAR(4000)) FROM " + table +
                  " WHERE " + key_column + " = :k";
    long long length = 0;
    soci::indicator length_ind = soci::i_null;
    s << length_sql, soci::use(key), soci::into(length, length_ind);
    if (!s.got_data() || length_ind != soci::i_ok) return std::nullopt;
    std::string out;
    long long chunk_units = text_chunk_units;
    for (long long start = 1; start <= length; start += text_chunk_units) {
        std::string chunk;
        soci::indicator chunk_ind = soci::i_null;
        s << chunk_sql, soci::use(start), soci::use(chunk_units), soci::use(key),
            soci::into(chunk, chunk_ind);
        if (!s.got_data() || chunk_ind != soci::i_ok) break;
        out += chunk;
    }
    return out;
}

bool is_retryable(const soci::soci_error& e) {
    const std::string state = sqlstate_of(e);
    if (state == "40001" || state == "40P01") return true;
    // SQL Server: 1205 deadlock victim, 1222 lock request timeout.
    const int native = odbc_native_code_of(e);
    if (native == 1205 || native == 1222) return true;
    const int lite = sqlite_result_of(e);
    if (lite >= 0) {
        const int primary = lite & 0xff;
        return primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */;
    }
    return false;
}

bool is_unique_violation(const soci::soci_error& e) {
    const std::string state = sqlstate_of(e);
    if (state == "23505") return true;
    // SQL Server reports any integrity violation as 23000; 2601/2627 are the duplicate-key ones.
    const int native = odbc_native_code_of(e);
    if (state == "23000" && (native == 2601 || native == 2627)) return true;
    const int lite = sqlite_result_of(e);
    if (lite >= 0 && (lite & 0xff) == 19 /* SQLITE_CONSTRAINT */) {
        return std::strstr(e.what(), "UNIQUE") != nullptr;
    }
    return false;
}

bool is_connection_error(const soci::soci_error& e) {
    if (e.get_error_category() == soci::soci_error::connection_error) return true;
    const std::string state = sqlstate_of(e);
    // 08xxx: connection exceptions; 57P01-57P03: the server is shutting down or starting up.
    if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0) return true;
    return false;
}

namespace {

std::size_t effective_pool_size(const app::database_settings& settings, std::size_t requested) {
    // Every connection to ":memory:" (or "") would be a separate, empty database.
    if (settings.is_sqlite() && (settings.name.empty() || settings.name == ":memory:")) return 1;
    return std::max<std::size_t>(1, requested);
}

}  // namespace

void configure_sqlite_process() { sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

database::database(const app::database_settings& settings, std::size_t pool_size)
    : settings_(settings),
      dialect_(dialect_for(settings)),
      size_(effective_pool_size(settings, pool_size)),
      pool_(size_),
      opened_(size_, 0),
      prepared_(size_) {
    if (settings_.is_sqlite()) {
        description_ = "sqlite " + settings_.name;
        const std::filesystem::path file(settings_.name);
        if (file.has_parent_path() && settings_.name != ":memory:") {
            std::error_code ec;
            std::filesystem::create_directories(file.parent_path(), ec);
            if (ec) {
                throw store_unavailable("cannot create the directory for " + description_ + ": " +
                                        ec.message());
            }
        }
    } else {
        description_ =
            std::string(to_string(dialect_)) +
            (via_odbc() ? " via ODBC (" + settings_.driver + ")" : "") + " " + settings_.server +
            (settings_.port ? ":" + std::to_string(*settings_.port) : "") + "/" + settings_.name;
    }
    connect_string_ = connection_string(settings_);
}

database::~database() = default;

database::lease::lease(lease&& other) noexcept
    : owner_(other.owner_),
      session_(other.session_),
      position_(other.position_),
      owned_(other.owned_) {
    other.owned_ = false;
    other.owner_ = nullptr;
}

database::lease::~lease() {
    if (owned_ && owner_ != nullptr) owner_->give_back(position_);
}

bool database::in_ambient_transaction() const noexcept {
    return ambient_session_for(this) != nullptr;
}

database::lease database::session() {
    if (soci::session* s = ambient_session_for(this)) return lease(this, s, 0, false);

    std::size_t position = 0;
    const int timeout_ms = std::max(1, settings_.timeout_seconds) * 1000;
    if (!pool_.try_lease(position, timeout_ms)) {
        throw store_unavailable("no free connection to " + description_ + " within " +
                                std::to_string(timeout_ms / 1000) + " s");
    }
    lease l(this, &pool_.at(position), position, true);
    // A connection is opened when first needed, and again after a statement on it failed for a
    // lost connection, so a store that was down at start-up or restarted since recovers without
    // restarting us. Checking liveness on every lease would cost a round trip per query (SOCI's
    // PostgreSQL is_connected() sends one).
    if (!opened_[position]) open_slot(position);
    return l;
}

void database::give_back(std::size_t position) noexcept {
    pool_.give_back(position);
}

void database::open_slot(std::size_t position) {
    soci::session& s = pool_.at(position);
    opened_[position] = 0;
    prepared_[position].clear();
    try {
        s.close();
    } catch (...) {
        // Disconnecting a connection the server already dropped may report an error; it is gone.
    }
    try {
        if (settings_.is_sqlite()) {
            s.open(soci::sqlite3, connect_string_);
        } else if (settings_.is_postgresql()) {
            s.open(*factory_postgresql(), connect_string_);
        } else {
            soci::connection_parameters params(soci::odbc, connect_string_);
            params.set_option(soci::odbc_option_driver_complete, "0" /* SQL_DRIVER_NOPROMPT */);
            s.open(params);
        }
        prepare_connection(s);
    } catch (const soci::soci_error& e) {
        try {
            s.close();
        } catch (...) {
        }
        throw store_unavailable("cannot connect to " + description_ + ": " + scrub(e.what()));
    }
    opened_[position] = 1;
}

void database::prepare_connection(soci::session& s) {
    switch (dialect_) {
        case dialect::sqlite:
            // busy_timeout first: it makes a second writer wait instead of failing at once, and
            // switching to WAL is itself a write another process may be holding up. WAL lets
            // readers run beside the one writer; NORMAL is durable in WAL mode against a process
            // crash (kill -9), only an OS crash can lose the last commits.
            s << "PRAGMA busy_timeout=5000";
            // Two connections opening a fresh file at once: SQLite may refuse the switch to WAL
            // with "database is locked" without calling the busy handler. Try again, briefly.
            for (int attempt = 1;; ++attempt) {
                try {
                    s << "PRAGMA journal_mode=WAL";
                    break;
                } catch (const soci::soci_error& e) {
                    if (attempt == 100 || !is_retryable(e)) throw;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            }
            s << "PRAGMA synchronous=NORMAL";
            s << "PRAGMA foreign_keys=ON";
            break;
        case dialect::postgresql:
            // Timestamps are read back as text by the native back end: make that text ISO whatever
            // the server's default is; times are stored as UTC without a zone.
            s << "SET DateStyle TO 'ISO, YMD'";
            s << "SET TimeZone TO 'UTC'";
            // libpq prints NOTICEs (e.g. "relation already exists, skipping") on stderr.
            s << "SET client_min_messages TO WARNING";
            break;
        case dialect::mssql:
            break;
    }
}

void database::begin(soci::session& s) {
    if (dialect_ == dialect::sqlite) {
        // Take the write lock up front: a deferred transaction that reads and then writes can
        // fail with SQLITE_BUSY without waiting when another connection wrote in between.
        s << "BEGIN IMMEDIATE";
    } else {
        s.begin();
    }
}

void database::run(const std::function<void(soci::session&)>& fn) {
    for (int attempt = 1;; ++attempt) {
        lease l = session();
        try {
            fn(l.get());
            return;
        } catch (const soci::soci_error& e) {
            const bool lost = is_connection_error(e) || session_lost(&l.get());
            // Inside a transaction the transaction's own retry deals with it.
            if (!lost || !l.owned_) throw;
            opened_[l.position_] = 0;
            // A pooled connection the server dropped while idle fails its first statement: run
            // once more on a fresh one. (with_session is for reads, so running again is safe.)
            if (attempt == 1) continue;
            rethrow_translated(e, &l.get());
        }
    }
}

void database::run_prepared(std::type_index key,
                            const std::function<std::shared_ptr<void>(soci::session&)>& make,
                            const std::function<void(void*)>& fn) {
    for (int attempt = 1;; ++attempt) {
        lease l = session();
        try {
            if (!l.owned_ || via_odbc()) {
                auto fresh = make(l.get());
                fn(fresh.get());
                return;
            }
            auto& cache = prepared_[l.position_];
            auto it = cache.find(key);
            if (it == cache.end()) it = cache.emplace(key, make(l.get())).first;
            try {
                fn(it->second.get());
            } catch (...) {
                cache.erase(key);
                throw;
            }
            return;
        } catch (const soci::soci_error& e) {
            const bool lost = is_connection_error(e) || session_lost(&l.get());
            if (!lost || !l.owned_) throw;
            opened_[l.position_] = 0;
            prepared_[l.position_].clear();
            if (attempt == 1) continue;
            rethrow_translated(e, &l.get());
        }
    }
}

void database::commit(soci::session& s) {
    if (dialect_ == dialect::sqlite) {
        s << "COMMIT";
    } else {
        s.commit();
    }
}

void database::rollback_quietly(soci::session& s) noexcept {
    try {
        if (dialect_ == dialect::sqlite) {
            s << "ROLLBACK";
        } else {
            s.rollback();
        }
    } catch (...) {
        // The connection may be gone; the server then rolls back on its side.
    }
}

void database::run_transaction(const std::function<void(soci::session&)>& fn) {
    if (soci::session* s = ambient_session_for(this)) {
        fn(*s);
        return;
    }
    constexpr int max_attempts = 6;
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
        lease l = session();
        soci::session& s = l.get();
        bool committing = false;
        try {
            begin(s);
            {
                ambient_scope scope(this, &s);
                try {
                    fn(s);
                } catch (...) {
                    rollback_quietly(s);
                    throw;
                }
            }
            committing = true;
            commit(s);
            return;
        } catch (const soci::soci_error& e) {
            const bool lost = is_connection_error(e) || session_lost(&s);
            if (lost) {
                opened_[l.position_] = 0;
                if (!committing && !reconnected) {
                    // The transaction never reached COMMIT, so running it again on a fresh
                    // connection is safe; a second loss means the store is really down.
                    reconnected = true;
                    continue;
                }
                rethrow_translated(e, &s);
            }
            // A failed COMMIT leaves an SQLite transaction open; the servers have ended theirs.
            if (committing) rollback_quietly(s);
            if (attempt < max_attempts && is_retryable(e)) {
                // Randomised backoff so two conflicting writers do not collide again in step.
                thread_local std::minstd_rand jitter{std::random_device{}()};
                const int base_ms = 5 << std::min(attempt, 6);
                std::this_thread::sleep_for(std::chrono::milliseconds(
                    base_ms + static_cast<int>(jitter() % static_cast<unsigned>(base_ms))));
                continue;
            }
            throw;
        }
    }
}

bool database::ping() noexcept {
    try {
        int one = 0;
        with_session([&](soci::session& s) { s << "SELECT 1", soci::into(one); });
        return one == 1;
    } catch (...) {
        return false;
    }
}

void database::rethrow_translated(const soci::soci_error& e, soci::session*) const {
    throw store_unavailable("lost the connection to " + description_ + ": " + scrub(e.what()));
}

std::string database::scrub(std::string text) const {
    // Drivers and SOCI may echo the connection string back; never let the password through.
    const std::string& secret = settings_.password;
    if (secret.empty()) return text;
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
        text.replace(at, secret.size(), "***");
        at += 3;
    }
    return text;
}

}  // namespace portal::store
