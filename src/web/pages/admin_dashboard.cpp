// The administrators' home: live counts linking to every admin page, and the state of the ERP,
// the local store and the mail outbox. Every figure is read per request (each a cheap COUNT).
#include "erp/snapshot_cache.hpp"
#include "store/analytics_repository.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/outbox_repository.hpp"
#include "store/sessions_repository.hpp"
#include "web/admin_support.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <chrono>
#include <cmath>

namespace portal::web {

namespace {

using namespace std::chrono;

std::string store_kind(const store::database& db) {
    std::string kind;
    switch (db.sql_dialect()) {
        case store::dialect::sqlite:
            kind = "SQLite";
            break;
        case store::dialect::postgresql:
            kind = "PostgreSQL";
            break;
        case store::dialect::mssql:
            kind = "SQL Server";
            break;
    }
    return db.via_odbc() ? kind + " (ODBC)" : kind;
}

void add_erp_status(mustache_data& data, const erp::snapshot_cache::status& st) {
    mustache_data erp;
    if (!st.last_query_at) {
        erp.set("state", "Not queried yet");
        erp.set("badge", "grey");
        erp.set("note", "No inventory has been read from the ERP since the portal started.");
    } else if (st.last_query_ok) {
        erp.set("state", "Reachable");
        erp.set("badge", "green");
        erp.set("note", "The last inventory query succeeded.");
    } else {
        erp.set("state", "Unreachable");
        erp.set("badge", "red");
        erp.set("note",
                "The last inventory query failed: customers see the last good snapshot, "
                "or a message when there is none.");
        erp.set("down", true);
    }
    if (st.last_query_at) erp.set("last_query", time_data(floor<seconds>(*st.last_query_at)));
    const double lookups = st.hits + st.misses;
    if (lookups > 0) {
        erp.set(
            "hit_rate",
            std::to_string(static_cast<long long>(std::lround(100.0 * st.hits / lookups))) + "%");
        erp.set("lookups", std::to_string(static_cast<long long>(st.hits)) + " from the cache, " +
                               std::to_string(static_cast<long long>(st.misses)) + " from the ERP");
    } else {
        erp.set("hit_rate", "—");
        erp.set("lookups", "No inventory requests yet");
    }
    data.set("erp", erp);
}

}  // namespace

void add_admin_dashboard_routes(http::router& r, app::services& s) {
    r.add(http::verb::get, "/admin", http::access::admin, [&s](http::request_context& ctx) {
        const auto now = floor<seconds>(system_clock::now());
        const sys_days today = floor<days>(now);

        // The store: a trivial query first, timed. When it fails the page cannot be built at all.
        const auto ping_started = steady_clock::now();
        if (!s.db.ping())
            throw http::http_error(
                http::status::service_unavailable,
                "The local store cannot be reached. Please try again in a moment.");
        const auto ping_ms =
            duration_cast<microseconds>(steady_clock::now() - ping_started).count() / 1000.0;

        store::customers_repository customers(s.db);
        store::sessions_repository sessions(s.db);
        store::audit_repository audit(s.db);
        store::analytics_repository analytics(s.db);
        store::outbox_repository outbox(s.db);

        mustache_data data;
        data.set("nav", "dashboard");
        data.set("scripts", script_list({"/static/js/local-time.js"}));
        data.set("generated", time_data(now));

        data.set("customers_active", std::to_string(customers.count(store::status_filter::active)));
        data.set("customers_inactive",
                 std::to_string(customers.count(store::status_filter::inactive)));
        data.set("sessions_now", std::to_string(sessions.count_customer_sessions()));
        store::audit_filter today_filter;
        today_filter.from = time_point<system_clock>(today);
        today_filter.to = time_point<system_clock>(today + days(1));
        data.set("audit_today", std::to_string(audit.count(today_filter)));
        data.set("logins_7d",
                 std::to_string(analytics.count_logins(now - days(7), now + seconds(1))));

        add_erp_status(data, s.snapshots.current_status());

        mustache_data store_status;
        store_status.set("kind", store_kind(s.db));
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f ms", ping_ms);
        store_status.set("ping", std::string(ms));
        data.set("store", store_status);

        const long long pending = outbox.count_pending();
        const long long failed = outbox.count_failed();
        data.set("mail_pending", std::to_string(pending));
        data.set("mail_failed", std::to_string(failed));
        data.set("mail_has_failed", failed > 0);
        data.set("mail_failed_text",
                 failed == 1 ? std::string("1 email") : std::to_string(failed) + " emails");
        data.set("mail_max_attempts", std::to_string(store::outbox_max_attempts));

        return render_page(s, ctx, "admin_dashboard", data, "Dashboard");
    });
}

}  // namespace portal::web
