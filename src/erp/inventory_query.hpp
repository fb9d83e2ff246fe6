// Filter, sort, facets and paging of an inventory snapshot: the engine behind GET /api/v1/inventory
// and the exports (SPEC §4).
#pragma once

#include "erp/inventory_columns.hpp"
#include "erp/inventory_snapshot.hpp"

#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portal::erp {

struct inventory_query {
    std::string q;  // trimmed; empty = no search
    std::optional<std::string> part, bin, status, lot, warehouse, customer;
    std::optional<column> sort;  // none = part (then lot)
    bool descending = false;
    // A secondary sort among rows equal in `sort` (the grid's shift-click): `sort=status,part`,
    // `order=asc,desc`. Never the same column as `sort`.
    std::optional<column> then_sort;
    bool then_descending = false;
    std::size_t page = 1;
    std::size_t per_page = 100;
};

inline constexpr std::size_t max_parameter_length = 200;  // bytes, per value
inline constexpr std::size_t max_per_page = 1000;
inline constexpr std::size_t default_per_page = 100;

// Reads the decoded query-string parameters. Unknown names are ignored, and so is an empty value
// (an HTML form's "any" choice). On a bad value returns a message meant for the client (400).
boost::system::result<inventory_query, std::string> parse_inventory_query(
    std::span<const std::pair<std::string, std::string>> params);

// The columns whose distinct values the grid offers as cascading dropdowns.
inline constexpr std::array<column, 3> facet_columns{column::part, column::bin, column::status};

struct query_result {
    std::size_t total = 0;                            // rows matching every filter
    std::vector<inventory_snapshot::row_index> rows;  // the requested page, in order
    // Per facet_columns[i]: dictionary ids of the non-empty values found among the rows that
    // match every other filter (q included), ascending, which is collation order.
    std::array<std::vector<inventory_snapshot::value_id>, facet_columns.size()> facets;
};

// Sorting: text by compare_natural, numbers and dates by value; empty and NULL are last when
// ascending and first when descending. Ties are broken by the secondary sort when there is one,
// then always by part, then lot, then row, in ascending order. A page past the end gives no rows but the true total.
query_result run_query(const inventory_snapshot& snapshot, const inventory_query& query);

// Every matching row in sort order, without paging or facets (exports).
std::vector<inventory_snapshot::row_index> matching_rows(const inventory_snapshot& snapshot,
                                                         const inventory_query& query);

// The text of one facet of a result (for pages and tests; the JSON writer reads ids directly).
std::vector<std::string_view> facet_values(const inventory_snapshot& snapshot,
                                           const query_result& result, column facet);

}  // namespace portal::erp
