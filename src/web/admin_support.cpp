#include "web/admin_support.hpp"

#include "web/page.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <set>

namespace portal::web {
namespace {

std::optional<long long> parse_number(std::string_view text) {
    long long value = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || p != end) return std::nullopt;
    return value;
}

}  // namespace

std::string format_utc(store::time_point t, const char* format) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, format, &utc);
    return std::string(buf, n);
}

std::string iso_utc(store::time_point t) {
    return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string readable_utc(store::time_point t) {
    return format_utc(t, "%Y-%m-%d %H:%M UTC");
}

mustache_data time_data(store::time_point t) {
    mustache_data d;
    d.set("iso", iso_utc(t));
    d.set("text", readable_utc(t));
    return d;
}

std::string format_thousands(long long n) {
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

mustache_data pager_data(int page, int per_page, long long total,
                         const std::function<std::string(int)>& href) {
    const long long pages = std::max<long long>(1, (total + per_page - 1) / per_page);
    mustache_data d;
    d.set("show", pages > 1);
    d.set("page_info", "Page " + format_thousands(std::min<long long>(page, pages)) + " of " +
                           format_thousands(pages));
    if (page > 1) d.set("prev_href", href(static_cast<int>(std::min<long long>(page - 1, pages))));
    if (page < pages) d.set("next_href", href(page + 1));
    // 1 … 4 5 [6] 7 8 … 200
    std::set<long long> shown{1, pages};
    for (long long p = page - 2; p <= page + 2; ++p)
        if (p >= 1 && p <= pages) shown.insert(p);
    mustache_data items{mustache_data::type::list};
    long long previous = 0;
    for (long long p : shown) {
        if (p - previous > 1) {
            mustache_data gap;
            gap.set("gap", true);
            items.push_back(gap);
        }
        mustache_data item;
        item.set("number", format_thousands(p));
        item.set("href", href(static_cast<int>(p)));
        if (p == page) item.set("current", true);
        items.push_back(item);
        previous = p;
    }
    d.set("pages", items);
    return d;
}

int int_query_param(const http::request_context& ctx, std::string_view name, int fallback, int min,
                    int max) {
    const auto raw = ctx.query_param(name);
    if (!raw || raw->empty()) return fallback;
    const auto value = parse_number(*raw);
    if (!value || *value < min || *value > max)
        throw http::http_error(http::status::bad_request, "The parameter " + std::string(name) +
                                                              " must be a whole number from " +
                                                              std::to_string(min) + " to " +
                                                              std::to_string(max) + ".");
    return static_cast<int>(*value);
}

int id_route_param(const http::request_context& ctx, std::string_view name) {
    const auto raw = http::find_param(ctx.route_params, name);
    const auto value = raw ? parse_number(*raw) : std::nullopt;
    if (!value || *value <= 0 || *value > 2147483647)
        throw http::http_error(http::status::not_found, default_message(http::status::not_found));
    return static_cast<int>(*value);
}

}  // namespace portal::web
