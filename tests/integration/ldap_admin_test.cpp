// Directory administrators (SPEC §1, §2 AD_*): members of AD_PORTAL_ADMIN_GROUP sign in at
// /admin-login against a real slapd started by the test on loopback; everyone else gets the local
// admin's refusal page; an outage has its own message and never blocks the local admin.
#include "auth/ldap_directory.hpp"
#include "support/admin_fixture.hpp"
#include "support/slapd_server.hpp"

#include <gmock/gmock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace portal;
using namespace portal::testing;
using ::testing::HasSubstr;

namespace {

constexpr const char* service_dn = "cn=portal-svc,ou=service,dc=example,dc=test";
constexpr const char* service_password = "service secret 42";
constexpr const char* alice_password = "alice's directory password";
constexpr const char* jane_password = "Jäne pässwörd ✓";  // non-ASCII, sent as UTF-8
constexpr const char* carol_password = "carol night shift";
constexpr const char* bob_password = "bob is not an admin";
constexpr const char* unavailable_text = "The directory (Active Directory) cannot be reached";
constexpr const char* refused_text = "Incorrect username or password.";

std::string dn_of(const std::string& cn, const std::string& ou) {
    return "cn=" + auth::escape_dn_value(cn) + ",ou=" + ou + ",dc=example,dc=test";
}

std::string person(const std::string& cn, const std::string& password,
                   const std::vector<std::pair<std::string, std::string>>& extra) {
    std::string ldif = "dn: " + dn_of(cn, "people") +
                       "\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n" +
                       ldif_line("cn", cn) + "sn: Person\n" + ldif_line("userPassword", password);
    for (const auto& [name, value] : extra) ldif += ldif_line(name, value);
    return ldif + "\n";
}

std::string group(const std::string& cn, const std::vector<std::string>& members) {
    std::string ldif =
        "dn: " + dn_of(cn, "groups") + "\nobjectClass: groupOfNames\n" + ldif_line("cn", cn);
    for (const auto& m : members) ldif += ldif_line("member", m);
    return ldif + "\n";
}

// People and groups:
//   Portal Admins ∋ alice (AD-style: sAMAccountName + userPrincipalName), Warehouse Leads
//   Warehouse Leads ∋ jane (uid only; her DN holds an escaped comma), Night Shift
//   Night Shift ∋ carol                                   (two levels of nesting)
//   Loop A ∋ bob, Loop B;  Loop B ∋ Loop A                (a cycle, outside the admin group)
void load_directory(slapd_server& slapd) {
    std::string ldif;
    for (const char* ou : {"people", "groups", "service"})
        ldif += std::string("dn: ou=") + ou +
                ",dc=example,dc=test\nobjectClass: organizationalUnit\nou: " + ou + "\n\n";
    ldif += std::string("dn: ") + service_dn +
            "\nobjectClass: person\ncn: portal-svc\nsn: Service\n" +
            ldif_line("userPassword", service_password) + "\n";
    ldif += person("Alice Admin", alice_password,
                   {{"sAMAccountName", "alice"}, {"userPrincipalName", "alice@corp.example.test"}});
    ldif += person("Doe, Jane", jane_password, {{"uid", "jane"}});
    ldif += person("Carol Night", carol_password, {{"uid", "carol"}});
    ldif += person("Bob Other", bob_password,
                   {{"sAMAccountName", "bob"}, {"userPrincipalName", "bob@corp.example.test"}});
    ldif += group("Night Shift", {dn_of("Carol Night", "people")});
    ldif +=
        group("Warehouse Leads", {dn_of("Doe, Jane", "people"), dn_of("Night Shift", "groups")});
    ldif += group("Portal Admins",
                  {dn_of("Alice Admin", "people"), dn_of("Warehouse Leads", "groups")});
    ldif += group("Loop A", {dn_of("Bob Other", "people"), dn_of("Loop B", "groups")});
    ldif += group("Loop B", {dn_of("Loop A", "groups")});
    slapd.add(ldif);
}

env_map directory_env(const slapd_server& slapd, env_map overrides = {}) {
    env_map env{{"AD_SERVER", "127.0.0.1"},
                {"AD_PORT", std::to_string(slapd.port())},
                {"AD_DOMAIN", "corp.example.test"},
                {"AD_SERVICE_ACCOUNT", service_dn},
                {"AD_SERVICE_PASSWORD", service_password},
                {"AD_BASE_DN", "dc=example,dc=test"},
                {"AD_PORTAL_ADMIN_GROUP", "Portal Admins"}};
    for (auto& [k, v] : overrides) env[k] = v;
    return env;
}

struct running_directory {
    running_directory() { load_directory(slapd); }
    slapd_server slapd;
};

// The directory is started (and loaded) before the portal that points at it.
class ldap_admin_test : protected running_directory, public admin_fixture {
  protected:
    ldap_admin_test() : admin_fixture(directory_env(slapd)) {}

