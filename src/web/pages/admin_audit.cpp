// The audit log (SPEC §4 /admin/audit): newest first, filtered by actor, action, customer and UTC
// date, paged, with its details shown readably; GET /admin/audit.csv exports every filtered row.
// Nothing here changes or deletes an entry: the log is append-only through the application.
#include "export/csv_writer.hpp"
#include "export/file_name.hpp"
#include "export/neutralise.hpp"
#include "store/audit_repository.hpp"
#include "web/admin_support.hpp"
#include "web/audit.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace portal::web {
namespace {

using clock = std::chrono::system_clock;

constexpr int per_page = 50;
constexpr int csv_batch = 500;
constexpr std::size_t details_display_limit = 2000;

// What the application writes, with a label for people; actions found in the log but not listed
// here (the Flask portal's, say) are shown by their code.
const std::map<std::string, std::string, std::less<>>& action_labels() {
    static const std::map<std::string, std::string, std::less<>> labels{
        {"ADMIN_LOGIN", "Admin signed in"},
        {"ADMIN_LOGIN_FAILED", "Admin sign-in failed"},
        {"ADMIN_LOGIN_THROTTLED", "Admin sign-in throttled"},
        {"ADMIN_LOGOUT", "Admin signed out"},
        {"ADMIN_PW_RESET_EMAIL", "Set-password link emailed"},
        {"AUDIT_EXPORT", "Audit log exported"},
        {"CUSTOMER_ACTIVATE", "Account activated"},
        {"CUSTOMER_CREATE", "Account created"},
        {"CUSTOMER_DEACTIVATE", "Account deactivated"},
        {"CUSTOMER_LOGIN", "Customer signed in"},
        {"CUSTOMER_LOGIN_FAILED", "Customer sign-in failed"},
        {"CUSTOMER_LOGIN_THROTTLED", "Customer sign-in throttled"},
        {"CUSTOMER_LOGOUT", "Customer signed out"},
        {"CUSTOMER_PASSWORD_CHANGE", "Password changed"},
        {"CUSTOMER_PASSWORD_CHANGE_FAILED", "Password change refused"},
        {"CUSTOMER_PW_RESET", "Password set from a link"},
        {"CUSTOMER_PW_RESET_REQUEST", "Password reset requested"},
        {"CUSTOMER_VIEW_AS", "Admin viewed as customer"},
        {"MAIL_FAILED", "Email given up"},
        {"CUSTOMER_SESSION_IDLE_END", "Idle session ended"},
        {"CUSTOMER_SESSION_KICK", "Session ended by an admin"},
        {"CUSTOMER_UPDATE", "Account changed"},
        {"EXPORT", "Inventory exported"},
        {"SETTINGS_UPDATE", "Setting changed"},
    };
    return labels;
}

std::string action_label(const std::string& code) {
    const auto& labels = action_labels();
    auto it = labels.find(code);
    return it == labels.end() ? code : it->second;
}

// The actions in the log change rarely, and listing them reads the whole action index: kept for a
// minute.
class action_cache {
  public:
    std::vector<std::string> get(store::database& db) {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (!loaded_ || now - loaded_at_ > std::chrono::minutes(1)) {
            present_ = store::list_audit_actions(db);
            loaded_ = true;
            loaded_at_ = now;
        }
        return present_;
    }

  private:
    std::mutex mutex_;
    bool loaded_ = false;
    std::chrono::steady_clock::time_point loaded_at_{};
    std::vector<std::string> present_;
};

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string encode(std::string_view s) {
    return std::string(boost::urls::encode(s, boost::urls::unreserved_chars));
}

// --- filters -----------------------------------------------------------------------------------

// The filters as typed (for the form and links) and as the repository takes them.
struct audit_query {
    std::string actor, action, customer, from, to;
    int page = 1;
    store::audit_filter filter;
    std::string error;  // a refused filter: the page answers 400 with this message

