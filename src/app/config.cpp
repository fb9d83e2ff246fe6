#include "app/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace portal::app {
namespace {

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

// One value after `=`: quoted values keep everything inside the quotes (double quotes know \n, \"
// and \\); unquoted values end at a `#` that follows whitespace, as python-dotenv reads them.
std::string parse_value(std::string_view raw) {
    std::string s = trim(raw);
    if (!s.empty() && (s[0] == '"' || s[0] == '\'')) {
        const char quote = s[0];
        std::string out;
        for (std::size_t i = 1; i < s.size(); ++i) {
            const char c = s[i];
            if (c == quote) return out;
            // python-dotenv decodes only these escapes; any other backslash stays as written
            // (a Windows server name such as sql01\SQLEXPRESS).
            if (quote == '"' && c == '\\' && i + 1 < s.size() &&
                std::string_view("\\'\"nt").find(s[i + 1]) != std::string_view::npos) {
                const char n = s[++i];
                out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
                continue;
            }
            out += c;
        }
        return s;  // no closing quote: keep the text as written
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
            return trim(std::string_view(s).substr(0, i));
        }
    }
    return s;
}

class reader {
public:
    reader(const std::map<std::string, std::string>& env, const std::map<std::string, std::string>& dotenv)
        : env_(env), dotenv_(dotenv) {}

    std::optional<std::string> get(const std::string& key) const {
        if (auto it = env_.find(key); it != env_.end() && !it->second.empty()) return it->second;
        if (auto it = dotenv_.find(key); it != dotenv_.end() && !it->second.empty()) return it->second;
        return std::nullopt;
    }
    std::string text(const std::string& key, std::string fallback = {}) const {
        return get(key).value_or(std::move(fallback));
    }
    int integer(const std::string& key, int fallback, int min, int max) const {
        auto v = get(key);
        if (!v) return fallback;
        int out = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
        if (ec != std::errc{} || end != v->data() + v->size())
            throw config_error(key, "must be a whole number, got '" + *v + "'");
        if (out < min || out > max)
            throw config_error(key, "must be between " + std::to_string(min) + " and " +
                                        std::to_string(max) + ", got " + *v);
        return out;
    }
    std::optional<int> port(const std::string& key) const {
        if (!get(key)) return std::nullopt;
        return integer(key, 0, 1, 65535);
    }
    bool boolean(const std::string& key, bool fallback) const {
        auto v = get(key);
        if (!v) return fallback;
        std::string s = *v;
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
        if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "0" || s == "no" || s == "off") return false;
        throw config_error(key, "must be true or false, got '" + *v + "'");
    }
    std::string choice(const std::string& key, std::string fallback,
                       std::initializer_list<std::string_view> allowed) const {
        auto v = get(key);
        if (!v) return fallback;
        std::string s = *v;
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
        for (auto a : allowed)
            if (s == a) return s;
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        throw config_error(key, "must be one of " + list + ", got '" + *v + "'");
    }

private:
    const std::map<std::string, std::string>& env_;
    const std::map<std::string, std::string>& dotenv_;
};

std::string normalise_driver(std::string driver) {
    std::string lower = driver;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "sqlite" || lower == "sqlite3") return "sqlite";
    if (lower == "postgresql" || lower == "postgres" || lower == "pg") return "postgresql";
    // An ODBC driver name, written with or without braces as in the Flask portal's .env.
    if (driver.size() >= 2 && driver.front() == '{' && driver.back() == '}')
        driver = driver.substr(1, driver.size() - 2);
    return driver;
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::string s = trim(line);
        if (s.empty() || s[0] == '#') continue;
        if (s.rfind("export ", 0) == 0) s = trim(std::string_view(s).substr(7));
        const auto eq = s.find('=');
        if (eq == std::string::npos) continue;  // not an assignment; python-dotenv ignores it too
        std::string key = trim(std::string_view(s).substr(0, eq));
        if (key.empty()) continue;
        out[key] = parse_value(std::string_view(s).substr(eq + 1));
    }
    return out;
}

