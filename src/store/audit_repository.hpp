// The audit trail in the Flask portal's AuditLog table.
#pragma once

#include "store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace portal::store {

struct audit_entry {
    long long log_id = 0;
    time_point timestamp{};
    std::string admin_username;  // the actor: admin name, customer email or "SYSTEM"
    std::string action_type;
    std::optional<int> target_customer_id;
    std::optional<std::string> target_customer_email;
    std::optional<std::string> details;  // JSON
    std::optional<std::string> ip_address;
    std::optional<std::string> user_agent;
};

struct new_audit_entry {
    time_point timestamp{};
    std::string admin_username;
    std::string action_type;
    std::optional<int> target_customer_id;
    std::optional<std::string> target_customer_email;
    std::optional<std::string> details;
    std::optional<std::string> ip_address;
    std::optional<std::string> user_agent;
};

// Empty / unset fields do not filter.
struct audit_filter {
    std::string actor;        // case-insensitive substring of admin_username
    std::string action_type;  // exact
    std::optional<int> customer_id;
    std::string customer_email;      // case-insensitive substring of target_customer_email
    std::optional<time_point> from;  // inclusive
    std::optional<time_point> to;    // exclusive
    int page = 1;                    // from 1
    int per_page = 50;
};

class audit_repository {
  public:
    explicit audit_repository(database& db) : db_(db) {}

    long long append(const new_audit_entry& entry);             // the new log_id
    std::vector<audit_entry> list(const audit_filter& filter);  // newest first
    long long count(const audit_filter& filter);

  private:
    database& db_;
};

}  // namespace portal::store

// The audit page's action list and the CSV export's pages (admin audit, issue 6).
namespace portal::store {

// Every action_type present in the log, sorted.
std::vector<std::string> list_audit_actions(database& db);

// Where a newest-first read stopped: the last entry it returned.
struct audit_cursor {
    time_point timestamp{};
    long long log_id = 0;
};

// The highest log_id now (0 for an empty log). An export reads only up to it, so entries written
// while it streams (its own AUDIT_EXPORT among them) do not shift its pages.
long long max_audit_log_id(database& db);

// Up to `limit` entries matching `filter` (whose page and per_page are ignored), newest first,
// strictly after `after` in that order, with log_id <= `max_log_id`. Keyset paging: every page
// costs the same however deep into the log it is.
std::vector<audit_entry> list_audit_after(database& db, const audit_filter& filter,
                                          const std::optional<audit_cursor>& after,
                                          long long max_log_id, int limit);

}  // namespace portal::store
