// Password hashes: Argon2id for new ones, the Flask portal's Werkzeug hashes verified as they are
// (SPEC §6), and the rules a new password must meet.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace portal::auth {

// Our Argon2id cost: libsodium's "interactive" preset, 2 passes over 64 MiB, one lane. That is
// above OWASP's floor (19 MiB, t=2, p=1) and still well under a second per login on one core.
// Raising either makes needs_rehash() true for every stored hash, which upgrades them at login.
inline constexpr unsigned long long argon2id_opslimit = 2;
inline constexpr std::size_t argon2id_memlimit = std::size_t{64} * 1024 * 1024;

// New passwords are 12 to 128 Unicode code points (NIST SP 800-63B: length, no composition rules).
inline constexpr std::size_t min_password_length = 12;
inline constexpr std::size_t max_password_length = 128;

// An Argon2id PHC string (`$argon2id$v=19$m=65536,t=2,p=1$salt$hash`, under 128 characters) with a
// fresh random salt. Throws std::runtime_error if libsodium cannot run (out of memory).
std::string hash_password(std::string_view password);

// True if `password` matches `stored_hash`, which may be
//   - Argon2id in PHC form (ours),
//   - Werkzeug `pbkdf2[:sha1|sha224|sha256|sha384|sha512[:iterations]]$salt$hex`,
//   - Werkzeug `scrypt[:n:r:p]$salt$hex`.
// Anything else, malformed, or with costs beyond sane bounds (so a planted hash cannot pin a CPU
// for minutes or exhaust memory) is false. Never throws.
bool verify_password(std::string_view stored_hash, std::string_view password);

// True unless `stored_hash` is Argon2id at exactly our parameters: Werkzeug hashes, other Argon2
// costs or variants, and garbage all need replacing with hash_password() after a good login.
bool needs_rehash(std::string_view stored_hash);

// An Argon2id hash (our parameters) of a random password nobody knows, made once per process.
// Verifying against it when there is no such account makes that answer take as long as a wrong
// password. The first call costs one hash; call it at startup to keep that off a request.
const std::string& dummy_hash();

// Why `password` may not be set for the account with `email`, as a sentence to show the user,
// or nullopt if it is acceptable.
std::optional<std::string> password_problem(std::string_view password, std::string_view email);

}  // namespace portal::auth
