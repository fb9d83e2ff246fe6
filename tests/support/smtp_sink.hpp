// Test harness: a real SMTP server (tests/support/smtp_sink.py on Debian's python3-aiosmtpd) on a
// loopback port, saving each message it accepts to a folder the tests read.
#pragma once

#include "support/portal_process.hpp"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace portal::testing {

struct received_mail {
    std::string mail_from;                       // envelope sender
    std::vector<std::string> rcpt_tos;           // envelope recipients (To and Bcc)
    std::string auth_login;                      // the AUTH user name, when the client logged in
    bool tls = false;                            // STARTTLS was used
    std::map<std::string, std::string> headers;  // lower-cased names, values decoded
    std::map<std::string, std::string> raw_headers;  // as they were on the wire
    std::string content_type;
    std::string text;                       // the text/plain part, decoded, LF line ends
    std::string html;                       // the text/html part, decoded, LF line ends
    std::vector<std::string> inline_types;  // other leaves, e.g. image/png
    int max_line_length = 0;                // longest line of the raw message
    bool eight_bit = false;                 // any byte above 127 in the raw message
    std::string raw;                        // the whole message as received
    std::string header(const std::string& name) const;
};

struct smtp_sink_options {
    std::string auth;               // "user:password": AUTH required
    std::string tls_cert, tls_key;  // STARTTLS offered and required
};

class smtp_sink {
  public:
    // Starts on `port` (0: a free one) and waits until it listens.
    explicit smtp_sink(int port = 0, smtp_sink_options options = {});
    ~smtp_sink();
    smtp_sink(const smtp_sink&) = delete;
    smtp_sink& operator=(const smtp_sink&) = delete;

    int port() const { return port_; }
    const std::string& folder() const { return dir_.path; }
    void stop();

    // Every message received so far, in order of arrival.
    std::vector<received_mail> messages() const;
    // Polls until at least `count` messages are there or the deadline passes; returns them all.
    std::vector<received_mail> wait_for(
        std::size_t count, std::chrono::seconds timeout = std::chrono::seconds(30)) const;

    // The environment a portal needs to send through this sink (SMTP_*, EMAIL_FROM, EMAIL_BCC).
    env_map portal_env(const std::string& bcc = "audit-copy@warehouse.example") const;
    // The same for a server on `port` that may not be running (yet): MAIL_RETRY_SECONDS=1.
    static env_map portal_env_for(int port,
                                  const std::string& bcc = "audit-copy@warehouse.example");

  private:
    temp_dir dir_;
    int port_ = 0;
    pid_t pid_ = -1;
    std::string log_path_;
    smtp_sink_options options_;
};

// The first http(s)://…/reset-password/<token> link in a text, or "".
std::string find_reset_link(const std::string& text);

}  // namespace portal::testing
