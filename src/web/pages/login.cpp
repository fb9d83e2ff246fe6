// Customer sign-in, sign-out and the forced password change (SPEC §4, §7).
#include "auth/ldap_directory.hpp"
#include "auth/password_hash.hpp"
#include "auth/redirects.hpp"
#include "auth/sessions.hpp"
#include "auth/throttle.hpp"
#include "store/customers_repository.hpp"
#include "web/audit.hpp"
#include "web/page.hpp"
#include "web/password_links.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace portal::web {
namespace {

constexpr std::string_view failed_login_message = "Incorrect email or password.";
constexpr std::string_view failed_admin_login_message = "Incorrect username or password.";
constexpr std::string_view admin_closed_message =
    "Administrator sign-in is not set up on this server: neither ADMIN_USERNAME and "
    "ADMIN_PASSWORD_HASH nor AD_SERVER is configured.";
constexpr std::string_view directory_unavailable_message =
    "The directory (Active Directory) cannot be reached right now, so directory accounts cannot "
    "sign in. Please try again in a few minutes, or ask your IT team.";
constexpr std::string_view throttled_message =
    "Too many sign-in attempts. Please wait a few minutes before trying again.";

std::string form_value(const http::request_context& ctx, std::string_view name) {
    return http::find_param(ctx.form, name).value_or("");
}

std::string user_agent(const http::request_context& ctx) {
    return std::string(ctx.req[http::bhttp::field::user_agent]);
}

http::response login_page(const app::services& s, http::request_context& ctx,
                          const std::string& email, const std::string& next, std::string_view error,
                          http::status code = http::status::ok) {
    mustache_data data;
    data.set("csrf_token", csrf_for(s, ctx));
    data.set("next", auth::is_safe_next(next) ? next : std::string());
    data.set("email", email);
    if (!error.empty()) data.set("error", std::string(error));
    data.set("scripts", script_list({"/static/js/password-toggle.js"}));
    return render_page(s, ctx, "login", data, "Sign in", code);
}

std::string session_cookie(const app::services& s, std::string_view name,
                           const std::string& token) {
    http::cookie_options o;
    o.secure = s.cfg.secure_cookies();
    return http::make_set_cookie(name, token, o);
}

std::string expired_cookie(const app::services& s, std::string_view name) {
    http::cookie_options o;
    o.secure = s.cfg.secure_cookies();
    o.max_age = std::chrono::seconds(0);
    return http::make_set_cookie(name, "", o);
}

http::response post_login(app::services& s, http::request_context& ctx) {
    const std::string email = form_value(ctx, "email").substr(0, 255);
    const std::string password = form_value(ctx, "password").substr(0, 1024);
    const std::string next = form_value(ctx, "next");
    const std::string account = auth::normalise_account(email);

    if (auto wait = s.throttle.blocked(account, ctx.client_address)) {
        record_audit(s, ctx, account.empty() ? "SYSTEM" : account, "CUSTOMER_LOGIN_THROTTLED", {},
                     R"({"reason":"too many failed attempts"})");
        auto r =
            login_page(s, ctx, email, next, throttled_message, http::status::too_many_requests);
        r.set(http::bhttp::field::retry_after, std::to_string(wait->count()));
        return r;
    }

    store::customers_repository customers(s.db);
    const bool honeypot = !form_value(ctx, "hp_email").empty();
    std::optional<store::customer_record> customer;
    if (!honeypot && !account.empty()) customer = customers.find_by_email(account);
    // Every refusal costs one hash verification, so timing does not tell them apart.
    const bool password_ok =
        auth::verify_password(customer ? customer->password_hash : auth::dummy_hash(), password);

    if (honeypot || !customer || !password_ok || !customer->is_active) {
        s.throttle.record_failure(account, ctx.client_address);
        const char* reason = honeypot       ? "honeypot"
                             : !customer    ? "unknown email"
                             : !password_ok ? "wrong password"
                                            : "inactive account";
        record_audit(s, ctx, account.empty() ? "SYSTEM" : account, "CUSTOMER_LOGIN_FAILED",
                     {customer ? std::optional<int>(customer->customer_id) : std::nullopt,
                      customer ? std::optional<std::string>(customer->email) : std::nullopt},
                     std::string(R"({"reason":")") + reason + "\"}");
        return login_page(s, ctx, email, next, failed_login_message);
    }

    s.throttle.record_success(account, ctx.client_address);
    if (auth::needs_rehash(customer->password_hash)) {
        // Werkzeug hashes from the Flask portal become Argon2id at the first sign-in.
        customers.set_password_hash(customer->customer_id, auth::hash_password(password));
        if (customer->must_reset_password)
            customers.set_must_reset_password(customer->customer_id, true);
    }
    customers.set_last_login(customer->customer_id, std::chrono::system_clock::now());
    // A new session at every sign-in; the one this browser had (if any) ends.
    if (auto old = http::find_cookie(ctx.req, auth::customer_cookie)) {
        if (auto p = s.sessions.resolve_customer(*old)) s.sessions.end(*p);
    }
    auto session = s.sessions.start_customer(*customer, ctx.client_address, user_agent(ctx));
    ctx.set_cookies.push_back(session_cookie(s, auth::customer_cookie, session.token));
    ctx.user_label = customer->email;
    record_audit(s, ctx, customer->email, "CUSTOMER_LOGIN",
                 {customer->customer_id, customer->email});
    if (customer->must_reset_password) return http::redirect("/force-change-password");
    return http::redirect(auth::safe_next(next, "/inventory"));
}

// After admin sign-in only admin pages make sense: a customer page would answer 403.
std::string safe_admin_next(std::string_view next) {
    const bool dot_segment = next.find("/.") != std::string_view::npos ||
                             next.find("%2e") != std::string_view::npos ||
                             next.find("%2E") != std::string_view::npos;
    const bool admin_page =
        !dot_segment && (next == "/admin" || next.starts_with("/admin/") ||
                         next.starts_with("/admin?") || next.starts_with("/metrics"));
    return admin_page ? auth::safe_next(next, "/admin") : "/admin";
}

bool local_admin_configured(const app::config& cfg) {
    return !cfg.admin_username.empty() && !cfg.admin_password_hash.empty();
}

bool admin_login_open(const app::config& cfg) {
    return local_admin_configured(cfg) || cfg.ldap.configured();
}

http::response admin_login_page(const app::services& s, http::request_context& ctx,
                                const std::string& username, const std::string& next,
                                std::string_view error, http::status code = http::status::ok) {
    mustache_data data;
    data.set("csrf_token", csrf_for(s, ctx));
    data.set("next", auth::is_safe_next(next) ? next : std::string());
    data.set("username", username);
    if (!error.empty()) data.set("error", std::string(error));
    if (!admin_login_open(s.cfg)) data.set("closed", true);
    if (s.cfg.ldap.configured()) {
        data.set("directory", true);
        const std::string domain = s.cfg.ldap.domain;
        const bool dns_domain = domain.find('.') != std::string::npos;
        data.set("directory_example",
                 domain.empty() ? std::string("jdoe")
                 : dns_domain   ? "jdoe or jdoe@" + domain
                                : "jdoe or " + domain + "\\jdoe");
    }
    data.set("scripts", script_list({"/static/js/password-toggle.js"}));
    return render_page(s, ctx, "admin_login", data, "Administrator sign-in", code);
}

std::string failure_details(std::string_view method, std::string_view reason) {
    return boost::json::serialize(boost::json::object{{"method", method}, {"reason", reason}});
}

http::response admin_signed_in(app::services& s, http::request_context& ctx,
                               const std::string& username, const std::string& method,
                               const std::string& throttle_key, const std::string& next) {
    s.throttle.record_success(throttle_key, ctx.client_address);
    if (auto old = http::find_cookie(ctx.req, auth::admin_cookie)) {
        if (auto p = s.sessions.resolve_admin(*old)) s.sessions.end(*p);
    }
    auto session = s.sessions.start_admin(username, method, ctx.client_address, user_agent(ctx));
    ctx.set_cookies.push_back(session_cookie(s, auth::admin_cookie, session.token));
    ctx.user_label = username;
    record_audit(s, ctx, username, "ADMIN_LOGIN", {},
                 boost::json::serialize(boost::json::object{{"method", method}}));
    return http::redirect(safe_admin_next(next));
}

// The local super-admin of ADMIN_USERNAME / ADMIN_PASSWORD_HASH first — it must keep working while
// the directory is down — then, when AD_SERVER is set, a member of AD_PORTAL_ADMIN_GROUP. Every
// refusal (unknown name, wrong password, non-member, empty password, honeypot, an injection
// attempt) gets the same page after one hash verification; only a directory outage has its own
// message, since nothing about the account can be learnt from it.
http::response post_admin_login(app::services& s, http::request_context& ctx) {
    const std::string username = form_value(ctx, "username").substr(0, 100);
    const std::string password = form_value(ctx, "password").substr(0, 1024);
    const std::string next = form_value(ctx, "next");
    const std::string account = auth::normalise_account(username);
    if (!admin_login_open(s.cfg))
        return admin_login_page(s, ctx, username, next, admin_closed_message,
                                http::status::service_unavailable);

    const bool local_configured = local_admin_configured(s.cfg);
    const bool directory = s.cfg.ldap.configured();
    const std::string local_name =
        local_configured ? auth::normalise_account(s.cfg.admin_username) : std::string();
    // jdoe, CORP\jdoe and jdoe@corp.example are one directory account: one throttle count.
    const std::string directory_key =
        directory ? auth::directory_account_key(username, s.cfg.ldap.domain) : account;
    // The local admin's name is reserved in every spelling: it never goes to the directory, so the
    // audit trail cannot confuse the two and the portal never locks a directory account of it.
    const bool local_name_typed = local_configured && !account.empty() &&
                                  (account == local_name || directory_key == local_name);
    const std::string throttle_key = local_name_typed ? local_name : directory_key;

    // Before any password is checked — and before the directory is asked, so guessing through the
    // portal cannot lock directory accounts.
    if (auto wait = s.throttle.blocked(throttle_key, ctx.client_address)) {
        record_audit(s, ctx, account.empty() ? "SYSTEM" : account, "ADMIN_LOGIN_THROTTLED", {},
                     R"({"reason":"too many failed attempts"})");
        auto r = admin_login_page(s, ctx, username, next, throttled_message,
                                  http::status::too_many_requests);
        r.set(http::bhttp::field::retry_after, std::to_string(wait->count()));
        return r;
    }
    const bool honeypot = !form_value(ctx, "hp_email").empty();
    const bool is_local = !honeypot && local_name_typed && account == local_name;
    const bool local_ok =
        auth::verify_password(is_local ? s.cfg.admin_password_hash : auth::dummy_hash(),
                              password) &&
        is_local;
    if (local_ok) return admin_signed_in(s, ctx, s.cfg.admin_username, "local", throttle_key, next);

    std::string method = "local";
    std::string reason = honeypot ? "honeypot" : is_local ? "wrong password" : "unknown user";
    if (!honeypot && !local_name_typed && directory && !account.empty()) {
        method = "ldap";
        // Blocking, on this request's worker thread, bounded by the directory timeouts.
        const auto result = auth::ldap_directory(s.cfg.ldap).authenticate(username, password);
        switch (result.outcome) {
            case auth::directory_outcome::signed_in:
                return admin_signed_in(s, ctx, result.account, "ldap", throttle_key, next);
            case auth::directory_outcome::unavailable:
                // Not the person's fault: no throttle failure is counted.
                spdlog::warn("directory sign-in unavailable: {}", result.detail);
                record_audit(s, ctx, account, "ADMIN_LOGIN_FAILED", {},
                             failure_details(method, "directory unavailable"));
                return admin_login_page(s, ctx, username, next, directory_unavailable_message,
                                        http::status::service_unavailable);
            case auth::directory_outcome::refused:
                reason = result.reason;
                if (!result.detail.empty())
                    spdlog::error("directory sign-in: {} (check AD_PORTAL_ADMIN_GROUP and "
                                  "AD_BASE_DN; `customer-portal check-config` shows it too)",
                                  result.detail);
                break;
        }
    }
    s.throttle.record_failure(throttle_key, ctx.client_address);
    record_audit(s, ctx, account.empty() ? "SYSTEM" : account, "ADMIN_LOGIN_FAILED", {},
                 failure_details(method, reason));
    return admin_login_page(s, ctx, username, next, failed_admin_login_message);
}

http::response post_logout(app::services& s, http::request_context& ctx) {
    const auto* who = caller(ctx);
    s.sessions.end(*who);
    if (who->is_admin()) {
        record_audit(s, ctx, who->actor(), "ADMIN_LOGOUT");
        ctx.set_cookies.push_back(expired_cookie(s, auth::admin_cookie));
        set_flash(ctx, "signed_out");
        return http::redirect("/admin-login");
    }
    record_audit(s, ctx, who->actor(), "CUSTOMER_LOGOUT", {who->customer_id, who->email});
    ctx.set_cookies.push_back(expired_cookie(s, auth::customer_cookie));
    set_flash(ctx, "signed_out");
    return http::redirect("/login");
}

http::response change_password_page(const app::services& s, http::request_context& ctx,
                                    std::string_view error, http::status code = http::status::ok) {
    mustache_data data;
    data.set("csrf_token", csrf_for(s, ctx));
    data.set("email", caller(ctx)->email);
    data.set("forced", caller(ctx)->must_reset_password);
    if (!error.empty()) data.set("error", std::string(error));
    data.set("scripts",
             script_list({"/static/js/password-rules.js", "/static/js/password-toggle.js"}));
    return render_page(s, ctx, "change_password", data, "Choose a new password", code);
}

http::response post_change_password(app::services& s, http::request_context& ctx) {
    const auto who = *caller(ctx);
    store::customers_repository customers(s.db);
    auto customer = customers.find_by_id(who.customer_id);
    if (!customer)
        throw http::http_error(http::status::not_found, default_message(http::status::not_found));
    const auto current = form_value(ctx, "current_password");
    const auto password = form_value(ctx, "password");
    // Guessing the current password from a stolen session is throttled like sign-in itself.
    if (auto wait = s.throttle.blocked(customer->email, ctx.client_address)) {
        auto r = change_password_page(s, ctx, throttled_message, http::status::too_many_requests);
        r.set(http::bhttp::field::retry_after, std::to_string(wait->count()));
        return r;
    }
    if (!auth::verify_password(customer->password_hash, current)) {
        s.throttle.record_failure(customer->email, ctx.client_address);
        record_audit(s, ctx, customer->email, "CUSTOMER_PASSWORD_CHANGE_FAILED",
                     {customer->customer_id, customer->email},
                     R"({"reason":"wrong current password"})");
        return change_password_page(s, ctx, "Your current password is not correct.",
                                    http::status::bad_request);
    }
    if (password != form_value(ctx, "password_confirm"))
        return change_password_page(s, ctx, "The two new passwords do not match.",
                                    http::status::bad_request);
    if (auto problem = auth::password_problem(password, customer->email))
        return change_password_page(s, ctx, *problem, http::status::bad_request);
    if (password == current)
        return change_password_page(s, ctx, "Choose a password different from your current one.",
                                    http::status::bad_request);

    customers.set_password_hash(customer->customer_id, auth::hash_password(password));
    customers.set_must_reset_password(customer->customer_id, false);
    // Every other session of this account ends; this browser gets a fresh one.
    s.sessions.end_all_for_customer(customer->customer_id);
    customer->must_reset_password = false;
    auto session = s.sessions.start_customer(*customer, ctx.client_address, user_agent(ctx));
    ctx.set_cookies.push_back(session_cookie(s, auth::customer_cookie, session.token));
    record_audit(s, ctx, customer->email, "CUSTOMER_PASSWORD_CHANGE",
                 {customer->customer_id, customer->email});
    send_password_changed_notice(s, *customer, ctx.client_address);  // when mail is set up
    set_flash(ctx, "password_changed");
    return http::redirect("/inventory");
}

}  // namespace

