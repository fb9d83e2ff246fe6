// What both export formats write: the snapshot's columns in contract order, under the grid's
// headings, for a given list of rows.
#pragma once

#include "erp/inventory_columns.hpp"
#include "erp/inventory_snapshot.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace portal::exports {

using row_list = std::vector<erp::inventory_snapshot::row_index>;

// The heading the grid shows for a column ("On hand", "Your part", …).
std::string_view column_heading(erp::column c);

// One column's cells for a block of rows. Rows in sort order are scattered over the snapshot, so
// reading them cell by cell waits on one cache miss after another; gathering a column for a
// block first issues the loads independently and lets them overlap. Writers go block by block.
struct column_block {
    static constexpr std::int32_t no_date = std::numeric_limits<std::int32_t>::max();

    explicit column_block(erp::column c) : id(c), kind(erp::info(c).kind) {}
    void gather(const erp::inventory_snapshot& s,
                std::span<const erp::inventory_snapshot::row_index> rows);

    erp::column id;
    erp::column_kind kind;
    std::vector<erp::inventory_snapshot::value_id> ids;  // text: null_id for NULL
    std::vector<double> numbers;                         // number: NaN for NULL
    std::vector<std::int32_t> dates;                     // date: days since 1970, no_date for NULL
};

}  // namespace portal::exports
