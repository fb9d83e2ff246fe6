#include "auth/ldap_directory.hpp"

#include <lber.h>
#include <ldap.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

namespace portal::auth {
namespace {

using steady = std::chrono::steady_clock;

// Active Directory's LDAP_MATCHING_RULE_IN_CHAIN (nested membership in one query) and the rootDSE
// capability that says the server is Active Directory (so a "no" from that rule is final).
constexpr std::string_view in_chain_rule = "1.2.840.113556.1.4.1941";
constexpr std::string_view active_directory_capability = "1.2.840.113556.1.4.800";
// The group object classes of Active Directory, RFC 4519 / 2307 directories.
constexpr std::string_view group_classes =
    "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)"
    "(objectClass=posixGroup))";
// A user in more groups than this per level is unusual; the walk stays bounded either way.
constexpr int max_groups_per_level = 100;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

void append_hex(std::string& out, unsigned char c) {
    constexpr const char* digits = "0123456789abcdef";
    out += '\\';
    out += digits[c >> 4];
    out += digits[c & 15];
}

bool is_loopback(std::string_view host) {
    const auto h = lower(host);
    if (h == "localhost" || h == "[::1]") return true;
    if (!h.starts_with("127.")) return false;
    return std::all_of(h.begin(), h.end(), [](char c) {
        return c == '.' || std::isdigit(static_cast<unsigned char>(c));
    });
}

// Thrown inside a sign-in when the directory cannot be used for it: down, slow, TLS refused, the
// service account refused, an unexpected error. The sign-in then answers "cannot be reached".
struct directory_down : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// liblber writes with write(2): a server that went away would raise SIGPIPE and end the whole
// process. SIGPIPE is blocked on this thread while libldap works and one that became pending is
// swallowed — the technique libpq uses, so nothing process-wide changes.
class sigpipe_guard {
  public:
    sigpipe_guard() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &saved_);
    }
    ~sigpipe_guard() {
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
            const timespec no_wait{0, 0};
            sigtimedwait(&pipe_, nullptr, &no_wait);
        }
        pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    }
    sigpipe_guard(const sigpipe_guard&) = delete;
    sigpipe_guard& operator=(const sigpipe_guard&) = delete;

  private:
    sigset_t pipe_{};
    sigset_t saved_{};
    bool was_pending_ = false;
};

// Result codes that mean "the directory is not usable right now" rather than "no".
bool is_outage(int rc) {
    return rc < 0 || rc == LDAP_BUSY || rc == LDAP_UNAVAILABLE || rc == LDAP_TIMELIMIT_EXCEEDED ||
           rc == LDAP_ADMINLIMIT_EXCEEDED || rc == LDAP_STRONG_AUTH_REQUIRED ||
           rc == LDAP_CONFIDENTIALITY_REQUIRED;
}

bool is_connection_failure(int rc) {
    return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR;
}

timeval to_timeval(std::chrono::microseconds d) {
    if (d.count() < 1000) d = std::chrono::microseconds(1000);
    return timeval{static_cast<time_t>(d.count() / 1000000),
                   static_cast<suseconds_t>(d.count() % 1000000)};
}

struct entry {
    std::string dn;
    std::map<std::string, std::vector<std::string>> values;  // attribute names lower-cased

    const std::vector<std::string>& all(const std::string& attribute) const {
        static const std::vector<std::string> none;
        auto it = values.find(attribute);
        return it == values.end() ? none : it->second;
    }
    std::string first(const std::string& attribute) const {
        const auto& v = all(attribute);
        return v.empty() ? std::string() : v.front();
    }
};

struct search_result {
    std::vector<entry> entries;
    bool truncated = false;     // the size limit was reached
    bool missing_base = false;  // the base DN does not exist
};

struct message_free {
    void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};

