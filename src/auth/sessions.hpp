// Server-side sessions (SPEC §7): the cookie holds 256 random bits, the store only their keyed hash.
#pragma once

#include "app/config.hpp"
#include "auth/principal.hpp"
#include "store/customers_repository.hpp"
#include "store/sessions_repository.hpp"

#include <optional>
#include <string>

namespace portal::auth {

inline constexpr std::string_view customer_cookie = "portal_session";
inline constexpr std::string_view admin_cookie = "portal_admin_session";
inline constexpr std::chrono::minutes admin_idle{30};
// last_seen is written at most this often, so reading a session is not a write per request.
inline constexpr std::chrono::seconds touch_interval{60};

struct new_session {
    std::string token;  // for the cookie; never stored
    principal who;
};

class session_service {
public:
    session_service(store::database& db, const app::config& cfg);

    new_session start_customer(const store::customer_record& customer, const std::string& ip,
                               const std::string& user_agent);
    new_session start_admin(const std::string& username, const std::string& auth_method, const std::string& ip,
                            const std::string& user_agent);

    // The signed-in principal for a cookie token, or nullopt (unknown, idle, expired, inactive
    // account — expired ones are deleted on sight).
    std::optional<principal> resolve_customer(const std::string& token);
    std::optional<principal> resolve_admin(const std::string& token);

    void end(const principal& p);
    int end_all_for_customer(int customer_id);

    std::string hash(const std::string& token) const;

private:
    store::sessions_repository repo_;
    const app::config& cfg_;
};

}  // namespace portal::auth
