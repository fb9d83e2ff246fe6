#include "auth/password_hash.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sodium.h>

namespace auth = portal::auth;

namespace {

// Known answers made by Werkzeug 3.1.8's _hash_internal and confirmed with check_password_hash.
constexpr const char* pbkdf2_260k =
    "pbkdf2:sha256:260000$abcdefghijklmnop$"
    "32145652c28d6d344f8c69f9cc5f7cc11983eaa02d35d7c77c7d44362b527e33";
constexpr const char* scrypt_default =
    "scrypt:32768:8:1$abcdefghijklmnop$"
    "2098a7c25c0a0a626a77c6bb619c1cb62e3595cdd318877cfcae6f29f6bc3c0a96c382016c051a26f7f2071b3cb5f0"
    "82a6fb7efcf6d61b466055c44fc47317b0";

// The other Argon2id costs a hash could carry, made the way libsodium makes ours.
std::string argon2id_with(unsigned long long opslimit, std::size_t memlimit,
                          std::string_view password) {
    EXPECT_GE(sodium_init(), 0);
    char out[crypto_pwhash_STRBYTES];
    EXPECT_EQ(crypto_pwhash_str_alg(out, password.data(), password.size(), opslimit, memlimit,
                                    crypto_pwhash_ALG_ARGON2ID13),
              0);
    return out;
}

std::string repeat(std::string_view piece, int times) {
    std::string s;
    for (int i = 0; i < times; ++i) s += piece;
    return s;
}

}  // namespace

TEST(werkzeug_hashes, known_answers_verify) {
    EXPECT_TRUE(auth::verify_password(pbkdf2_260k, "secret"));
    EXPECT_TRUE(auth::verify_password(scrypt_default, "secret"));
}

TEST(werkzeug_hashes, wrong_passwords_fail) {
    for (const char* wrong : {"Secret", "secret ", "secre", "", "secretsecret"}) {
        EXPECT_FALSE(auth::verify_password(pbkdf2_260k, wrong)) << wrong;
        EXPECT_FALSE(auth::verify_password(scrypt_default, wrong)) << wrong;
    }
}

TEST(werkzeug_hashes, older_and_other_forms_verify) {
    // Werkzeug 0.9-0.11 defaults: sha1, 1000 iterations, 8-character salt.
    EXPECT_TRUE(auth::verify_password(
        "pbkdf2:sha1:1000$aB3dE6gH$8912ebb4361606a04314256c1853dda617f9f0ae", "secret"));
    // Werkzeug 0.15-1.0: 150000 iterations, 8-character salt.
    EXPECT_TRUE(
        auth::verify_password("pbkdf2:sha256:150000$Zx9Yw8Vu$"
                              "bc4093ca369e5ca851123dac2aceaeb25f2f89054212b377c41f4638af9cab74",
                              "secret"));
    // sha512 and a 22-character URL-safe salt.
    EXPECT_TRUE(auth::verify_password(
        "pbkdf2:sha512:10000$Ab-_cdEfGhIjKlMnOpQrSt$"
        "bcf79d91582d1ef4f666d83e191c9ea5e7a1962470b06c50a5e462119575f1258c66e76cab8ed6f857c1165a75"
        "0a26702a374f585d3e62498eea74d4d517080b",
        "secret"));
    // A salt with ':' and non-ASCII characters is used as its UTF-8 bytes, as is the password.
    EXPECT_TRUE(
        auth::verify_password("pbkdf2:sha256:1000$s\xC3\xA4:lt!#\xE2\x82\xAC$"
                              "663d06c424239323807c2c70451e51d8cbb53bf830cc0188d98b85f86238d4f8",
                              "p\xC3\xA4ssw\xC3\xB6rd \xE2\x9C\x93"));
    // Bare scrypt uses Werkzeug's defaults n=2^15, r=8, p=1.
    EXPECT_TRUE(auth::verify_password(
        "scrypt$abcdefghijklmnop$"
        "2098a7c25c0a0a626a77c6bb619c1cb62e3595cdd318877cfcae6f29f6bc3c0a96c382016c051a26f7f2071b3c"
        "b5f082a6fb7efcf6d61b466055c44fc47317b0",
        "secret"));
    // An empty password is hashed like any other.
    EXPECT_TRUE(auth::verify_password(
        "scrypt:16384:8:1$abcdefghijklmnop$"
        "6331dbc75e154827dc1d128a20533e2c85a6587ee7386ccbeaf4ac0bad94776244c77be40fc0e2722272c115fc"
        "0b3cbfa7801ee38aab29374be87973f1e3e23c",
        ""));
}

