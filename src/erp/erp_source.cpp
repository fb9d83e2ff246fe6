#include "erp/erp_source.hpp"

#include <soci/odbc/soci-odbc.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>

// soci-postgresql.h includes <libpq-fe.h>, which is outside the build's include path; only the
// factory is needed, declared as SOCI 4.0.3 declares it.
extern "C" soci::backend_factory const* factory_postgresql();

namespace portal::erp {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool contains_ci(const std::string& haystack, std::string_view needle) {
    return lower(haystack).find(needle) != std::string::npos;
}

bool is_sql_server_driver(const std::string& driver) {
    return contains_ci(driver, "sql server") || contains_ci(driver, "freetds") ||
           contains_ci(driver, "tds");
}
bool is_microsoft_driver(const std::string& driver) {
    return contains_ci(driver, "sql server") && !contains_ci(driver, "freetds");
}

// ODBC connection string values: braces when the value could end the attribute or confuse the
// parser, with '}' doubled inside (the ODBC rule, which unixODBC and the drivers follow).
std::string odbc_value(const std::string& v) {
    bool needs_braces = v.find_first_of(";{}=") != std::string::npos ||
                        (!v.empty() && (std::isspace(static_cast<unsigned char>(v.front())) ||
                                        std::isspace(static_cast<unsigned char>(v.back()))));
    if (!needs_braces) return v;
    std::string s = "{";
    for (char c : v) {
        s += c;
        if (c == '}') s += '}';
    }
    return s + "}";
}

// Percent-encoding for the parts of a postgresql:// URI: everything but unreserved characters.
std::string uri_component(const std::string& v) {
    static const char hex[] = "0123456789ABCDEF";
    std::string s;
    for (unsigned char c : v) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            s += static_cast<char>(c);
        } else {
            s += '%';
            s += hex[c >> 4];
            s += hex[c & 15];
        }
    }
    return s;
}

void trim_trailing_blanks(std::string& s) {
    // SQL Server pads CHAR columns with spaces (and some drivers leave NULs behind).
    auto end = s.find_last_not_of(std::string_view(" \0", 2));
    s.erase(end == std::string::npos ? 0 : end + 1);
}

std::string trim(std::string s) {
    trim_trailing_blanks(s);
    auto start = s.find_first_not_of(" \t\r\n");
    s.erase(0, start == std::string::npos ? s.size() : start);
    return s;
}

std::string format_number(double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.15g", v);
    return buffer;
}

std::string format_tm(const std::tm& t) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday);
    return buffer;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

// "YYYY-MM-DD..." (also with '/' or '.' separators) and "YYYYMMDD" become "YYYY-MM-DD"; anything
// else is kept as the ERP gave it rather than dropped.
std::string normalise_date_text(std::string s) {
    s = trim(std::move(s));
    if (s.size() >= 10 && all_digits(std::string_view(s).substr(0, 4)) &&
        (s[4] == '-' || s[4] == '/' || s[4] == '.') && s[7] == s[4] &&
        all_digits(std::string_view(s).substr(5, 2)) && all_digits(std::string_view(s).substr(8, 2)) &&
        (s.size() == 10 || !std::isdigit(static_cast<unsigned char>(s[10]))))
        return s.substr(0, 4) + "-" + s.substr(5, 2) + "-" + s.substr(8, 2);
    if (s.size() == 8 && all_digits(s)) return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2);
    return s;
}

// One value as text, whatever SQL type the driver reported. NULL and blank text are empty.
std::optional<std::string> text_value(const soci::row& r, std::size_t i, bool as_date) {
    if (r.get_indicator(i) == soci::i_null) return std::nullopt;
    std::string s;
    switch (r.get_properties(i).get_data_type()) {
        case soci::dt_string:
        case soci::dt_xml:
            s = r.get<std::string>(i);
            trim_trailing_blanks(s);
            if (as_date) s = normalise_date_text(std::move(s));
            break;
        case soci::dt_date: {
            std::tm t = r.get<std::tm>(i);
            if (as_date) return format_tm(t);
            char buffer[96];
            std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d", t.tm_year + 1900,
                          t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
            s = buffer;
            break;
        }
        case soci::dt_double: s = format_number(r.get<double>(i)); break;
        case soci::dt_integer: s = std::to_string(r.get<int>(i)); break;
        case soci::dt_long_long: s = std::to_string(r.get<long long>(i)); break;
        case soci::dt_unsigned_long_long: s = std::to_string(r.get<unsigned long long>(i)); break;
        case soci::dt_blob: return std::nullopt;  // nothing a grid can show
    }
    if (s.empty()) return std::nullopt;
    return s;
}

