// Login attempts per account and per address, stored so throttling holds across instances.
#pragma once

#include "store/database.hpp"

#include <string>
#include <string_view>

namespace portal::store {

enum class attempt_scope { account, address };

std::string_view to_string(attempt_scope scope);  // "account" | "address"

class login_attempts_repository {
  public:
    explicit login_attempts_repository(database& db) : db_(db) {}

    // `subject` is an email or a client address; it is stored lower-cased.
    void record(attempt_scope scope, const std::string& subject, bool succeeded, time_point at);

    // Failed attempts at or after `since`.
    int count_failures_since(attempt_scope scope, const std::string& subject, time_point since);

    // Forgets the subject's failures (after a successful login). Returns how many.
    int clear_failures(attempt_scope scope, const std::string& subject);

    // Housekeeping: drops attempts older than `before`. Returns how many.
    int delete_older_than(time_point before);

  private:
    database& db_;
};

}  // namespace portal::store
