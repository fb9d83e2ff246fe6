// Set-password links (SPEC §7): a welcome link for a new account, a reset link for an existing one,
// and the emails that carry them or tell the user the password was changed.
#pragma once

#include "app/services.hpp"
#include "store/customers_repository.hpp"

#include <chrono>
#include <string>

namespace portal::web {

// welcome: 72 hours, from an admin creating the account; reset: 1 hour, from an admin;
// forgot: 1 hour, asked for by the user on /forgot-password.
enum class link_kind { welcome, reset, forgot };

std::chrono::hours link_lifetime(link_kind kind);

struct password_link {
    std::string url;       // APP_BASE_URL + "/reset-password/" + token; never the Host header
    bool emailed = false;  // queued in the mail outbox; when false the admin is shown the url once
};

// Issues a single-use link for `customer` (earlier unused links of the account stop working) and,
// when mail is set up (SMTP_SERVER), queues the email that carries it, in the same transaction.
// The token itself is never stored, only its keyed hash.
password_link send_password_link(const app::services& s, const store::customer_record& customer,
                                 link_kind kind);

// Queues "your password was changed" to the account when mail is set up; true when queued.
// Inside the caller's transaction when there is one (then call s.mail->wake() after the commit).
bool send_password_changed_notice(const app::services& s, const store::customer_record& customer,
                                  const std::string& client_address);

}  // namespace portal::web
