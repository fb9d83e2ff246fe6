// The administrators' home: links to every admin page.
#include "web/page.hpp"
#include "web/routes.hpp"

namespace portal::web {

void add_admin_dashboard_routes(http::router& r, app::services& s) {
    r.add(http::verb::get, "/admin", http::access::admin, [&s](http::request_context& ctx) {
        mustache_data data;
        data.set("nav", "dashboard");
        return render_page(s, ctx, "admin_dashboard", data, "Dashboard");
    });
}

}  // namespace portal::web
