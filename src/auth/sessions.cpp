#include "auth/sessions.hpp"

#include "auth/tokens.hpp"

namespace portal::auth {

namespace {
using clock = std::chrono::system_clock;
}

session_service::session_service(store::database& db, const app::config& cfg) : repo_(db), cfg_(cfg) {}

std::string session_service::hash(const std::string& token) const { return keyed_hash(cfg_.secret_key, token); }

new_session session_service::start_customer(const store::customer_record& customer, const std::string& ip,
                                            const std::string& user_agent) {
    const auto now = clock::now();
    new_session out;
    out.token = random_token();
    store::customer_session_record rec;
    rec.session_id = hash(out.token);
    rec.customer_id = customer.customer_id;
    rec.created_at = now;
    rec.last_seen = now;
    rec.expires_at = now + cfg_.session_hours;
    rec.ip_address = ip.substr(0, 100);
    rec.user_agent = user_agent.substr(0, 500);
    rec.csrf_secret = random_token();
    repo_.create_customer_session(rec);

    auto& p = out.who;
    p.who = principal::role::customer;
    p.session_id = rec.session_id;
    p.csrf_secret = rec.csrf_secret;
    p.customer_id = customer.customer_id;
    p.email = customer.email;
    p.first_name = customer.first_name;
    p.last_name = customer.last_name;
    p.erp_customer_name = customer.erp_customer_name;
    p.must_reset_password = customer.must_reset_password;
    return out;
}

new_session session_service::start_admin(const std::string& username, const std::string& auth_method,
                                         const std::string& ip, const std::string& user_agent) {
    const auto now = clock::now();
    new_session out;
    out.token = random_token();
    store::admin_session_record rec;
    rec.session_id = hash(out.token);
    rec.admin_username = username;
    rec.auth_method = auth_method;
    rec.created_at = now;
    rec.last_seen = now;
    rec.ip_address = ip.substr(0, 100);
    rec.user_agent = user_agent.substr(0, 500);
    rec.csrf_secret = random_token();
    repo_.create_admin_session(rec);
    auto& p = out.who;
    p.who = principal::role::admin;
    p.session_id = rec.session_id;
    p.csrf_secret = rec.csrf_secret;
    p.admin_username = username;
    p.auth_method = auth_method;
    return out;
}

std::optional<principal> session_service::resolve_customer(const std::string& token) {
    if (token.size() != 43) return std::nullopt;  // not one of ours: no store round trip
    const auto id = hash(token);
    auto found = repo_.find_customer_session(id);
    if (!found) return std::nullopt;
    const auto now = clock::now();
    const auto& s = found->session;
    const auto absolute = s.expires_at.value_or(s.created_at + cfg_.session_hours);
    if (now >= absolute || now - s.last_seen >= cfg_.session_idle || !found->customer.is_active) {
        repo_.delete_customer_session(id);
        return std::nullopt;
    }
    if (now - s.last_seen >= touch_interval) repo_.touch_customer_session(id, now);

    principal p;
    p.who = principal::role::customer;
    p.session_id = id;
    p.csrf_secret = s.csrf_secret;
    p.customer_id = found->customer.customer_id;
    p.email = found->customer.email;
    p.first_name = found->customer.first_name;
    p.last_name = found->customer.last_name;
    p.erp_customer_name = found->customer.erp_customer_name;
    p.must_reset_password = found->customer.must_reset_password;
    return p;
}

std::optional<principal> session_service::resolve_admin(const std::string& token) {
    if (token.size() != 43) return std::nullopt;
    const auto id = hash(token);
    auto s = repo_.find_admin_session(id);
    if (!s) return std::nullopt;
    const auto now = clock::now();
    if (now >= s->created_at + cfg_.session_hours || now - s->last_seen >= admin_idle) {
        repo_.delete_admin_session(id);
        return std::nullopt;
    }
    if (now - s->last_seen >= touch_interval) repo_.touch_admin_session(id, now);
    principal p;
    p.who = principal::role::admin;
    p.session_id = id;
    p.csrf_secret = s->csrf_secret;
    p.admin_username = s->admin_username;
    p.auth_method = s->auth_method;
    return p;
}

void session_service::end(const principal& p) {
    if (p.is_admin()) repo_.delete_admin_session(p.session_id);
    else repo_.delete_customer_session(p.session_id);
}

int session_service::end_all_for_customer(int customer_id) { return repo_.delete_customer_sessions(customer_id); }

}  // namespace portal::auth
