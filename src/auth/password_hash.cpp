#include "auth/password_hash.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>
#include <sodium.h>

#include "auth/tokens.hpp"

namespace portal::auth {

namespace {

constexpr std::string_view argon2id_prefix = "$argon2id$";

// Werkzeug has always written the iteration count into the hashes it generates, so a hash without
// one is hand-made, and Werkzeug verifies it with the default of whichever version is running:
//   0.9 - 0.11: 1,000 (pbkdf2:sha1)     0.12 - 0.14: 50,000      0.15 - 1.0: 150,000
//   2.0 - 2.2:  260,000                 2.3 - 3.0:   600,000     3.1 and later: 1,000,000
// The Flask portal has scrypt hashes (SPEC §6), Werkzeug's default only from 2.3, and a site
// switching today runs the Werkzeug current Flask requires (3.1+): there, such a hash verifies
// with 1,000,000. Python's hashlib, not Werkzeug, confirms the known answers in the tests.
constexpr std::uint64_t werkzeug_default_pbkdf2_iterations = 1'000'000;

// Werkzeug's scrypt defaults (2.3 and later), used by a bare `scrypt$salt$hex`.
constexpr std::uint64_t werkzeug_scrypt_n = 32768;
constexpr std::uint64_t werkzeug_scrypt_r = 8;
constexpr std::uint64_t werkzeug_scrypt_p = 1;
constexpr std::size_t werkzeug_scrypt_key_size = 64;

// Bounds on the costs a stored hash may ask for. Werkzeug's own defaults sit far below them, so
// every real hash verifies; a planted one costs at most a few seconds and a few hundred MiB.
constexpr std::uint64_t max_pbkdf2_iterations = 10'000'000;
constexpr std::uint64_t max_scrypt_n = std::uint64_t{1} << 20;
constexpr std::uint64_t max_scrypt_r = 32;
constexpr std::uint64_t max_scrypt_p = 16;
constexpr std::uint64_t max_scrypt_memory = std::uint64_t{256} << 20;  // 128 * n * r bytes
constexpr std::uint64_t max_scrypt_work = std::uint64_t{1} << 22;      // n * r * p: 16x default
constexpr std::uint64_t max_argon2_memory_kib = 256 * 1024;
constexpr std::uint64_t max_argon2_passes = 16;
constexpr std::uint64_t max_argon2_work_kib = 1024 * 1024;  // m * t: e.g. 4 passes over 256 MiB
constexpr std::uint64_t max_argon2_lanes = 16;
constexpr std::size_t max_argon2_string = 512;
constexpr std::size_t max_salt_size = 1024;

void ensure_sodium() {
    // A function-local static runs sodium_init() once even with concurrent first callers.
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium could not be initialised");
}

// OpenSSL and libsodium take pointers; an empty string_view may hold nullptr.
const char* data_of(std::string_view s) {
    return s.empty() ? "" : s.data();
}

// ASCII digits only: Python's int() would also take "+8", " 8" or "1_000", but Werkzeug never
// wrote those, so refusing them refuses nothing real.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
        if (value > max) return std::nullopt;  // also keeps value * 10 from overflowing
    }
    return value;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = s.find(separator, start);
        if (end == std::string_view::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, end - start));
        start = end + 1;
    }
}