    // The refusal page, without what legitimately differs: the CSRF token and the echoed name.
    static std::string refusal_page(std::string body, const std::string& typed) {
        const auto field = "value=\"" + typed + "\"";
        if (auto pos = body.find(field); pos != std::string::npos)
            body.replace(pos, field.size(), "value=\"X\"");
        for (const std::string marker :
             {"name=\"csrf_token\" value=\"", "name=\"csrf-token\" content=\""}) {
            for (auto pos = body.find(marker); pos != std::string::npos;
                 pos = body.find(marker, pos + 1)) {
                const auto start = pos + marker.size();
                body.erase(start, body.find('"', start) - start);
            }
        }
        return body;
    }

    std::vector<std::string> failure_details() {
        std::vector<std::string> out;
        for (const auto& e : audit("ADMIN_LOGIN_FAILED")) out.push_back(e.details.value_or(""));
        return out;
    }
};

TEST_F(ldap_admin_test, a_member_signs_in_and_the_session_opens_the_admin_pages) {
    web_client c(portal_.port());
    auto r = c.admin_login("alice", alice_password, "/admin/audit");
    ASSERT_EQ(r.status, 303) << r.body << portal_.output();
    EXPECT_EQ(r.header("location"), "/admin/audit");
    EXPECT_FALSE(c.cookie("portal_admin_session").empty());
    auto dash = c.get("/admin");
    EXPECT_EQ(dash.status, 200);
    EXPECT_THAT(dash.body, HasSubstr("alice"));

    auto logins = audit("ADMIN_LOGIN");
    ASSERT_EQ(logins.size(), 1u);
    EXPECT_EQ(logins[0].admin_username, "alice");
    EXPECT_EQ(logins[0].details.value_or(""), R"({"method":"ldap"})");
    EXPECT_EQ(count("SELECT COUNT(*) FROM AdminSessions WHERE admin_username = 'alice' AND "
                    "auth_method = 'ldap'"),
              1);

    auto out = c.post("/logout", {{"csrf_token", c.admin_csrf()}});
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(c.get("/admin").status, 303);
}

TEST_F(ldap_admin_test, bare_domain_backslash_and_upn_spellings_all_work) {
    for (const std::string typed : {"CORP\\alice", "alice@corp.example.test", "  ALICE "}) {
        web_client c(portal_.port());
        auto r = c.admin_login(typed, alice_password);
        EXPECT_EQ(r.status, 303) << typed << "\n" << r.body;
        EXPECT_EQ(c.get("/admin").status, 200) << typed;
    }
    // The session is named after the directory's account, however it was typed.
    for (const auto& e : audit("ADMIN_LOGIN")) EXPECT_EQ(e.admin_username, "alice");
    EXPECT_EQ(audit("ADMIN_LOGIN").size(), 3u);
}

TEST_F(ldap_admin_test, members_of_nested_groups_sign_in) {
    web_client jane(portal_.port());  // Warehouse Leads ⊂ Portal Admins
    EXPECT_EQ(jane.admin_login("jane", jane_password).status, 303) << portal_.output();
    EXPECT_EQ(jane.get("/admin").status, 200);

    web_client carol(portal_.port());  // Night Shift ⊂ Warehouse Leads ⊂ Portal Admins
    EXPECT_EQ(carol.admin_login("carol", carol_password).status, 303);
    EXPECT_EQ(carol.get("/admin").status, 200);

    auto logins = audit("ADMIN_LOGIN");
    ASSERT_EQ(logins.size(), 2u);
    for (const auto& e : logins) EXPECT_EQ(e.details.value_or(""), R"({"method":"ldap"})");
}

TEST_F(ldap_admin_test,
       non_member_wrong_password_empty_password_and_injection_get_the_same_answer) {
    struct attempt {
        std::string username, password, reason;
    };
    const std::vector<attempt> attempts{
        {"bob", bob_password, "not in the admin group"},  // right password, in a group cycle
        {"alice", "not her password", "wrong password"},
        {"alice", "", "empty password"},               // would be an anonymous bind
        {"*)(uid=*", alice_password, "unknown user"},  // filter injection
        {"ali*", alice_password, "unknown user"},      // a wildcard would find alice
        {"nobody", alice_password, "unknown user"},
    };
    web_client first(portal_.port());
    auto reference = first.admin_login("nobody", "whatever");
    ASSERT_EQ(reference.status, 200);
    EXPECT_THAT(reference.body, HasSubstr(refused_text));
    for (const auto& a : attempts) {
        web_client c(portal_.port());
        auto r = c.admin_login(a.username, a.password);
        EXPECT_EQ(r.status, 200) << a.username;
        EXPECT_EQ(refusal_page(r.body, a.username), refusal_page(reference.body, "nobody"))
            << a.username;
        EXPECT_TRUE(c.cookie("portal_admin_session").empty()) << a.username;
        EXPECT_EQ(c.get("/admin").status, 303) << a.username;
    }
    EXPECT_TRUE(audit("ADMIN_LOGIN").empty());
    auto details = failure_details();
    ASSERT_EQ(details.size(), attempts.size() + 1);
    // Newest first: the audit says why, the page never does; no password is ever recorded.
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        const auto& d = details[attempts.size() - 1 - i];
        EXPECT_EQ(d, R"({"method":"ldap","reason":")" + attempts[i].reason + "\"}")
            << attempts[i].username;
        EXPECT_THAT(d, ::testing::Not(HasSubstr(alice_password)));
    }
}

