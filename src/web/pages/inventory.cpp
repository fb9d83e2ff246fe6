// The inventory grid page and its JSON API (SPEC §4): a customer sees only its own ERP names' rows.
#include "erp/inventory_json.hpp"
#include "erp/inventory_query.hpp"
#include "erp/snapshot_cache.hpp"
#include "http/compression.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>

namespace portal::web {
namespace {

constexpr std::string_view erp_down_message =
    "Live stock cannot be shown right now: the warehouse system is not answering. Please try again in a few minutes.";

http::response inventory_api(app::services& s, http::request_context& ctx) {
    const auto* who = caller(ctx);
    auto query = erp::parse_inventory_query(ctx.query);
    if (!query) throw http::http_error(http::status::bad_request, query.error());
    erp::snapshot_view view;
    try {
        // The account's own names only: `customer=` can narrow within them, never widen.
        view = s.snapshots.for_account(who->erp_customer_name,
                                       ctx.may_wait ? erp::wait::allowed : erp::wait::refused);
    } catch (const erp::erp_unavailable& e) {
        throw http::http_error(http::status::service_unavailable, std::string(erp_down_message), e.what());
    }
    const auto result = erp::run_query(*view.snapshot, *query);
    auto r = http::json_response(http::status::ok, erp::inventory_json(*view.snapshot, result, *query, view.stale));
    http::maybe_gzip(ctx.req, r);
    return r;
}

http::response inventory_page(app::services& s, http::request_context& ctx) {
    const auto* who = caller(ctx);
    mustache_data data;
    data.set("nav", "inventory");
    data.set("customer_label", erp::is_all(who->erp_customer_name) ? std::string("All customers")
                                                                     : who->erp_customer_name);
    data.set("multi_customer", erp::is_all(who->erp_customer_name) ||
                                   erp::split_erp_names(who->erp_customer_name).size() > 1);
    data.set("scripts", script_list({"/static/js/inventory.js", "/static/js/export-menu.js"}));
    return render_page(s, ctx, "inventory", data, "Inventory");
}

}  // namespace

void add_inventory_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;
    r.add(verb::get, "/inventory", access::customer, [&s](http::request_context& ctx) { return inventory_page(s, ctx); });
    r.add(
        verb::get, "/api/v1/inventory", access::customer,
        [&s](http::request_context& ctx) { return inventory_api(s, ctx); }, http::lane::quick);
}

}  // namespace portal::web