TEST(werkzeug_hashes, omitted_iterations_use_werkzeug_3_1_default) {
    // 1,000,000 iterations, what Werkzeug 3.1 verifies a count-less hash with.
    const std::string hex = "f143f7d7346caea4f67df9f29bda3732eb7858fddc390c4dbf905a7b854021cd";
    EXPECT_TRUE(auth::verify_password("pbkdf2:sha256$abcdefghijklmnop$" + hex, "secret"));
    EXPECT_TRUE(auth::verify_password("pbkdf2$abcdefghijklmnop$" + hex, "secret"));
    EXPECT_FALSE(auth::verify_password("pbkdf2:sha256$abcdefghijklmnop$" + hex, "secret!"));
}

TEST(werkzeug_hashes, malformed_hashes_are_false) {
    const std::string good = pbkdf2_260k;
    const std::string hex = good.substr(good.rfind('$') + 1);
    const std::string scrypt_hex =
        std::string(scrypt_default).substr(std::string(scrypt_default).rfind('$') + 1);
    const std::vector<std::string> bad = {
        "",
        "$",
        "$$",
        "secret",
        good.substr(0, good.size() - 1),                       // truncated hex
        good.substr(0, good.size() - 2),                       // truncated by a byte
        good + "0",                                            // one digit too many
        good.substr(0, good.size() - 1) + "g",                 // not hex
        good.substr(0, good.size() - 1) + "E",                 // Werkzeug's hex is lowercase
        "pbkdf2:sha256:260000abcdefghijklmnop" + hex,          // no `$` at all
        "pbkdf2:sha256:260000$abcdefghijklmnop" + hex,         // one `$`
        "pbkdf2:sha256:260000$$" + hex,                        // empty salt
        "pbkdf2:sha256:260000$abcdefghijklmnop$",              // empty hash
        "pbkdf2:sha256:260000$abcdefghijklmnop$" + hex + "$",  // `$` inside the hash
        "pbkdf2:sha256:10000001$abcdefghijklmnop$" + hex,      // over 10 million
        "pbkdf2:sha256:99999999999999999999999$abcdefghijklmnop$" + hex,
        "pbkdf2:sha256:0$abcdefghijklmnop$" + hex,
        "pbkdf2:sha256:-1$abcdefghijklmnop$" + hex,
        "pbkdf2:sha256:$abcdefghijklmnop$" + hex,  // empty count
        "pbkdf2:sha256: 260000$abcdefghijklmnop$" + hex,
        "pbkdf2:sha256:260000:1$abcdefghijklmnop$" + hex,  // too many arguments
        "pbkdf2:md5:1000$abcdefghijklmnop$" + hex,         // unsupported digest
        "pbkdf2:SHA256:260000$abcdefghijklmnop$" + hex,
        "pbkdf2:$abcdefghijklmnop$" + hex,
        "PBKDF2:sha256:260000$abcdefghijklmnop$" + hex,
        "sha256$abcdefghijklmnop$" + hex,  // pre-0.9 salted HMAC
        "plain$$secret",                   // Werkzeug's plain text
        "md5$$5ebe2294ecd0e0f08eab7690d2a6ee69",
        "bcrypt$abcdefghijklmnop$" + hex,
        "scrypt:32767:8:1$abcdefghijklmnop$" + scrypt_hex,  // n not a power of two
        "scrypt:0:8:1$abcdefghijklmnop$" + scrypt_hex,
        "scrypt:1:8:1$abcdefghijklmnop$" + scrypt_hex,
        "scrypt:32768:0:1$abcdefghijklmnop$" + scrypt_hex,
        "scrypt:32768:8:0$abcdefghijklmnop$" + scrypt_hex,
        "scrypt:32768:8$abcdefghijklmnop$" + scrypt_hex,  // two of three parameters
        "scrypt:32768:8:1:1$abcdefghijklmnop$" + scrypt_hex,
        "scrypt:1099511627776:8:1$abcdefghijklmnop$" + scrypt_hex,  // n = 2^40
        "scrypt:1048576:64:1$abcdefghijklmnop$" + scrypt_hex,       // 8 GiB
        "scrypt:131072:8:16$abcdefghijklmnop$" + scrypt_hex,        // 128 MiB, 16x the work
        "scrypt:32768:8:1$abcdefghijklmnop$" + hex,                 // 32-byte key, not 64
        "scrypt:4:1:1$abcdefghijklmnop$" + scrypt_hex,              // over Werkzeug's maxmem
        std::string("pbkdf2:sha256:260000$abc\0def$", 29) + hex,
    };
    for (const auto& stored : bad) EXPECT_FALSE(auth::verify_password(stored, "secret")) << stored;
}