// One connection for one sign-in (or one check): secured per the transport policy, every request
// bounded by the operation timeout and by the sign-in's overall deadline.
class connection {
  public:
    connection(const directory_endpoint& where, const directory_timeouts& timeouts,
               steady::time_point deadline)
        : operation_(timeouts.operation), deadline_(deadline) {
        int rc = ldap_initialize(&handle_.ld, where.uri.c_str());
        ld_ = handle_.ld;
        if (rc != LDAP_SUCCESS || !ld_)
            throw directory_down("cannot use " + where.uri + ": " + ldap_err2string(rc));
        const int version = LDAP_VERSION3;
        set_option(LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version 3");
        // Referrals would be chased with an anonymous bind to servers nobody configured.
        set_option(LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals off");
        const timeval network = to_timeval(timeouts.network);
        set_option(LDAP_OPT_NETWORK_TIMEOUT, &network, "network timeout");
        arm();
        if (where.transport != directory_transport::plain) {
            // Certificates are always verified (against the system's CAs, or LDAPTLS_CACERT),
            // whatever a local ldap.conf says, and nothing older than TLS 1.2 is spoken.
            const int demand = LDAP_OPT_X_TLS_DEMAND;
            set_option(LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "TLS certificate checks");
            const int minimum = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
            set_option(LDAP_OPT_X_TLS_PROTOCOL_MIN, &minimum, "TLS 1.2 minimum");
            trust_the_configured_cas();
            const int client = 0;
            set_option(LDAP_OPT_X_TLS_NEWCTX, &client, "TLS context");
        }
        if (where.transport == directory_transport::start_tls) {
            rc = ldap_start_tls_s(ld_, nullptr, nullptr);
            if (is_connection_failure(rc))
                throw directory_down("cannot connect: " + error_text(rc));
            if (rc != LDAP_SUCCESS)
                throw directory_down("StartTLS failed: " + error_text(rc) +
                                     " (the server needs a certificate this machine trusts, "
                                     "or use ldaps:// / AD_PORT=636)");
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // A simple bind; the result code is the caller's to judge (49 is a wrong password, not an
    // outage).
    int bind(const std::string& dn, std::string_view password, std::string& diagnostic) {
        arm();
        berval credentials{static_cast<ber_len_t>(password.size()),
                           const_cast<char*>(password.empty() ? "" : password.data())};
        const int rc = ldap_sasl_bind_s(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                                        nullptr, nullptr);
        diagnostic = diagnostic_message();
        return rc;
    }

    // A search. Outages throw; with `lenient`, any other error is an empty answer (for optional
    // questions such as the rootDSE or a matching rule the server may not know).
    search_result search(const std::string& base, int scope, const std::string& filter,
                         std::vector<const char*> attributes, int size_limit,
                         bool lenient = false) {
        timeval limit = arm();
        attributes.push_back(nullptr);
        LDAPMessage* raw = nullptr;
        const int rc = ldap_search_ext_s(ld_, base.c_str(), scope, filter.c_str(),
                                         const_cast<char**>(attributes.data()), 0, nullptr, nullptr,
                                         &limit, size_limit, &raw);
        std::unique_ptr<LDAPMessage, message_free> answer(raw);
        search_result result;
        if (rc == LDAP_NO_SUCH_OBJECT) {
            result.missing_base = true;
            return result;
        }
        if (rc == LDAP_SIZELIMIT_EXCEEDED) {
            result.truncated = true;
        } else if (rc != LDAP_SUCCESS) {
            if (lenient && !is_outage(rc)) return result;
            throw directory_down("search under \"" + base + "\" failed: " + error_text(rc));
        }
        for (LDAPMessage* e = ldap_first_entry(ld_, answer.get()); e; e = ldap_next_entry(ld_, e))
            result.entries.push_back(read_entry(e));
        return result;
    }

    std::string error_text(int rc) const {
        std::string text = ldap_err2string(rc);
        if (auto diagnostic = diagnostic_message(); !diagnostic.empty())
            text += " (" + diagnostic + ")";
        return text;
    }

  private:
    // A new handle's own TLS context starts without the trusted CAs libldap read at start-up
    // (LDAPTLS_CACERT, or TLS_CACERT in ldap.conf): libldap copies only its global context to a
    // handle, not the paths it was made from. They are copied here; with neither set, the
    // system's bundle (update-ca-certificates) is trusted.
    void trust_the_configured_cas() {
        bool any = false;
        for (const int option : {LDAP_OPT_X_TLS_CACERTFILE, LDAP_OPT_X_TLS_CACERTDIR}) {
            char* value = nullptr;
            if (ldap_get_option(nullptr, option, &value) != LDAP_OPT_SUCCESS || !value) continue;
            const std::string path(value);
            ldap_memfree(value);
            if (path.empty()) continue;
            set_option(option, path.c_str(), "trusted CAs");
            any = true;
        }
        if (!any) set_option(LDAP_OPT_X_TLS_CACERTFILE, "/etc/ssl/certs/ca-certificates.crt", "trusted CAs");
    }

    void set_option(int option, const void* value, const char* what) {
        if (ldap_set_option(ld_, option, value) != LDAP_OPT_SUCCESS)
            throw directory_down(std::string("libldap refused the option: ") + what);
    }

    // Bounds the next request by the operation timeout and what is left of the deadline.
    timeval arm() {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - steady::now());
        if (left.count() <= 0)
            throw directory_down("the directory did not finish answering in time");
        timeval tv = to_timeval(std::min<std::chrono::microseconds>(left, operation_));
        set_option(LDAP_OPT_TIMEOUT, &tv, "operation timeout");
        return tv;
    }

    std::string diagnostic_message() const {
        char* message = nullptr;
        if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) != LDAP_OPT_SUCCESS ||
            !message)
            return {};
        std::string text = message;
        ldap_memfree(message);
        return text;
    }

    entry read_entry(LDAPMessage* e) {
        entry item;
        if (char* dn = ldap_get_dn(ld_, e)) {
            item.dn = dn;
            ldap_memfree(dn);
        }
        BerElement* ber = nullptr;
        for (char* name = ldap_first_attribute(ld_, e, &ber); name;
             name = ldap_next_attribute(ld_, e, ber)) {
            auto& list = item.values[lower(name)];
            if (berval** values = ldap_get_values_len(ld_, e, name)) {
                for (int i = 0; values[i]; ++i)
                    list.emplace_back(values[i]->bv_val, values[i]->bv_len);
                ldap_value_free_len(values);
            }
            ldap_memfree(name);
        }
        if (ber) ber_free(ber, 0);
        return item;
    }

    // Unbinds (and frees) even when the constructor throws half-way.
    struct handle {
        LDAP* ld = nullptr;
        ~handle() {
            if (ld) ldap_unbind_ext_s(ld, nullptr, nullptr);
        }
    };

    std::chrono::microseconds operation_;
    steady::time_point deadline_;
    handle handle_;
    LDAP* ld_ = nullptr;
};

// Active Directory explains a refused bind in its diagnostic text ("… data 775, …").
std::string refused_bind_reason(const std::string& diagnostic) {
    static const std::pair<const char*, const char*> codes[] = {
        {"data 525", "unknown user"},
        {"data 52e", "wrong password"},
        {"data 530", "not permitted at this time"},
        {"data 531", "not permitted from this workstation"},
        {"data 532", "password expired"},
        {"data 533", "account disabled"},
        {"data 701", "account expired"},
        {"data 773", "password must be changed"},
        {"data 775", "account locked"},
    };
    const auto text = lower(diagnostic);
    for (const auto& [code, reason] : codes)
        if (text.find(code) != std::string::npos) return reason;
    return "wrong password";
}

// AD accepts user@domain and DOMAIN\user as bind names; a bare name gets AD_DOMAIN added.
std::string service_bind_name(const app::ldap_settings& s) {
    const std::string account(trim(s.service_account));
    const std::string domain(trim(s.domain));
    if (account.empty() || domain.empty() || account.find_first_of("=@\\") != std::string::npos)
        return account;
    return domain.find('.') != std::string::npos ? account + "@" + domain : domain + "\\" + account;
}

class sign_in {
  public:
    sign_in(const app::ldap_settings& settings, const directory_timeouts& timeouts,
            const directory_endpoint& where)
        : settings_(settings), connection_(where, timeouts, steady::now() + timeouts.total) {}

