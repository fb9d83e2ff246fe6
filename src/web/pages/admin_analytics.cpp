// Sign-in analytics: counts, logins per day as an SVG chart, most active customers.
#include "store/analytics_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/sessions_repository.hpp"
#include "web/admin_support.hpp"
#include "web/bar_chart.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <array>
#include <chrono>

namespace portal::web {

namespace {

using namespace std::chrono;

constexpr int chart_days = 14;
constexpr auto recent_window = days(7);
constexpr auto active_window = days(30);
constexpr int most_active_limit = 10;
constexpr int recent_limit = 20;

constexpr std::array<const char*, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> weekday_names{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

struct day_parts {
    int year;
    unsigned month;  // 1–12
    unsigned day;
    unsigned weekday;  // 0 = Sunday
};

day_parts parts_of(sys_days d) {
    const year_month_day ymd{d};
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
            static_cast<unsigned>(ymd.day()), weekday{d}.c_encoding()};
}

// "2026-11-24"
std::string iso_day(sys_days d) {
    const auto p = parts_of(d);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", p.year, p.month, p.day);
    return buf;
}

// "24 Nov"
std::string short_day(sys_days d) {
    const auto p = parts_of(d);
    return std::to_string(p.day) + " " + month_names[p.month - 1];
}

// "Tue 24 Nov 2026"
std::string long_day(sys_days d) {
    const auto p = parts_of(d);
    return std::string(weekday_names[p.weekday]) + " " + short_day(d) + " " +
           std::to_string(p.year);
}

std::string plural(long long n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string display_name(const std::string& first, const std::string& last,
                         const std::string& fallback) {
    std::string name = first;
    if (!first.empty() && !last.empty()) name += " ";
    name += last;
    return name.empty() ? fallback : name;
}

// The chart, its description and the table that says the same in words.
void add_logins_chart(mustache_data& data, const std::vector<store::day_logins>& per_day) {
    bar_chart chart;
    chart.id = "logins-chart";
    chart.value_label = "Logins";
    long long total = 0;
    const store::day_logins* busiest = nullptr;
    mustache_data rows{mustache_data::type::list};
    for (std::size_t i = 0; i < per_day.size(); ++i) {
        const auto& d = per_day[i];
        const auto p = parts_of(d.day);
        chart_bar bar;
        bar.label = std::to_string(p.day);
        // The month under the first bar and where a new month starts.
        if (i == 0 || p.day == 1) bar.sublabel = month_names[p.month - 1];
        bar.tooltip = long_day(d.day) + ": " + plural(d.logins, "login", "logins");
        bar.value = d.logins;
        chart.bars.push_back(std::move(bar));
        total += d.logins;
        if (d.logins > 0 && (!busiest || d.logins > busiest->logins)) busiest = &d;

        mustache_data row;
        row.set("iso", iso_day(d.day));
        row.set("day", long_day(d.day));
        row.set("logins", std::to_string(d.logins));
        row.set("today", i + 1 == per_day.size());
        rows.push_back(row);
    }
    std::string range;
    if (!per_day.empty())
        range = short_day(per_day.front().day) + " to " + long_day(per_day.back().day).substr(4);
    chart.title = "Customer logins per day, last " + std::to_string(per_day.size()) + " days (UTC)";
    chart.description =
        "Logins per UTC day from " + range + ": " + plural(total, "login", "logins") + " in total";
    chart.description += busiest ? ", most on " + short_day(busiest->day) + " (" +
                                       std::to_string(busiest->logins) + ")."
                                 : ", none on any day.";
    chart.description += " Today is counted so far.";

    // The SVG is markup built by render_bar_chart, which escapes every text it contains.
    data.set("chart_svg", render_bar_chart(chart));
    data.set("chart_title", chart.title);
    data.set("chart_range", range);
    data.set("chart_total", std::to_string(total));
    data.set("chart_rows", rows);
}

}  // namespace

void add_admin_analytics_routes(http::router& r, app::services& s) {
    r.add(
        http::verb::get, "/admin/analytics", http::access::admin, [&s](http::request_context& ctx) {
            const auto now = floor<seconds>(system_clock::now());
            // Exclusive upper bound that still takes in a sign-in of this very second.
            const auto until = now + seconds(1);
            const sys_days today = floor<days>(now);

            store::analytics_repository analytics(s.db);
            store::customers_repository customers(s.db);
            store::sessions_repository sessions(s.db);

            mustache_data data;
            data.set("nav", "analytics");
            data.set("scripts", script_list({"/static/js/local-time.js"}));
            data.set("generated", time_data(now));

            data.set("active_customers",
                     std::to_string(customers.count(store::status_filter::active)));
            data.set("logins_7d",
                     std::to_string(analytics.count_logins(now - recent_window, until)));
            data.set("unique_7d",
                     std::to_string(analytics.count_unique_logins(now - recent_window, until)));
            data.set("sessions_now", std::to_string(sessions.count_customer_sessions()));

            add_logins_chart(data,
                             analytics.logins_per_day(today - days(chart_days - 1), chart_days));

            mustache_data top{mustache_data::type::list};
            int rank = 0;
            for (const auto& c :
                 analytics.most_active(now - active_window, until, most_active_limit)) {
                mustache_data row;
                row.set("rank", std::to_string(++rank));
                row.set("id", std::to_string(c.customer_id));
                row.set("name", display_name(c.first_name, c.last_name, c.email));
                row.set("email", c.email);
                row.set("logins", std::to_string(c.logins));
                row.set("last_login", time_data(c.last_login));
                top.push_back(row);
            }
            data.set("has_most_active", rank > 0);
            data.set("most_active", top);

            mustache_data recent{mustache_data::type::list};
            bool any_recent = false;
            for (const auto& l : analytics.recent_logins(recent_limit)) {
                any_recent = true;
                mustache_data row;
                row.set("at", time_data(l.at));
                const bool known = l.customer_id && (!l.first_name.empty() || !l.last_name.empty());
                if (known) row.set("id", std::to_string(*l.customer_id));
                row.set("known", known);
                row.set("name", display_name(l.first_name, l.last_name, l.email));
                row.set("email", l.email);
                row.set("address", l.ip_address.empty() ? std::string("—") : l.ip_address);
                recent.push_back(row);
            }
            data.set("has_recent", any_recent);
            data.set("recent", recent);

            return render_page(s, ctx, "admin_analytics", data, "Analytics");
        });
}

}  // namespace portal::web