void add_login_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;

    r.add(verb::get, "/login", access::anyone, [&s](http::request_context& ctx) {
        if (auto token = http::find_cookie(ctx.req, auth::customer_cookie)) {
            if (s.sessions.resolve_customer(*token))
                return http::redirect(
                    auth::safe_next(ctx.query_param("next").value_or(""), "/inventory"));
        }
        return login_page(s, ctx, "", ctx.query_param("next").value_or(""), {});
    });
    r.add(verb::post, "/login", access::anyone,
          [&s](http::request_context& ctx) { return post_login(s, ctx); });
    r.add(verb::post, "/logout", access::signed_in,
          [&s](http::request_context& ctx) { return post_logout(s, ctx); });
    r.add(verb::get, "/force-change-password", access::customer,
          [&s](http::request_context& ctx) { return change_password_page(s, ctx, {}); });
    r.add(verb::post, "/force-change-password", access::customer,
          [&s](http::request_context& ctx) { return post_change_password(s, ctx); });

    r.add(verb::get, "/admin-login", access::anyone, [&s](http::request_context& ctx) {
        if (auto token = http::find_cookie(ctx.req, auth::admin_cookie)) {
            if (s.sessions.resolve_admin(*token))
                return http::redirect(safe_admin_next(ctx.query_param("next").value_or("")));
        }
        return admin_login_page(s, ctx, "", ctx.query_param("next").value_or(""), {});
    });
    r.add(verb::post, "/admin-login", access::anyone,
          [&s](http::request_context& ctx) { return post_admin_login(s, ctx); });
}

}  // namespace portal::web
