// Who is calling: a signed-in customer or administrator, as resolved from a session cookie.
#pragma once

#include <string>

namespace portal::auth {

struct principal {
    enum class role { customer, admin };
    role who = role::customer;
    std::string session_id;   // the keyed hash of the cookie's token, as stored
    std::string csrf_secret;  // per session; CSRF tokens are derived from it

    // customers
    int customer_id = 0;
    std::string email;
    std::string first_name;
    std::string last_name;
    std::string erp_customer_name;  // "A", "A|B" or "All"
    bool must_reset_password = false;

    // administrators
    std::string admin_username;
    std::string auth_method;  // "local" or "ldap"

    bool is_customer() const { return who == role::customer; }
    bool is_admin() const { return who == role::admin; }
    std::string display_name() const {
        if (is_admin()) return admin_username;
        std::string name = first_name + (last_name.empty() ? "" : " " + last_name);
        return name.empty() ? email : name;
    }
    // The audit log's actor: an admin's name or a customer's email.
    const std::string& actor() const { return is_admin() ? admin_username : email; }
};

}  // namespace portal::auth
