// Customer accounts: list, create, edit, activate/deactivate, reset, ERP names, view as customer.
#include "web/page.hpp"
#include "web/routes.hpp"

namespace portal::web {

void add_admin_customer_routes(http::router&, app::services&) {}

}  // namespace portal::web
