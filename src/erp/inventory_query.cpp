#include "erp/inventory_query.hpp"

#include <algorithm>
#include <bit>
#include <charconv>

namespace portal::erp {

namespace {

using row_index = inventory_snapshot::row_index;
using value_id = inventory_snapshot::value_id;

std::string_view trim(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\f\v";
    const auto b = s.find_first_not_of(space);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(space) - b + 1);
}

std::optional<std::size_t> positive_integer(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > 12) return std::nullopt;
    std::size_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    if (v < 1 || v > max) return std::nullopt;
    return v;
}

// "a,b" → {"a", "b"}; "a" → {"a", nullopt}. A third part stays in the second, which then names no column.
std::pair<std::string_view, std::optional<std::string_view>> split_pair(std::string_view raw) {
    const auto comma = raw.find(',');
    if (comma == std::string_view::npos) return {raw, std::nullopt};
    return {raw.substr(0, comma), raw.substr(comma + 1)};
}

std::string sortable_names() {
    std::string names;
    for (const auto& c : columns) {
        if (!names.empty()) names += ", ";
        names += c.name;
    }
    return names;
}

using parse_result = boost::system::result<inventory_query, std::string>;

parse_result bad(std::string message) {
    return parse_result(boost::system::in_place_error, std::move(message));
}

}  // namespace

boost::system::result<inventory_query, std::string> parse_inventory_query(
    std::span<const std::pair<std::string, std::string>> params) {
    static constexpr std::array<std::string_view, 11> known{
        "q",        "part", "bin",   "status", "lot",     "warehouse",
        "customer", "sort", "order", "page",   "per_page"};
    std::array<bool, known.size()> seen{};
    inventory_query query;
    for (const auto& [name, raw] : params) {
        const auto it = std::find(known.begin(), known.end(), name);
        if (it == known.end()) continue;
        const auto k = static_cast<std::size_t>(it - known.begin());
        if (seen[k]) return bad("parameter '" + name + "' is given more than once");
        seen[k] = true;
        if (raw.size() > max_parameter_length)
            return bad("parameter '" + name + "' is longer than " +
                       std::to_string(max_parameter_length) + " bytes");
        if (!is_valid_utf8(raw)) return bad("parameter '" + name + "' is not valid UTF-8");
        if (raw.empty()) continue;

        if (name == "q") {
            query.q = trim(raw);
        } else if (name == "sort") {
            const auto [first, second] = split_pair(raw);
            query.sort = column_from_name(first);
            if (second) query.then_sort = column_from_name(*second);
            if (!query.sort || (second && !query.then_sort))
                return bad("sort must be one of: " + sortable_names() + " (or two of them separated by a comma)");
            if (query.then_sort == query.sort) return bad("sort must name two different columns");
        } else if (name == "order") {
            const auto [first, second] = split_pair(raw);
            const auto direction = [](std::string_view v) -> std::optional<bool> {
                if (v == "asc") return false;
                if (v == "desc") return true;
                return std::nullopt;
            };
            const auto d1 = direction(first);
            const auto d2 = second ? direction(*second) : std::optional<bool>(false);
            if (!d1 || !d2) return bad("order must be asc or desc (or two of them separated by a comma)");
            query.descending = *d1;
            query.then_descending = *d2;
        } else if (name == "page") {
            // Pages past the end are allowed (they are empty); the cap only keeps offsets sane.
            const auto v = positive_integer(raw, 1'000'000'000);
            if (!v) return bad("page must be a whole number from 1");
            query.page = *v;
        } else if (name == "per_page") {
            const auto v = positive_integer(raw, max_per_page);
            if (!v)
                return bad("per_page must be a whole number from 1 to " +
                           std::to_string(max_per_page));
            query.per_page = *v;
        } else {
            std::optional<std::string>* target = name == "part"        ? &query.part
                                                 : name == "bin"       ? &query.bin
                                                 : name == "status"    ? &query.status
                                                 : name == "lot"       ? &query.lot
                                                 : name == "warehouse" ? &query.warehouse
                                                                       : &query.customer;
            *target = raw;
        }
    }
    return query;
}

// ---------------------------------------------------------------------------------------------

namespace {

// Row sets are bitmaps: at these sizes (≤ a few hundred thousand rows) a bitmap is a few KiB,
// and AND-ing them for the facets' "every other filter" sets costs next to nothing.
using row_bits = std::vector<std::uint64_t>;

void set_bit(row_bits& b, std::uint32_t i) {
    b[i / 64] |= std::uint64_t{1} << (i % 64);
}
bool test_bit(const row_bits& b, std::uint32_t i) {
    return (b[i / 64] >> (i % 64)) & 1;
}

template <class F>
void for_each_bit(const row_bits& b, F&& f) {
    for (std::size_t w = 0; w < b.size(); ++w)
        for (std::uint64_t word = b[w]; word != 0; word &= word - 1)
            f(static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(word))));
}

