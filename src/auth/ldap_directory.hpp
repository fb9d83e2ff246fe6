// Administrators from a directory (Active Directory or any LDAP server, SPEC §1/§2 AD_* keys):
// the service account finds the user, membership of AD_PORTAL_ADMIN_GROUP is checked (nested groups
// too), then a bind as the user checks the password. Every call is blocking and bounded by
// timeouts.
#pragma once

#include "app/config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace portal::auth {

// RFC 4515: `value` made safe to place inside a search filter. The filter specials `*`, `(`, `)`,
// `\` and NUL, control characters and every byte outside printable ASCII become `\xx`, so a user
// name can never add a filter component (`*)(uid=*` stays one literal value).
std::string escape_filter_value(std::string_view value);

// RFC 4514: `value` made safe to place as one attribute value inside a DN (`cn=` + this): `,` `+`
// `"` `\` `<` `>` `;` `=` get a backslash, NUL and control characters become `\xx`, and a leading
// space or `#` and a trailing space are escaped. UTF-8 passes through.
std::string escape_dn_value(std::string_view value);

// How the connection is protected. The policy (README "Directory administrators"):
// - LDAPS when AD_SERVER says ldaps:// or the port is 636 (or 3269, the global catalogue over TLS);
// - plain LDAP only when the server is on this machine (localhost, 127.x.x.x, ::1): nothing leaves
// it;
// - StartTLS, required, for every other server: a password is never sent in clear text over a
//   network. A server that refuses StartTLS, or whose certificate the system does not trust, is
//   treated as unreachable (and check-config says why).
enum class directory_transport { ldaps, start_tls, plain };

struct directory_endpoint {
    std::string uri;  // ldap://host:port or ldaps://host:port, as libldap takes it
    std::string host;
    int port = 389;
    directory_transport transport = directory_transport::start_tls;

    std::string describe() const;  // "ldaps://dc01.corp.example:636 (LDAPS)"
};

// AD_SERVER is a host name or address (`dc01.corp.example`, `10.0.0.5`, `[::1]`) or a URL
// (`ldap://host[:port]`, `ldaps://host[:port]`); AD_PORT, when set, wins over a port in the URL.
// Throws std::invalid_argument with a message naming AD_SERVER for anything else.
directory_endpoint resolve_endpoint(const app::ldap_settings& settings);

// What someone typed into the user name field, reduced to what the directory is searched for.
// `jdoe`, `CORP\jdoe` and `jdoe@corp.example` (with AD_DOMAIN=corp.example) all name jdoe.
struct login_name {
    std::string name;  // the bare account name; empty when only the UPN may be searched
    std::string upn;   // name@domain when typed so, or name@AD_DOMAIN when AD_DOMAIN is a DNS name
};
std::optional<login_name> parse_login_name(std::string_view typed, std::string_view domain);

// The search filter that finds exactly that user: a person or posixAccount whose sAMAccountName or
// uid is the bare name, or whose userPrincipalName is the UPN. Values escaped.
std::string user_filter(const login_name& login);

// The throttle's key for a directory sign-in: the lower-cased bare name, so the three spellings of
// one account share one failure count.
std::string directory_account_key(std::string_view typed, std::string_view domain);

struct directory_timeouts {
    std::chrono::milliseconds network{5000};    // TCP connect and TLS handshake
    std::chrono::milliseconds operation{5000};  // each request's answer
    std::chrono::milliseconds total{10000};     // one whole sign-in, however many requests it takes
};

enum class directory_outcome { signed_in, refused, unavailable };

struct directory_result {
    directory_outcome outcome = directory_outcome::refused;
    // refused: why, for the audit log ("unknown user", "not in the admin group", "wrong password",
    // "account disabled", …). Never shown to the person signing in.
    std::string reason;
    std::string account;  // signed_in: the directory's own name (sAMAccountName, else uid)
    std::string user_dn;
    std::string detail;  // unavailable (or a configuration problem): what failed, for the log
};

struct directory_check {
    bool ok = false;
    std::string line;  // check-config's text after "LDAP: "
};

class ldap_directory {
  public:
    explicit ldap_directory(const app::ldap_settings& settings, directory_timeouts timeouts = {});

    // Never throws for directory trouble: an unreachable, slow or misconfigured directory is an
    // `unavailable` result within timeouts.total (plus one network timeout at most).
    directory_result authenticate(std::string_view username, std::string_view password) const;

    // check-config: connect, bind as AD_SERVICE_ACCOUNT and find AD_PORTAL_ADMIN_GROUP.
    directory_check check() const;

    // Nested groups are followed this many levels up from the user, no further.
    static constexpr int max_group_depth = 8;

  private:
    const app::ldap_settings& settings_;
    directory_timeouts timeouts_;
};

// The check-config line for the LDAP dependency ("not configured" is fine).
directory_check check_directory(const app::config& cfg);

}  // namespace portal::auth
