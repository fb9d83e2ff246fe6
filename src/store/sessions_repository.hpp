// Server-side sessions: customers' in the Flask portal's ActiveSessions, admins' in AdminSessions.
#pragma once

#include "store/database.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace portal::store {

// session_id is the keyed hash of the cookie's token, never the token itself.
struct customer_session_record {
    std::string session_id;
    int customer_id = 0;
    time_point created_at{};
    time_point last_seen{};
    std::optional<time_point>
        expires_at;  // absolute expiry; NULL on sessions the Flask portal made
    std::string ip_address;
    std::string user_agent;
    std::string csrf_secret;
};

// The account behind a session, as access checks need it.
struct session_customer {
    int customer_id = 0;
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string erp_customer_name;
    bool is_active = false;
    bool must_reset_password = false;
};

struct customer_session {
    customer_session_record session;
    session_customer customer;
};

// One line of the admin "who is signed in" page.
struct session_listing {
    std::string session_id;
    int customer_id = 0;
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string ip_address;
    std::string user_agent;
    time_point created_at{};
    time_point last_seen{};
};

struct admin_session_record {
    std::string session_id;
    std::string admin_username;
    std::string auth_method;  // "local" or "ldap"
    time_point created_at{};
    time_point last_seen{};
    std::string ip_address;
    std::string user_agent;
    std::string csrf_secret;
};

class sessions_repository {
  public:
    explicit sessions_repository(database& db) : db_(db) {}

    void create_customer_session(const customer_session_record& session);
    std::optional<customer_session> find_customer_session(const std::string& session_id);
    bool touch_customer_session(const std::string& session_id, time_point now);
    bool delete_customer_session(const std::string& session_id);
    int delete_customer_sessions(int customer_id);
    // Ends sessions idle longer than `idle`, past expires_at, or (with no expires_at) older than
    // `lifetime`. Returns how many.
    int delete_expired_customer_sessions(time_point now, std::chrono::seconds idle,
                                         std::chrono::seconds lifetime);
    std::vector<session_listing> list_customer_sessions();  // most recently seen first
    long long count_customer_sessions();

    void create_admin_session(const admin_session_record& session);
    std::optional<admin_session_record> find_admin_session(const std::string& session_id);
    bool touch_admin_session(const std::string& session_id, time_point now);
    bool delete_admin_session(const std::string& session_id);
    int delete_expired_admin_sessions(time_point now, std::chrono::seconds idle,
                                      std::chrono::seconds lifetime);
    long long count_admin_sessions();

  private:
    database& db_;
};

}  // namespace portal::store

// Housekeeping's automatic sign-out of idle sessions (admin sessions page, issue 6).
namespace portal::store {

// Deletes one customer session only if it has still not been seen since `idle_before`, so a
// session used between the listing and the delete survives. True when it was deleted.
bool delete_customer_session_if_idle(database& db, const std::string& session_id,
                                     time_point idle_before);

}  // namespace portal::store

// A set-password link waiting to be shown to the admin who made it (web/link_notices.hpp):
// AdminSessions.pending_notice (migration 4). The value is opaque here and sealed by the caller;
// on the session's row, every instance sees it and it goes when the session does.
namespace portal::store {

// The widest value pending_notice holds on every dialect (NVARCHAR(4000) on SQL Server).
inline constexpr std::size_t admin_notice_width = 4000;

// True when the session has a notice waiting: a plain read, so the pages that usually have
// nothing to show write nothing.
bool admin_session_has_notice(database& db, const std::string& session_id);

// Replaces the session's notice with what `change` makes of it, in one transaction whose first
// statement takes the row's write lock (an UPDATE … WHERE session_id = :id, with AND
// pending_notice IS NOT NULL when only_if_pending), so a second request of the same session waits
// and then sees the first one's result: a notice is taken by one request only. `change` gets the
// stored value (nullopt: none) and returns the new one (nullopt clears it; the same value writes
// nothing); it may run more than once, as the transaction is retried after a conflict. False,
// without calling `change`, when there is no such session (or, with only_if_pending, no notice).
// Joins the caller's transaction when there is one.
bool change_admin_session_notice(
    database& db, const std::string& session_id, bool only_if_pending,
    const std::function<std::optional<std::string>(const std::optional<std::string>&)>& change);

}  // namespace portal::store
