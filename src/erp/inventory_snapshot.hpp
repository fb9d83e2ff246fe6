// One immutable, columnar copy of an ERP inventory result that many requests read at once.
#pragma once

#include "erp/inventory_columns.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace portal::erp {

// True if text is well-formed UTF-8 (no overlongs, surrogates or truncated sequences).
bool is_valid_utf8(std::string_view text);

// Lower-cases UTF-8 code point by code point (glibc towlower_l in C.UTF-8), so "ÄPFEL" becomes
// "äpfel". Bytes that are not valid UTF-8 are copied unchanged. `q` matching lower-cases both
// sides.
std::string lower_case_utf8(std::string_view text);

// The order a person expects for text: case-insensitive, digit runs compared as numbers ("B-2" <
// "B-10"), ties broken by the raw bytes so that distinct strings never compare equal. Takes the
// lower-cased forms too so that sorting a dictionary lower-cases each value only once.
// Returns <0, 0 or >0.
int compare_natural(std::string_view lower_a, std::string_view raw_a, std::string_view lower_b,
                    std::string_view raw_b);
int compare_natural(std::string_view a, std::string_view b);

// Days since 1970-01-01 for "YYYY-MM-DD" (a time part after it is ignored); nullopt if it is not
// a real date.
std::optional<std::int32_t> parse_iso_date(std::string_view text);
// "YYYY-MM-DD" for days since 1970-01-01, appended to out.
void append_iso_date(std::string& out, std::int32_t days);
// The shortest text that reads back as the same double; integral values have no ".0".
void append_number(std::string& out, double value);

class inventory_snapshot {
  public:
    using clock = std::chrono::system_clock;
    using row_index = std::uint32_t;
    using value_id = std::uint32_t;

    // Text columns are dictionary-encoded. Ids of non-empty values come first, in collation
    // order; the empty string (if any row has it) takes the next id and NULL the one after, so
    // id order is ascending sort order with empty and NULL last.
    inventory_snapshot(std::vector<inventory_record> records, const column_set& present,
                       clock::time_point as_of);
    inventory_snapshot(const inventory_snapshot&) = delete;
    inventory_snapshot& operator=(const inventory_snapshot&) = delete;

    static std::shared_ptr<const inventory_snapshot> build(std::vector<inventory_record> records,
                                                           const column_set& present,
                                                           clock::time_point as_of);

    // The union of several snapshots (an account linked to several ERP names, or All): rows in
    // the order given, columns any of them has, as_of the oldest. Null entries are skipped.
    static std::shared_ptr<const inventory_snapshot> merge(
        std::vector<std::shared_ptr<const inventory_snapshot>> parts);

    std::size_t size() const { return rows_; }
    const column_set& columns() const { return present_; }
    bool has_column(column c) const { return present_[index(c)]; }
    // The columns it has, in contract order (SPEC §5): the API's "columns", an export's headings.
    std::vector<column> present_columns() const {
        std::vector<column> out;
        for (const auto& ci : erp::columns)
            if (has_column(ci.id)) out.push_back(ci.id);
        return out;
    }
    clock::time_point as_of() const { return as_of_; }

    // Cell access. A NULL, an absent column or the wrong kind gives nullopt / true.
    bool is_null(row_index row, column c) const;
    std::optional<std::string_view> text(row_index row, column c) const;  // text columns
    std::optional<double> number(row_index row, column c) const {         // on_hand
        if (c != column::on_hand || on_hand_.empty() || on_hand_[row] != on_hand_[row])
            return std::nullopt;
        return on_hand_[row];  // (NaN, our NULL, is the only value unequal to itself)
    }
    std::optional<std::int32_t> date(row_index row, column c) const {  // days since 1970-01-01
        const auto& d = dates_[index(c)];
        if (d.empty() || d[row] == date_null) return std::nullopt;
        return d[row];
    }
    // Any kind as text, as an export writes it: numbers shortest, dates "YYYY-MM-DD", NULL "".
    std::string cell_text(row_index row, column c) const;
    void append_cell_text(std::string& out, row_index row, column c) const;
    // The record as it was read (dates normalised to "YYYY-MM-DD").
    inventory_record record(row_index row) const;

    // Dictionary access for the query engine and writers. For a column that is absent or not
    // text, the dictionary is empty and every row has null_id == 0.
    value_id dictionary_size(column c) const { return text_[index(c)].size; }
    value_id null_id(column c) const { return dictionary_size(c); }
    // The id of "" if some row has it, else null_id; ids below it are the non-empty values.
    value_id empty_id(column c) const { return text_[index(c)].non_empty; }
    value_id id_at(row_index row, column c) const {  // null_id(c) for NULL
        const auto& col = text_[index(c)];
        return col.ids.empty() ? col.size : col.ids[row];
    }
    std::string_view value(column c, value_id id) const {
        const auto& col = text_[index(c)];
        if (id >= col.size) return {};
        return {col.chars.data() + col.offsets[id], col.offsets[id + 1] - col.offsets[id]};
    }
    std::string_view lower_value(column c, value_id id) const;
    std::optional<value_id> find_value(column c, std::string_view exact) const;
    std::span<const row_index> rows_with(column c, value_id id) const;  // ascending row order

