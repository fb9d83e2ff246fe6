#include "web/admin_support.hpp"

#include "web/page.hpp"

#include <charconv>
#include <ctime>

namespace portal::web {
namespace {

std::string format_utc(store::time_point t, const char* format) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, format, &utc);
    return std::string(buf, n);
}

std::optional<long long> parse_number(std::string_view text) {
    long long value = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || p != end) return std::nullopt;
    return value;
}

}  // namespace

std::string iso_utc(store::time_point t) {
    return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string readable_utc(store::time_point t) {
    return format_utc(t, "%Y-%m-%d %H:%M UTC");
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
