// Random tokens, the keyed hashes we store instead of them, and CSRF tokens.
#pragma once

#include <string>
#include <string_view>

namespace portal::auth {

// 256 bits from OpenSSL's CSPRNG as unpadded base64url: 43 characters of [A-Za-z0-9_-], safe in
// cookies and URLs as they are. Used for session cookies, set-password and reset links.
// Throws std::runtime_error if the CSPRNG fails.
std::string random_token();

// HMAC-SHA256(secret_key, token) as 64 lowercase hex characters. Session and reset tokens are
// stored only in this form, so a leaked table cannot be replayed without SECRET_KEY.
// Throws std::invalid_argument on an empty key: that is a configuration bug, not a bad request.
std::string keyed_hash(std::string_view secret_key, std::string_view token);

// Compares in time that depends only on the lengths. Different lengths return false at once:
// everything compared here (hex digests, fixed-size tokens) has a public length.
bool constant_time_equal(std::string_view a, std::string_view b);

// A CSRF token: base64url(HMAC-SHA256(secret, label || session_binding)), 43 characters.
// `secret` is the per-session CSRF secret kept in the store; `session_binding` is what the token
// is tied to (e.g. the session's stored id hash), so a token from one session is refused in
// another even if the secrets were ever shared. Deterministic, so every form of a session carries
// the same token. Throws std::invalid_argument on an empty secret.
std::string csrf_token(std::string_view secret, std::string_view session_binding);

// True only for the exact token csrf_token would make; compares in constant time. Wrong length,
// garbage, an empty secret or an empty token give false; never throws.
bool csrf_valid(std::string_view secret, std::string_view session_binding, std::string_view token);

}  // namespace portal::auth