    void bind_service_account() {
        const std::string who = service_bind_name(settings_);
        if (!who.empty() && settings_.service_password.empty())
            throw directory_down(
                "AD_SERVICE_PASSWORD is empty (an empty password would be an "
                "unauthenticated bind)");
        std::string diagnostic;
        const int rc = connection_.bind(who, settings_.service_password, diagnostic);
        if (rc == LDAP_SUCCESS) return;
        if (is_connection_failure(rc))
            throw directory_down("cannot connect: " + connection_.error_text(rc));
        if (rc == LDAP_INVALID_CREDENTIALS)
            throw directory_down("the directory refused the service account " + who +
                                 ": check AD_SERVICE_ACCOUNT and AD_SERVICE_PASSWORD");
        throw directory_down("binding as " + (who.empty() ? std::string("anonymous") : who) +
                             " failed: " + connection_.error_text(rc));
    }

    bool is_active_directory() {
        auto root = connection_.search("", LDAP_SCOPE_BASE, "(objectClass=*)",
                                       {"supportedCapabilities"}, 1, true);
        if (root.entries.empty()) return false;
        const auto& caps = root.entries.front().all("supportedcapabilities");
        return std::find(caps.begin(), caps.end(), active_directory_capability) != caps.end();
    }

    search_result find_user(const login_name& login) {
        auto found = connection_.search(settings_.base_dn, LDAP_SCOPE_SUBTREE, user_filter(login),
                                        {"objectClass", "sAMAccountName", "uid", "memberOf"}, 2);
        if (found.missing_base)
            throw directory_down("AD_BASE_DN \"" + settings_.base_dn + "\" does not exist");
        // An AD computer account is a `user` too; it never signs in here.
        std::erase_if(found.entries, [](const entry& e) {
            const auto& classes = e.all("objectclass");
            return std::any_of(classes.begin(), classes.end(),
                               [](const std::string& c) { return lower(c) == "computer"; });
        });
        return found;
    }