    // The query string of these filters (and `page` when > 1), for links and the export.
    std::string query_string(int page_number = 1) const {
        std::string q;
        auto add = [&](std::string_view name, const std::string& value) {
            if (value.empty()) return;
            q += (q.empty() ? "?" : "&") + std::string(name) + "=" + encode(value);
        };
        add("actor", actor);
        add("action", action);
        add("customer", customer);
        add("from", from);
        add("to", to);
        if (page_number > 1) add("page", std::to_string(page_number));
        return q;
    }
    bool filtered() const {
        return !actor.empty() || !action.empty() || !customer.empty() || !from.empty() ||
               !to.empty();
    }
};

// "2026-12-01" → the start of that UTC day; nullopt when it is not a real date in that form.
std::optional<clock::time_point> parse_day(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
        int v = 0;
        const char* first = text.data() + at;
        auto [p, ec] = std::from_chars(first, first + len, v);
        if (ec != std::errc() || p != first + len) return std::nullopt;
        return v;
    };
    const auto y = number(0, 4), m = number(5, 2), d = number(8, 2);
    if (!y || !m || !d || *y < 1900) return std::nullopt;
    const std::chrono::year_month_day day{std::chrono::year(*y),
                                          std::chrono::month(static_cast<unsigned>(*m)),
                                          std::chrono::day(static_cast<unsigned>(*d))};
    if (!day.ok()) return std::nullopt;
    return clock::time_point(std::chrono::sys_days(day));
}

bool is_action_code(std::string_view s) {
    return !s.empty() && s.size() <= 50 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

audit_query read_query(const http::request_context& ctx) {
    audit_query q;
    auto param = [&](std::string_view name) { return trim(ctx.query_param(name).value_or("")); };
    q.actor = param("actor");
    q.action = param("action");
    q.customer = param("customer");
    q.from = param("from");
    q.to = param("to");
    q.page = int_query_param(ctx, "page", 1, 1, 1'000'000);

    auto refuse = [&](std::string message) {
        if (q.error.empty()) q.error = std::move(message);
    };
    if (q.actor.size() > 100)
        refuse("The actor filter can be at most 100 characters long.");
    else
        q.filter.actor = q.actor;
    if (!q.action.empty() && !is_action_code(q.action))
        refuse("The action filter must be an action name such as CUSTOMER_LOGIN.");
    else
        q.filter.action_type = q.action;
    if (!q.customer.empty()) {
        const bool numeric = std::all_of(q.customer.begin(), q.customer.end(),
                                         [](char c) { return c >= '0' && c <= '9'; });
        if (numeric) {
            long long id = 0;
            auto [p, ec] =
                std::from_chars(q.customer.data(), q.customer.data() + q.customer.size(), id);
            if (ec != std::errc() || id < 1 || id > 2147483647)
                refuse("The customer filter is not a valid customer id.");
            else
                q.filter.customer_id = static_cast<int>(id);
        } else if (q.customer.size() > 255) {
            refuse("The customer filter can be at most 255 characters long.");
        } else {
            q.filter.customer_email = q.customer;
        }
    }
    std::optional<clock::time_point> from, to;
    if (!q.from.empty() && !(from = parse_day(q.from)))
        refuse("The From date must be a date written as YYYY-MM-DD, such as 2026-12-01.");
    if (!q.to.empty() && !(to = parse_day(q.to)))
        refuse("The To date must be a date written as YYYY-MM-DD, such as 2026-12-31.");
    if (from && to && *from > *to) refuse("The From date is after the To date.");
    q.filter.from = from;
    // The To day is included: entries before the start of the next UTC day.
    if (to) q.filter.to = *to + std::chrono::days(1);
    q.filter.page = q.page;
    q.filter.per_page = per_page;
    return q;
}

// --- details -----------------------------------------------------------------------------------

std::string show_value(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "none";
        case boost::json::kind::bool_:
            return v.get_bool() ? "true" : "false";
        case boost::json::kind::string: {
            const auto& s = v.get_string();
            return s.empty() ? "(empty)" : std::string(s);
        }
        case boost::json::kind::array: {
            std::string out;
            for (const auto& item : v.get_array())
                out += (out.empty() ? "" : ", ") + show_value(item);
            return out.empty() ? "(none)" : out;
        }
        case boost::json::kind::object: {
            const auto& o = v.get_object();
            // A change: {"from": x, "to": y} → "x → y".
            if (o.size() == 2 && o.contains("from") && o.contains("to"))
                return show_value(o.at("from")) + " → " + show_value(o.at("to"));
            std::string out;
            for (const auto& [key, item] : o)
                out += (out.empty() ? "" : "; ") + std::string(key) + ": " + show_value(item);
            return out.empty() ? "(none)" : out;
        }
        default:
            return boost::json::serialize(v);
    }
}