std::optional<double> number_value(const soci::row& r, std::size_t i, const char* column_name) {
    if (r.get_indicator(i) == soci::i_null) return std::nullopt;
    switch (r.get_properties(i).get_data_type()) {
        case soci::dt_double: return r.get<double>(i);
        case soci::dt_integer: return r.get<int>(i);
        case soci::dt_long_long: return static_cast<double>(r.get<long long>(i));
        case soci::dt_unsigned_long_long: return static_cast<double>(r.get<unsigned long long>(i));
        case soci::dt_string: {
            // DECIMAL arrives as text from some drivers and from SQLite expressions.
            std::string s = trim(r.get<std::string>(i));
            if (s.empty()) return std::nullopt;
            const char* begin = s.data() + (s.front() == '+' ? 1 : 0);
            double v = 0;
            auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
            if (ec == std::errc() && end == s.data() + s.size()) return v;
            throw erp_unavailable(std::string("the ") + column_name +
                                  " column holds a value that is not a number: \"" + s + "\"");
        }
        default:
            throw erp_unavailable(std::string("the ") + column_name +
                                  " column is not numeric (it returned a date or binary value)");
    }
}

// Where each contract column sits in the result, by alias, ignoring case; the first of duplicate
// aliases wins and unknown columns are ignored.
struct column_map {
    std::array<std::optional<std::size_t>, column_count> position{};
    std::vector<std::string> returned;
};

column_map map_columns(const soci::row& r) {
    column_map m;
    for (std::size_t i = 0; i < r.size(); ++i) {
        std::string name = lower(trim(r.get_properties(i).get_name()));
        m.returned.push_back(name);
        if (auto c = column_from_name(name)) {
            auto& slot = m.position[static_cast<std::size_t>(*c)];
            if (!slot) slot = i;
        }
    }
    return m;
}

std::string list(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
}

void require_columns(const column_map& m) {
    for (const auto& info : columns)
        if (info.required && !m.position[static_cast<std::size_t>(info.id)])
            throw erp_unavailable("the inventory query returns no `" + std::string(info.name) +
                                  "` column, which is required (it returns: " + list(m.returned) +
                                  ")");
}

// A customer name no ERP holds, for the start-up probe.
constexpr const char* probe_customer = "~customer-portal probe~ no such ERP customer ~";

}  // namespace

std::string bundled_query_path(const std::string& assets_dir, const std::string& driver,
                               query_kind which) {
    app::database_settings s;
    s.driver = driver;
    std::string base = assets_dir.empty() ? std::string(".") : assets_dir;
    if (base.back() == '/') base.pop_back();
    std::string family = s.is_odbc() ? "deacom" : "portable";
    std::string what = which == query_kind::inventory ? "inventory" : "customers";
    return base + "/queries/" + family + "_" + what + ".sql";
}

std::string odbc_connection_string(const app::database_settings& s) {
    std::string cs = "DRIVER=" + odbc_value(s.driver) + ";";
    if (!s.server.empty()) {
        if (is_microsoft_driver(s.driver) && s.port) {
            // Microsoft's drivers take the port after a comma and know no PORT keyword.
            cs += "SERVER=" + odbc_value(s.server + "," + std::to_string(*s.port)) + ";";
        } else {
            cs += "SERVER=" + odbc_value(s.server) + ";";
            if (s.port) cs += "PORT=" + std::to_string(*s.port) + ";";
        }
    }
    if (!s.name.empty()) cs += "DATABASE=" + odbc_value(s.name) + ";";
    if (s.windows_auth) {
        cs += "Trusted_Connection=yes;";
    } else {
        if (!s.username.empty()) cs += "UID=" + odbc_value(s.username) + ";";
        if (!s.password.empty()) cs += "PWD=" + odbc_value(s.password) + ";";
    }
    if (is_sql_server_driver(s.driver)) {
        // Routes to a readable secondary where there is one; SQL Server itself does not enforce
        // read-only on this alone (the login's permissions must).
        cs += "ApplicationIntent=ReadOnly;APP=customer-portal;";
        if (contains_ci(s.driver, "freetds") || contains_ci(s.driver, "tds"))
            cs += "ClientCharset=UTF-8;";  // non-ASCII names and descriptions arrive as UTF-8
    }
    if (contains_ci(s.driver, "postgres")) {
        // psqlODBC accepts but ignores the ODBC read-only access mode; this makes the server
        // refuse writes, and bounds each statement.
        std::string settings = "SET default_transaction_read_only = on";
        if (s.timeout_seconds > 0)
            settings += "; SET statement_timeout = " + std::to_string(s.timeout_seconds * 1000);
        cs += "ConnSettings=" + odbc_value(settings) + ";";
        // Debian's odbcinst.ini turns psqlODBC's communication log on: no log files in /tmp.
        cs += "CommLog=0;";
    }
    if (s.timeout_seconds > 0) {
        // SOCI connects inside its constructor, before we could set SQL_ATTR_LOGIN_TIMEOUT on the
        // handle; unixODBC's driver manager sets it from this attribute before connecting.
        cs += "DMConnAttr=" + odbc_value("SQL_ATTR_LOGIN_TIMEOUT=" +
                                         std::to_string(s.timeout_seconds)) + ";";
    }
    return cs;
}