    // AD_PORTAL_ADMIN_GROUP as a DN (it has an `=`), or a group's cn / sAMAccountName found under
    // AD_BASE_DN. nullopt with `problem` set when it cannot be found.
    std::optional<std::string> admin_group_dn(std::string& problem) {
        const std::string group(trim(settings_.admin_group));
        if (group.find('=') != std::string::npos) return group;
        const auto value = escape_filter_value(group);
        auto found = connection_.search(settings_.base_dn, LDAP_SCOPE_SUBTREE,
                                        "(&" + std::string(group_classes) + "(|(cn=" + value +
                                            ")(sAMAccountName=" + value + ")))",
                                        {"1.1"}, 2);
        if (found.entries.size() == 1 && !found.truncated) return found.entries.front().dn;
        problem = found.entries.empty()
                      ? "no group named \"" + group + "\" under \"" + settings_.base_dn + "\""
                      : "more than one group is named \"" + group +
                            "\": give AD_PORTAL_ADMIN_GROUP as a DN";
        return std::nullopt;
    }

    bool entry_exists(const std::string& dn) {
        return !connection_.search(dn, LDAP_SCOPE_BASE, "(objectClass=*)", {"1.1"}, 1).missing_base;
    }

    // Is `user` in `group`, directly or through nested groups?
    bool is_member(const entry& user, const std::string& group, bool active_directory,
                   std::string& problem) {
        // Active Directory answers nesting in one query (LDAP_MATCHING_RULE_IN_CHAIN).
        auto chain = connection_.search(
            user.dn, LDAP_SCOPE_BASE,
            "(memberOf:" + std::string(in_chain_rule) + ":=" + escape_filter_value(group) + ")",
            {"1.1"}, 1, true);
        if (!chain.entries.empty()) return true;
        if (active_directory) return false;

        // Elsewhere (OpenLDAP and others do not know that rule): walk up from the user one level
        // at a time, asking the admin group whether it lists any of this level's DNs, then finding
        // the groups that contain them — two requests per level, at most max_group_depth levels,
        // cycles cut by remembering every DN seen.
        std::set<std::string> seen{lower(user.dn)};
        std::vector<std::string> level{user.dn};
        const auto uid = user.first("uid");
        for (int depth = 0; !level.empty(); ++depth) {
            std::string listed;
            for (const auto& dn : level) {
                const auto v = escape_filter_value(dn);
                listed += "(member=" + v + ")(uniqueMember=" + v + ")";
            }
            if (depth == 0 && !uid.empty())
                listed += "(memberUid=" + escape_filter_value(uid) + ")";

            auto direct =
                connection_.search(group, LDAP_SCOPE_BASE, "(|" + listed + ")", {"1.1"}, 1);
            if (direct.missing_base) {
                problem = "the admin group \"" + group + "\" does not exist";
                return false;
            }
            if (!direct.entries.empty()) return true;
            if (depth == ldap_directory::max_group_depth) return false;

            std::vector<std::string> next;
            auto add = [&](const std::string& dn) {
                if (static_cast<int>(next.size()) < max_groups_per_level &&
                    seen.insert(lower(dn)).second)
                    next.push_back(dn);
            };
            // memberOf (AD, or OpenLDAP's memberof overlay) also finds groups outside AD_BASE_DN.
            if (depth == 0)
                for (const auto& dn : user.all("memberof")) add(dn);
            auto parents =
                connection_.search(settings_.base_dn, LDAP_SCOPE_SUBTREE,
                                   "(&" + std::string(group_classes) + "(|" + listed + "))",
                                   {"1.1"}, max_groups_per_level);
            for (const auto& p : parents.entries) add(p.dn);
            level = std::move(next);
        }
        return false;
    }

