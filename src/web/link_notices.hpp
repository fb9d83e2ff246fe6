// Set-password links that could not be emailed, held for the admin who made them until the next
// page shows them once. Kept in the store on the admin's session row (AdminSessions.pending_notice,
// migration 4), so the page after the redirect shows the link whichever instance behind a load
// balancer renders it, and a notice never outlives its session. A link is as good as a password,
// so what is stored is sealed (AES-256-GCM, key derived from SECRET_KEY) and bound to the session;
// the link never travels in a URL or a cookie.
#pragma once

#include "store/database.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace portal::web {

struct link_notice {
    int customer_id = 0;
    std::string url;
    bool welcome = true;  // a new account's link (72 hours) or a reset link (1 hour)
};

class link_notices {
  public:
    using clock_function = std::function<std::chrono::system_clock::time_point()>;

    link_notices(store::database& db, std::string_view secret_key,
                 clock_function clock = &std::chrono::system_clock::now);

    // Holds `notice` for the session, replacing an earlier one of the same customer (that link no
    // longer works). Joins the caller's transaction, so it can be stored together with the link
    // it carries. False when the session is gone (nothing is stored).
    bool put(const std::string& session_id, link_notice notice);
    // The notice for this session and customer, removed in the same transaction as it is read:
    // of two requests at once, one gets it. Notices of other customers stay.
    std::optional<link_notice> take(const std::string& session_id, int customer_id);

    // Unclaimed notices are dropped after this long (the admin went elsewhere). Times come from
    // the instances' clocks, so they are compared in whole seconds of system time.
    static constexpr std::chrono::minutes keep_for{15};
    // Notices held per session at most; the oldest go first (also when the sealed list would not
    // fit its column).
    static constexpr std::size_t max_per_session = 10;

  private:
    store::database& db_;
    std::string key_;
    clock_function clock_;
};

}  // namespace portal::web
