#include "app/application.hpp"

#include "app/logging.hpp"
#include "auth/csrf.hpp"
#include "auth/password_hash.hpp"
#include "http/client_address.hpp"
#include "http/security_headers.hpp"
#include "store/migrations.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>
#include <thread>

namespace portal::app {

application::application(config cfg)
    : cfg_(std::move(cfg)),
      db_(cfg_.store),
      templates_(cfg_.assets_dir + "/templates"),
      assets_(cfg_.assets_dir + "/static"),
      sessions_(db_, cfg_),
      throttle_(db_),
      erp_(erp::make_erp_source(cfg_)),
      snapshots_(*erp_, cfg_.erp_cache, metrics_),
      services_{cfg_, db_, templates_, assets_, metrics_, sessions_, throttle_, *erp_, snapshots_} {
    const auto housekeeping_interval = housekeeping_interval_from_environment();
    store::migrate(db_);
    mailer_ = std::make_unique<mail::mailer>(cfg_, db_);
    services_.mail = mailer_.get();
    // Computed early (off the start-up path) so the first refused sign-in takes as long as the others.
    std::thread([] { auth::dummy_hash(); }).detach();
    web::add_routes(router_, services_);
    mailer_->start();  // when SMTP_SERVER is set: sends the outbox, including mail left from before
    std::random_device rd;
    instance_tag_ = fmt::format("{:06x}", rd() & 0xffffff);
    // Expired and idle sessions, old sign-in attempts: on a thread of its own, every interval.
    housekeeping_ = std::make_unique<housekeeping>(db_, cfg_, housekeeping_interval);
    housekeeping_->start();
}

application::~application() = default;

http::response application::handle(const http::request& req, const http::connection_info& conn) {
    http::request_context ctx(req);
    ctx.may_wait = conn.may_wait;
    ctx.client_address = http::client_address(req, conn.remote_address, cfg_.trusted_proxies);
    ctx.request_id = fmt::format("{}-{:x}", instance_tag_, ++request_counter_);
    http::response r;
    try {
        r = dispatch(ctx);
    } catch (const http::http_error& e) {
        if (static_cast<unsigned>(e.code) >= 500) spdlog::error("{} {}: {}", ctx.request_id, ctx.path, e.what());
        r = web::error_response(services_, ctx, e.code, e.public_message);
    } catch (const erp::snapshot_not_ready&) {
        // Only thrown where the request may not wait: not an answer, so neither logged nor counted.
        http::response again;
        again.run_where_waiting_is_allowed = true;
        return again;
    } catch (const store::store_unavailable& e) {
        spdlog::error("{} {}: local store unavailable: {}", ctx.request_id, ctx.path, e.what());
        r = web::error_response(services_, ctx, http::status::service_unavailable,
                                web::default_message(http::status::service_unavailable));
    } catch (const std::exception& e) {
        spdlog::error("{} {}: unhandled error: {}", ctx.request_id, ctx.path, e.what());
        r = web::error_response(services_, ctx, http::status::internal_server_error,
                                web::default_message(http::status::internal_server_error));
    }
    return finish(ctx, std::move(r));
}

bool application::is_quick(const http::request& req) const {
    const auto target = std::string_view(req.target());
    const auto match = router_.match(req.method(), target.substr(0, target.find('?')));
    return match.found && match.found->runs_on == http::lane::quick;
}

http::response application::dispatch(http::request_context& ctx) {
    const auto target = boost::urls::parse_origin_form(ctx.req.target());
    if (!target) throw http::http_error(http::status::bad_request, "The address is malformed.");
    ctx.path = target->path();
    if (ctx.path.find('\0') != std::string::npos)
        throw http::http_error(http::status::bad_request, "The address is malformed.");
    if (target->has_query()) ctx.query = http::parse_form(target->encoded_query());

    const auto method = ctx.req.method();
    if (ctx.path.rfind("/static/", 0) == 0 && (method == http::verb::get || method == http::verb::head)) {
        ctx.route_pattern = "/static/*";
        if (auto file = assets_.serve(ctx.req, std::string_view(ctx.path).substr(8))) return std::move(*file);
        throw http::http_error(http::status::not_found, web::default_message(http::status::not_found));
    }

    auto match = router_.match(method, ctx.path);
    if (!match.found) {
        ctx.route_pattern = match.path_exists ? "(method)" : "(none)";
        const auto code = match.path_exists ? http::status::method_not_allowed : http::status::not_found;
        throw http::http_error(code, web::default_message(code));
    }
    ctx.route_pattern = match.found->pattern;
    ctx.route_params = std::move(match.params);
    // A set-password token is a password for an hour: the request log shows the pattern instead,
    // whatever answer (403, 404, …) the request gets.
    if (http::find_param(ctx.route_params, "token")) ctx.path = ctx.route_pattern;

    if (method == http::verb::post && ctx.req[http::bhttp::field::content_type].starts_with(
                                          "application/x-www-form-urlencoded"))
        ctx.form = http::parse_form(ctx.req.body());
    if (auto denied = authorise(ctx, *match.found)) return std::move(*denied);
    return match.found->fn(ctx);
}

std::optional<http::response> application::authorise(http::request_context& ctx, const http::route& r) {
    using http::access;
    const auto customer_token = http::find_cookie(ctx.req, auth::customer_cookie);
    const auto admin_token = http::find_cookie(ctx.req, auth::admin_cookie);
    std::optional<auth::principal> who;
    if (r.audience == access::customer || r.audience == access::signed_in) {
        if (customer_token) who = sessions_.resolve_customer(*customer_token);
    }
    if (!who && (r.audience == access::admin || r.audience == access::signed_in)) {
        if (admin_token) who = sessions_.resolve_admin(*admin_token);
    }
    const bool changes_state = ctx.req.method() != http::verb::get && ctx.req.method() != http::verb::head;

    if (r.audience != access::anyone && !who) {
        // Signed in, but as the other role: refuse rather than send to a sign-in page.
        const bool other_role = r.audience == access::admin
                                    ? customer_token && sessions_.resolve_customer(*customer_token)
                                    : r.audience == access::customer && admin_token &&
                                          sessions_.resolve_admin(*admin_token);
        if (other_role) throw http::http_error(http::status::forbidden, web::default_message(http::status::forbidden));
        if (ctx.wants_json())
            throw http::http_error(http::status::unauthorized, web::default_message(http::status::unauthorized));
        std::string login = r.audience == access::admin ? "/admin-login" : "/login";
        if (!changes_state) login += "?next=" + std::string(boost::urls::encode(
                                                    ctx.req.target(), boost::urls::unreserved_chars));
        return http::redirect(login);
    }
    if (who) {
        ctx.user_label = who->actor();
        ctx.principal = *who;
        const bool exempt = r.pattern == "/force-change-password" || r.pattern == "/logout";
        if (who->is_customer() && who->must_reset_password && !exempt) {
            if (ctx.wants_json())
                throw http::http_error(http::status::forbidden, "You must choose a new password first.");
            return http::redirect("/force-change-password");
        }
    }
    if (changes_state && !auth::token_valid(ctx, cfg_, who ? &*who : nullptr)) {
        throw http::http_error(http::status::forbidden,
                               "Your form has expired or was not sent from this site. Please reload the page and try again.");
    }
    return std::nullopt;
}

http::response application::finish(http::request_context& ctx, http::response r) {
    http::apply_security_headers(r, {cfg_.secure_cookies()});
    r.set("X-Request-Id", ctx.request_id);
    for (const auto& c : ctx.set_cookies) r.headers.insert(http::bhttp::field::set_cookie, c);
    const auto elapsed = std::chrono::steady_clock::now() - ctx.started;
    metrics_.observe_request(ctx.route_pattern.empty() ? "(invalid)" : ctx.route_pattern,
                             static_cast<unsigned>(r.result), elapsed);
    log_request({ctx.req.method_string(), ctx.path.empty() ? std::string_view(ctx.req.target()) : ctx.path,
                 static_cast<unsigned>(r.result), r.body.size(), elapsed, ctx.request_id, ctx.user_label,
                 ctx.client_address});
    return r;
}

http::response application::handle_unreadable(http::status code, const http::connection_info& conn) {
    static const http::request empty_request;
    http::request_context ctx(empty_request);
    ctx.client_address = conn.remote_address;
    ctx.request_id = fmt::format("{}-{:x}", instance_tag_, ++request_counter_);
    ctx.route_pattern = "(unreadable)";
    auto r = web::error_response(services_, ctx, code, web::default_message(code));
    r.set(http::bhttp::field::connection, "close");
    return finish(ctx, std::move(r));
}

}  // namespace portal::app
