// A throwaway OpenLDAP server for tests: slapd as this process's child on a free loopback port,
// with a generated slapd.conf and an MDB database in a temporary folder, stopped on destruction.
#pragma once

#include "support/portal_process.hpp"

#include <string>

#include <sys/types.h>

namespace portal::testing {

// The directory looks enough like Active Directory for the portal's purposes: sAMAccountName and
// userPrincipalName exist (AD's own OIDs, on extensibleObject entries), the memberof overlay keeps
// memberOf up to date, and an unauthenticated bind (a DN with an empty password) "succeeds"
// anonymously as it does on AD. It does not know AD's in-chain matching rule, like any OpenLDAP.
// Access: anonymous may only bind; signed-in users read everything but passwords.
// With `tls`, a test CA (made with the openssl command) signs a certificate for 127.0.0.1, 0.0.0.0
// and localhost; slapd then offers StartTLS on port() and LDAPS on ldaps_port().
// Any failure to start throws std::runtime_error carrying slapd's log.
class slapd_server {
  public:
    static constexpr const char* suffix = "dc=example,dc=test";
    static constexpr const char* root_dn = "cn=root,dc=example,dc=test";
    enum class security { plain, tls };

    explicit slapd_server(security s = security::plain);
    ~slapd_server();
    slapd_server(const slapd_server&) = delete;
    slapd_server& operator=(const slapd_server&) = delete;

    int port() const { return port_; }
    std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
    int ldaps_port() const { return ldaps_port_; }  // 0 without TLS
    std::string ca_file() const { return dir_.path + "/ca.pem"; }
    // A CA that signed nothing slapd has: trusting only it must fail the handshake.
    std::string other_ca_file() const { return dir_.path + "/other-ca.pem"; }

    // Adds entries (LDIF text) over LDAP as the root DN, so overlays such as memberof see them.
    // Throws with ldapadd's output when it fails.
    void add(const std::string& ldif);

    // SIGTERM, then waits for slapd to exit (SIGKILL after 10 s). Idempotent.
    void stop();
    bool running();

    std::string log() const;

  private:
    void start();
    void make_certificates();

    temp_dir dir_;
    std::string root_password_;
    std::string log_path_;
    int port_ = 0;
    int ldaps_port_ = 0;
    bool tls_ = false;
    pid_t pid_ = -1;
};

// One LDIF line `name: value`, base64-encoded (`name:: …`) when the value needs it (RFC 2849).
std::string ldif_line(const std::string& name, const std::string& value);

}  // namespace portal::testing
