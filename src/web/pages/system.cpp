// Health, readiness, metrics and the front door.
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

    r.add(verb::get, "/", access::anyone, [](http::request_context&) { return http::redirect("/login"); });

    r.add(verb::get, "/healthz", access::anyone, [](http::request_context&) {
        return http::json_response(http::status::ok, R"({"status":"ok"})");
    });

    r.add(verb::get, "/readyz", access::anyone, [&s](http::request_context&) {
        bool store_ok = false;
        try {
            store_ok = s.db.ping();
        } catch (const std::exception& e) {
            spdlog::warn("readiness: local store: {}", e.what());
        }
        const auto code = store_ok ? http::status::ok : http::status::service_unavailable;
        return http::json_response(code, std::string(R"({"status":")") + (store_ok ? "ready" : "unavailable") +
                                             R"(","store":)" + (store_ok ? "true" : "false") + "}");
    });

    // Loopback callers (a local Prometheus agent) need no session; admins arrive with sign-in.
    r.add(verb::get, "/metrics", access::anyone, [&s](http::request_context& ctx) {
        if (!http::address_in(ctx.client_address, {"127.0.0.0/8", "::1"}))
            throw http::http_error(http::status::forbidden, default_message(http::status::forbidden));
        return http::text_response(http::status::ok, s.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    });
}

}  // namespace portal::web
