// `customer-portal demo`: a demo ERP, sample accounts and their logins, ready to serve.
#pragma once

#include "app/config.hpp"

#include <string>
#include <vector>

namespace portal::app {

struct demo_login {
    std::string who;       // what the account shows
    std::string login;     // email or admin user name
    std::string password;
};

// Builds data/demo/erp.db (kept when present) and data/demo/portal.db under the working folder,
// points `cfg` at them, and creates or refreshes the demo accounts.
std::vector<demo_login> prepare_demo(config& cfg);

}  // namespace portal::app