TEST_F(ldap_admin_test, the_local_admin_comes_first_and_its_name_never_reaches_the_directory) {
    auto admin = signed_in_admin();
    auto logins = audit("ADMIN_LOGIN");
    ASSERT_EQ(logins.size(), 1u);
    EXPECT_EQ(logins[0].details.value_or(""), R"({"method":"local"})");

    web_client c(portal_.port());
    EXPECT_EQ(c.admin_login("CORP\\admin", admin_password).status, 200);
    auto details = failure_details();
    ASSERT_EQ(details.size(), 1u);
    EXPECT_EQ(details[0], R"({"method":"local","reason":"unknown user"})");
}

TEST_F(ldap_admin_test,
       directory_stopped_local_admin_still_signs_in_and_members_get_a_clear_message) {
    slapd.stop();
    signed_in_admin();

    web_client c(portal_.port());
    auto r = c.admin_login("alice", alice_password);
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr(unavailable_text));
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr(refused_text)));
    EXPECT_TRUE(c.cookie("portal_admin_session").empty());
    auto details = failure_details();
    ASSERT_EQ(details.size(), 1u);
    EXPECT_EQ(details[0], R"({"method":"ldap","reason":"directory unavailable"})");
    EXPECT_TRUE(portal_.running());
}

TEST_F(ldap_admin_test,
       throttling_counts_every_spelling_and_answers_before_the_directory_is_asked) {
    for (int i = 0; i < 10; ++i) {
        const std::string typed = i % 2 ? "alice" : "alice@corp.example.test";
        EXPECT_EQ(
            web_client(portal_.port()).admin_login(typed, "guess " + std::to_string(i)).status,
            200);
    }
    // With the directory gone, an attempt that reached it would get 503; a throttled one never
    // does.
    slapd.stop();
    web_client c(portal_.port());
    auto r = c.admin_login("CORP\\alice", alice_password);
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_FALSE(r.header("retry-after").empty());
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr(unavailable_text)));
}

