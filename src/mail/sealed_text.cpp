#include "mail/sealed_text.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace portal::mail {

namespace {

constexpr std::string_view prefix = "enc1:";
constexpr int nonce_size = 12;
constexpr int tag_size = 16;

// A key of its own for the outbox: HMAC-SHA256(SECRET_KEY, label), never the secret itself.
std::vector<unsigned char> derive_key(std::string_view secret_key) {
    constexpr std::string_view label = "customer-portal mail outbox v1";
    std::vector<unsigned char> key(32);
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret_key.data(), static_cast<int>(secret_key.size()),
              reinterpret_cast<const unsigned char*>(label.data()), label.size(), key.data(),
              &length) ||
        length != 32)
        throw std::runtime_error("cannot derive the outbox key");
    return key;
}

struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

std::string base64_encode(const std::vector<unsigned char>& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::vector<unsigned char> out(3 * text.size() / 4);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    std::size_t length = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    if (!text.empty() && text.back() == '=') --length;
    if (text.size() > 1 && text[text.size() - 2] == '=') --length;
    out.resize(length);
    return out;
}

}  // namespace

std::string seal_text(std::string_view secret_key, std::string_view plain) {
    const auto key = derive_key(secret_key);
    std::vector<unsigned char> out(nonce_size + plain.size() + tag_size);
    if (RAND_bytes(out.data(), nonce_size) != 1)
        throw std::runtime_error("no randomness for the outbox nonce");
    cipher_ctx c(EVP_CIPHER_CTX_new());
    int n = 0, total = 0;
    if (!c ||
        EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(c.get(), out.data() + nonce_size, &n,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1)
        throw std::runtime_error("cannot seal an outbox message");
    total = n;
    if (EVP_EncryptFinal_ex(c.get(), out.data() + nonce_size + total, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                            out.data() + nonce_size + total + n) != 1)
        throw std::runtime_error("cannot seal an outbox message");
    return std::string(prefix) + base64_encode(out);
}

std::optional<std::string> open_text(std::string_view secret_key, std::string_view stored) {
    if (!stored.starts_with(prefix)) return std::string(stored);
    const auto bytes = base64_decode(stored.substr(prefix.size()));
    if (!bytes || bytes->size() < static_cast<std::size_t>(nonce_size + tag_size))
        return std::nullopt;
    const auto key = derive_key(secret_key);
    const std::size_t length = bytes->size() - nonce_size - tag_size;
    std::string plain(length, '\0');
    cipher_ctx c(EVP_CIPHER_CTX_new());
    int n = 0;
    std::vector<unsigned char> tag(bytes->end() - tag_size, bytes->end());
    if (!c ||
        EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes->data()) != 1 ||
        EVP_DecryptUpdate(c.get(), reinterpret_cast<unsigned char*>(plain.data()), &n,
                          bytes->data() + nonce_size, static_cast<int>(length)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) != 1)
        return std::nullopt;
    int last = 0;
    if (EVP_DecryptFinal_ex(c.get(), reinterpret_cast<unsigned char*>(plain.data()) + n, &last) !=
        1)
        return std::nullopt;  // wrong key or altered
    return plain;
}

}  // namespace portal::mail
