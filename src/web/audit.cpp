#include "web/audit.hpp"

#include "store/audit_repository.hpp"

namespace portal::web {

void record_audit(const app::services& s, const http::request_context& ctx, const std::string& actor,
                  const std::string& action, const audit_target& target, const std::string& details) {
    store::new_audit_entry e;
    e.timestamp = std::chrono::system_clock::now();
    e.admin_username = actor.substr(0, 100);
    e.action_type = action;
    e.target_customer_id = target.customer_id;
    e.target_customer_email = target.customer_email;
    if (!details.empty()) e.details = details;
    e.ip_address = ctx.client_address;
    e.user_agent = std::string(ctx.req[http::bhttp::field::user_agent]).substr(0, 500);
    store::audit_repository(s.db).append(e);
}

}  // namespace portal::web