TEST_F(ldap_admin_test, the_sign_in_page_names_the_directory_spellings) {
    auto page = web_client(portal_.port()).get("/admin-login");
    EXPECT_EQ(page.status, 200);
    EXPECT_THAT(page.body,
                HasSubstr("Windows (Active Directory) account: jdoe or jdoe@corp.example.test"));
}

TEST_F(ldap_admin_test, check_reports_the_bind_and_the_group) {
    app::config cfg;
    cfg.ldap.server = slapd.uri();
    cfg.ldap.service_account = service_dn;
    cfg.ldap.service_password = service_password;
    cfg.ldap.base_dn = "dc=example,dc=test";
    cfg.ldap.admin_group = "Portal Admins";
    auto ok = auth::check_directory(cfg);
    EXPECT_TRUE(ok.ok) << ok.line;
    EXPECT_THAT(ok.line,
                ::testing::StartsWith("ok, " + slapd.uri() + " (plain LDAP, this machine only): "));
    EXPECT_THAT(ok.line, HasSubstr(std::string("bound as ") + service_dn));
    EXPECT_THAT(ok.line, HasSubstr("cn=Portal Admins,ou=groups,dc=example,dc=test"));

    cfg.ldap.admin_group = "No Such Group";
    auto missing = auth::check_directory(cfg);
    EXPECT_FALSE(missing.ok);
    EXPECT_THAT(missing.line, HasSubstr("no group named \"No Such Group\""));

    cfg.ldap.service_password = "wrong";
    auto refused = auth::check_directory(cfg);
    EXPECT_FALSE(refused.ok);
    EXPECT_THAT(refused.line, HasSubstr("refused the service account"));

    slapd.stop();
    auto down = auth::check_directory(cfg);
    EXPECT_FALSE(down.ok);
    EXPECT_THAT(down.line, HasSubstr("cannot connect: Can't contact LDAP server"));
}

// 0.0.0.0 reaches this machine on Linux but is not a loopback name, so the portal treats it as a
// remote server: StartTLS or nothing. slapd here has no TLS, so nothing — not even the service
// account's password — is sent.
TEST_F(ldap_admin_test, a_remote_directory_without_start_tls_is_never_sent_a_password) {
    portal_process remote(directory_env(slapd, {{"AD_SERVER", "0.0.0.0"}}));
    web_client c(remote.port());
    auto r = c.admin_login("alice", alice_password);
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr(unavailable_text));
    EXPECT_THAT(remote.output(), HasSubstr("StartTLS failed"));
    EXPECT_THAT(slapd.log(), ::testing::Not(HasSubstr("BIND dn=\"cn=portal-svc")));
    EXPECT_THAT(slapd.log(), ::testing::Not(HasSubstr("BIND dn=\"cn=Alice")));

    app::config cfg;
    cfg.ldap.server = "0.0.0.0:" + std::to_string(slapd.port());
    cfg.ldap.service_account = service_dn;
    cfg.ldap.service_password = service_password;
    cfg.ldap.base_dn = "dc=example,dc=test";
    cfg.ldap.admin_group = "Portal Admins";
    auto check = auth::check_directory(cfg);
    EXPECT_FALSE(check.ok);
    EXPECT_THAT(check.line, HasSubstr("(StartTLS): StartTLS failed"));

    // The same server through a loopback name is spoken to in plain LDAP, and works.
    EXPECT_EQ(web_client(portal_.port()).admin_login("alice", alice_password).status, 303);
    EXPECT_THAT(slapd.log(), HasSubstr("BIND dn=\"cn=portal-svc"));
}

TEST_F(ldap_admin_test, check_config_prints_one_ldap_line) {
    auto env = directory_env(slapd);
    env["SECRET_KEY"] = test_secret_key();
    env["DB_NAME"] = portal_.cwd() + "/portal.db";
    auto ok = run_portal({"check-config"}, env, portal_.cwd());
    EXPECT_THAT(ok.output,
                HasSubstr("\nLDAP: ok, ldap://127.0.0.1:" + std::to_string(slapd.port()) +
                          " (plain LDAP, this machine only): bound as " + service_dn))
        << ok.output;

    env["AD_SERVICE_PASSWORD"] = "not the password";
    auto refused = run_portal({"check-config"}, env, portal_.cwd());
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_THAT(refused.output, HasSubstr("LDAP: FAILED: ")) << refused.output;
    EXPECT_THAT(refused.output, HasSubstr("check AD_SERVICE_ACCOUNT and AD_SERVICE_PASSWORD"));
    EXPECT_THAT(refused.output, ::testing::Not(HasSubstr("not the password")));
}

