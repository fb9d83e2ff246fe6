// Who is signed in now, kicking a session, ending idle sessions automatically (SPEC §4
// /admin/sessions; the limit is applied by app/housekeeping on every instance).
#include "app/housekeeping.hpp"
#include "auth/sessions.hpp"
#include "store/sessions_repository.hpp"
#include "web/admin_support.hpp"
#include "web/audit.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

namespace portal::web {
namespace {

using clock = std::chrono::system_clock;

constexpr std::string_view idle_limit_field = "idle_minutes";

// --- user agents -------------------------------------------------------------------------------

// The version number right after `marker` ("Chrome/120.0.6099" → "120"), or "".
std::string major_version(std::string_view ua, std::string_view marker) {
    const auto at = ua.find(marker);
    if (at == std::string_view::npos) return {};
    std::string out;
    for (auto i = at + marker.size();
         i < ua.size() && std::isdigit(static_cast<unsigned char>(ua[i])); ++i)
        out += ua[i];
    return out;
}

bool has(std::string_view ua, std::string_view part) {
    return ua.find(part) != std::string_view::npos;
}

// "Chrome 120 on Windows", "Safari 17 on iPhone", "curl 8.5": what an admin needs to tell sessions
// apart. Anything unrecognised is cut short; the page keeps the full text in a title.
std::string describe_user_agent(std::string_view ua) {
    if (ua.empty()) return "Unknown browser";
    struct browser_rule {
        std::string_view marker, name;
    };
    // Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
    constexpr std::array<browser_rule, 9> browsers{{{"Edg/", "Edge"},
                                                    {"EdgA/", "Edge"},
                                                    {"OPR/", "Opera"},
                                                    {"SamsungBrowser/", "Samsung Internet"},
                                                    {"Firefox/", "Firefox"},
                                                    {"FxiOS/", "Firefox"},
                                                    {"CriOS/", "Chrome"},
                                                    {"HeadlessChrome/", "Headless Chrome"},
                                                    {"Chrome/", "Chrome"}}};
    std::string browser;
    for (const auto& b : browsers) {
        if (has(ua, b.marker)) {
            const auto v = major_version(ua, b.marker);
            browser = std::string(b.name) + (v.empty() ? "" : " " + v);
            break;
        }
    }
    if (browser.empty() && has(ua, "Safari/") && has(ua, "Version/")) {
        const auto v = major_version(ua, "Version/");
        browser = "Safari" + (v.empty() ? std::string() : " " + v);
    }
    if (browser.empty() && !has(ua, "Mozilla/")) {
        // A tool: "curl/8.5.0", "python-requests/2.31" → its name and version.
        const auto token = ua.substr(0, ua.find(' '));
        const auto slash = token.find('/');
        if (slash != std::string_view::npos && slash > 0) {
            std::string version(token.substr(slash + 1));
            return std::string(token.substr(0, std::min<std::size_t>(slash, 40))) + " " +
                   version.substr(0, 12);
        }
    }

    std::string os;
    if (has(ua, "iPhone"))
        os = "iPhone";
    else if (has(ua, "iPad"))
        os = "iPad";
    else if (has(ua, "Android"))
        os = "Android";
    else if (has(ua, "CrOS"))
        os = "ChromeOS";
    else if (has(ua, "Windows"))
        os = "Windows";
    else if (has(ua, "Mac OS X") || has(ua, "Macintosh"))
        os = "macOS";
    else if (has(ua, "Linux"))
        os = "Linux";

    if (browser.empty()) {
        if (!os.empty()) return "A browser on " + os;
        // Cut on a character boundary: never half a UTF-8 sequence.
        std::string cut(ua.substr(0, 40));
        while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80)
            cut.pop_back();
        if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0) cut.pop_back();
        return ua.size() > 40 ? cut + "…" : cut;
    }
    return os.empty() ? browser : browser + " on " + os;
}

// "just now", "4 min", "2 h 5 min": how long a session has been idle.
std::string idle_text(clock::duration idle) {
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(idle).count();
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return std::to_string(minutes) + " min";
    const auto hours = minutes / 60, rest = minutes % 60;
    return std::to_string(hours) + " h" + (rest ? " " + std::to_string(rest) + " min" : "");
}

