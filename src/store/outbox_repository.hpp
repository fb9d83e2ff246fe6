// Outgoing mail: queued in the transaction that causes it, sent later with retries.
#pragma once

#include "store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace portal::store {

struct outbound_mail {
    std::string recipient;
    std::string bcc;  // empty: none
    std::string subject;
    std::string text_body;
    std::string html_body;  // empty: text only
};

struct outbox_message {
    long long id = 0;
    std::string recipient;
    std::string bcc;
    std::string subject;
    std::string text_body;
    std::string html_body;
    time_point created_at{};
    int attempts = 0;
    time_point next_attempt_at{};
    std::optional<time_point> sent_at;
    std::string last_error;
};

// After this many failed attempts a message is given up and counts as failed.
inline constexpr int outbox_max_attempts = 8;

class outbox_repository {
  public:
    explicit outbox_repository(database& db) : db_(db) {}

    long long enqueue(const outbound_mail& mail, time_point now);

    // Up to `limit` due messages, oldest first, each hidden from other claimers until now + lease
    // (so a sender that dies mid-way does not lose them: they come due again).
    std::vector<outbox_message> claim_due(time_point now, int limit, std::chrono::seconds lease);

    bool mark_sent(long long id, time_point now);

    // Counts the attempt and schedules the next one with exponential backoff (`first_retry`
    // doubling, at most 60 × first_retry: 1 min … 1 h by default); after outbox_max_attempts the
    // message stays unsent for good.
    bool mark_failed(long long id, const std::string& error, time_point now,
                     std::chrono::seconds first_retry = std::chrono::minutes(1));

    // Hands a claimed message back unattempted (the sender is stopping): due again at `now`.
    bool release(long long id, time_point now);

    long long count_pending();  // unsent and still to be tried
    long long count_failed();   // unsent and given up

  private:
    database& db_;
};

}  // namespace portal::store
