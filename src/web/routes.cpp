#include "web/routes.hpp"

namespace portal::web {

void add_routes(http::router& r, app::services& s) {
    add_system_routes(r, s);
    add_login_routes(r, s);
    add_password_reset_routes(r, s);
    add_inventory_routes(r, s);
    add_export_routes(r, s);
    add_admin_dashboard_routes(r, s);
    add_admin_customer_routes(r, s);
    add_admin_session_routes(r, s);
    add_admin_audit_routes(r, s);
    add_admin_analytics_routes(r, s);
}

}  // namespace portal::web
