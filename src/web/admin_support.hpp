// Small pieces every admin page shares: times for <time> elements, numeric parameters, ids.
#pragma once

#include "http/request_context.hpp"
#include "store/database.hpp"
#include "web/templates.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace portal::web {

// `t` in UTC as std::strftime writes it with `format` (at most 39 characters).
std::string format_utc(store::time_point t, const char* format);

// "2026-12-01T06:30:00Z": the value of a <time datetime> (local-time.js shows it in the admin's
// own time zone) and of CSV cells.
std::string iso_utc(store::time_point t);
// "2026-12-01 06:30 UTC": the text shown before (or without) JavaScript.
std::string readable_utc(store::time_point t);
// {iso, text}: both of the above, for a template's <time datetime="{{iso}}">{{text}}</time>.
mustache_data time_data(store::time_point t);

// A positive whole-number query parameter (`page=2`); `fallback` when absent or empty; 400 with a
// message naming the parameter when it is not a number in [min, max].
int int_query_param(const http::request_context& ctx, std::string_view name, int fallback, int min,
                    int max);

// "15,000": a count with thousands separators.
std::string format_thousands(long long n);

// The pager under a list, for templates: show (more than one page), page_info ("Page 6 of 200"),
// prev_href, next_href and pages (1 … 4 5 [6] 7 8 … 200: {number, href, current} or {gap}).
// `page` is the page shown (from 1), `href(p)` the link to page p.
mustache_data pager_data(int page, int per_page, long long total,
                         const std::function<std::string(int)>& href);

// The `{id}` of the matched route as a customer id; 404 when it is not a positive number.
int id_route_param(const http::request_context& ctx, std::string_view name = "id");

}  // namespace portal::web