TEST(argon2id, round_trip) {
    const std::string hash = auth::hash_password("correct horse battery staple");
    EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << hash;
    EXPECT_LT(hash.size(), std::size_t{crypto_pwhash_STRBYTES});
    EXPECT_TRUE(auth::verify_password(hash, "correct horse battery staple"));
    EXPECT_FALSE(auth::verify_password(hash, "correct horse battery stapl"));
    EXPECT_FALSE(auth::verify_password(hash, ""));
    EXPECT_FALSE(auth::needs_rehash(hash));
}

TEST(argon2id, salts_differ_and_multibyte_passwords_work) {
    const std::string password = "\xE2\x82\xAC uro \xF0\x9F\x94\x91 key";
    const std::string a = auth::hash_password(password);
    const std::string b = auth::hash_password(password);
    EXPECT_NE(a, b);
    EXPECT_TRUE(auth::verify_password(a, password));
    EXPECT_TRUE(auth::verify_password(b, password));
}

TEST(argon2id, other_costs_verify_but_need_rehash) {
    const std::string owasp = argon2id_with(2, 19u << 20, "secret");
    EXPECT_TRUE(auth::verify_password(owasp, "secret"));
    EXPECT_TRUE(auth::needs_rehash(owasp));
}

TEST(argon2id, malformed_or_costly_hashes_are_false) {
    const std::string good = auth::hash_password("secret");
    const std::string tail = good.substr(good.find("$", std::string("$argon2id$v=19$").size()));
    // A hash cut short by a character still states our cost, and needs_rehash only reads the cost
    // (it is asked after a successful verify); it just never verifies.
    EXPECT_FALSE(auth::verify_password(good.substr(0, good.size() - 1), "secret"));
    const std::vector<std::string> bad = {
        good.substr(0, 40),
        "$argon2id$",
        "$argon2id$v=19$m=65536,t=2,p=1$",
        "$argon2id$v=19$m=4194304,t=2,p=1" + tail,   // 4 GiB
        "$argon2id$v=19$m=65536,t=1000,p=1" + tail,  // a thousand passes
        "$argon2id$v=19$m=262144,t=16,p=1" + tail,   // each within bounds, too much together
        "$argon2id$v=19$m=65536,t=0,p=1" + tail,
        "$argon2id$v=19$m=65536,t=2,p=0" + tail,
        "$argon2id$v=19$t=2,m=65536,p=1" + tail,
        "$argon2id$v=16$m=65536,t=2,p=1" + tail,
        "$argon2id$v=19$m=65536,t=2,p=1$!!!$!!!",
        good + std::string(600, 'A'),
        std::string(good).insert(20, 1, '\0'),
    };
    for (const auto& stored : bad) {
        EXPECT_FALSE(auth::verify_password(stored, "secret")) << stored;
        EXPECT_TRUE(auth::needs_rehash(stored)) << stored;
    }
    // Changing the stated cost changes the hash, so a correct password no longer matches.
    EXPECT_FALSE(auth::verify_password("$argon2id$v=19$m=65536,t=3,p=1" + tail, "secret"));
}