    int bind_as(const std::string& dn, std::string_view password, std::string& diagnostic) {
        return connection_.bind(dn, password, diagnostic);
    }
    std::string error_text(int rc) const { return connection_.error_text(rc); }

  private:
    const app::ldap_settings& settings_;
    connection connection_;
};

}  // namespace

std::string escape_filter_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f)
            append_hex(out, c);
        else
            out += ch;
    }
    return out;
}

std::string escape_dn_value(std::string_view value) {
    constexpr std::string_view specials = ",+\"\\<>;=";
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char ch = value[i];
        const auto c = static_cast<unsigned char>(ch);
        const bool first = i == 0;
        const bool last = i + 1 == value.size();
        if (c < 0x20 || c == 0x7f) {
            append_hex(out, c);
        } else if (specials.find(ch) != std::string_view::npos ||
                   (first && (ch == ' ' || ch == '#')) || (last && ch == ' ')) {
            out += '\\';
            out += ch;
        } else {
            out += ch;
        }
    }
    return out;
}

std::string directory_endpoint::describe() const {
    switch (transport) {
        case directory_transport::ldaps:
            return uri + " (LDAPS)";
        case directory_transport::start_tls:
            return uri + " (StartTLS)";
        case directory_transport::plain:
            break;
    }
    return uri + " (plain LDAP, this machine only)";
}

