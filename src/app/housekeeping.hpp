// An instance's background chores, run every minute or so on one thread: ending expired customer
// and admin sessions, ending sessions idle for longer than the administrators' limit, and
// forgetting old sign-in attempts. Every instance runs them; the store makes that safe.
#pragma once

#include "app/config.hpp"
#include "store/database.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace portal::app {

// "End sessions idle for more than N minutes", set on /admin/sessions and kept in PortalSettings
// so every instance sharing the store applies the same limit. Below 2 minutes a session in use
// could be ended: last_seen is written at most once a minute (auth::touch_interval).
inline constexpr std::string_view idle_limit_setting = "session_idle_limit_minutes";
inline constexpr int idle_limit_min_minutes = 2;
inline constexpr int idle_limit_max_minutes = 1440;

struct idle_limit {
    std::optional<int> minutes;  // nullopt: off
    std::optional<store::time_point> updated_at;
    std::string updated_by;
};

// The stored limit; off when never set, or when the stored text is not a valid limit.
idle_limit read_idle_limit(store::database& db);
void save_idle_limit(store::database& db, std::optional<int> minutes, const std::string& updated_by,
                     store::time_point at);

// Ends every customer session not seen for more than `limit`, each with a SYSTEM audit entry
// (CUSTOMER_SESSION_IDLE_END, target the customer) in the same transaction. Returns how many.
int end_idle_sessions(store::database& db, std::chrono::minutes limit, store::time_point now);

struct housekeeping_result {
    int expired_customer_sessions = 0;  // past SESSION_IDLE_MINUTES or SESSION_HOURS
    int idle_customer_sessions = 0;     // past the administrators' idle limit
    int expired_admin_sessions = 0;
    int old_login_attempts = 0;
};

// How long sign-in attempts are kept: far longer than the throttle's window, for the record.
inline constexpr std::chrono::hours login_attempt_retention{24};

// The pause between two runs, from HOUSEKEEPING_INTERVAL_SECONDS (whole seconds, 1 to 3600;
// default 60). The environment only: tests shorten it, operators rarely need to. Throws
// config_error for a malformed value.
inline constexpr const char* housekeeping_interval_variable = "HOUSEKEEPING_INTERVAL_SECONDS";
std::chrono::seconds housekeeping_interval_from_environment();

class housekeeping {
  public:
    housekeeping(store::database& db, const config& cfg, std::chrono::seconds interval);
    ~housekeeping();  // stops and joins the thread
    housekeeping(const housekeeping&) = delete;
    housekeeping& operator=(const housekeeping&) = delete;

    // Runs the chores now, then every interval, on a thread of its own.
    void start();
    // Wakes the thread and waits for it: a run in progress finishes its current statement, no
    // sleep is waited out.
    void stop();

    // One run of every chore. A failing chore (the store down, say) is logged and the others
    // still run; nothing is thrown.
    housekeeping_result run_once(store::time_point now);

  private:
    void loop();

    store::database& db_;
    const config& cfg_;
    const std::chrono::seconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace portal::app
