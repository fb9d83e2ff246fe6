// Set-password links (SPEC §7): a welcome link for a new account, a reset link for an existing one.
#pragma once

#include "app/services.hpp"
#include "store/customers_repository.hpp"

#include <string>

namespace portal::web {

enum class link_kind { welcome, reset };  // 72 hours / 1 hour

struct password_link {
    std::string url;       // APP_BASE_URL + "/reset-password/" + token; never the Host header
    bool emailed = false;  // queued in the mail outbox; when false the admin is shown the url once
};

// Issues a single-use link for `customer` (earlier unused links of the account stop working) and,
// when mail is set up, queues the email that carries it. The token itself is never stored.
password_link send_password_link(const app::services& s, const store::customer_record& customer, link_kind kind);

}  // namespace portal::web