config make_config(const std::map<std::string, std::string>& environment,
                   const std::map<std::string, std::string>& dotenv) {
    const reader r(environment, dotenv);
    config c;
    c.secret_key = r.text("SECRET_KEY");
    c.session_hours = std::chrono::hours(r.integer("SESSION_HOURS", 8, 1, 24 * 30));
    c.session_idle = std::chrono::minutes(r.integer("SESSION_IDLE_MINUTES", 60, 1, 24 * 60));

    c.store.driver = normalise_driver(r.text("DB_DRIVER", "sqlite"));
    c.store.server = r.text("DB_SERVER");
    c.store.port = r.port("DB_PORT");
    c.store.name = r.text("DB_NAME", c.store.driver == "sqlite" ? "data/portal.db" : "");
    c.store.username = r.text("DB_USERNAME");
    c.store.password = r.text("DB_PASSWORD");
    c.store.windows_auth = r.boolean("DB_USE_WINDOWS_AUTH", false);
    if (c.store.name.empty()) throw config_error("DB_NAME", "is required when DB_DRIVER is not sqlite");
    // A Flask portal's .env names its SQL Server but has no DB_DRIVER: quietly opening a new,
    // empty SQLite file beside it would look like every account had vanished.
    if (c.store.is_sqlite() && !c.store.server.empty())
        throw config_error("DB_DRIVER", "is sqlite (the default) but DB_SERVER is set: name the driver for that server, "
                                        "e.g. DB_DRIVER=ODBC Driver 17 for SQL Server, or leave DB_SERVER empty");
    if (!c.store.is_sqlite() && c.store.server.empty())
        throw config_error("DB_SERVER", "is required when DB_DRIVER is " + c.store.driver);

    c.erp.driver = normalise_driver(r.text("ERP_DB_DRIVER", "ODBC Driver 17 for SQL Server"));
    c.erp.server = r.text("ERP_DB_SERVER");
    c.erp.port = r.port("ERP_DB_PORT");
    c.erp.name = r.text("ERP_DB_NAME");
    c.erp.username = r.text("ERP_DB_USERNAME");
    c.erp.password = r.text("ERP_DB_PASSWORD");
    c.erp.timeout_seconds = r.integer("ERP_DB_TIMEOUT", 30, 1, 3600);
    c.erp_inventory_query_file = r.text("ERP_INVENTORY_QUERY_FILE");
    c.erp_customers_query_file = r.text("ERP_CUSTOMERS_QUERY_FILE");
    c.erp_cache = std::chrono::seconds(r.integer("ERP_CACHE_SECONDS", 30, 0, 24 * 3600));

    c.smtp.server = r.text("SMTP_SERVER");
    c.smtp.port = r.port("SMTP_PORT").value_or(25);
    c.smtp.use_tls = r.boolean("SMTP_USE_TLS", false);
    c.smtp.username = r.text("SMTP_USERNAME");
    c.smtp.password = r.text("SMTP_PASSWORD");
    c.smtp.from = r.text("EMAIL_FROM");
    c.smtp.bcc = r.text("EMAIL_BCC");
    if (c.smtp.configured() && c.smtp.from.empty())
        throw config_error("EMAIL_FROM", "is required when SMTP_SERVER is set");

    c.app_base_url = r.text("APP_BASE_URL", "http://localhost:5001");
    while (c.app_base_url.size() > 1 && c.app_base_url.back() == '/') c.app_base_url.pop_back();
    if (c.app_base_url.rfind("http://", 0) != 0 && c.app_base_url.rfind("https://", 0) != 0)
        throw config_error("APP_BASE_URL", "must start with http:// or https://, got '" + c.app_base_url + "'");

    c.admin_username = r.text("ADMIN_USERNAME");
    c.admin_password_hash = r.text("ADMIN_PASSWORD_HASH");
    if (c.admin_username.empty() != c.admin_password_hash.empty())
        throw config_error(c.admin_username.empty() ? "ADMIN_USERNAME" : "ADMIN_PASSWORD_HASH",
                           "ADMIN_USERNAME and ADMIN_PASSWORD_HASH must be set together");

    c.ldap.server = r.text("AD_SERVER");
    c.ldap.domain = r.text("AD_DOMAIN");
    c.ldap.port = r.port("AD_PORT");
    c.ldap.service_account = r.text("AD_SERVICE_ACCOUNT");
    c.ldap.service_password = r.text("AD_SERVICE_PASSWORD");
    c.ldap.base_dn = r.text("AD_BASE_DN");
    c.ldap.admin_group = r.text("AD_PORTAL_ADMIN_GROUP");
    if (c.ldap.configured()) {
        if (c.ldap.base_dn.empty()) throw config_error("AD_BASE_DN", "is required when AD_SERVER is set");
        if (c.ldap.admin_group.empty())
            throw config_error("AD_PORTAL_ADMIN_GROUP", "is required when AD_SERVER is set");
    }

    c.host = r.text("HOST", "0.0.0.0");
    c.port = r.integer("PORT", 5001, 1, 65535);
    c.threads = r.integer("THREADS", 0, 0, 256);
    if (c.threads == 0) c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::string proxies = r.text("TRUSTED_PROXIES");
    for (std::string_view rest = proxies; !rest.empty();) {
        const auto comma = rest.find_first_of(", ");
        std::string item = trim(rest.substr(0, comma));
        if (!item.empty()) c.trusted_proxies.push_back(item);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }

    c.log_level = r.choice("LOG_LEVEL", "info", {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"});
    c.log_file = r.text("LOG_FILE");
    c.log_json = r.choice("LOG_FORMAT", "text", {"text", "json"}) == "json";

    c.assets_dir = r.text("PORTAL_ASSETS_DIR", PORTAL_DEFAULT_ASSETS_DIR);
    return c;
}

config load_config(const std::optional<std::string>& env_file) {
    std::map<std::string, std::string> environment;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string_view::npos) environment.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    std::map<std::string, std::string> dotenv;
    const std::string path = env_file.value_or(".env");
    std::ifstream in(path);
    if (in) {
        std::stringstream buffer;
        buffer << in.rdbuf();
        dotenv = parse_dotenv(buffer.str());
    } else if (env_file) {
        throw config_error("--env-file", "cannot read '" + path + "'");
    }
    return make_config(environment, dotenv);
}

void require_server_secret(const config& cfg) {
    if (cfg.secret_key.empty())
        throw config_error("SECRET_KEY", "is required (at least 32 bytes of random text)");
    if (cfg.secret_key.size() < 32)
        throw config_error("SECRET_KEY", "must be at least 32 bytes long, got " +
                                             std::to_string(cfg.secret_key.size()));
}

}  // namespace portal::app
