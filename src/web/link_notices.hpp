// Set-password links that could not be emailed, held for the admin who made them until the next
// page shows them once. Kept in this process's memory only, keyed by the admin's session id, so a
// link never travels in a URL or a cookie. With several instances behind a load balancer the
// notice is seen only when the redirect lands on the same instance (the link itself works
// everywhere: its hash is in the shared store).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace portal::web {

struct link_notice {
    int customer_id = 0;
    std::string url;
    bool welcome = true;  // a new account's link (72 hours) or a reset link (1 hour)
};

class link_notices {
  public:
    // Replaces an earlier notice of the same session and customer (that link no longer works).
    void put(const std::string& session_id, link_notice notice);
    // The notice for this session and customer, removed: it is shown at most once.
    std::optional<link_notice> take(const std::string& session_id, int customer_id);
    std::size_t size() const;

    // Unclaimed notices are dropped after this long (the admin went elsewhere).
    static constexpr std::chrono::minutes keep_for{15};

  private:
    struct held {
        link_notice notice;
        std::chrono::steady_clock::time_point made;
    };
    void drop_old(std::chrono::steady_clock::time_point now);

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, held> notices_;
};

}  // namespace portal::web
