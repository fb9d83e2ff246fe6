// Health, readiness, metrics and the front door.
#include "auth/sessions.hpp"
#include "erp/snapshot_cache.hpp"
#include "http/client_address.hpp"
#include "http/metrics.hpp"
#include "store/database.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>

namespace portal::web {

void add_system_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;

    r.add(verb::get, "/", access::anyone,
          [](http::request_context&) { return http::redirect("/login"); });

    r.add(
        verb::get, "/healthz", access::anyone,
        [](http::request_context&) { return http::json_response(http::status::ok, R"({"status":"ok"})"); },
        http::lane::quick);

    r.add(verb::get, "/readyz", access::anyone, [&s](http::request_context&) {
        bool store_ok = false;
        try {
            store_ok = s.db.ping();
        } catch (const std::exception& e) {
            spdlog::warn("readiness: local store: {}", e.what());
        }
        // The ERP's customer list is cached (a minute at least), so probing readiness often does
        // not load the ERP.
        bool erp_ok = false;
        try {
            s.snapshots.customer_names();
            erp_ok = true;
        } catch (const std::exception& e) {
            spdlog::warn("readiness: ERP: {}", e.what());
        }
        const bool ready = store_ok && erp_ok;
        const auto code = ready ? http::status::ok : http::status::service_unavailable;
        return http::json_response(code, std::string(R"({"status":")") +
                                             (ready ? "ready" : "unavailable") + R"(","store":)" +
                                             (store_ok ? "true" : "false") + R"(,"erp":)" +
                                             (erp_ok ? "true" : "false") + "}");
    });

    // Loopback callers (a local Prometheus agent) need no session; others must be signed-in admins.
    r.add(verb::get, "/metrics", access::anyone, [&s](http::request_context& ctx) {
        const auto admin_token = http::find_cookie(ctx.req, auth::admin_cookie);
        const bool admin = admin_token && s.sessions.resolve_admin(*admin_token);
        if (!admin && !http::address_in(ctx.client_address, {"127.0.0.0/8", "::1"}))
            throw http::http_error(http::status::forbidden,
                                   default_message(http::status::forbidden));
        return http::text_response(http::status::ok, s.metrics.render(),
                                   "text/plain; version=0.0.4; charset=utf-8");
    }, http::lane::quick);  // a scrape still answers when the general pool is saturated
}

}  // namespace portal::web
