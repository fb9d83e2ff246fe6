// Every route of the portal, by area. Each area's file declares its routes and their audience.
#pragma once

#include "app/services.hpp"
#include "http/router.hpp"

namespace portal::web {

void add_routes(http::router& r, app::services& s);

void add_system_routes(http::router& r, app::services& s);  // /, /healthz, /readyz, /metrics
void add_login_routes(http::router& r, app::services& s);   // /login, /logout, …
void add_inventory_routes(http::router& r, app::services& s);  // /inventory, /api/v1/inventory
void add_export_routes(http::router& r, app::services& s);     // /inventory/export.xlsx, .csv

}  // namespace portal::web