std::string clipped(std::string text) {
    if (text.size() <= details_display_limit) return text;
    std::string cut;
    exports::append_valid_utf8(cut, std::string_view(text).substr(0, details_display_limit));
    // A sequence cut in the middle became U+FFFD: drop it.
    const std::string_view replacement = "\xEF\xBF\xBD";
    while (cut.size() >= 3 && std::string_view(cut).substr(cut.size() - 3) == replacement)
        cut.resize(cut.size() - 3);
    return cut + "…";
}

// `details` as lines "key: value" ("is_active: true → false"); text that is not a JSON object is
// shown as it is.
mustache_data details_data(const std::optional<std::string>& details) {
    mustache_data d;
    mustache_data lines{mustache_data::type::list};
    if (!details || trim(*details).empty()) {
        d.set("lines", lines);
        return d;
    }
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(*details, ec);
    if (ec || !parsed.is_object()) {
        d.set("raw", clipped(*details));
        d.set("lines", lines);
        return d;
    }
    for (const auto& [key, value] : parsed.get_object()) {
        mustache_data line;
        line.set("key", std::string(key));
        line.set("value", clipped(show_value(value)));
        lines.push_back(line);
    }
    d.set("lines", lines);
    d.set("has_lines", !parsed.get_object().empty());
    return d;
}

// --- the page ----------------------------------------------------------------------------------

mustache_data action_options(const audit_query& q, const std::vector<std::string>& present) {
    std::set<std::string> codes(present.begin(), present.end());
    for (const auto& [code, label] : action_labels()) codes.insert(code);
    if (!q.action.empty() && is_action_code(q.action)) codes.insert(q.action);
    mustache_data list{mustache_data::type::list};
    for (const auto& code : codes) {
        mustache_data o;
        o.set("value", code);
        const auto label = action_label(code);
        o.set("label", label == code ? code : label + " (" + code + ")");
        if (code == q.action) o.set("selected", true);
        list.push_back(o);
    }
    return list;
}

http::response audit_page(app::services& s, http::request_context& ctx, action_cache& actions) {
    const auto q = read_query(ctx);
    mustache_data data;
    data.set("nav", "audit");
    data.set("actor", q.actor);
    data.set("customer", q.customer);
    data.set("from", q.from);
    data.set("to", q.to);
    data.set("actions", action_options(q, actions.get(s.db)));
    data.set("filtered", q.filtered());
    data.set("export_href", "/admin/audit.csv" + q.query_string());
    data.set("scripts", script_list({"/static/js/local-time.js"}));
    if (!q.error.empty()) {
        data.set("error", q.error);
        data.set("entries", mustache_data{mustache_data::type::list});
        return render_page(s, ctx, "admin_audit", data, "Audit log", http::status::bad_request);
    }

    store::audit_repository repo(s.db);
    const long long total = repo.count(q.filter);
    const auto entries = total > 0 ? repo.list(q.filter) : std::vector<store::audit_entry>{};

    mustache_data rows{mustache_data::type::list};
    for (const auto& e : entries) {
        mustache_data r;
        r.set("when_iso", iso_utc(e.timestamp));
        r.set("when_text", readable_utc(e.timestamp));
        r.set("actor", e.admin_username);
        r.set("actor_href", "/admin/audit?actor=" + encode(e.admin_username));
        r.set("action", e.action_type);
        r.set("action_label", action_label(e.action_type));
        if (e.target_customer_id) {
            r.set("customer_href", "/admin/customers/" + std::to_string(*e.target_customer_id));
            r.set("customer_filter_href",
                  "/admin/audit?customer=" + std::to_string(*e.target_customer_id));
        }
        if (e.target_customer_id || e.target_customer_email) {
            r.set("has_customer", true);
            r.set("customer_label", e.target_customer_email.value_or(
                                        "Customer #" + std::to_string(*e.target_customer_id)));
        }
        r.set("ip_address", e.ip_address.value_or(""));
        r.set("details", details_data(e.details));
        rows.push_back(r);
    }
    data.set("entries", rows);
    data.set("has_entries", !entries.empty());
    data.set("total", format_thousands(total));
    if (!entries.empty()) {
        const long long first = static_cast<long long>(q.page - 1) * per_page + 1;
        const long long last = first + static_cast<long long>(entries.size()) - 1;
        const std::string noun = total == 1 ? " entry" : " entries";
        data.set("summary", "Showing " + format_thousands(first) +
                                (last > first ? "–" + format_thousands(last) : "") + " of " +
                                format_thousands(total) + noun);
    } else if (total > 0) {
        data.set("past_end", true);
        data.set("first_page_href", "/admin/audit" + q.query_string());
    } else {
        data.set(q.filtered() ? "no_matches" : "no_entries", true);
    }
    data.set("pagination", pager_data(q.page, per_page, total,
                                      [&q](int p) { return "/admin/audit" + q.query_string(p); }));
    return render_page(s, ctx, "admin_audit", data, "Audit log");
}