// AD_PORTAL_ADMIN_GROUP given as a DN outside AD_BASE_DN: the group search under the base finds
// nothing, so nested membership must come from the user's memberOf.
TEST(ldap_admin_other_settings, group_as_a_dn_outside_the_base_is_found_through_member_of) {
    running_directory directory;
    portal_process portal(directory_env(
        directory.slapd,
        {{"AD_SERVER", directory.slapd.uri()},
         {"AD_PORT", ""},
         {"AD_BASE_DN", "ou=people,dc=example,dc=test"},
         {"AD_PORTAL_ADMIN_GROUP", "cn=Portal Admins,ou=groups,dc=example,dc=test"}}));
    EXPECT_EQ(web_client(portal.port()).admin_login("alice", alice_password).status, 303);
    EXPECT_EQ(web_client(portal.port()).admin_login("jane", jane_password).status, 303);
    EXPECT_EQ(web_client(portal.port()).admin_login("bob", bob_password).status, 200);
}

TEST(ldap_admin_other_settings, directory_only_sign_in_is_open_without_a_local_admin) {
    running_directory directory;
    portal_process portal(directory_env(directory.slapd));
    web_client c(portal.port());
    auto page = c.get("/admin-login");
    EXPECT_THAT(page.body, ::testing::Not(HasSubstr("not set up on this server")));
    EXPECT_EQ(c.admin_login("alice", alice_password).status, 303);
    EXPECT_EQ(c.get("/admin").status, 200);
    // With no local admin, "admin" is just another directory name.
    EXPECT_EQ(web_client(portal.port()).admin_login("admin", "anything").status, 200);
}

// A directory with a certificate from a test CA. Trusting that CA (LDAPTLS_CACERT), StartTLS to
// a name that is not loopback and LDAPS both carry a sign-in; trusting another CA, the handshake
// fails and no password is sent.
class ldap_admin_tls : public ::testing::Test {
  protected:
    ldap_admin_tls() : slapd(slapd_server::security::tls) { load_directory(slapd); }

    env_map start_tls_env(const std::string& ca) {
        return directory_env(slapd, {{"AD_SERVER", "0.0.0.0"}, {"LDAPTLS_CACERT", ca}});
    }

    slapd_server slapd;
};

TEST_F(ldap_admin_tls, start_tls_to_a_remote_name_carries_the_sign_in) {
    portal_process portal(start_tls_env(slapd.ca_file()));
    EXPECT_EQ(web_client(portal.port()).admin_login("alice", alice_password).status, 303) << portal.output();
    const auto log = slapd.log();
    EXPECT_THAT(log, HasSubstr("EXT oid=1.3.6.1.4.1.1466.20037"));  // the StartTLS request
    EXPECT_THAT(log, HasSubstr("TLS established"));
    EXPECT_THAT(log, HasSubstr("BIND dn=\"cn=Alice"));
}

TEST_F(ldap_admin_tls, ldaps_carries_the_sign_in) {
    portal_process portal(directory_env(slapd, {{"AD_SERVER", "ldaps://127.0.0.1"},
                                                {"AD_PORT", std::to_string(slapd.ldaps_port())},
                                                {"LDAPTLS_CACERT", slapd.ca_file()}}));
    EXPECT_EQ(web_client(portal.port()).admin_login("alice", alice_password).status, 303) << portal.output();
    EXPECT_THAT(slapd.log(), HasSubstr("TLS established"));
    EXPECT_THAT(slapd.log(), ::testing::Not(HasSubstr("EXT oid=1.3.6.1.4.1.1466.20037")));
}

