#include "auth/redirects.hpp"
#include "auth/throttle.hpp"

#include <gtest/gtest.h>

using portal::auth::is_safe_next;
using portal::auth::safe_next;

TEST(next_validation, accepts_only_same_site_paths) {
    for (const char* ok : {"/", "/inventory", "/inventory?part=A-100&sort=bin", "/admin/customers/12",
                           "/inventory#top", "/a/%2F/b"}) {
        EXPECT_TRUE(is_safe_next(ok)) << ok;
    }
    for (const char* bad : {"", "inventory", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil",
                            "https://evil.example", "http:/evil", "javascript:alert(1)", " /inventory",
                            "/%2fevil.example", "/%5Cevil.example", "/inventory\r\nSet-Cookie: a=b",
                            "/in\tventory", "/path\\with\\backslash", "/\x7f"}) {
        EXPECT_FALSE(is_safe_next(bad)) << bad;
    }
    EXPECT_FALSE(is_safe_next("/" + std::string(3000, 'a')));
    EXPECT_EQ(safe_next("//evil", "/inventory"), "/inventory");
    EXPECT_EQ(safe_next("/inventory?bin=B-1", "/x"), "/inventory?bin=B-1");
}

TEST(throttle_keys, accounts_are_trimmed_and_lower_cased) {
    EXPECT_EQ(portal::auth::normalise_account("  Ada@Example.COM \t"), "ada@example.com");
    EXPECT_EQ(portal::auth::normalise_account(""), "");
}
