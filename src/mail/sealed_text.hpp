// Email bodies at rest in the MailOutbox: they carry set-password links, which are as good as a
// password for an hour, so the store keeps them sealed (AES-256-GCM, key derived from SECRET_KEY),
// like it keeps only keyed hashes of the tokens themselves.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portal::mail {

// "enc1:" + base64(nonce || ciphertext || tag). Throws std::runtime_error if OpenSSL fails.
std::string seal_text(std::string_view secret_key, std::string_view plain);

// The plain text of a sealed value; a value without the "enc1:" prefix is returned as it is.
// nullopt when the value was sealed under another key or was altered.
std::optional<std::string> open_text(std::string_view secret_key, std::string_view stored);

}  // namespace portal::mail
