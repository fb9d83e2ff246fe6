// Small pieces every admin page shares: times for <time> elements, numeric parameters, ids.
#pragma once

#include "http/request_context.hpp"
#include "store/database.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace portal::web {

// "2026-12-01T06:30:00Z": the value of a <time datetime> (local-time.js shows it in the admin's
// own time zone) and of CSV cells.
std::string iso_utc(store::time_point t);
// "2026-12-01 06:30 UTC": the text shown before (or without) JavaScript.
std::string readable_utc(store::time_point t);

// A positive whole-number query parameter (`page=2`); `fallback` when absent or empty; 400 with a
// message naming the parameter when it is not a number in [min, max].
int int_query_param(const http::request_context& ctx, std::string_view name, int fallback, int min,
                    int max);

// The `{id}` of the matched route as a customer id; 404 when it is not a positive number.
int id_route_param(const http::request_context& ctx, std::string_view name = "id");

}  // namespace portal::web
