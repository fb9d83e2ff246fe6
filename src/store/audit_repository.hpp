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
