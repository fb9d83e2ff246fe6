#include "web/link_notices.hpp"

namespace portal::web {

void link_notices::put(const std::string& session_id, link_notice notice) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    drop_old(now);
    const auto key = std::make_pair(session_id, notice.customer_id);
    notices_[key] = held{std::move(notice), now};
}

std::optional<link_notice> link_notices::take(const std::string& session_id, int customer_id) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    drop_old(now);
    const auto it = notices_.find(std::make_pair(session_id, customer_id));
    if (it == notices_.end()) return std::nullopt;
    auto notice = std::move(it->second.notice);
    notices_.erase(it);
    return notice;
}

std::size_t link_notices::size() const {
    std::lock_guard lock(mutex_);
    return notices_.size();
}

void link_notices::drop_old(std::chrono::steady_clock::time_point now) {
    for (auto it = notices_.begin(); it != notices_.end();) {
        if (now - it->second.made > keep_for)
            it = notices_.erase(it);
        else
            ++it;
    }
}

}  // namespace portal::web