    // Rows ordered by c (ties by part, then lot, then row) and each row's position in it;
    // computed on first use, safe to call from many threads.
    std::span<const row_index> order(column c, bool descending) const;
    std::span<const std::uint32_t> rank(column c, bool descending) const;
    // Rows by part, then lot, then row: the order when no sort is asked for.
    std::span<const row_index> default_order() const;

    // Text-column dictionary entries whose lower-cased value contains lower_needle, as one bit
    // per id for each column (empty vectors for non-text or absent columns).
    using id_bits = std::array<std::vector<std::uint64_t>, column_count>;
    id_bits values_containing(std::string_view lower_needle) const;

    // Every non-empty value of a text column as a JSON array ("[\"A\",\"B\"]"), in id order,
    // rendered on first use: an unfiltered facet, which most responses carry, is then one copy,
    // and any other value a slice of it (value_json, quotes included; "" for the empty string).
    std::string_view all_values_json(column c) const { return rendered_json(c).array; }
    std::string_view value_json(column c, value_id id) const {
        const auto& r = rendered_json(c);
        if (id >= r.starts.size() - 1) return "\"\"";
        return {r.array.data() + r.starts[id], r.starts[id + 1] - r.starts[id] - 1};
    }

    // One row as a JSON array of its present columns in contract order ("[\"Acme\",120,null]":
    // NULL is null, numbers JSON numbers, dates "YYYY-MM-DD"). Every row is rendered once, on
    // first use, into one buffer: a page of the API is then a copy per row, not a cell-by-cell
    // rendering, at the price of about the snapshot's text size again in memory.
    std::string_view row_json(row_index row) const {
        const auto& r = rendered_rows();
        return {r.text.data() + r.starts[row], r.starts[row + 1] - r.starts[row]};
    }

    // Computes everything that is otherwise computed on first use (sort orders, search index,
    // the facet columns' JSON, the rows' JSON), so a cache can pay for it before the snapshot
    // serves requests.
    void warm_up() const;

  private:
    static std::size_t index(column c) { return static_cast<std::size_t>(c); }
    static constexpr std::int32_t date_null = std::numeric_limits<std::int32_t>::max();

    struct text_column {
        std::vector<value_id> ids;           // per row
        std::string chars;                   // dictionary values back to back
        std::vector<std::uint32_t> offsets;  // size()+1 entries into chars
        std::string lower_chars;             // lower-cased values back to back
        std::vector<std::uint32_t> lower_offsets;
        std::vector<std::uint32_t> posting_offsets;  // per id (NULL included) into posting_rows
        std::vector<row_index> posting_rows;
        std::vector<std::uint32_t> hash_slots;  // open addressing over ids, for find_value
        value_id size = 0;                      // dictionary entries, "" included
        value_id non_empty = 0;                 // ids below this are non-empty values
    };

    struct sort_cache {
        std::once_flag once;
        std::vector<row_index> ascending, descending;
        std::vector<std::uint32_t> ascending_rank, descending_rank;
    };

    // Byte trigrams of the lower-cased dictionaries: trigram -> entries containing it, where an
    // entry is (column, id) numbered globally. Makes a 3-letter `q` a lookup, not a scan.
    struct trigram_index {
        std::vector<std::uint32_t> keys;     // sorted trigrams
        std::vector<std::uint32_t> offsets;  // keys.size()+1 entries into entries
        std::vector<std::uint32_t> entries;
        std::array<std::uint32_t, column_count + 1> column_base{};
    };

    struct distinct_values;
    void build_text(column c, distinct_values& values);
    void build_default_order() const;
    const sort_cache& sorted(column c) const;
    void build_trigrams() const;
    std::uint64_t sort_key(row_index row, column c) const;

    std::size_t rows_ = 0;
    column_set present_{};
    clock::time_point as_of_;
    std::array<text_column, column_count> text_;
    std::vector<double> on_hand_;                                // NaN for NULL
    std::array<std::vector<std::int32_t>, column_count> dates_;  // date_null for NULL

    mutable std::once_flag default_once_;
    mutable std::vector<row_index> default_order_;
    mutable std::vector<std::uint32_t> default_rank_;
    mutable std::array<sort_cache, column_count> sorts_;
    struct json_rendering {
        std::string array;                  // "[v0,v1,...]"
        std::vector<std::uint32_t> starts;  // where each value begins; one more for the end
    };
    const json_rendering& rendered_json(column c) const;

    mutable std::array<std::once_flag, column_count> json_once_;
    mutable std::array<json_rendering, column_count> json_;
    mutable std::once_flag trigram_once_;
    mutable trigram_index trigrams_;

    struct row_rendering {
        std::string text;                   // every row's array back to back
        std::vector<std::uint64_t> starts;  // rows_+1 offsets into text
    };
    const row_rendering& rendered_rows() const;
    void append_cell_json(std::string& out, row_index row, column c) const;
    mutable std::once_flag rows_once_;
    mutable row_rendering rows_json_;
};

}  // namespace portal::erp