// Werkzeug compares against Python's bytes.hex(), which is lowercase; so do we.
bool is_lower_hex(std::string_view s) {
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
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

const EVP_MD* pbkdf2_digest(std::string_view name) {
    if (name == "sha256") return EVP_sha256();
    if (name == "sha1") return EVP_sha1();
    if (name == "sha512") return EVP_sha512();
    if (name == "sha384") return EVP_sha384();
    if (name == "sha224") return EVP_sha224();
    return nullptr;
}

bool verify_pbkdf2(const std::vector<std::string_view>& method, std::string_view salt,
                   std::string_view expected_hex, std::string_view password) {
    // Werkzeug 2.3+: `pbkdf2`, `pbkdf2:<hash>`, `pbkdf2:<hash>:<iterations>`.
    if (method.size() > 3) return false;
    const EVP_MD* md = pbkdf2_digest(method.size() >= 2 ? method[1] : "sha256");
    if (md == nullptr) return false;
    std::uint64_t iterations = werkzeug_default_pbkdf2_iterations;
    if (method.size() == 3) {
        const auto parsed = parse_decimal(method[2], max_pbkdf2_iterations);
        if (!parsed || *parsed == 0) return false;
        iterations = *parsed;
    }
    // Python's pbkdf2_hmac defaults dklen to the digest size.
    const int key_size = EVP_MD_get_size(md);
    if (key_size <= 0 || expected_hex.size() != static_cast<std::size_t>(key_size) * 2 ||
        !is_lower_hex(expected_hex))
        return false;
    if (password.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        salt.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return false;

    std::array<unsigned char, EVP_MAX_MD_SIZE> key{};
    if (PKCS5_PBKDF2_HMAC(data_of(password), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(data_of(salt)),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), md, key_size,
                          key.data()) != 1)
        return false;
    return constant_time_equal(lower_hex(key.data(), static_cast<std::size_t>(key_size)),
                               expected_hex);
}

bool verify_scrypt(const std::vector<std::string_view>& method, std::string_view salt,
                   std::string_view expected_hex, std::string_view password) {
    std::uint64_t n = werkzeug_scrypt_n, r = werkzeug_scrypt_r, p = werkzeug_scrypt_p;
    if (method.size() == 4) {
        const auto pn = parse_decimal(method[1], max_scrypt_n);
        const auto pr = parse_decimal(method[2], max_scrypt_r);
        const auto pp = parse_decimal(method[3], max_scrypt_p);
        if (!pn || !pr || !pp) return false;
        n = *pn;
        r = *pr;
        p = *pp;
    } else if (method.size() != 1) {
        return false;  // Werkzeug takes either no parameters or all three
    }
    if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0) return false;
    if (128 * n * r > max_scrypt_memory || n * r * p > max_scrypt_work) return false;
    if (expected_hex.size() != werkzeug_scrypt_key_size * 2 || !is_lower_hex(expected_hex))
        return false;

    // The same memory cap Werkzeug passes to hashlib, so a hash it could not verify fails here too.
    const std::uint64_t maxmem = 132 * n * r * p;
    std::array<unsigned char, werkzeug_scrypt_key_size> key{};
    if (EVP_PBE_scrypt(data_of(password), password.size(),
                       reinterpret_cast<const unsigned char*>(data_of(salt)), salt.size(), n, r, p,
                       maxmem, key.data(), key.size()) != 1)
        return false;
    return constant_time_equal(lower_hex(key.data(), key.size()), expected_hex);
}

// Werkzeug's check_password_hash: `method$salt$hash`, split at the first two `$`; the salt is used
// as the bytes it is written with (UTF-8), whatever its length or alphabet.
bool verify_werkzeug(std::string_view stored, std::string_view password) {
    const std::size_t first = stored.find('$');
    if (first == std::string_view::npos) return false;
    const std::size_t second = stored.find('$', first + 1);
    if (second == std::string_view::npos) return false;
    const std::string_view salt = stored.substr(first + 1, second - first - 1);
    const std::string_view expected_hex = stored.substr(second + 1);
    // Werkzeug's gen_salt never makes an empty salt; one is hand-made or damaged.
    if (salt.empty() || salt.size() > max_salt_size) return false;

    const auto method = split(stored.substr(0, first), ':');
    if (method[0] == "pbkdf2") return verify_pbkdf2(method, salt, expected_hex, password);
    if (method[0] == "scrypt") return verify_scrypt(method, salt, expected_hex, password);
    return false;  // plain, bare hashlib names (Werkzeug < 2.3, never its default since 0.9), ...
}

struct argon2_cost {
    std::uint64_t memory_kib;
    std::uint64_t passes;
    std::uint64_t lanes;
};

