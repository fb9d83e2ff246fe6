// The directory sign-in's pure parts: RFC 4515 filter escaping, RFC 4514 DN escaping (checked
// against libldap's own DN parser), user-name spellings, the user filter and the TLS policy.
#include "auth/ldap_directory.hpp"

#include <gtest/gtest.h>
#include <ldap.h>

using namespace portal;
using namespace portal::auth;

namespace {

using namespace std::string_literals;

TEST(ldap_filter_escape, filter_specials_become_hex_escapes) {
    EXPECT_EQ(escape_filter_value("alice"), "alice");
    EXPECT_EQ(escape_filter_value("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
    EXPECT_EQ(escape_filter_value("a\\b"), "a\\5cb");
    EXPECT_EQ(escape_filter_value("(admin)"), "\\28admin\\29");
    EXPECT_EQ(escape_filter_value("x\0y"s), "x\\00y");
    EXPECT_EQ(escape_filter_value("tab\there\n"), "tab\\09here\\0a");
    EXPECT_EQ(escape_filter_value("\x7f"), "\\7f");
    EXPECT_EQ(escape_filter_value(""), "");
}

TEST(ldap_filter_escape, non_ascii_bytes_are_escaped_so_the_value_octets_are_unchanged) {
    // "Zoë" in UTF-8: the server decodes \c3\ab back to the same two octets.
    EXPECT_EQ(escape_filter_value("Zo\xc3\xab"), "Zo\\c3\\ab");
    // Invalid UTF-8 cannot break the filter either.
    EXPECT_EQ(escape_filter_value("\xff\xfe"), "\\ff\\fe");
}

TEST(ldap_filter_escape, an_injected_filter_stays_one_value) {
    // Whatever is typed, the escaped value has no character that ends or opens a component.
    for (const std::string typed : {"*)(uid=*", "*", "admin)(|(objectClass=*", "x)(&", "\\2a"}) {
        const auto v = escape_filter_value(typed);
        EXPECT_EQ(v.find_first_of("()*"), std::string::npos) << typed;
        // Every backslash starts a two-digit hex escape.
        for (auto pos = v.find('\\'); pos != std::string::npos; pos = v.find('\\', pos + 1)) {
            ASSERT_LT(pos + 2, v.size()) << typed;
            EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(v[pos + 1])) &&
                        std::isxdigit(static_cast<unsigned char>(v[pos + 2])))
                << typed;
        }
    }
}

TEST(ldap_filter_escape, user_filter_escapes_every_value) {
    EXPECT_EQ(user_filter({"alice", "alice@corp.example"}),
              "(&(|(objectClass=person)(objectClass=posixAccount))"
              "(|(sAMAccountName=alice)(uid=alice)(userPrincipalName=alice@corp.example)))");
    EXPECT_EQ(user_filter({"*)(uid=*", ""}),
              "(&(|(objectClass=person)(objectClass=posixAccount))"
              "(|(sAMAccountName=\\2a\\29\\28uid=\\2a)(uid=\\2a\\29\\28uid=\\2a)))");
    EXPECT_EQ(user_filter({"", "j*@x"}),
              "(&(|(objectClass=person)(objectClass=posixAccount))(|(userPrincipalName=j\\2a@x)))");
}

// The DN libldap parses back from "cn=<escaped>,dc=example": one RDN whose value is `value`.
std::string parsed_cn(const std::string& escaped) {
    LDAPDN dn = nullptr;
    const std::string text = "cn=" + escaped + ",dc=example";
    if (ldap_str2dn(text.c_str(), &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return "<unparsable>";
    std::string value;
    if (dn && dn[0] && dn[0][0] && !dn[0][1] && dn[1] && !dn[2])
        value.assign(dn[0][0]->la_value.bv_val, dn[0][0]->la_value.bv_len);
    else
        value = "<wrong shape>";
    ldap_dnfree(dn);
    return value;
}

TEST(ldap_dn_escape, specials_leading_and_trailing_characters) {
    EXPECT_EQ(escape_dn_value("Doe, Jane"), "Doe\\, Jane");
    EXPECT_EQ(escape_dn_value("a+b=c"), "a\\+b\\=c");
    EXPECT_EQ(escape_dn_value("\"q\"<x>;\\"), "\\\"q\\\"\\<x\\>\\;\\\\");
    EXPECT_EQ(escape_dn_value(" lead"), "\\ lead");
    EXPECT_EQ(escape_dn_value("trail "), "trail\\ ");
    EXPECT_EQ(escape_dn_value("#hash"), "\\#hash");
    EXPECT_EQ(escape_dn_value("mid#dle and space"), "mid#dle and space");
    EXPECT_EQ(escape_dn_value("nul\0here"s), "nul\\00here");
    EXPECT_EQ(escape_dn_value("Zo\xc3\xab"), "Zo\xc3\xab");
}

TEST(ldap_dn_escape, libldap_reads_back_exactly_the_value) {
    for (const std::string& value :
         {"Doe, Jane"s, "a+b=c"s, "\"quoted\""s, "<x>;y"s, "back\\slash"s, " lead"s, "trail "s,
          " "s, "#hash"s, "nul\0here"s, "line\nbreak"s, "Zo\xc3\xab Ünïcödé"s, "cn=admin,dc=evil"s,
          "*)(uid=*"s}) {
        EXPECT_EQ(parsed_cn(escape_dn_value(value)), value) << escape_dn_value(value);
    }
}

TEST(ldap_login_name, bare_backslash_and_upn_spellings) {
    auto bare = parse_login_name(" jdoe ", "corp.example");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->name, "jdoe");
    EXPECT_EQ(bare->upn, "jdoe@corp.example");

    auto down_level = parse_login_name("CORP\\jdoe", "corp.example");
    ASSERT_TRUE(down_level);
    EXPECT_EQ(down_level->name, "jdoe");
    EXPECT_EQ(down_level->upn, "jdoe@corp.example");

    auto upn = parse_login_name("jdoe@Corp.Example", "corp.example");
    ASSERT_TRUE(upn);
    EXPECT_EQ(upn->name, "jdoe");
    EXPECT_EQ(upn->upn, "jdoe@Corp.Example");

    // Another domain's UPN is searched only as a UPN: it must not find the local jdoe.
    auto foreign = parse_login_name("jdoe@other.example", "corp.example");
    ASSERT_TRUE(foreign);
    EXPECT_EQ(foreign->name, "");
    EXPECT_EQ(foreign->upn, "jdoe@other.example");

    // A NetBIOS AD_DOMAIN gives no UPN to guess.
    auto netbios = parse_login_name("jdoe", "CORP");
    ASSERT_TRUE(netbios);
    EXPECT_EQ(netbios->upn, "");

    for (const char* bad :
         {"", "   ", "CORP\\", "\\", "@corp.example", "jdoe@", "a\\b\\c", "a@b@c"})
        EXPECT_FALSE(parse_login_name(bad, "corp.example")) << bad;
}

TEST(ldap_login_name, every_spelling_shares_one_throttle_key) {
    EXPECT_EQ(directory_account_key("JDoe", "corp.example"), "jdoe");
    EXPECT_EQ(directory_account_key("CORP\\jdoe", "corp.example"), "jdoe");
    EXPECT_EQ(directory_account_key("jdoe@CORP.example", "corp.example"), "jdoe");
    EXPECT_EQ(directory_account_key("jdoe@other.example", "corp.example"), "jdoe@other.example");
    EXPECT_EQ(directory_account_key(" a@b@c ", "corp.example"), "a@b@c");
}

app::ldap_settings server(std::string value, std::optional<int> port = std::nullopt) {
    app::ldap_settings s;
    s.server = std::move(value);
    s.port = port;
    return s;
}

TEST(ldap_endpoint, tls_policy) {
    auto host = resolve_endpoint(server("dc01.corp.example"));
    EXPECT_EQ(host.uri, "ldap://dc01.corp.example:389");
    EXPECT_EQ(host.transport, directory_transport::start_tls);

    auto ldap_url = resolve_endpoint(server("ldap://dc01.corp.example"));
    EXPECT_EQ(ldap_url.transport, directory_transport::start_tls);  // no plain text over a network

    auto port_636 = resolve_endpoint(server("dc01.corp.example", 636));
    EXPECT_EQ(port_636.uri, "ldaps://dc01.corp.example:636");
    EXPECT_EQ(port_636.transport, directory_transport::ldaps);

    auto ldaps = resolve_endpoint(server("LDAPS://dc01.corp.example/"));
    EXPECT_EQ(ldaps.uri, "ldaps://dc01.corp.example:636");
    EXPECT_EQ(ldaps.transport, directory_transport::ldaps);

    auto gc = resolve_endpoint(server("dc01.corp.example:3269"));
    EXPECT_EQ(gc.transport, directory_transport::ldaps);

    auto custom = resolve_endpoint(server("ldaps://dc01.corp.example:1636"));
    EXPECT_EQ(custom.uri, "ldaps://dc01.corp.example:1636");

    // AD_PORT wins over the URL's port.
    EXPECT_EQ(resolve_endpoint(server("ldap://10.0.0.5:1389", 2389)).uri, "ldap://10.0.0.5:2389");

    for (const char* local : {"127.0.0.1", "ldap://localhost:3890", "[::1]", "::1", "127.1.2.3"}) {
        auto e = resolve_endpoint(server(local));
        EXPECT_EQ(e.transport, directory_transport::plain) << local;
    }
    EXPECT_EQ(resolve_endpoint(server("::1")).uri, "ldap://[::1]:389");
    // Names that merely start like loopback are not loopback.
    EXPECT_EQ(resolve_endpoint(server("127.0.0.1.evil.example")).transport,
              directory_transport::start_tls);
    EXPECT_EQ(resolve_endpoint(server("localhost.evil.example")).transport,
              directory_transport::start_tls);
    EXPECT_EQ(resolve_endpoint(server("ldaps://localhost")).transport, directory_transport::ldaps);
}

TEST(ldap_endpoint, bad_values_name_the_key) {
    for (const char* bad : {"", "http://dc01", "dc01:0", "dc01:99999", "dc01:abc", "dc 01",
                            "ldap://dc01/dc=x?y", "[::1", "ldap://"}) {
        try {
            resolve_endpoint(server(bad));
            ADD_FAILURE() << bad;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("AD_SERVER"), std::string::npos) << bad;
        }
    }
}

TEST(ldap_authenticate, empty_password_and_empty_name_never_reach_the_directory) {
    // Port 1 on loopback: a sign-in that tried to connect would come back `unavailable`.
    app::ldap_settings s = server("127.0.0.1", 1);
    s.base_dn = "dc=example,dc=test";
    s.admin_group = "Portal Admins";
    ldap_directory directory(s);
    auto empty = directory.authenticate("alice", "");
    EXPECT_EQ(empty.outcome, directory_outcome::refused);
    EXPECT_EQ(empty.reason, "empty password");
    auto nameless = directory.authenticate("  ", "secret");
    EXPECT_EQ(nameless.outcome, directory_outcome::refused);
    EXPECT_EQ(nameless.reason, "unknown user");
    auto unreachable = directory.authenticate("alice", "secret");
    EXPECT_EQ(unreachable.outcome, directory_outcome::unavailable);
    EXPECT_NE(unreachable.detail.find("Can't contact LDAP server"), std::string::npos)
        << unreachable.detail;
}

}  // namespace
