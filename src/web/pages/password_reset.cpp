// Self-service password reset and set-password links (SPEC §4 /forgot-password,
// /reset-password/<token>; §7): neutral answers, throttling, single-use hashed tokens.
#include "auth/password_hash.hpp"
#include "auth/sessions.hpp"
#include "auth/throttle.hpp"
#include "auth/tokens.hpp"
#include "mail/mailer.hpp"
#include "store/customers_repository.hpp"
#include "store/reset_tokens_repository.hpp"
#include "web/audit.hpp"
#include "web/page.hpp"
#include "web/password_links.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>

namespace portal::web {
namespace {

// Requests per 15 minutes (the throttle's window). Per client address: a 429 with Retry-After.
// Per email: the usual neutral answer but no further email, so nobody can flood a mailbox and
// the answer still says nothing about whether the account exists.
constexpr int forgot_per_address = 10;
constexpr int forgot_per_email = 3;

constexpr std::string_view neutral_redirect = "/login";

std::string form_value(const http::request_context& ctx, std::string_view name) {
    return http::find_param(ctx.form, name).value_or("");
}

bool mail_enabled(const app::services& s) {
    return s.mail && s.mail->enabled();
}

bool looks_like_email(std::string_view e) {
    const auto at = e.find('@');
    return !e.empty() && e.size() <= 255 && at != std::string_view::npos && at > 0 &&
           at + 1 < e.size() && e.find_first_of(" \t\r\n") == std::string_view::npos;
}

// Throttle subjects of their own, so reset requests never count towards a sign-in lockout. The
// email is kept only as a keyed hash: addresses that have no account are not stored.
std::string address_subject(const std::string& client_address) {
    return "pwreset:" + client_address;
}
std::string email_subject(const app::services& s, const std::string& account) {
    return "pwreset:" + auth::keyed_hash(s.cfg.secret_key, "pwreset:" + account).substr(0, 40);
}

http::response forgot_page(const app::services& s, http::request_context& ctx,
                           const std::string& email, std::string_view error,
                           http::status code = http::status::ok) {
    mustache_data data;
    data.set("csrf_token", csrf_for(s, ctx));
    data.set("email", email);
    data.set("mail_enabled", mail_enabled(s));
    if (!error.empty()) data.set("error", std::string(error));
    return render_page(s, ctx, "forgot_password", data, "Forgot password", code);
}

http::response post_forgot(app::services& s, http::request_context& ctx) {
    const std::string email = form_value(ctx, "email").substr(0, 320);
    const std::string account = auth::normalise_account(email);
    if (!looks_like_email(account))
        return forgot_page(s, ctx, email, "Enter the email address you sign in with.",
                           http::status::bad_request);

    if (auto wait =
            s.throttle.over_limit(store::attempt_scope::address,
                                  address_subject(ctx.client_address), forgot_per_address)) {
        record_audit(s, ctx, account, "CUSTOMER_PW_RESET_REQUEST", {},
                     R"j({"result":"throttled (address)"})j");
        auto r = forgot_page(
            s, ctx, email,
            "Too many reset requests from your network. Please wait a few minutes and try again.",
            http::status::too_many_requests);
        r.set(http::bhttp::field::retry_after, std::to_string(wait->count()));
        return r;
    }
    s.throttle.record(store::attempt_scope::address, address_subject(ctx.client_address));

    const bool email_throttled =
        s.throttle
            .over_limit(store::attempt_scope::account, email_subject(s, account), forgot_per_email)
            .has_value();
    if (!email_throttled)
        s.throttle.record(store::attempt_scope::account, email_subject(s, account));

    // From here both paths do the same work in the request: one lookup, one audit entry, one
    // hand-over to the mail thread. Issuing the token and rendering the email happen there, so
    // the answer takes as long whether or not the account exists.
    auto customer = store::customers_repository(s.db).find_by_email(account);
    const bool will_send = customer && customer->is_active && !email_throttled && mail_enabled(s);
    const char* result = !customer              ? "unknown email"
                         : !customer->is_active ? "inactive account"
                         : email_throttled      ? "throttled (email)"
                         : !mail_enabled(s)     ? "mail not configured"
                                                : "link emailed";
    record_audit(s, ctx, customer ? customer->email : account, "CUSTOMER_PW_RESET_REQUEST",
                 {customer ? std::optional<int>(customer->customer_id) : std::nullopt,
                  customer ? std::optional<std::string>(customer->email) : std::nullopt},
                 std::string(R"({"result":")") + result + "\"}");
    if (mail_enabled(s)) {
        if (will_send) {
            s.mail->defer([&s, c = *customer] { send_password_link(s, c, link_kind::forgot); });
        } else {
            s.mail->defer([] {});
        }
    }
    set_flash(ctx, "reset_sent");
    return http::redirect(neutral_redirect);
}

// --- /reset-password/<token> ---

enum class link_state { valid, invalid, expired, used };

struct link_check {
    link_state state = link_state::invalid;
    store::reset_token_record token;
    store::customer_record customer;
};

bool token_shaped(std::string_view token) {
    // auth::random_token(): 43 characters of base64url.
    if (token.size() != 43) return false;
    for (unsigned char c : token)
        if (!std::isalnum(c) && c != '-' && c != '_') return false;
    return true;
}

link_check check_link(const app::services& s, const std::string& token) {
    link_check out;
    if (!token_shaped(token)) return out;
    auto found = store::reset_tokens_repository(s.db).find_by_hash(
        auth::keyed_hash(s.cfg.secret_key, token));
    if (!found) return out;
    out.token = *found;
    if (found->is_used) {
        out.state = link_state::used;
        return out;
    }
    if (found->expiry_date <= std::chrono::system_clock::now()) {
        out.state = link_state::expired;
        return out;
    }
    auto customer = store::customers_repository(s.db).find_by_id(found->customer_id);
    if (!customer || !customer->is_active) return out;
    out.customer = *customer;
    out.state = link_state::valid;
    return out;
}

std::string problem_text(link_state state) {
    switch (state) {
        case link_state::expired:
            return "This link has expired. Links to reset a password work for one hour (welcome "
                   "links for 72 "
                   "hours). Ask for a new one below.";
        case link_state::used:
            return "This link has already been used. Each link works only once. If you still need "
                   "to set your "
                   "password, ask for a new link below.";
        default:
            return "This link is not valid. It may have been copied incompletely, or a newer link "
                   "has replaced "
                   "it. Ask for a new one below.";
    }
}

std::string remaining_text(std::chrono::system_clock::time_point expiry) {
    const auto left =
        std::chrono::duration_cast<std::chrono::minutes>(expiry - std::chrono::system_clock::now());
    if (left.count() < 2) return "in a minute";
    if (left.count() < 90) return "in " + std::to_string(left.count()) + " minutes";
    return "in about " + std::to_string((left.count() + 30) / 60) + " hours";
}

// The reset page never passes the token on in a Referer, not even to our own static files.
http::response no_referrer(http::response r) {
    r.set("Referrer-Policy", "no-referrer");
    return r;
}

http::response reset_page(const app::services& s, http::request_context& ctx,
                          const std::string& token, const link_check& link,
                          std::string_view error = {}, http::status code = http::status::ok) {
    mustache_data data;
    data.set("referrer_policy", "no-referrer");
    const bool welcome = link.token.purpose.value_or("") == "welcome";
    if (link.state != link_state::valid) {
        data.set("heading", link.state == link_state::expired ? "Link expired"
                            : link.state == link_state::used  ? "Link already used"
                                                              : "Link not valid");
        data.set("problem", problem_text(link.state));
        const auto status =
            link.state == link_state::invalid ? http::status::not_found : http::status::gone;
        return no_referrer(render_page(s, ctx, "reset_password", data, "Set a password", status));
    }
    data.set("heading", welcome ? "Choose your password" : "Choose a new password");
    data.set("submit_label", welcome ? "Set my password" : "Save new password");
    data.set("email", link.customer.email);
    data.set("show_form", true);
    data.set("action", "/reset-password/" + token);
    data.set("csrf_token", csrf_for(s, ctx));
    data.set("expires_note", remaining_text(link.token.expiry_date));
    if (!error.empty()) data.set("error", std::string(error));
    data.set("scripts",
             script_list({"/static/js/password-rules.js", "/static/js/password-toggle.js"}));
    return no_referrer(render_page(s, ctx, "reset_password", data,
                                   welcome ? "Choose your password" : "Choose a new password",
                                   code));
}

// The token is a password for one hour: it stays out of the request log.
std::string take_token(http::request_context& ctx) {
    std::string token = ctx.route_param("token");
    ctx.path = "/reset-password/(token)";
    return token;
}

http::response post_reset(app::services& s, http::request_context& ctx) {
    const std::string token = take_token(ctx);
    auto link = check_link(s, token);
    if (link.state != link_state::valid) return reset_page(s, ctx, token, link);

    const std::string password = form_value(ctx, "password");
    // A refused password leaves the link as it was: the user corrects it and tries again.
    if (password != form_value(ctx, "password_confirm"))
        return reset_page(s, ctx, token, link, "The two passwords do not match.",
                          http::status::bad_request);
    if (auto problem = auth::password_problem(password, link.customer.email))
        return reset_page(s, ctx, token, link, *problem, http::status::bad_request);

    const std::string hash = auth::hash_password(password);  // before the transaction: it is slow
    const auto now = std::chrono::system_clock::now();
    const bool consumed = s.db.in_transaction([&](soci::session&) {
        // Exactly one of two concurrent submissions gets here with the token still unused.
        if (!store::reset_tokens_repository(s.db).mark_used(link.token.token_id, now)) return false;
        store::customers_repository(s.db).set_password_hash(link.customer.customer_id,
                                                            hash);  // clears must_reset
        s.sessions.end_all_for_customer(link.customer.customer_id);
        send_password_changed_notice(s, link.customer, ctx.client_address);
        return true;
    });
    if (!consumed) {
        link.state = check_link(s, token).state;
        if (link.state == link_state::valid) link.state = link_state::used;
        return reset_page(s, ctx, token, link);
    }
    if (mail_enabled(s)) s.mail->wake();
    // Proving the mailbox is proof enough: earlier wrong passwords no longer hold the account back.
    s.throttle.record_success(link.customer.email, ctx.client_address);
    record_audit(s, ctx, link.customer.email, "CUSTOMER_PW_RESET",
                 {link.customer.customer_id, link.customer.email},
                 std::string(R"({"purpose":")") + link.token.purpose.value_or("reset") + "\"}");
    // This browser's session (if it had one of this account) is over too; do not sign in.
    if (http::find_cookie(ctx.req, auth::customer_cookie)) {
        http::cookie_options o;
        o.secure = s.cfg.secure_cookies();
        o.max_age = std::chrono::seconds(0);
        ctx.set_cookies.push_back(http::make_set_cookie(auth::customer_cookie, "", o));
    }
    set_flash(ctx, "password_set");
    return no_referrer(http::redirect("/login"));
}

}  // namespace

void add_password_reset_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;

    r.add(verb::get, "/forgot-password", access::anyone,
          [&s](http::request_context& ctx) { return forgot_page(s, ctx, "", {}); });
    r.add(verb::post, "/forgot-password", access::anyone,
          [&s](http::request_context& ctx) { return post_forgot(s, ctx); });
    r.add(verb::get, "/reset-password/{token}", access::anyone, [&s](http::request_context& ctx) {
        const std::string token = take_token(ctx);
        return reset_page(s, ctx, token, check_link(s, token));
    });
    r.add(verb::post, "/reset-password/{token}", access::anyone,
          [&s](http::request_context& ctx) { return post_reset(s, ctx); });
}

}  // namespace portal::web
