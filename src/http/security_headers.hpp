// The headers SPEC §7 puts on every response.
#pragma once

#include "http/message.hpp"

namespace portal::http {

struct security_policy {
    bool https = false;  // APP_BASE_URL is https: add HSTS
};

// Adds CSP, nosniff, Referrer-Policy (unless the handler chose a stricter one), frame and
// permissions policies; `Cache-Control: no-store` unless the response set its own.
void apply_security_headers(response& r, const security_policy& policy);

inline constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

}  // namespace portal::http
