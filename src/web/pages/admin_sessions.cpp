// Who is signed in now, kicking a session, ending idle sessions automatically.
#include "web/page.hpp"
#include "web/routes.hpp"

namespace portal::web {

void add_admin_session_routes(http::router&, app::services&) {}

}  // namespace portal::web
