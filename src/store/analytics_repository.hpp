// Sign-in figures for the admin analytics page and dashboard, read from the AuditLog's
// CUSTOMER_LOGIN rows (one per successful customer sign-in; actor = the customer's email,
// target_customer_id = the account).
#pragma once

#include "store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace portal::store {

// The audit action that marks a successful customer sign-in.
inline constexpr const char* customer_login_action = "CUSTOMER_LOGIN";

struct day_logins {
    std::chrono::sys_days day;  // a UTC calendar day
    long long logins = 0;
};

struct active_customer {
    int customer_id = 0;
    std::string first_name;
    std::string last_name;
    std::string email;
    long long logins = 0;
    time_point last_login{};
};

struct recent_login {
    long long log_id = 0;
    time_point at{};
    std::string email;  // as written at sign-in time (the actor)
    std::optional<int> customer_id;
    // From the account as it is now; empty when the row names no account that still exists.
    std::string first_name;
    std::string last_name;
    std::string ip_address;
};

class analytics_repository {
  public:
    explicit analytics_repository(database& db) : db_(db) {}

    // Sign-ins in [from, to).
    long long count_logins(time_point from, time_point to);
    // Distinct accounts that signed in in [from, to) (rows that name no account are not counted).
    long long count_unique_logins(time_point from, time_point to);

    // Sign-ins per UTC day for `days` days from `first`: exactly `days` entries, oldest first,
    // days without a sign-in included with 0.
    std::vector<day_logins> logins_per_day(std::chrono::sys_days first, int days);

    // The accounts with the most sign-ins in [from, to), at most `limit`: most sign-ins first,
    // then the most recent sign-in, then the account id.
    std::vector<active_customer> most_active(time_point from, time_point to, int limit);

    // The latest `limit` sign-ins, newest first.
    std::vector<recent_login> recent_logins(int limit);

  private:
    database& db_;
};

// The dialect-specific SQL pieces, in one place (public for the tests of the T-SQL text, which
// cannot run here).
namespace analytics_sql {
// `column` (a DATETIME / TIMESTAMP holding UTC) as its 'YYYY-MM-DD' text.
std::string utc_day(dialect d, const std::string& column);
// The end of a statement that already has ORDER BY: only its first `placeholder` rows.
std::string first_rows(dialect d, const std::string& placeholder);
}  // namespace analytics_sql

}  // namespace portal::store