TEST_F(ldap_admin_tls, a_certificate_from_an_untrusted_ca_is_refused_before_any_password) {
    for (const bool ldaps : {false, true}) {
        SCOPED_TRACE(ldaps ? "LDAPS" : "StartTLS");
        auto env = start_tls_env(slapd.other_ca_file());
        if (ldaps) {
            env["AD_SERVER"] = "ldaps://127.0.0.1";
            env["AD_PORT"] = std::to_string(slapd.ldaps_port());
        }
        portal_process portal(env);
        auto r = web_client(portal.port()).admin_login("alice", alice_password);
        EXPECT_EQ(r.status, 503);
        EXPECT_THAT(r.body, HasSubstr(unavailable_text));
    }
    EXPECT_THAT(slapd.log(), ::testing::Not(HasSubstr("BIND dn=\"cn=portal-svc")));
    EXPECT_THAT(slapd.log(), ::testing::Not(HasSubstr("BIND dn=\"cn=Alice")));
}

// A loopback listener that plays a broken directory: it never answers, or it hangs up at once.
class fake_directory {
  public:
    explicit fake_directory(bool hang_up) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("fake_directory: cannot listen");
        port_ = ntohs(addr.sin_port);
        // Without a thread, the kernel completes handshakes into the backlog and nobody reads.
        if (hang_up) hang_up_ = std::thread([this] { hang_up_loop(); });
    }
    ~fake_directory() {
        stop_ = true;
        if (hang_up_.joinable()) hang_up_.join();
        ::close(fd_);
    }
    int port() const { return port_; }

  private:
    // Answers the first request (the service account's bind) with success, then resets the
    // connection at once: the client's next request is written to a dead socket (EPIPE).
    void hang_up_loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            unsigned char request[4096];
            pollfd readable{c, POLLIN, 0};
            ssize_t n = 0;
            if (::poll(&readable, 1, 2000) > 0) n = ::read(c, request, sizeof request);
            // LDAPMessage ::= SEQUENCE { messageID INTEGER, … }: echo the request's message ID.
            std::size_t at = 2 + ((n > 1 && (request[1] & 0x80)) ? (request[1] & 0x7f) : 0);
            unsigned char id =
                (n > static_cast<ssize_t>(at + 2) && request[at] == 0x02 && request[at + 1] == 1)
                    ? request[at + 2]
                    : 1;
            const unsigned char bind_success[] = {0x30, 0x0c, 0x02, 0x01, id,   0x61, 0x07,
                                                  0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
            (void)!::write(c, bind_success, sizeof bind_success);
            const linger reset{1, 0};
            ::setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            ::close(c);
        }
    }
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread hang_up_;
};

env_map fake_directory_env(const fake_directory& d) {
    return {{"AD_SERVER", "ldap://127.0.0.1:" + std::to_string(d.port())},
            {"AD_SERVICE_ACCOUNT", service_dn},
            {"AD_SERVICE_PASSWORD", service_password},
            {"AD_BASE_DN", "dc=example,dc=test"},
            {"AD_PORTAL_ADMIN_GROUP", "Portal Admins"}};
}

// A directory that accepts the TCP connection and then never answers: the operation timeout
// bounds the sign-in, the answer arrives and says so.
TEST(ldap_admin_other_settings, a_directory_that_never_answers_times_out_with_the_clear_message) {
    fake_directory silent(false);
    portal_process portal(fake_directory_env(silent));
    web_client c(portal.port());
    auto r = c.admin_login("alice", alice_password);
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr(unavailable_text));
    EXPECT_EQ(portal.terminate(), 0);
}

// A directory that hangs up mid-request: libldap's next write meets a reset socket (SIGPIPE, which
// would end the whole process if it were not blocked around the LDAP calls).
TEST(ldap_admin_other_settings, a_directory_that_hangs_up_does_not_take_the_portal_down) {
    fake_directory rude(true);
    portal_process portal(fake_directory_env(rude));
    for (int i = 0; i < 3; ++i) {
        web_client c(portal.port());
        auto r = c.admin_login("alice", alice_password);
        EXPECT_EQ(r.status, 503) << portal.output();
        EXPECT_THAT(r.body, HasSubstr(unavailable_text));
    }
    EXPECT_TRUE(portal.running());
    EXPECT_EQ(portal.terminate(), 0);
}

}  // namespace
