#include "web/link_notices.hpp"

#include "auth/tokens.hpp"
#include "mail/sealed_text.hpp"
#include "store/sessions_repository.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace portal::web {

namespace {

namespace json = boost::json;

// The notices get a key of their own, derived from SECRET_KEY, so nothing sealed for the mail
// outbox opens as a notice or the other way round.
constexpr std::string_view key_label = "customer-portal admin link notices v1";
constexpr std::string_view sealed_prefix = "enc1:";

struct held {
    link_notice notice;
    long long made = 0;  // seconds since the epoch, system time
};

long long seconds_of(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool expired(const held& h, long long now) {
    return now - h.made > std::chrono::seconds(link_notices::keep_for).count();
}

// The notices in a stored value, oldest first. None for a value that does not open with this key,
// was sealed for another session, or is not sealed at all: only sealed values are ever written,
// so anything else did not come from us.
std::vector<held> open_notices(const std::string& key, const std::string& session_id,
                               const std::string& stored) {
    if (!stored.starts_with(sealed_prefix)) return {};
    const auto plain = mail::open_text(key, stored);
    if (!plain) return {};
    try {
        const json::value doc = json::parse(*plain);
        const auto& top = doc.as_object();
        if (top.at("session").as_string() != session_id) return {};
        std::vector<held> out;
        for (const auto& item : top.at("notices").as_array()) {
            const auto& o = item.as_object();
            held h;
            h.notice.customer_id = static_cast<int>(o.at("customer_id").as_int64());
            h.notice.url = std::string(o.at("url").as_string());
            h.notice.welcome = o.at("welcome").as_bool();
            h.made = o.at("made").as_int64();
            out.push_back(std::move(h));
        }
        return out;
    } catch (const std::exception& e) {
        spdlog::warn("link notice of an admin session is malformed and dropped: {}", e.what());
        return {};
    }
}

// The sealed value for `list` (oldest first), keeping the newest that fit in number and width;
// nullopt for an empty list, or when even the newest alone is too wide.
std::optional<std::string> seal_notices(const std::string& key, const std::string& session_id,
                                        std::vector<held> list) {
    if (list.size() > link_notices::max_per_session)
        list.erase(list.begin(), list.end() - link_notices::max_per_session);
    while (!list.empty()) {
        json::array items;
        for (const auto& h : list)
            items.push_back(json::object{{"customer_id", h.notice.customer_id},
                                         {"url", h.notice.url},
                                         {"welcome", h.notice.welcome},
                                         {"made", h.made}});
        std::string sealed = mail::seal_text(
            key, json::serialize(json::object{{"session", session_id}, {"notices", items}}));
        if (sealed.size() <= store::admin_notice_width) return sealed;
        list.erase(list.begin());
    }
    return std::nullopt;
}

}  // namespace

link_notices::link_notices(store::database& db, std::string_view secret_key, clock_function clock)
    : db_(db),
      // An empty SECRET_KEY is refused by the configuration; keyed_hash would throw on it.
      key_(secret_key.empty() ? std::string() : auth::keyed_hash(secret_key, key_label)),
      clock_(std::move(clock)) {}

bool link_notices::put(const std::string& session_id, link_notice notice) {
    const long long now = seconds_of(clock_());
    bool kept = false;
    const bool session_found = store::change_admin_session_notice(
        db_, session_id, false,
        [&](const std::optional<std::string>& current) -> std::optional<std::string> {
            auto list = current ? open_notices(key_, session_id, *current) : std::vector<held>{};
            std::erase_if(list, [&](const held& h) {
                return expired(h, now) || h.notice.customer_id == notice.customer_id;
            });
            list.push_back({notice, now});
            auto sealed = seal_notices(key_, session_id, std::move(list));
            kept = sealed.has_value();  // the newest is the last to go
            return sealed;
        });
    if (session_found && !kept)
        spdlog::warn(
            "the set-password link for customer {} is too long ({} characters) to hold "
            "for the admin: shorten APP_BASE_URL",
            notice.customer_id, notice.url.size());
    return session_found && kept;
}

std::optional<link_notice> link_notices::take(const std::string& session_id, int customer_id) {
    // Most pages have nothing waiting: a read then, not a write transaction.
    if (!store::admin_session_has_notice(db_, session_id)) return std::nullopt;
    const long long now = seconds_of(clock_());
    std::optional<link_notice> found;
    store::change_admin_session_notice(
        db_, session_id, true,
        [&](const std::optional<std::string>& current) -> std::optional<std::string> {
            found.reset();  // a retried transaction starts again from what is stored
            auto list = open_notices(key_, session_id, current.value_or(std::string()));
            const auto before = list.size();
            std::erase_if(list, [&](const held& h) { return expired(h, now); });
            const auto it = std::find_if(list.begin(), list.end(), [&](const held& h) {
                return h.notice.customer_id == customer_id;
            });
            if (it != list.end()) {
                found = std::move(it->notice);
                list.erase(it);
            }
            if (list.empty()) return std::nullopt;
            if (list.size() == before) return current;  // nothing taken or dropped
            return seal_notices(key_, session_id, std::move(list));
        });
    return found;
}

}  // namespace portal::web