// --- the CSV export ----------------------------------------------------------------------------

void append_text_cell(std::string& out, std::string_view text) {
    // Neutralised first (a leading =, +, -, @, tab or CR gets an apostrophe), then quoted.
    exports::append_csv_field(out, exports::neutralised(text));
}

void append_record(std::string& out, const store::audit_entry& e) {
    out += std::to_string(e.log_id);
    out += ',';
    out += iso_utc(e.timestamp);
    out += ',';
    append_text_cell(out, e.admin_username);
    out += ',';
    append_text_cell(out, e.action_type);
    out += ',';
    if (e.target_customer_id) out += std::to_string(*e.target_customer_id);
    out += ',';
    append_text_cell(out, e.target_customer_email.value_or(""));
    out += ',';
    append_text_cell(out, e.ip_address.value_or(""));
    out += ',';
    append_text_cell(out, e.user_agent.value_or(""));
    out += ',';
    append_text_cell(out, e.details.value_or(""));
    out += "\r\n";
}

struct csv_export {
    store::database& db;
    store::audit_filter filter;
    long long max_log_id = 0;
    std::optional<store::audit_cursor> cursor;
    bool started = false;

    // One batch of records per call; false once the last one has been appended.
    bool next(std::string& out) {
        if (!started) {
            started = true;
            out += "\xEF\xBB\xBF";  // UTF-8 byte-order mark, so spreadsheets read the text right
            out +=
                "log_id,timestamp_utc,actor,action,customer_id,customer_email,ip_address,user_"
                "agent,details\r\n";
            if (max_log_id == 0) return false;
        }
        const auto batch = store::list_audit_after(db, filter, cursor, max_log_id, csv_batch);
        for (const auto& e : batch) append_record(out, e);
        if (batch.empty()) return false;
        cursor = store::audit_cursor{batch.back().timestamp, batch.back().log_id};
        return batch.size() == static_cast<std::size_t>(csv_batch);
    }
};

std::string export_file_stamp(clock::time_point t) {
    const std::time_t secs = clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char buf[32];
    return std::string(buf, std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &utc));
}

http::response audit_csv(app::services& s, http::request_context& ctx) {
    const auto q = read_query(ctx);
    if (!q.error.empty()) throw http::http_error(http::status::bad_request, q.error);
    const auto name = "AuditLog_" + export_file_stamp(clock::now()) + "Z.csv";
    http::response r;
    r.set(http::bhttp::field::content_type, "text/csv; charset=utf-8; header=present");
    r.set(http::bhttp::field::content_disposition, exports::content_disposition({name, name}));
    if (ctx.req.method() == http::verb::head) return r;

    auto state = std::make_shared<csv_export>(
        csv_export{s.db, q.filter, store::max_audit_log_id(s.db), {}, false});
    // The file ends at the last entry written before this request; the export's own entry, and
    // anything written while the file streams, come after it.
    boost::json::object filters;
    if (!q.actor.empty()) filters["actor"] = q.actor;
    if (!q.action.empty()) filters["action"] = q.action;
    if (!q.customer.empty()) filters["customer"] = q.customer;
    if (!q.from.empty()) filters["from"] = q.from;
    if (!q.to.empty()) filters["to"] = q.to;
    boost::json::object details;
    details["format"] = "csv";
    details["filters"] = std::move(filters);
    details["up_to_log_id"] = state->max_log_id;
    const auto* who = caller(ctx);
    record_audit(s, ctx, who->actor(), "AUDIT_EXPORT", {}, boost::json::serialize(details));
    // Streamed a batch at a time (keyset pages), so the whole log never sits in memory.
    r.stream = [state](std::string& out) { return state->next(out); };
    return r;
}

}  // namespace

void add_admin_audit_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;
    auto actions = std::make_shared<action_cache>();
    r.add(verb::get, "/admin/audit", access::admin,
          [&s, actions](http::request_context& ctx) { return audit_page(s, ctx, *actions); });
    r.add(verb::get, "/admin/audit.csv", access::admin,
          [&s](http::request_context& ctx) { return audit_csv(s, ctx); });
}

}  // namespace portal::web