std::size_t count_bits(const row_bits& b) {
    // Without -mpopcnt, std::popcount is a library call per word; this is inline and vectorises.
    std::size_t n = 0;
    for (std::uint64_t w : b) {
        w = w - ((w >> 1) & 0x5555555555555555ull);
        w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
        w = (w + (w >> 4)) & 0x0F0F0F0F0F0F0F0Full;
        n += static_cast<std::size_t>((w * 0x0101010101010101ull) >> 56);
    }
    return n;
}

struct condition {
    std::optional<column> col;  // the filtered column; none for q
    row_bits rows;
};

std::vector<condition> conditions_of(const inventory_snapshot& s, const inventory_query& query) {
    std::vector<condition> out;
    const std::size_t words = (s.size() + 63) / 64;
    const std::array<std::pair<column, const std::optional<std::string>*>, 6> exact{{
        {column::part, &query.part},
        {column::bin, &query.bin},
        {column::status, &query.status},
        {column::lot, &query.lot},
        {column::warehouse, &query.warehouse},
        {column::customer, &query.customer},
    }};
    for (const auto& [col, value] : exact) {
        if (!*value) continue;
        condition c{col, row_bits(words, 0)};
        if (const auto id = s.find_value(col, **value))
            for (const row_index r : s.rows_with(col, *id)) set_bit(c.rows, r);
        out.push_back(std::move(c));
    }
    if (!query.q.empty()) {
        condition c{std::nullopt, row_bits(words, 0)};
        const auto matching = s.values_containing(lower_case_utf8(query.q));
        for (std::size_t k = 0; k < column_count; ++k) {
            const auto col = static_cast<column>(k);
            // A common word (say the status "Available") can match most rows: then test every
            // row's id against the matched ids instead of setting bits row list by row list.
            std::size_t matched_rows = 0;
            bool any = false;
            for_each_bit(matching[k], [&](std::uint32_t id) {
                any = true;
                matched_rows += s.rows_with(col, id).size();
            });
            if (!any) continue;
            if (matched_rows > s.size() / 4) {
                const auto& ids = matching[k];
                for (std::size_t r = 0; r < s.size(); ++r) {
                    const value_id id = s.id_at(static_cast<row_index>(r), col);
                    if (id / 64 < ids.size() && test_bit(ids, id))
                        set_bit(c.rows, static_cast<row_index>(r));
                }
            } else {
                for_each_bit(matching[k], [&](std::uint32_t id) {
                    for (const row_index r : s.rows_with(col, id)) set_bit(c.rows, r);
                });
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

// Rows matching every condition except those on `except`; nullopt means every row.
std::optional<row_bits> combine(const std::vector<condition>& conditions,
                                std::optional<column> except) {
    std::optional<row_bits> out;
    for (const auto& c : conditions) {
        if (except && c.col == except) continue;
        if (!out) {
            out = c.rows;
            continue;
        }
        for (std::size_t w = 0; w < out->size(); ++w) (*out)[w] &= c.rows[w];
    }
    return out;
}

std::vector<value_id> facet_of(const inventory_snapshot& s, column col,
                               const std::optional<row_bits>& rows) {
    std::vector<value_id> out;
    if (!s.has_column(col)) return out;
    const value_id non_empty = s.empty_id(col);
    if (!rows) {
        out.resize(non_empty);
        for (value_id id = 0; id < non_empty; ++id) out[id] = id;
        return out;
    }
    // Two ways to the same answer: look up each matching row's value, or ask each value whether
    // one of its rows matches (stopping at the first). With many matches the second is cheaper:
    // a value's first row is likely a match, and there are fewer values than matching rows.
    const double matches = static_cast<double>(count_bits(*rows));
    if (matches * matches > static_cast<double>(non_empty) * static_cast<double>(s.size())) {
        for (value_id id = 0; id < non_empty; ++id)
            for (const row_index r : s.rows_with(col, id))
                if (test_bit(*rows, r)) {
                    out.push_back(id);
                    break;
                }
        return out;
    }
    row_bits seen((std::size_t{s.null_id(col)} + 64) / 64, 0);
    for_each_bit(*rows, [&](std::uint32_t r) { set_bit(seen, s.id_at(r, col)); });
    for_each_bit(seen, [&](std::uint32_t id) {
        if (id < non_empty) out.push_back(id);
    });
    return out;
}

bool same_value(const inventory_snapshot& s, column c, row_index a, row_index b) {
    if (!s.has_column(c)) return true;  // every key NULL
    switch (info(c).kind) {
        case column_kind::text: return s.id_at(a, c) == s.id_at(b, c);
        case column_kind::number: return s.number(a, c) == s.number(b, c);
        case column_kind::date: return s.date(a, c) == s.date(b, c);
    }
    return false;
}

// Rows [begin, end) of the matches ordered by the primary sort, each run of rows with an equal
// primary value ordered by the secondary sort (whose precomputed order already ends in part,
// lot, row). A walk of the primary order: it stops once the slice is complete.
std::vector<row_index> ordered_slice_by_two(const inventory_snapshot& s, const inventory_query& query,
                                            const std::optional<row_bits>& rows, std::size_t begin,
                                            std::size_t end) {
    const column first = query.sort.value_or(column::part);
    const auto then_rank = s.rank(*query.then_sort, query.then_descending);
    std::vector<row_index> out, run;
    std::size_t seen = 0;
    const auto flush = [&] {
        if (seen < end && seen + run.size() > begin) {
            std::sort(run.begin(), run.end(), [&](row_index a, row_index b) { return then_rank[a] < then_rank[b]; });
            for (std::size_t i = 0; i < run.size(); ++i)
                if (seen + i >= begin && seen + i < end) out.push_back(run[i]);
        }
        seen += run.size();
        run.clear();
    };
    for (const row_index r : s.order(first, query.descending)) {
        if (rows && !test_bit(*rows, r)) continue;
        if (!run.empty() && !same_value(s, first, run.front(), r)) {
            flush();
            if (seen >= end) return out;
        }
        run.push_back(r);
    }
    flush();
    return out;
}

// Rows [begin, end) of the matches in sort order.
std::vector<row_index> ordered_slice(const inventory_snapshot& s, const inventory_query& query,
                                     const std::optional<row_bits>& rows, std::size_t total,
                                     std::size_t begin, std::size_t end) {
    std::vector<row_index> out;
    end = std::min(end, total);
    if (begin >= end) return out;
    if (query.then_sort && s.has_column(*query.then_sort)) return ordered_slice_by_two(s, query, rows, begin, end);
    const column by = query.sort.value_or(column::part);
    const auto order = s.order(by, query.descending);
    out.reserve(end - begin);
    if (!rows) {
        out.assign(order.begin() + static_cast<std::ptrdiff_t>(begin),
                   order.begin() + static_cast<std::ptrdiff_t>(end));
        return out;
    }
    // Either walk the sort order testing each row (cost grows with how far down the order the
    // slice ends), or sort the matches' positions in that order (cost grows with the matches).
    const std::size_t n = s.size();
    const std::size_t walk = static_cast<std::size_t>(
        static_cast<double>(end) * static_cast<double>(n) / static_cast<double>(total));
    if (walk <= total * 6 + n / 64) {
        std::size_t seen = 0;
        for (const row_index r : order) {
            if (!test_bit(*rows, r)) continue;
            if (seen >= begin) out.push_back(r);
            if (++seen == end) break;
        }
        return out;
    }
    const auto rank = s.rank(by, query.descending);
    std::vector<std::uint32_t> positions;
    positions.reserve(total);
    for_each_bit(*rows, [&](std::uint32_t r) { positions.push_back(rank[r]); });
    const auto first = positions.begin() + static_cast<std::ptrdiff_t>(begin);
    const auto last = positions.begin() + static_cast<std::ptrdiff_t>(end);
    if (begin > 0) std::nth_element(positions.begin(), first, positions.end());
    std::partial_sort(first, last, positions.end());
    for (auto it = first; it != last; ++it) out.push_back(order[*it]);
    return out;
}

}  // namespace

query_result run_query(const inventory_snapshot& snapshot, const inventory_query& query) {
    query_result result;
    const auto conditions = conditions_of(snapshot, query);
    const auto rows = combine(conditions, std::nullopt);
    result.total = rows ? count_bits(*rows) : snapshot.size();

    for (std::size_t k = 0; k < facet_columns.size(); ++k) {
        const column col = facet_columns[k];
        const bool filtered = std::any_of(conditions.begin(), conditions.end(),
                                          [&](const condition& c) { return c.col == col; });
        result.facets[k] = filtered ? facet_of(snapshot, col, combine(conditions, col))
                                    : facet_of(snapshot, col, rows);
    }

    const std::size_t per_page = std::clamp<std::size_t>(query.per_page, 1, max_per_page);
    const std::size_t page = std::max<std::size_t>(query.page, 1);
    // Saturate rather than overflow for absurd pages: they are simply past the end.
    const std::size_t begin =
        page - 1 > result.total / per_page ? result.total : (page - 1) * per_page;
    result.rows = ordered_slice(snapshot, query, rows, result.total, begin, begin + per_page);
    return result;
}

std::vector<row_index> matching_rows(const inventory_snapshot& snapshot,
                                     const inventory_query& query) {
    const auto conditions = conditions_of(snapshot, query);
    const auto rows = combine(conditions, std::nullopt);
    const std::size_t total = rows ? count_bits(*rows) : snapshot.size();
    return ordered_slice(snapshot, query, rows, total, 0, total);
}

std::vector<std::string_view> facet_values(const inventory_snapshot& snapshot,
                                           const query_result& result, column facet) {
    std::vector<std::string_view> out;
    for (std::size_t k = 0; k < facet_columns.size(); ++k) {
        if (facet_columns[k] != facet) continue;
        out.reserve(result.facets[k].size());
        for (const value_id id : result.facets[k]) out.push_back(snapshot.value(facet, id));
    }
    return out;
}

}  // namespace portal::erp
