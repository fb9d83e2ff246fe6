#include "auth/tokens.hpp"

#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <thread>

namespace auth = portal::auth;

namespace {

bool is_base64url(std::string_view s) {
    for (const char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

TEST(random_token, is_43_base64url_characters) {
    for (int i = 0; i < 100; ++i) {
        const std::string token = auth::random_token();
        EXPECT_EQ(token.size(), 43u);
        EXPECT_TRUE(is_base64url(token)) << token;
    }
}

TEST(random_token, does_not_repeat) {
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) seen.insert(auth::random_token());
    EXPECT_EQ(seen.size(), 10000u);
}

TEST(random_token, uses_the_whole_alphabet) {
    // 256 random bits in 43 characters: over a few thousand tokens every one of the 64 symbols
    // turns up, which a broken encoder (wrong table, stuck bits) would not manage.
    std::set<char> symbols;
    for (int i = 0; i < 2000; ++i)
        for (const char c : auth::random_token()) symbols.insert(c);
    EXPECT_EQ(symbols.size(), 64u);
}

TEST(keyed_hash, matches_rfc_4231) {
    // Test case 1: key = 0x0b * 20, data = "Hi There".
    EXPECT_EQ(auth::keyed_hash(std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 2: key = "Jefe", data = "what do ya want for nothing?".
    EXPECT_EQ(auth::keyed_hash("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: a 131-byte key, longer than the block size, is hashed first.
    EXPECT_EQ(auth::keyed_hash(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(keyed_hash, is_right_when_a_key_repeats_or_comes_back_and_on_other_threads) {
    // Each thread keeps a context for the last key; repeating, switching and returning to a key
    // must all give the RFC 4231 answers.
    const std::string tc1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    const std::string tc2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    auto both = [&] {
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(auth::keyed_hash(std::string(20, '\x0b'), "Hi There"), tc1);
            EXPECT_EQ(auth::keyed_hash(std::string(20, '\x0b'), "Hi There"), tc1);
            EXPECT_EQ(auth::keyed_hash("Jefe", "what do ya want for nothing?"), tc2);
        }
    };
    both();
    std::thread other(both);
    other.join();
}

TEST(keyed_hash, is_64_lowercase_hex_and_depends_on_key_and_token) {
    const std::string key(32, 'k');
    const std::string h = auth::keyed_hash(key, "token");
    EXPECT_EQ(h.size(), 64u);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(h, auth::keyed_hash(key, "token"));
    EXPECT_NE(h, auth::keyed_hash(key, "token2"));
    EXPECT_NE(h, auth::keyed_hash(std::string(32, 'K'), "token"));
    EXPECT_EQ(auth::keyed_hash(key, "").size(), 64u);
}

TEST(keyed_hash, refuses_an_empty_key) {
    EXPECT_THROW(auth::keyed_hash("", "token"), std::invalid_argument);
}

TEST(constant_time_equal, compares_contents_and_length) {
    EXPECT_TRUE(auth::constant_time_equal("", ""));
    EXPECT_TRUE(auth::constant_time_equal("abc", "abc"));
    EXPECT_FALSE(auth::constant_time_equal("abc", "abd"));
    EXPECT_FALSE(auth::constant_time_equal("abc", "ab"));
    EXPECT_FALSE(auth::constant_time_equal("", "a"));
    EXPECT_TRUE(
        auth::constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
    EXPECT_FALSE(
        auth::constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(csrf, token_is_valid_for_its_secret_and_binding) {
    const std::string secret = auth::random_token();
    const std::string token = auth::csrf_token(secret, "session-a");
    EXPECT_EQ(token.size(), 43u);
    EXPECT_TRUE(is_base64url(token)) << token;
    EXPECT_EQ(token, auth::csrf_token(secret, "session-a"));
    EXPECT_TRUE(auth::csrf_valid(secret, "session-a", token));
}

TEST(csrf, other_binding_or_secret_is_refused) {
    const std::string secret = auth::random_token();
    const std::string token = auth::csrf_token(secret, "session-a");
    EXPECT_FALSE(auth::csrf_valid(secret, "session-b", token));
    EXPECT_FALSE(auth::csrf_valid(secret, "", token));
    EXPECT_FALSE(auth::csrf_valid(auth::random_token(), "session-a", token));
    EXPECT_NE(token, auth::csrf_token(secret, "session-b"));
    // A CSRF token is never the keyed hash of the binding under the same secret.
    EXPECT_NE(auth::csrf_token(secret, "x"), auth::keyed_hash(secret, "x"));
}

TEST(csrf, garbage_is_refused) {
    const std::string secret = auth::random_token();
    const std::string token = auth::csrf_token(secret, "s");
    std::string flipped = token;
    flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
    for (const std::string& bad : {std::string(), token.substr(0, 42), token + "=", token + "A",
                                   flipped, std::string(43, 'A'), std::string(43, '\0'),
                                   std::string(100000, 'x'), std::string("not a token")}) {
        EXPECT_FALSE(auth::csrf_valid(secret, "s", bad)) << bad.size();
    }
    EXPECT_FALSE(auth::csrf_valid("", "s", token));
    EXPECT_THROW(auth::csrf_token("", "s"), std::invalid_argument);
}
