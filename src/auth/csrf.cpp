#include "auth/csrf.hpp"

#include "auth/tokens.hpp"

namespace portal::auth {

namespace {

constexpr std::string_view session_binding = "portal-session-csrf";

std::optional<std::string> presession_value(const http::request_context& ctx) {
    auto v = http::find_cookie(ctx.req, presession_cookie);
    if (v && v->size() == 43) return v;
    // A cookie set earlier in this same response counts (first visit to a form page).
    const std::string prefix = std::string(presession_cookie) + "=";
    for (const auto& c : ctx.set_cookies)
        if (c.rfind(prefix, 0) == 0) return c.substr(prefix.size(), 43);
    return std::nullopt;
}

}  // namespace

std::string form_token(http::request_context& ctx, const app::config& cfg, const principal* who) {
    if (who) return csrf_token(who->csrf_secret, session_binding);
    auto value = presession_value(ctx);
    if (!value) {
        value = random_token();
        http::cookie_options opts;
        opts.secure = cfg.secure_cookies();
        ctx.set_cookies.push_back(http::make_set_cookie(presession_cookie, *value, opts));
    }
    return csrf_token(cfg.secret_key, *value);
}

bool token_valid(const http::request_context& ctx, const app::config& cfg, const principal* who) {
    std::string submitted(ctx.req["X-CSRF-Token"]);
    if (submitted.empty()) submitted = http::find_param(ctx.form, "csrf_token").value_or("");
    if (submitted.empty()) return false;
    if (who) return !who->csrf_secret.empty() && csrf_valid(who->csrf_secret, session_binding, submitted);
    auto value = http::find_cookie(ctx.req, presession_cookie);
    return value && value->size() == 43 && csrf_valid(cfg.secret_key, *value, submitted);
}

}  // namespace portal::auth