std::string postgresql_connection_string(const app::database_settings& s) {
    // A URI rather than "key='value'" pairs: SOCI 4.0.3 garbles some quoted values (a password
    // holding a blank and then a quote or backslash fails to log in), while percent-encoding
    // needs no quoting at all.
    std::string uri = "postgresql://";
    if (!s.username.empty()) {
        uri += uri_component(s.username);
        if (!s.windows_auth && !s.password.empty()) uri += ":" + uri_component(s.password);
        uri += "@";
    }
    bool socket_directory = !s.server.empty() && s.server.front() == '/';
    if (!s.server.empty() && !socket_directory) {
        bool ipv6 = s.server.find(':') != std::string::npos;
        uri += ipv6 ? "[" + s.server + "]" : uri_component(s.server);
    }
    if (s.port && !socket_directory) uri += ":" + std::to_string(*s.port);
    uri += "/" + uri_component(s.name);

    std::string options = "-c default_transaction_read_only=on";
    uri += "?application_name=customer-portal";
    if (s.timeout_seconds > 0) {
        uri += "&connect_timeout=" + std::to_string(s.timeout_seconds);
        options += " -c statement_timeout=" + std::to_string(s.timeout_seconds * 1000);
    }
    uri += "&options=" + uri_component(options);
    if (socket_directory) {
        uri += "&host=" + uri_component(s.server);
        if (s.port) uri += "&port=" + std::to_string(*s.port);
    }
    return uri;
}

std::string sqlite_connection_string(const app::database_settings& s) {
    if (s.name.empty()) throw erp_unavailable("ERP_DB_NAME (the SQLite file) is not set");
    if (s.name.find('"') != std::string::npos)
        throw erp_unavailable("the ERP SQLite path must not contain a double quote");
    // readonly=1 opens with SQLITE_OPEN_READONLY (and never creates a missing file); SOCI's
    // parser takes double-quoted values, so paths may contain blanks.
    return "db=\"" + s.name + "\" readonly=1 timeout=" + std::to_string(std::max(s.timeout_seconds, 1));
}

// A session borrowed from the pool: returned on success, dropped after a failure.
class erp_source::lease {
public:
    explicit lease(erp_source& owner) : owner_(owner), session_(owner.take_session(reused_)) {}
    ~lease() {
        if (session_) owner_.give_back(std::move(session_));
    }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;

    soci::session& session() { return *session_; }
    bool reused() const { return reused_; }
    bool connected() const { return session_ && session_->is_connected(); }
    void drop() {
        session_.reset();
        owner_.forget_session();
    }

private:
    erp_source& owner_;
    bool reused_ = false;
    std::unique_ptr<soci::session> session_;
};

erp_source::erp_source(app::database_settings settings, std::string inventory_query,
                       std::string customers_query, std::size_t pool_size)
    : settings_(std::move(settings)),
      // Comments go before SOCI sees the text: its :name rewriting does not skip them.
      inventory_query_(without_comments(inventory_query)),
      customers_query_(without_comments(customers_query)),
      pool_size_(std::max<std::size_t>(pool_size, 1)) {
    if (settings_.is_sqlite()) {
        description_ = "sqlite " + settings_.name;
    } else {
        description_ = (settings_.is_postgresql() ? "postgresql" : "ODBC \"" + settings_.driver + "\"") +
                       " " + (settings_.server.empty() ? std::string("(default host)") : settings_.server) +
                       (settings_.port ? ":" + std::to_string(*settings_.port) : std::string()) +
                       ", database " + (settings_.name.empty() ? std::string("(default)") : settings_.name);
    }
}

erp_source::~erp_source() = default;

