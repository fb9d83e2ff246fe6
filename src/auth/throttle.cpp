#include "auth/throttle.hpp"

#include <algorithm>

namespace portal::auth {

std::string normalise_account(std::string_view account) {
    while (!account.empty() && std::isspace(static_cast<unsigned char>(account.front()))) account.remove_prefix(1);
    while (!account.empty() && std::isspace(static_cast<unsigned char>(account.back()))) account.remove_suffix(1);
    std::string out(account);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

login_throttle::login_throttle(store::database& db, throttle_limits limits) : repo_(db), limits_(limits) {}

std::optional<std::chrono::seconds> login_throttle::blocked(const std::string& account, const std::string& address) {
    if (auto wait = over_limit(store::attempt_scope::account, normalise_account(account), limits_.per_account))
        return wait;
    return over_limit(store::attempt_scope::address, address, limits_.per_address);
}

std::optional<std::chrono::seconds> login_throttle::over_limit(store::attempt_scope scope, const std::string& subject,
                                                               int limit) {
    if (subject.empty()) return std::nullopt;
    const auto since = std::chrono::system_clock::now() - limits_.window;
    if (repo_.count_failures_since(scope, subject, since) < limit) return std::nullopt;
    // The window slides, so waiting one window always clears the lockout; it is not shortened to
    // leak when the oldest failure happened.
    return std::chrono::duration_cast<std::chrono::seconds>(limits_.window);
}

void login_throttle::record(store::attempt_scope scope, const std::string& subject) {
    repo_.record(scope, subject, false, std::chrono::system_clock::now());
}

void login_throttle::record_failure(const std::string& account, const std::string& address) {
    const auto now = std::chrono::system_clock::now();
    if (!account.empty()) repo_.record(store::attempt_scope::account, normalise_account(account), false, now);
    repo_.record(store::attempt_scope::address, address, false, now);
}

void login_throttle::record_success(const std::string& account, const std::string& address) {
    repo_.clear_failures(store::attempt_scope::account, normalise_account(account));
}

}  // namespace portal::auth