std::string count_phrase(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string full_name(const store::session_listing& s) {
    std::string name = s.first_name;
    if (!s.last_name.empty()) name += (name.empty() ? "" : " ") + s.last_name;
    return name.empty() ? s.email : name;
}

// The form's state when it is shown again after a refused value.
struct idle_form {
    std::string value;
    std::string error;
};

http::response sessions_page(app::services& s, http::request_context& ctx,
                             const idle_form* form = nullptr,
                             http::status code = http::status::ok) {
    const auto now = clock::now();
    const auto limit = app::read_idle_limit(s.db);
    const auto listed = store::sessions_repository(s.db).list_customer_sessions();
    const std::string csrf = csrf_for(s, ctx);

    mustache_data rows{mustache_data::type::list};
    std::set<int> customers;
    std::size_t shown = 0;
    for (const auto& row : listed) {
        // Sessions past SESSION_IDLE_MINUTES or SESSION_HOURS no longer open anything; housekeeping
        // removes them within the minute. "Signed in now" leaves them out.
        if (now - row.last_seen >= s.cfg.session_idle ||
            now - row.created_at >= s.cfg.session_hours)
            continue;
        ++shown;
        customers.insert(row.customer_id);
        mustache_data r;
        const std::string name = full_name(row);
        r.set("name", name);
        r.set("email", row.email);
        r.set("customer_href", "/admin/customers/" + std::to_string(row.customer_id));
        r.set("ip_address", row.ip_address.empty() ? std::string("—") : row.ip_address);
        const std::string ua_short = describe_user_agent(row.user_agent);
        r.set("ua_short", ua_short);
        r.set("ua_full", row.user_agent.empty() ? ua_short : row.user_agent);
        r.set("ua_differs", !row.user_agent.empty() && row.user_agent != ua_short);
        r.set("started_iso", iso_utc(row.created_at));
        r.set("started_text", readable_utc(row.created_at));
        r.set("seen_iso", iso_utc(row.last_seen));
        r.set("seen_text", readable_utc(row.last_seen));
        r.set("idle", idle_text(now - row.last_seen));
        r.set("kick_action",
              "/admin/sessions/" +
                  std::string(boost::urls::encode(row.session_id, boost::urls::unreserved_chars)) +
                  "/kick");
        r.set("confirm", "End the session of " + name + " (" + row.email +
                             ")? They are signed out at their next click.");
        r.set("csrf_token", csrf);
        rows.push_back(r);
    }

    mustache_data data;
    data.set("nav", "sessions");
    data.set("csrf_token", csrf);
    data.set("sessions", rows);
    data.set("has_sessions", shown > 0);
    data.set("summary", shown == 0 ? std::string("Nobody is signed in right now.")
                                   : count_phrase(shown, "session", "sessions") + " of " +
                                         count_phrase(customers.size(), "customer", "customers") +
                                         " signed in now.");
    data.set("idle_min", std::to_string(app::idle_limit_min_minutes));
    data.set("idle_max", std::to_string(app::idle_limit_max_minutes));
    data.set("session_idle_minutes", std::to_string(s.cfg.session_idle.count()));
    data.set("session_hours", std::to_string(s.cfg.session_hours.count()));
    if (limit.minutes) {
        data.set("idle_on", true);
        data.set("idle_current", std::to_string(*limit.minutes));
    }
    if (limit.updated_at) {
        data.set("idle_updated_iso", iso_utc(*limit.updated_at));
        data.set("idle_updated_text", readable_utc(*limit.updated_at));
        data.set("idle_updated_by", limit.updated_by);
    }
    if (form) {
        data.set("idle_value", form->value);
        if (!form->error.empty()) data.set("idle_error", form->error);
    } else {
        data.set("idle_value", limit.minutes ? std::to_string(*limit.minutes) : std::string());
    }
    data.set("scripts", script_list({"/static/js/local-time.js", "/static/js/admin-sessions.js"}));
    return render_page(s, ctx, "admin_sessions", data, "Sessions", code);
}

http::response kick(app::services& s, http::request_context& ctx) {
    const auto id = http::find_param(ctx.route_params, "id").value_or("");
    const auto not_found = [] {
        return http::http_error(http::status::not_found,
                                "That session does not exist any more: it may have ended already.");
    };
    // Session ids are keyed hashes (64 hex digits; the Flask portal's were shorter tokens).
    if (id.empty() || id.size() > 255) throw not_found();
    store::sessions_repository sessions(s.db);
    const auto found = sessions.find_customer_session(id);
    if (!found) throw not_found();
    const auto* who = caller(ctx);
    const auto& c = found->customer;
    boost::json::object details;
    details["session_started"] = iso_utc(found->session.created_at);
    details["last_seen"] = iso_utc(found->session.last_seen);
    details["ip_address"] = found->session.ip_address;
    details["user_agent"] = describe_user_agent(found->session.user_agent);
    // The delete and its audit entry commit together, or neither does.
    s.db.in_transaction([&](soci::session&) {
        if (!sessions.delete_customer_session(id)) throw not_found();
        record_audit(s, ctx, who->actor(), "CUSTOMER_SESSION_KICK", {c.customer_id, c.email},
                     boost::json::serialize(details));
    });
    set_flash(ctx, "session_kicked");
    return http::redirect("/admin/sessions");
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// The new limit: nullopt for off (empty or 0); an error message for anything else that is not
// a whole number of minutes in range.
struct parsed_limit {
    std::optional<int> minutes;
    std::string error;
};

parsed_limit parse_limit(const std::string& raw) {
    parsed_limit out;
    if (raw.empty()) return out;
    const std::string range = "Enter a whole number of minutes from " +
                              std::to_string(app::idle_limit_min_minutes) + " to " +
                              std::to_string(app::idle_limit_max_minutes) +
                              ", or leave the field empty (or 0) to turn automatic sign-out off.";
    long long value = 0;
    const auto* end = raw.data() + raw.size();
    auto [p, ec] = std::from_chars(raw.data(), end, value);
    if (ec != std::errc() || p != end) {
        out.error = range;
        return out;
    }
    if (value == 0) return out;
    if (value < app::idle_limit_min_minutes || value > app::idle_limit_max_minutes) {
        out.error = range;
        return out;
    }
    out.minutes = static_cast<int>(value);
    return out;
}

boost::json::value as_json(const std::optional<int>& minutes) {
    return minutes ? boost::json::value(*minutes) : boost::json::value(nullptr);
}

http::response save_idle_limit(app::services& s, http::request_context& ctx) {
    const std::string raw =
        trim(http::find_param(ctx.form, idle_limit_field).value_or("")).substr(0, 20);
    const auto parsed = parse_limit(raw);
    if (!parsed.error.empty()) {
        idle_form form{raw, parsed.error};
        return sessions_page(s, ctx, &form, http::status::bad_request);
    }
    const auto* who = caller(ctx);
    const auto now = clock::now();
    s.db.in_transaction([&](soci::session&) {
        const auto before = app::read_idle_limit(s.db);
        if (before.minutes == parsed.minutes) return;
        app::save_idle_limit(s.db, parsed.minutes, who->actor(), now);
        boost::json::object change;
        change["from"] = as_json(before.minutes);
        change["to"] = as_json(parsed.minutes);
        boost::json::object details;
        details["session_idle_limit_minutes"] = std::move(change);
        record_audit(s, ctx, who->actor(), "SETTINGS_UPDATE", {}, boost::json::serialize(details));
    });
    // Applied here at once; every instance's housekeeping applies it from now on.
    if (parsed.minutes) app::end_idle_sessions(s.db, std::chrono::minutes(*parsed.minutes), now);
    set_flash(ctx, parsed.minutes ? "idle_limit_saved" : "idle_limit_off");
    return http::redirect("/admin/sessions");
}

}  // namespace

void add_admin_session_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;
    r.add(verb::get, "/admin/sessions", access::admin,
          [&s](http::request_context& ctx) { return sessions_page(s, ctx); });
    r.add(verb::post, "/admin/sessions/idle-limit", access::admin,
          [&s](http::request_context& ctx) { return save_idle_limit(s, ctx); });
    r.add(verb::post, "/admin/sessions/{id}/kick", access::admin,
          [&s](http::request_context& ctx) { return kick(s, ctx); });
}

}  // namespace portal::web