std::unique_ptr<soci::session> erp_source::open_session() const {
    if (settings_.is_sqlite()) {
        auto session = std::make_unique<soci::session>(soci::sqlite3, sqlite_connection_string(settings_));
        // Belt and braces on top of the read-only open.
        *session << "PRAGMA query_only = 1";
        return session;
    }
    if (settings_.is_postgresql())
        return std::make_unique<soci::session>(*factory_postgresql(),
                                               postgresql_connection_string(settings_));

    soci::connection_parameters parameters(soci::odbc, odbc_connection_string(settings_));
    // Never let a driver try to prompt for missing details.
    parameters.set_option(soci::odbc_option_driver_complete, std::to_string(SQL_DRIVER_NOPROMPT));
    auto session = std::make_unique<soci::session>(parameters);
    // static_cast: libsoci_odbc does not export the backend's type information; the backend
    // of a session opened with soci::odbc is always this type.
    if (auto* backend = static_cast<soci::odbc_session_backend*>(session->get_backend())) {
        // The ODBC read-only access mode. Many drivers take it as a hint only (psqlODBC accepts
        // and ignores it; SQL Server's drivers document it as an indicator), and one that
        // refuses it is no reason to fail, so the result is ignored: the connection-string
        // settings and the login's rights are what enforce read-only.
        SQLSetConnectAttr(backend->hdbc_, SQL_ATTR_ACCESS_MODE,
                          reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(SQL_MODE_READ_ONLY)), 0);
    }
    return session;
}

std::unique_ptr<soci::session> erp_source::take_session(bool& reused) {
    std::unique_lock lock(mutex_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(std::max(settings_.timeout_seconds, 1));
    for (;;) {
        if (!idle_.empty()) {
            auto session = std::move(idle_.back());
            idle_.pop_back();
            reused = true;
            return session;
        }
        if (open_ < pool_size_) break;
        if (session_freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
            open_ >= pool_size_)
            throw erp_unavailable("ERP (" + description_ + "): all " + std::to_string(pool_size_) +
                                  " connections stayed busy for " +
                                  std::to_string(settings_.timeout_seconds) + " s");
    }
    ++open_;
    lock.unlock();
    reused = false;
    try {
        return open_session();
    } catch (const std::exception& e) {
        forget_session();
        std::string detail = e.what();
        if (auto* soci_error = dynamic_cast<const soci::soci_error*>(&e))
            detail = soci_error->get_error_message();
        throw erp_unavailable(scrub("ERP (" + description_ + "): cannot connect: " + trim(detail)));
    }
}

void erp_source::give_back(std::unique_ptr<soci::session> session) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(session));
    }
    session_freed_.notify_one();
}

void erp_source::forget_session() {
    {
        std::lock_guard lock(mutex_);
        --open_;
    }
    session_freed_.notify_one();
}

std::size_t erp_source::size_hint(const std::string& erp_customer) {
    std::lock_guard lock(mutex_);
    auto it = size_hints_.find(erp_customer);
    return it == size_hints_.end() ? 0 : it->second + it->second / 16;
}

void erp_source::remember_size(const std::string& erp_customer, std::size_t rows) {
    std::lock_guard lock(mutex_);
    // Bounded: the probe's made-up name and customers that come and go must not grow it forever.
    if (size_hints_.size() >= 10'000) size_hints_.clear();
    if (rows > 0) size_hints_[erp_customer] = rows;
}

std::string erp_source::scrub(std::string message) const {
    // Drivers do not normally echo passwords, but a message is only safe to log if that is
    // guaranteed: remove the password in every form it was sent in.
    if (settings_.password.empty()) return message;
    for (const std::string& secret :
         {odbc_value(settings_.password), uri_component(settings_.password), settings_.password}) {
        for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at))
            message.replace(at, secret.size(), "***");
    }
    return message;
}

template <typename Work>
auto erp_source::with_session(const char* what, Work&& work) {
    // A pooled session may have died since its last use (ERP restart, idle cut by a firewall):
    // that failure is retried once on a fresh connection. Any other failure is reported.
    for (int attempt = 0;; ++attempt) {
        lease borrowed(*this);
        try {
            return work(borrowed.session());
        } catch (const erp_unavailable& e) {
            // The query ran but its result is unusable (a missing column): the session is fine.
            throw erp_unavailable(scrub("ERP (" + description_ + "): " + what + ": " + e.what()));
        } catch (const soci::soci_error& e) {
            bool dead = !borrowed.connected() ||
                        e.get_error_category() == soci::soci_error::connection_error;
            bool retry = attempt == 0 && borrowed.reused() && dead;
            borrowed.drop();
            if (retry) continue;
            throw erp_unavailable(scrub("ERP (" + description_ + "): " + what + " failed: " +
                                        trim(e.get_error_message())));
        } catch (const std::exception& e) {
            borrowed.drop();
            throw erp_unavailable(scrub("ERP (" + description_ + "): " + what + " failed: " + e.what()));
        }
    }
}

