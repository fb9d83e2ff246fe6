// The JSON body of GET /api/v1/inventory (SPEC §4), written straight into a string.
#pragma once

#include "erp/inventory_query.hpp"
#include "erp/inventory_snapshot.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace portal::erp {

// {"columns":[...],"rows":[[...]],"total":N,"page":P,"per_page":K,
//  "facets":{"part":[...],"bin":[...],"status":[...]},"as_of":"...Z","stale":false}
// Columns are the snapshot's, in contract order; NULL is null, numbers are JSON numbers, dates
// "YYYY-MM-DD".
std::string inventory_json(const inventory_snapshot& snapshot, const query_result& result,
                           const inventory_query& query, bool stale);

// A JSON string literal, quotes included. Control characters, quotes and backslashes are escaped,
// and so are <, >, & and U+2028/U+2029 so the text is also safe inside HTML and script; bytes
// that are not valid UTF-8 become U+FFFD so the output always parses.
void append_json_string(std::string& out, std::string_view text);

// "2026-11-24T10:00:00Z" (UTC, whole seconds).
void append_utc_timestamp(std::string& out, std::chrono::system_clock::time_point when);

}  // namespace portal::erp
