#include "app/housekeeping.hpp"

#include "auth/sessions.hpp"
#include "store/audit_repository.hpp"
#include "store/login_attempts_repository.hpp"
#include "store/sessions_repository.hpp"
#include "store/settings_repository.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <charconv>
#include <cstdlib>
#include <ctime>

namespace portal::app {
namespace {

std::optional<int> parse_whole(std::string_view text, int min, int max) {
    int value = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || p != end || value < min || value > max)
        return std::nullopt;
    return value;
}

std::string iso(store::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char buf[32];
    return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc));
}

// Runs one chore; a failure is logged and counted as nothing done.
template <class F>
int guarded(const char* what, F&& chore) {
    try {
        return chore();
    } catch (const std::exception& e) {
        spdlog::warn("housekeeping: {} failed: {}", what, e.what());
        return 0;
    }
}

}  // namespace

idle_limit read_idle_limit(store::database& db) {
    idle_limit out;
    auto stored = store::settings_repository(db).find(std::string(idle_limit_setting));
    if (!stored) return out;
    out.updated_at = stored->updated_at;
    out.updated_by = stored->updated_by;
    if (stored->value) {
        out.minutes = parse_whole(*stored->value, idle_limit_min_minutes, idle_limit_max_minutes);
        if (!out.minutes && !stored->value->empty())
            spdlog::warn(
                "PortalSettings {} holds '{}', not a number of minutes from {} to {}: "
                "treated as off",
                idle_limit_setting, *stored->value, idle_limit_min_minutes, idle_limit_max_minutes);
    }
    return out;
}

void save_idle_limit(store::database& db, std::optional<int> minutes, const std::string& updated_by,
                     store::time_point at) {
    std::optional<std::string> value;
    if (minutes) value = std::to_string(*minutes);
    store::settings_repository(db).save(std::string(idle_limit_setting), value, updated_by, at);
}

int end_idle_sessions(store::database& db, std::chrono::minutes limit, store::time_point now) {
    const auto cutoff = now - limit;
    int ended = 0;
    for (const auto& s : store::sessions_repository(db).list_customer_sessions()) {
        if (s.last_seen >= cutoff) continue;
        db.in_transaction([&](soci::session&) {
            // Checked again by the delete: a session used since the listing is left alone.
            if (!store::delete_customer_session_if_idle(db, s.session_id, cutoff)) return;
            boost::json::object details;
            details["reason"] = "idle limit";
            details["idle_limit_minutes"] = limit.count();
            details["last_seen"] = iso(s.last_seen);
            details["ip_address"] = s.ip_address;
            store::new_audit_entry e;
            e.timestamp = now;
            e.admin_username = "SYSTEM";
            e.action_type = "CUSTOMER_SESSION_IDLE_END";
            e.target_customer_id = s.customer_id;
            e.target_customer_email = s.email;
            e.details = boost::json::serialize(details);
            store::audit_repository(db).append(e);
            ++ended;
        });
    }
    return ended;
}

std::chrono::seconds housekeeping_interval_from_environment() {
    const char* raw = std::getenv(housekeeping_interval_variable);
    if (!raw || !*raw) return std::chrono::seconds(60);
    auto seconds = parse_whole(raw, 1, 3600);
    if (!seconds)
        throw config_error(housekeeping_interval_variable,
                           "must be a whole number of seconds from 1 to 3600");
    return std::chrono::seconds(*seconds);
}

housekeeping::housekeeping(store::database& db, const config& cfg, std::chrono::seconds interval)
    : db_(db), cfg_(cfg), interval_(interval) {}

housekeeping::~housekeeping() {
    stop();
}

void housekeeping::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable() || stopping_) return;
    thread_ = std::thread([this] { loop(); });
}

void housekeeping::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void housekeeping::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        run_once(std::chrono::system_clock::now());
        lock.lock();
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

housekeeping_result housekeeping::run_once(store::time_point now) {
    housekeeping_result r;
    store::sessions_repository sessions(db_);
    r.expired_customer_sessions = guarded("ending expired customer sessions", [&] {
        return sessions.delete_expired_customer_sessions(
            now, cfg_.session_idle,
            std::chrono::duration_cast<std::chrono::seconds>(cfg_.session_hours));
    });
    r.idle_customer_sessions = guarded("ending idle customer sessions", [&] {
        const auto limit = read_idle_limit(db_);
        return limit.minutes ? end_idle_sessions(db_, std::chrono::minutes(*limit.minutes), now)
                             : 0;
    });
    r.expired_admin_sessions = guarded("ending expired admin sessions", [&] {
        return sessions.delete_expired_admin_sessions(
            now, auth::admin_idle,
            std::chrono::duration_cast<std::chrono::seconds>(cfg_.session_hours));
    });
    r.old_login_attempts = guarded("forgetting old sign-in attempts", [&] {
        return store::login_attempts_repository(db_).delete_older_than(now -
                                                                       login_attempt_retention);
    });
    if (r.idle_customer_sessions > 0)
        spdlog::info("housekeeping: ended {} session(s) idle past the administrators' limit",
                     r.idle_customer_sessions);
    spdlog::debug(
        "housekeeping: {} expired customer session(s), {} expired admin session(s), {} "
        "old sign-in attempt(s) removed",
        r.expired_customer_sessions, r.expired_admin_sessions, r.old_login_attempts);
    return r;
}

}  // namespace portal::app