namespace {

// Runs `sql` (optionally binding :erp_customer) with the statement timeout set where SOCI lets
// us reach the statement, and calls on_row for each row.
template <typename OnRow>
void run_query(soci::session& session, const app::database_settings& settings,
               const std::string& sql, const std::string* customer, soci::row& row,
               OnRow&& on_row) {
    std::string bound = customer ? *customer : std::string();
    soci::statement statement =
        customer ? (session.prepare << sql, soci::use(bound, "erp_customer"), soci::into(row))
                 : (session.prepare << sql, soci::into(row));
    if (settings.is_odbc() && settings.timeout_seconds > 0) {
        // static_cast as in open_session: an ODBC session's statements have this backend.
        if (auto* backend = static_cast<soci::odbc_statement_backend*>(statement.get_backend()))
            SQLSetStmtAttr(backend->hstmt_, SQL_ATTR_QUERY_TIMEOUT,
                           reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(settings.timeout_seconds)),
                           0);
    }
    statement.execute();
    while (statement.fetch()) on_row();
}

}  // namespace

inventory_result erp_source::fetch_inventory(const std::string& erp_customer) {
    return with_session("inventory query", [&](soci::session& session) {
        inventory_result result;
        // Records are large (15 optional strings, ~600 bytes): growing the vector by doubling
        // would move 100,000 of them several times, so reserve what this customer had last time.
        result.rows.reserve(size_hint(erp_customer));
        soci::row row;
        std::optional<column_map> map;
        auto ensure_map = [&] {
            if (map) return;
            map = map_columns(row);
            require_columns(*map);
            for (std::size_t c = 0; c < column_count; ++c)
                result.present[c] = map->position[c].has_value();
        };
        run_query(session, settings_, inventory_query_, &erp_customer, row, [&] {
            ensure_map();
            inventory_record record;
            for (const auto& info : columns) {
                auto at = map->position[static_cast<std::size_t>(info.id)];
                if (!at) continue;
                if (info.kind == column_kind::number)
                    record.on_hand = number_value(row, *at, "on_hand");
                else
                    record[info.id] = text_value(row, *at, info.kind == column_kind::date);
            }
            result.rows.push_back(std::move(record));
        });
        // With no rows the columns are still described (SOCI describes at execute).
        if (row.size() > 0) ensure_map();
        remember_size(erp_customer, result.rows.size());
        return result;
    });
}

std::vector<std::string> erp_source::fetch_customers() {
    return with_session("customers query", [&](soci::session& session) {
        std::vector<std::string> names;
        soci::row row;
        std::optional<std::size_t> name_at;
        auto find_name = [&] {
            if (name_at) return;
            std::vector<std::string> returned;
            for (std::size_t i = 0; i < row.size(); ++i) {
                returned.push_back(lower(trim(row.get_properties(i).get_name())));
                if (!name_at && returned.back() == "name") name_at = i;
            }
            if (!name_at)
                throw erp_unavailable("the customers query returns no `name` column (it returns: " +
                                      list(returned) + ")");
        };
        run_query(session, settings_, customers_query_, nullptr, row, [&] {
            find_name();
            if (auto name = text_value(row, *name_at, false)) {
                std::string trimmed = trim(std::move(*name));
                if (!trimmed.empty()) names.push_back(std::move(trimmed));
            }
        });
        if (row.size() > 0) find_name();
        // Case-insensitive order reads naturally in a picker; ties fall back to bytes.
        std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
            std::string la = lower(a), lb = lower(b);
            return la != lb ? la < lb : a < b;
        });
        names.erase(std::unique(names.begin(), names.end()), names.end());
        return names;
    });
}

void erp_source::probe() {
    fetch_inventory(probe_customer);
    fetch_customers();
}

std::unique_ptr<erp_source> make_erp_source(const app::config& cfg) {
    std::string assets = cfg.assets_dir;
#ifdef PORTAL_DEFAULT_ASSETS_DIR
    if (assets.empty()) assets = PORTAL_DEFAULT_ASSETS_DIR;
#endif
    auto path = [&](const std::string& configured, query_kind kind) {
        return configured.empty() ? bundled_query_path(assets, cfg.erp.driver, kind) : configured;
    };
    std::string inventory = load_query_file(path(cfg.erp_inventory_query_file, query_kind::inventory),
                                            query_kind::inventory);
    std::string customers = load_query_file(path(cfg.erp_customers_query_file, query_kind::customers),
                                            query_kind::customers);
    return std::make_unique<erp_source>(cfg.erp, std::move(inventory), std::move(customers));
}

}  // namespace portal::erp
