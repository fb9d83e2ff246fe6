// Every route of the portal, by area. Each area's file declares its routes and their audience.
#pragma once

#include "app/services.hpp"
#include "http/router.hpp"

namespace portal::web {

void add_routes(http::router& r, app::services& s);

void add_system_routes(http::router& r, app::services& s);  // /, /healthz, /readyz, /metrics
void add_login_routes(http::router& r, app::services& s);   // /login, /logout, …

}  // namespace portal::web
