// Set-password and reset links in the Flask portal's PasswordResetTokens table (hashes only).
#pragma once

#include "store/database.hpp"

#include <optional>
#include <string>

namespace portal::store {

struct reset_token_record {
    int token_id = 0;
    int customer_id = 0;
    std::string token_hash;
    time_point expiry_date{};
    bool is_used = false;
    std::optional<std::string> purpose;  // "welcome" | "reset"; NULL on the Flask portal's tokens
    std::optional<time_point> created_at;
};

class reset_tokens_repository {
  public:
    explicit reset_tokens_repository(database& db) : db_(db) {}

    int create(int customer_id, const std::string& token_hash, time_point expires,
               const std::string& purpose, time_point now);

    // The unused, unexpired token with this hash.
    std::optional<reset_token_record> find_valid(const std::string& token_hash, time_point now);

    // Marks the token used if it is still unused and unexpired. Exactly one of any number of
    // concurrent callers gets true.
    bool mark_used(int token_id, time_point now);

    // find_valid + mark_used in one step: the customer the token was for, once.
    std::optional<int> consume(const std::string& token_hash, time_point now);

    int delete_for_customer(int customer_id);

    // The token with this hash whatever its state (used, expired): to tell the user which.
    std::optional<reset_token_record> find_by_hash(const std::string& token_hash);

  private:
    database& db_;
};

}  // namespace portal::store