// Reads m, t and p from `$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>` so that the costs can
// be bounded before libsodium spends them.
std::optional<argon2_cost> argon2id_cost(std::string_view stored) {
    const auto fields = split(stored, '$');
    if (fields.size() != 6 || !fields[0].empty() || fields[1] != "argon2id" || fields[2] != "v=19")
        return std::nullopt;
    const auto params = split(fields[3], ',');
    if (params.size() != 3 || !params[0].starts_with("m=") || !params[1].starts_with("t=") ||
        !params[2].starts_with("p="))
        return std::nullopt;
    const auto m = parse_decimal(params[0].substr(2), max_argon2_memory_kib);
    const auto t = parse_decimal(params[1].substr(2), max_argon2_passes);
    const auto p = parse_decimal(params[2].substr(2), max_argon2_lanes);
    if (!m || !t || !p) return std::nullopt;
    return argon2_cost{*m, *t, *p};
}

bool verify_argon2id(std::string_view stored, std::string_view password) {
    if (stored.size() > max_argon2_string || stored.find('\0') != std::string_view::npos)
        return false;
    const auto cost = argon2id_cost(stored);
    if (!cost || cost->passes == 0 || cost->lanes == 0 ||
        cost->memory_kib * cost->passes > max_argon2_work_kib)
        return false;
    ensure_sodium();
    const std::string terminated(stored);  // libsodium reads a C string
    return crypto_pwhash_argon2id_str_verify(terminated.c_str(), data_of(password),
                                             password.size()) == 0;
}

bool iequal_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Number of code points in well-formed UTF-8, or nullopt for anything else (overlong forms,
// surrogates, stray continuation bytes, truncated sequences).
std::optional<std::size_t> code_points(std::string_view s) {
    static constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++count) {
        const auto lead = static_cast<unsigned char>(s[i]);
        std::size_t length;
        std::uint32_t cp;
        if (lead < 0x80) {
            length = 1;
            cp = lead;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2;
            cp = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3;
            cp = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4;
            cp = lead & 0x07;
        } else {
            return std::nullopt;
        }
        if (s.size() - i < length) return std::nullopt;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (next & 0x3F);
        }
        if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return std::nullopt;
        i += length;
    }
    return count;
}

}  // namespace

std::string hash_password(std::string_view password) {
    ensure_sodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), data_of(password), password.size(), argon2id_opslimit,
                              argon2id_memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("Argon2id hashing failed (out of memory?)");
    return std::string(out.data());
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
    try {
        if (stored_hash.starts_with(argon2id_prefix)) return verify_argon2id(stored_hash, password);
        return verify_werkzeug(stored_hash, password);
    } catch (const std::exception&) {
        return false;  // bad_alloc or libsodium unavailable: not a match, and not a crash
    }
}

bool needs_rehash(std::string_view stored_hash) {
    if (!stored_hash.starts_with(argon2id_prefix) || stored_hash.size() > max_argon2_string ||
        stored_hash.find('\0') != std::string_view::npos || !argon2id_cost(stored_hash))
        return true;
    try {
        ensure_sodium();
        const std::string terminated(stored_hash);
        // 0: our parameters; 1: other parameters; -1: not a valid Argon2id string.
        return crypto_pwhash_argon2id_str_needs_rehash(terminated.c_str(), argon2id_opslimit,
                                                       argon2id_memlimit) != 0;
    } catch (const std::exception&) {
        return true;
    }
}

const std::string& dummy_hash() {
    static const std::string hash = [] {
        ensure_sodium();
        std::array<char, 32> password{};
        randombytes_buf(password.data(), password.size());
        std::string h = hash_password(std::string_view(password.data(), password.size()));
        sodium_memzero(password.data(), password.size());
        return h;
    }();
    return hash;
}

std::optional<std::string> password_problem(std::string_view password, std::string_view email) {
    const auto length = code_points(password);
    if (!length)
        return "The password contains bytes that are not valid text; please type it again.";
    if (*length < min_password_length)
        return "The password must be at least " + std::to_string(min_password_length) +
               " characters long.";
    if (*length > max_password_length)
        return "The password must be at most " + std::to_string(max_password_length) +
               " characters long.";
    // Email addresses are compared lower-cased everywhere (SPEC §6); they are ASCII in practice.
    if (!email.empty() && iequal_ascii(password, email))
        return std::string("The password must not be your email address.");
    return std::nullopt;
}

}  // namespace portal::auth
