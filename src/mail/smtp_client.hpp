// SMTP with libcurl (SPEC §2): SMTP_SERVER / SMTP_PORT, STARTTLS when SMTP_USE_TLS (implicit TLS on
// port 465), AUTH when SMTP_USERNAME is set.
#pragma once

#include "app/config.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace portal::mail {

struct smtp_outcome {
    bool ok = false;
    // The connection could not be made or was lost (as opposed to the server refusing this
    // message): the next message would fail the same way.
    bool server_unreachable = false;
    bool aborted = false;  // stopped through the abort flag
    std::string error;     // libcurl's words plus the server's last reply; never the password
};

struct smtp_timeouts {
    std::chrono::seconds connect{10};
    std::chrono::seconds total{60};
};

// Initialises libcurl once for the process (idempotent, thread-safe).
void init_curl();

// "smtp://host:port" or "smtps://host:port" for port 465 with SMTP_USE_TLS.
std::string smtp_url(const app::smtp_settings& smtp);

// Sends one message to `recipients` (the envelope: To and every Bcc) with `envelope_from` as the
// MAIL FROM address. `abort`, when it becomes true, ends the transfer within about a second.
smtp_outcome smtp_send(const app::smtp_settings& smtp, const std::string& envelope_from,
                       const std::vector<std::string>& recipients, const std::string& message,
                       const std::atomic<bool>* abort = nullptr, smtp_timeouts timeouts = {});

// check-config: connects, says EHLO, does STARTTLS and AUTH as configured, then NOOP and QUIT.
smtp_outcome smtp_check(const app::smtp_settings& smtp, smtp_timeouts timeouts = {});

// Where check-config says it connected: "host:port, STARTTLS, login as user".
std::string smtp_description(const app::smtp_settings& smtp);

}  // namespace portal::mail
