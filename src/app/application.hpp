// create_app: the whole portal built from a Config — store, templates, assets, routes — and the
// request pipeline every request goes through.
#pragma once

#include "app/config.hpp"
#include "app/housekeeping.hpp"
#include "app/services.hpp"
#include "auth/sessions.hpp"
#include "auth/throttle.hpp"
#include "erp/erp_source.hpp"
#include "erp/snapshot_cache.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "mail/mailer.hpp"
#include "store/database.hpp"
#include "web/templates.hpp"

#include <atomic>
#include <memory>

namespace portal::app {

class application {
public:
    explicit application(config cfg);
    ~application();

    // connection → here → router → access rule → handler; errors become responses here only.
    http::response handle(const http::request& req, const http::connection_info& conn);
    http::response handle_unreadable(http::status code, const http::connection_info& conn);
    // Whether the request's route runs on the quick lane (http::lane); cheap, for the I/O thread.
    bool is_quick(const http::request& req) const;

    const config& cfg() const { return cfg_; }
    services& svc() { return services_; }
    http::router& routes() { return router_; }

private:
    http::response dispatch(http::request_context& ctx);
    // Resolves the caller for a route's audience; nullopt-equivalent responses are returned.
    std::optional<http::response> authorise(http::request_context& ctx, const http::route& r);
    http::response finish(http::request_context& ctx, http::response r);

    config cfg_;
    store::database db_;
    web::template_set templates_;
    http::static_files assets_;
    http::metrics_registry metrics_;
    auth::session_service sessions_;
    auth::login_throttle throttle_;
    std::unique_ptr<erp::erp_source> erp_;
    erp::snapshot_cache snapshots_;
    services services_;
    http::router router_;
    std::atomic<std::uint64_t> request_counter_{0};
    std::string instance_tag_;
    // The mail outbox's sender thread; after db_, so it stops before the store goes.
    std::unique_ptr<mail::mailer> mailer_;
    // Last, so its thread stops before anything it uses is destroyed.
    std::unique_ptr<housekeeping> housekeeping_;
};

}  // namespace portal::app
