#include "auth/tokens.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
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

// OpenSSL 3's one-shot HMAC() looks the algorithm up and sets the key up on every call (about
// 5 µs, paid by every request's session lookup). A context per thread, kept for the last key and
// re-initialised for each message, costs a sixth of that.
class hmac_context {
public:
    hmac_context() = default;
    hmac_context(const hmac_context&) = delete;
    hmac_context& operator=(const hmac_context&) = delete;
    ~hmac_context() { EVP_MAC_CTX_free(ctx_); }

    EVP_MAC_CTX* for_key(std::string_view key) {
        if (ctx_ && key == key_) {
            if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) throw std::runtime_error("HMAC-SHA256 failed");
            return ctx_;
        }
        static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        if (!ctx_) ctx_ = EVP_MAC_CTX_new(hmac);
        char digest_name[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                     OSSL_PARAM_construct_end()};
        key_.clear();  // until the new key is set
        // Never hand OpenSSL a null pointer for an empty key.
        const auto* k = reinterpret_cast<const unsigned char*>(key.empty() ? "" : key.data());
        if (!hmac || !ctx_ || EVP_MAC_init(ctx_, k, key.size(), params) != 1)
            throw std::runtime_error("HMAC-SHA256 failed");
        key_ = key;
        return ctx_;
    }

private:
    EVP_MAC_CTX* ctx_ = nullptr;
    std::string key_;
};

digest hmac_sha256(std::string_view key, std::string_view message) {
    thread_local hmac_context context;
    EVP_MAC_CTX* ctx = context.for_key(key);
    digest out{};
    std::size_t out_size = 0;
    if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(message.empty() ? "" : message.data()),
                       message.size()) != 1 ||
        EVP_MAC_final(ctx, out.data(), &out_size, out.size()) != 1 || out_size != out.size())
        throw std::runtime_error("HMAC-SHA256 failed");
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
