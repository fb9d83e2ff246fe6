#include "auth/tokens.hpp"

#include <array>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace portal::auth {

namespace {

constexpr std::size_t token_bytes = 32;       // 256 bits, SPEC §7
constexpr std::size_t csrf_token_chars = 43;  // base64url of a SHA-256 MAC, unpadded

// Domain separation: the per-session secret may one day key other MACs too, and a CSRF token
// must never equal one of those.
constexpr std::string_view csrf_label = "portal csrf v1\n";

using digest = std::array<unsigned char, 32>;

std::string base64url(const unsigned char* data, std::size_t size) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((size * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (size - i == 1) {
        const unsigned v = data[i] << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
    } else if (size - i == 2) {
        const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
    }
    return out;
}

std::string lower_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

digest hmac_sha256(std::string_view key, std::string_view message) {
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::invalid_argument("HMAC key too long");
    // Never hand OpenSSL a null pointer for an empty view.
    if (message.empty()) message = std::string_view("", 0);
    digest out{};
    unsigned int out_size = 0;
    // OpenSSL's one-shot HMAC() is not deprecated in 3.x, unlike the HMAC_CTX family.
    const unsigned char* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                       reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), out.data(), &out_size);
    if (result == nullptr || out_size != out.size()) throw std::runtime_error("HMAC-SHA256 failed");
    return out;
}

}  // namespace

std::string random_token() {
    std::array<unsigned char, token_bytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    std::string token = base64url(bytes.data(), bytes.size());
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return token;
}

std::string keyed_hash(std::string_view secret_key, std::string_view token) {
    if (secret_key.empty()) throw std::invalid_argument("keyed_hash needs a non-empty secret key");
    const digest mac = hmac_sha256(secret_key, token);
    return lower_hex(mac.data(), mac.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string csrf_token(std::string_view secret, std::string_view session_binding) {
    if (secret.empty()) throw std::invalid_argument("csrf_token needs a non-empty secret");
    std::string message;
    message.reserve(csrf_label.size() + session_binding.size());
    message.append(csrf_label).append(session_binding);
    const digest mac = hmac_sha256(secret, message);
    return base64url(mac.data(), mac.size());
}

bool csrf_valid(std::string_view secret, std::string_view session_binding, std::string_view token) {
    // The length check first keeps garbage of any size from costing an HMAC.
    if (secret.empty() || token.size() != csrf_token_chars) return false;
    try {
        return constant_time_equal(csrf_token(secret, session_binding), token);
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace portal::auth