TEST(needs_rehash, everything_but_our_argon2id) {
    EXPECT_TRUE(auth::needs_rehash(pbkdf2_260k));
    EXPECT_TRUE(auth::needs_rehash(scrypt_default));
    EXPECT_TRUE(auth::needs_rehash(""));
    EXPECT_TRUE(auth::needs_rehash("garbage"));
    ASSERT_GE(sodium_init(), 0);
    // Argon2i: libsodium wants at least 3 passes for it.
    char argon2i[crypto_pwhash_STRBYTES];
    ASSERT_EQ(crypto_pwhash_str_alg(argon2i, "secret", 6, 3, auth::argon2id_memlimit,
                                    crypto_pwhash_ALG_ARGON2I13),
              0);
    EXPECT_FALSE(auth::verify_password(argon2i, "secret"));  // only Argon2id is ours to accept
    EXPECT_TRUE(auth::needs_rehash(argon2i));
    EXPECT_TRUE(auth::needs_rehash(argon2id_with(3, auth::argon2id_memlimit, "secret")));
    EXPECT_FALSE(auth::needs_rehash(
        argon2id_with(auth::argon2id_opslimit, auth::argon2id_memlimit, "secret")));
}

TEST(dummy_hash, is_one_argon2id_hash_at_our_cost) {
    const std::string& first = auth::dummy_hash();
    EXPECT_EQ(&first, &auth::dummy_hash());
    EXPECT_TRUE(first.starts_with("$argon2id$"));
    EXPECT_FALSE(auth::needs_rehash(first));
    EXPECT_FALSE(auth::verify_password(first, ""));
    EXPECT_FALSE(auth::verify_password(first, "secret"));
}

TEST(password_problem, length_counts_code_points) {
    EXPECT_EQ(auth::password_problem(repeat("a", 11), "user@example.com"),
              "The password must be at least 12 characters long.");
    EXPECT_EQ(auth::password_problem(repeat("a", 12), "user@example.com"), std::nullopt);
    EXPECT_EQ(auth::password_problem(repeat("a", 128), "user@example.com"), std::nullopt);
    EXPECT_EQ(auth::password_problem(repeat("a", 129), "user@example.com"),
              "The password must be at most 128 characters long.");

    // 11 four-byte characters are 44 bytes but still too short.
    EXPECT_TRUE(auth::password_problem(repeat("\xF0\x9F\x94\x91", 11), "u@example.com"));
    EXPECT_EQ(auth::password_problem(repeat("\xC3\xA9", 12), "u@example.com"), std::nullopt);
    EXPECT_EQ(auth::password_problem(repeat("\xE2\x82\xAC", 128), "u@example.com"), std::nullopt);
    EXPECT_EQ(auth::password_problem(repeat("\xE2\x82\xAC", 129), "u@example.com"),
              "The password must be at most 128 characters long.");
    EXPECT_EQ(auth::password_problem("a\xE2\x82\xAC" + repeat("\xF0\x9F\x94\x91", 10), "u@x.com"),
              std::nullopt);
    EXPECT_EQ(auth::password_problem(repeat(" ", 12), "u@example.com"), std::nullopt);
}

TEST(password_problem, refuses_the_email_in_any_case) {
    EXPECT_EQ(auth::password_problem("Alice.Example@Mail.com", "alice.example@mail.com"),
              "The password must not be your email address.");
    EXPECT_EQ(auth::password_problem("alice.example@mail.com", "ALICE.EXAMPLE@MAIL.COM"),
              "The password must not be your email address.");
    EXPECT_EQ(auth::password_problem("alice.example@mail.com1", "alice.example@mail.com"),
              std::nullopt);
    EXPECT_EQ(auth::password_problem("twelve chars", ""), std::nullopt);
}

TEST(password_problem, refuses_malformed_utf8) {
    for (const std::string& bad :
         {repeat("a", 12) + "\xFF", repeat("a", 12) + "\xC3", repeat("a", 12) + "\xC0\xAF",
          repeat("a", 12) + "\xED\xA0\x80", repeat("a", 12) + "\xF4\x90\x80\x80",
          repeat("a", 12) + "\x80"}) {
        const auto problem = auth::password_problem(bad, "u@example.com");
        ASSERT_TRUE(problem);
        EXPECT_NE(problem->find("not valid text"), std::string::npos);
    }
}
