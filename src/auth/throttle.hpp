// Sign-in throttling, kept in the store's LoginAttempts so every instance sees the same counts.
#pragma once

#include "store/login_attempts_repository.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace portal::auth {

struct throttle_limits {
    int per_account = 10;   // failures of one account (email or admin name) …
    int per_address = 50;   // … or from one client address …
    std::chrono::minutes window{15};  // … within this window
};

class login_throttle {
public:
    explicit login_throttle(store::database& db, throttle_limits limits = {});

    // How long the caller must wait, when it is throttled; asked before the password is checked,
    // so a correct password during a lockout is refused too.
    std::optional<std::chrono::seconds> blocked(const std::string& account, const std::string& address);

    void record_failure(const std::string& account, const std::string& address);
    void record_success(const std::string& account, const std::string& address);

    // Throttling of other forms (forgot-password) by any subject, with its own limit.
    std::optional<std::chrono::seconds> over_limit(store::attempt_scope scope, const std::string& subject, int limit);
    void record(store::attempt_scope scope, const std::string& subject);

    const throttle_limits& limits() const { return limits_; }

private:
    store::login_attempts_repository repo_;
    throttle_limits limits_;
};

// Lower-cased, trimmed email or user name: the throttle's and the lookup's key.
std::string normalise_account(std::string_view account);

}  // namespace portal::auth