directory_endpoint resolve_endpoint(const app::ldap_settings& settings) {
    std::string_view v = trim(settings.server);
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("AD_SERVER \"" + settings.server + "\" " + why);
    };
    bool ldaps_scheme = false;
    if (starts_with_ci(v, "ldaps://")) {
        ldaps_scheme = true;
        v.remove_prefix(8);
    } else if (starts_with_ci(v, "ldap://")) {
        v.remove_prefix(7);
    } else if (v.find("://") != std::string_view::npos) {
        throw bad("must be a host name or an ldap:// or ldaps:// URL");
    }
    if (!v.empty() && v.back() == '/') v.remove_suffix(1);

    std::string host;
    std::string_view port_text;
    if (v.starts_with('[')) {
        const auto close = v.find(']');
        if (close == std::string_view::npos) throw bad("has an unclosed [");
        host = std::string(v.substr(0, close + 1));
        auto rest = v.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw bad("must be a host name or an ldap:// or ldaps:// URL");
            port_text = rest.substr(1);
        }
    } else if (v.find(':') != v.rfind(':')) {
        host = "[" + std::string(v) + "]";  // a bare IPv6 address
    } else if (const auto colon = v.find(':'); colon != std::string_view::npos) {
        host = std::string(v.substr(0, colon));
        port_text = v.substr(colon + 1);
    } else {
        host = std::string(v);
    }
    const bool host_ok =
        !host.empty() && host != "[]" && std::all_of(host.begin(), host.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                   c == '_' || c == '[' || c == ']' || c == ':';
        });
    if (!host_ok) throw bad("must be a host name or an ldap:// or ldaps:// URL");

    std::optional<int> url_port;
    if (!port_text.empty()) {
        int p = 0;
        for (char c : port_text) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || p > 65535)
                throw bad("has a bad port");
            p = p * 10 + (c - '0');
        }
        if (p < 1 || p > 65535) throw bad("has a bad port");
        url_port = p;
    }

    directory_endpoint e;
    e.host = host;
    e.port = settings.port ? *settings.port : url_port ? *url_port : (ldaps_scheme ? 636 : 389);
    const bool ldaps = ldaps_scheme || e.port == 636 || e.port == 3269;
    e.transport = ldaps               ? directory_transport::ldaps
                  : is_loopback(host) ? directory_transport::plain
                                      : directory_transport::start_tls;
    e.uri = std::string(ldaps ? "ldaps://" : "ldap://") + host + ":" + std::to_string(e.port);
    return e;
}

std::optional<login_name> parse_login_name(std::string_view typed, std::string_view domain) {
    typed = trim(typed);
    domain = trim(domain);
    if (typed.empty()) return std::nullopt;
    login_name login;
    if (const auto slash = typed.find('\\'); slash != std::string_view::npos) {
        // DOMAIN\name, the down-level logon name; AD_BASE_DN already says which domain.
        const auto name = typed.substr(slash + 1);
        if (name.empty() || name.find_first_of("\\@") != std::string_view::npos)
            return std::nullopt;
        login.name = std::string(name);
    } else if (const auto at = typed.rfind('@'); at != std::string_view::npos) {
        const auto name = typed.substr(0, at);
        const auto suffix = typed.substr(at + 1);
        if (name.empty() || suffix.empty() || name.find('@') != std::string_view::npos)
            return std::nullopt;
        login.upn = std::string(typed);
        // name@AD_DOMAIN may also be the account name with the domain written out.
        if (!domain.empty() && lower(suffix) == lower(domain)) login.name = std::string(name);
    } else {
        login.name = std::string(typed);
    }
    if (login.upn.empty() && domain.find('.') != std::string_view::npos)
        login.upn = login.name + "@" + std::string(domain);
    return login;
}

std::string user_filter(const login_name& login) {
    std::string any;
    if (!login.name.empty()) {
        const auto name = escape_filter_value(login.name);
        any += "(sAMAccountName=" + name + ")(uid=" + name + ")";
    }
    if (!login.upn.empty()) any += "(userPrincipalName=" + escape_filter_value(login.upn) + ")";
    // No NOT here: `(!(objectClass=computer))` is Undefined, hence false, on a server that does not
    // know the class; computer accounts are left out after the search instead.
    return "(&(|(objectClass=person)(objectClass=posixAccount))(|" + any + "))";
}

std::string directory_account_key(std::string_view typed, std::string_view domain) {
    auto login = parse_login_name(typed, domain);
    if (!login) return lower(trim(typed));
    return lower(login->name.empty() ? login->upn : login->name);
}

ldap_directory::ldap_directory(const app::ldap_settings& settings, directory_timeouts timeouts)
    : settings_(settings), timeouts_(timeouts) {}

