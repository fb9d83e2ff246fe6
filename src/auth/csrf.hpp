// CSRF tokens: bound to the session's secret when signed in, else to a pre-session cookie
// (double submit, HMAC-keyed with SECRET_KEY) so sign-in forms are protected too.
#pragma once

#include "app/config.hpp"
#include "auth/principal.hpp"
#include "http/request_context.hpp"

namespace portal::auth {

inline constexpr std::string_view presession_cookie = "portal_csrf";

// The token to put in this response's forms and <meta>. Sets the pre-session cookie when the
// browser has none yet.
std::string form_token(http::request_context& ctx, const app::config& cfg, const principal* who);

// Checks the `csrf_token` form field or the X-CSRF-Token header.
bool token_valid(const http::request_context& ctx, const app::config& cfg, const principal* who);

}  // namespace portal::auth
