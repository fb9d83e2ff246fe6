// Every route of the portal, by area. Each area's file declares its routes and their audience.
#pragma once

#include "app/services.hpp"
#include "http/router.hpp"

namespace portal::web {

void add_routes(http::router& r, app::services& s);

void add_system_routes(http::router& r, app::services& s);  // /, /healthz, /readyz, /metrics
void add_login_routes(http::router& r, app::services& s);   // /login, /logout, …
void add_password_reset_routes(http::router& r, app::services& s);  // /forgot-password, /reset-password/{token}
void add_inventory_routes(http::router& r, app::services& s);  // /inventory, /api/v1/inventory
void add_export_routes(http::router& r, app::services& s);     // /inventory/export.xlsx, .csv

// Administration (SPEC §4): every route here is access::admin.
void add_admin_dashboard_routes(http::router& r, app::services& s);  // /admin
void add_admin_customer_routes(http::router& r, app::services& s);   // /admin/customers…, /admin/erp-customers
void add_admin_session_routes(http::router& r, app::services& s);    // /admin/sessions…
void add_admin_audit_routes(http::router& r, app::services& s);      // /admin/audit…
void add_admin_analytics_routes(http::router& r, app::services& s);  // /admin/analytics

}  // namespace portal::web