directory_result ldap_directory::authenticate(std::string_view username,
                                              std::string_view password) const {
    directory_result result;
    const auto refuse = [&](std::string reason) {
        result.outcome = directory_outcome::refused;
        result.reason = std::move(reason);
        return result;
    };
    // An empty password makes a simple bind "unauthenticated": many servers (AD among them)
    // answer success for any DN. It never reaches the directory.
    if (password.empty()) return refuse("empty password");
    const auto login = parse_login_name(username, settings_.domain);
    if (!login) return refuse("unknown user");

    sigpipe_guard quiet_pipe;
    try {
        const auto where = resolve_endpoint(settings_);
        sign_in directory(settings_, timeouts_, where);
        directory.bind_service_account();
        const bool active_directory = directory.is_active_directory();

        auto users = directory.find_user(*login);
        if (users.entries.empty()) return refuse("unknown user");
        if (users.truncated || users.entries.size() > 1) return refuse("ambiguous user name");
        const auto& user = users.entries.front();
        if (user.dn.empty()) return refuse("unknown user");
        result.user_dn = user.dn;

        std::string problem;
        const auto group = directory.admin_group_dn(problem);
        if (!group) {
            result.detail = problem;
            return refuse("admin group not found");
        }
        if (!directory.is_member(user, *group, active_directory, problem)) {
            result.detail = problem;
            return refuse(problem.empty() ? "not in the admin group" : "admin group not found");
        }

        // Only now is the password tried, so attempts on non-members never count towards a
        // directory lockout.
        std::string diagnostic;
        const int rc = directory.bind_as(user.dn, password, diagnostic);
        if (rc == LDAP_INVALID_CREDENTIALS) return refuse(refused_bind_reason(diagnostic));
        if (rc != LDAP_SUCCESS) {
            if (is_outage(rc))
                throw directory_down("binding as the user failed: " + directory.error_text(rc));
            return refuse(std::string("the directory refused the sign-in: ") + ldap_err2string(rc));
        }
        result.outcome = directory_outcome::signed_in;
        result.account = user.first("samaccountname");
        if (result.account.empty()) result.account = user.first("uid");
        if (result.account.empty()) result.account = login->name.empty() ? login->upn : login->name;
        return result;
    } catch (const std::exception& e) {
        result = {};
        result.outcome = directory_outcome::unavailable;
        result.detail = e.what();
        return result;
    }
}

directory_check ldap_directory::check() const {
    directory_endpoint where;
    try {
        where = resolve_endpoint(settings_);
    } catch (const std::invalid_argument& e) {
        return {false, e.what()};
    }
    const std::string prefix = where.describe() + ": ";
    sigpipe_guard quiet_pipe;
    try {
        sign_in directory(settings_, timeouts_, where);
        directory.bind_service_account();
        const auto who = service_bind_name(settings_);
        const std::string bound = "bound as " + (who.empty() ? std::string("anonymous") : who);
        if (!directory.entry_exists(settings_.base_dn))
            return {false, prefix + bound + ", but AD_BASE_DN \"" + settings_.base_dn +
                               "\" does not exist"};
        std::string problem;
        auto group = directory.admin_group_dn(problem);
        if (group && !directory.entry_exists(*group))
            problem = "the admin group \"" + *group + "\" does not exist";
        if (!problem.empty()) return {false, prefix + bound + ", but " + problem};
        const std::string kind =
            directory.is_active_directory() ? "Active Directory" : "LDAP directory";
        return {true,
                "ok, " + prefix + bound + " (" + kind + "); admin group \"" + *group + "\" found"};
    } catch (const std::exception& e) {
        return {false, prefix + e.what()};
    }
}

directory_check check_directory(const app::config& cfg) {
    if (!cfg.ldap.configured())
        return {true, "not configured (AD_SERVER): no directory administrators"};
    return ldap_directory(cfg.ldap).check();
}

}  // namespace portal::auth
