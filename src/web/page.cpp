#include "web/page.hpp"

#include "app/logging.hpp"
#include "auth/csrf.hpp"
#include "http/static_files.hpp"

namespace portal::web {

std::string default_message(http::status code) {
    switch (code) {
        case http::status::bad_request: return "The request could not be understood.";
        case http::status::unauthorized: return "Please sign in to continue.";
        case http::status::forbidden: return "You do not have access to this page.";
        case http::status::not_found: return "The page you asked for does not exist.";
        case http::status::method_not_allowed: return "This page does not accept that kind of request.";
        case http::status::payload_too_large: return "The request is too large.";
        case http::status::too_many_requests: return "Too many attempts. Please wait a moment and try again.";
        case http::status::service_unavailable:
            return "The service is temporarily unavailable. Please try again in a moment.";
        default: return "Something went wrong on our side. Please try again.";
    }
}

namespace {

std::string heading_for(http::status code) {
    switch (code) {
        case http::status::bad_request: return "Bad request";
        case http::status::unauthorized: return "Sign-in required";
        case http::status::forbidden: return "Access denied";
        case http::status::not_found: return "Page not found";
        case http::status::method_not_allowed: return "Method not allowed";
        case http::status::payload_too_large: return "Request too large";
        case http::status::too_many_requests: return "Too many requests";
        case http::status::service_unavailable: return "Temporarily unavailable";
        default: return "Something went wrong";
    }
}

constexpr std::string_view flash_cookie = "portal_flash";

struct flash_text {
    std::string_view code, kind, message;
};
constexpr flash_text known_flashes[] = {
    {"signed_out", "info", "You have been signed out."},
    {"password_changed", "success", "Your password has been changed."},
    {"session_ended", "info", "Your session has ended. Please sign in again."},
    {"password_set", "success", "Your password has been set. You can sign in now."},
    {"reset_sent", "info", "If an account exists for that address, we have sent it a link to reset the password."},
    {"customer_created", "success", "The account has been created."},
    {"customer_saved", "success", "The changes have been saved."},
    {"customer_activated", "success", "The account has been activated."},
    {"customer_deactivated", "success", "The account has been deactivated and its sessions ended."},
    {"reset_emailed", "success", "A set-password link has been sent and the account's sessions were ended."},
    {"session_kicked", "success", "The session has been ended."},
    {"customer_created_emailed", "success", "The account has been created and a welcome email with a set-password link is on its way."},
    {"customer_unchanged", "info", "Nothing was changed."},
    {"reset_link_ready", "success", "The account's sessions were ended and a new set-password link was made."},
    {"idle_limit_saved", "success", "Saved: sessions idle for longer than the limit are now ended automatically."},
    {"idle_limit_off", "success", "Saved: idle sessions are no longer ended automatically."},
};

}  // namespace

mustache_data script_list(std::initializer_list<std::string_view> sources) {
    mustache_data list{mustache_data::type::list};
    for (auto src : sources) list.push_back(mustache_data{"src", std::string(src)});
    return list;
}

const auth::principal* caller(const http::request_context& ctx) {
    return std::any_cast<auth::principal>(&ctx.principal);
}

std::string csrf_for(const app::services& s, http::request_context& ctx) {
    return auth::form_token(ctx, s.cfg, caller(ctx));
}

void set_flash(http::request_context& ctx, std::string_view code) {
    http::cookie_options o;
    o.max_age = std::chrono::seconds(60);
    ctx.set_cookies.push_back(http::make_set_cookie(flash_cookie, code, o));
}

http::response render_page(const app::services& s, http::request_context& ctx, const std::string& name,
                           const mustache_data& data, const std::string& title, http::status code,
                           const std::vector<flash>& flashes) {
    mustache_data layout;
    layout.set("title", title);
    layout.set("product_name", "Customer Portal");
    layout.set("version", PORTAL_VERSION);
    layout.set("asset_version", s.assets.version());
    layout.set("page_class", "page-" + name);
    layout.set("referrer_policy", "same-origin");  // SPEC §7; a page may ask for a stricter one
    mustache_data flash_list{mustache_data::type::list};
    std::vector<flash> all = flashes;
    if (auto code = http::find_cookie(ctx.req, flash_cookie)) {
        for (const auto& f : known_flashes)
            if (f.code == *code) all.push_back({std::string(f.kind), std::string(f.message)});
        http::cookie_options o;
        o.max_age = std::chrono::seconds(0);
        ctx.set_cookies.push_back(http::make_set_cookie(flash_cookie, "", o));
    }
    for (const auto& f : all) {
        mustache_data item;
        item.set("kind", f.kind);
        item.set("message", f.message);
        flash_list.push_back(item);
    }
    layout.set("flashes", flash_list);
    const auto* who = caller(ctx);
    layout.set("signed_in", who != nullptr);
    layout.set("is_admin", who && who->is_admin());
    layout.set("is_customer", who && who->is_customer());
    layout.set("user_display", who ? who->display_name() : std::string());
    layout.set("csrf_token", who ? csrf_for(s, ctx) : std::string());
    layout.set("scripts", mustache_data{mustache_data::type::list});
    if (data.is_object()) {
        // A page may ask for extra module scripts through its own `scripts` list.
        if (const auto* scripts = data.get("scripts")) layout.set("scripts", *scripts);
        if (const auto* csrf = data.get("csrf_token"); csrf && !who) layout.set("csrf_token", *csrf);
        if (const auto* policy = data.get("referrer_policy")) layout.set("referrer_policy", *policy);
        // `nav` names the header link to mark as the current page.
        if (const auto* nav = data.get("nav"); nav && nav->is_string()) layout.set("nav_" + nav->string_value(), true);
    }
    return http::html_response(code, s.templates.page(name, data, std::move(layout)));
}

http::response error_response(const app::services& s, http::request_context& ctx, http::status code,
                              const std::string& message) {
    if (ctx.wants_json()) {
        return http::json_response(code, "{\"error\":\"" + app::json_escape(message) + "\"}");
    }
    mustache_data data;
    data.set("status", std::to_string(static_cast<unsigned>(code)));
    data.set("heading", heading_for(code));
    data.set("message", message);
    data.set("home_url", "/");
    return render_page(s, ctx, "error", data, heading_for(code), code);
}

}  // namespace portal::web
