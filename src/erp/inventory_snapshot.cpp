#include "erp/inventory_snapshot.hpp"

#include "erp/inventory_json.hpp"

#include <locale.h>
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cwctype>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace portal::erp {

namespace {

locale_t utf8_locale() {
    // Built once: newlocale is slow, and a locale_t is safe to share between threads read-only.
    static const locale_t loc = [] {
        locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
        if (l == locale_t{}) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", locale_t{});
        return l;
    }();
    return loc;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if it is not valid (overlong,
// surrogate, out of range or truncated), in which case the caller treats the byte as opaque.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t min;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

void encode_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// A hash of a string that needs no allocation; the tables below are open-addressed over it.
std::size_t hash_text(std::string_view s) {
    return std::hash<std::string_view>{}(s);
}

std::size_t table_size_for(std::size_t entries) {
    return std::bit_ceil(std::max<std::size_t>(16, entries * 2));
}

// Doubles mapped to unsigned integers in the same order (sign-magnitude to offset binary);
// NaN (our NULL) last.
std::uint64_t ordered_bits(double v) {
    if (std::isnan(v)) return std::numeric_limits<std::uint64_t>::max();
    if (v == 0) v = 0;  // -0 and +0 are one value
    const auto bits = std::bit_cast<std::uint64_t>(v);
    return (bits & 0x8000000000000000ull) ? ~bits : bits | 0x8000000000000000ull;
}

// Days from civil, after Howard Hinnant's public-domain algorithms (what <chrono> does inside).
std::int32_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int>(doe) - 719468;
}

void civil_from_days(std::int32_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        char32_t cp;
        const std::size_t len = decode_utf8(text, i, cp);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string lower_case_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const locale_t loc = utf8_locale();
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
            ++i;
            continue;
        }
        char32_t cp;
        const std::size_t len = decode_utf8(text, i, cp);
        if (len == 0) {
            out.push_back(static_cast<char>(b));
            ++i;
            continue;
        }
        if (loc != locale_t{}) cp = static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), loc));
        encode_utf8(out, cp);
        i += len;
    }
    return out;
}

int compare_natural(std::string_view la, std::string_view raw_a, std::string_view lb,
                    std::string_view raw_b) {
    std::size_t i = 0, j = 0;
    while (i < la.size() && j < lb.size()) {
        const char ca = la[i], cb = lb[j];
        if (is_digit(ca) && is_digit(cb)) {
            // Compare the runs by value: skip leading zeros, then the longer run is larger, then
            // digit by digit. No conversion, so runs of any length work.
            std::size_t si = i, sj = j;
            while (si < la.size() && la[si] == '0') ++si;
            while (sj < lb.size() && lb[sj] == '0') ++sj;
            std::size_t ei = si, ej = sj;
            while (ei < la.size() && is_digit(la[ei])) ++ei;
            while (ej < lb.size() && is_digit(lb[ej])) ++ej;
            if (ei - si != ej - sj) return ei - si < ej - sj ? -1 : 1;
            if (const int c = la.substr(si, ei - si).compare(lb.substr(sj, ej - sj)); c != 0)
                return c < 0 ? -1 : 1;
            i = ei;
            j = ej;
            continue;
        }
        if (ca != cb)
            return static_cast<unsigned char>(ca) < static_cast<unsigned char>(cb) ? -1 : 1;
        ++i;
        ++j;
    }
    const bool a_done = i == la.size(), b_done = j == lb.size();
    if (a_done != b_done) return a_done ? -1 : 1;
    const int c = raw_a.compare(raw_b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int compare_natural(std::string_view a, std::string_view b) {
    return compare_natural(lower_case_utf8(a), a, lower_case_utf8(b), b);
}

std::optional<std::int32_t> parse_iso_date(std::string_view t) {
    if (t.size() < 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    if (t.size() > 10 && t[10] != ' ' && t[10] != 'T') return std::nullopt;
    auto digits = [&](std::size_t from, std::size_t n, unsigned& v) {
        v = 0;
        for (std::size_t k = from; k < from + n; ++k) {
            if (!is_digit(t[k])) return false;
            v = v * 10 + static_cast<unsigned>(t[k] - '0');
        }
        return true;
    };
    unsigned y, m, d;
    if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return std::nullopt;
    if (y == 0 || m < 1 || m > 12 || d < 1) return std::nullopt;
    static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > month_days[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
    return days_from_civil(static_cast<int>(y), m, d);
}

void append_iso_date(std::string& out, std::int32_t days) {
    int y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[16];
    char* p = buf;
    if (y < 0 || y > 9999) {
        p = std::to_chars(p, buf + 8, y).ptr;
    } else {
        p[0] = static_cast<char>('0' + y / 1000);
        p[1] = static_cast<char>('0' + y / 100 % 10);
        p[2] = static_cast<char>('0' + y / 10 % 10);
        p[3] = static_cast<char>('0' + y % 10);
        p += 4;
    }
    *p++ = '-';
    *p++ = static_cast<char>('0' + m / 10);
    *p++ = static_cast<char>('0' + m % 10);
    *p++ = '-';
    *p++ = static_cast<char>('0' + d / 10);
    *p++ = static_cast<char>('0' + d % 10);
    out.append(buf, p);
}

void append_number(std::string& out, double value) {
    char buf[32];
    if (value == 0) value = 0;  // no "-0"
    // Quantities are nearly always whole: the integer path skips the shortest-float search.
    if (std::abs(value) < 9.0e15 && value == std::trunc(value)) {
        const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
        out.append(buf, r.ptr);
        return;
    }
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

// ---------------------------------------------------------------------------------------------

// One text column's distinct values in first-seen order and each row's index among them. The
// values are copied into one arena and the table keeps their hashes, so that checking a row's
// value against the table touches compact memory, not another record somewhere in the input.
struct inventory_snapshot::distinct_values {
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    std::string arena;
    std::vector<std::uint32_t> offsets{0};  // values.size()+1 entries into arena
    std::vector<std::size_t> hashes;
    std::vector<std::uint32_t> row_ids;  // none for NULL
    std::vector<std::uint32_t> slots = std::vector<std::uint32_t>(1024, none);

    explicit distinct_values(std::size_t rows) : row_ids(rows, none) {}

    std::size_t size() const { return hashes.size(); }
    std::string_view value(std::uint32_t k) const {
        return {arena.data() + offsets[k], offsets[k + 1] - offsets[k]};
    }

    void add(std::size_t row, const std::optional<std::string>& v) {
        if (!v) return;
        const std::string_view s = *v;
        const std::size_t hash = hash_text(s);
        std::size_t mask = slots.size() - 1;
        std::size_t h = hash & mask;
        while (slots[h] != none && (hashes[slots[h]] != hash || value(slots[h]) != s))
            h = (h + 1) & mask;
        if (slots[h] != none) {
            row_ids[row] = slots[h];
            return;
        }
        const auto id = static_cast<std::uint32_t>(size());
        if (arena.size() + s.size() >= none)
            throw std::length_error("inventory snapshot: text column too large");
        arena += s;
        offsets.push_back(static_cast<std::uint32_t>(arena.size()));
        hashes.push_back(hash);
        row_ids[row] = id;
        if (size() * 2 <= slots.size()) {
            slots[h] = id;
            return;
        }
        slots.assign(slots.size() * 2, none);
        mask = slots.size() - 1;
        for (std::uint32_t k = 0; k < size(); ++k) {
            std::size_t g = hashes[k] & mask;
            while (slots[g] != none) g = (g + 1) & mask;
            slots[g] = k;
        }
    }
};

inventory_snapshot::inventory_snapshot(std::vector<inventory_record> records,
                                       const column_set& present, clock::time_point as_of)
    : rows_(records.size()), present_(present), as_of_(as_of) {
    if (records.size() >= std::numeric_limits<std::uint32_t>::max() / 2)
        throw std::length_error("inventory snapshot: too many rows");
    std::vector<column> text_columns, date_columns;
    std::array<std::unique_ptr<distinct_values>, column_count> distinct;
    for (const auto& ci : erp::columns) {
        if (!present_[index(ci.id)]) continue;
        if (ci.kind == column_kind::text) {
            text_columns.push_back(ci.id);
            distinct[index(ci.id)] = std::make_unique<distinct_values>(rows_);
        } else if (ci.kind == column_kind::date) {
            date_columns.push_back(ci.id);
            dates_[index(ci.id)].resize(rows_);
        } else {
            on_hand_.resize(rows_);
        }
    }
    // One pass over the records for every column: a record is several cache lines, and going
    // over all of them once per column was most of the build time.
    for (std::size_t r = 0; r < rows_; ++r) {
        const auto& rec = records[r];
        for (const column c : text_columns) distinct[index(c)]->add(r, rec[c]);
        for (const column c : date_columns) {
            const auto& v = rec[c];
            const auto d = v ? parse_iso_date(*v) : std::nullopt;
            dates_[index(c)][r] = d ? *d : date_null;
        }
        if (!on_hand_.empty())
            on_hand_[r] = rec.on_hand ? *rec.on_hand : std::numeric_limits<double>::quiet_NaN();
    }
    for (const column c : text_columns) {
        build_text(c, *distinct[index(c)]);
        distinct[index(c)].reset();
    }
}

std::shared_ptr<const inventory_snapshot> inventory_snapshot::build(
    std::vector<inventory_record> records, const column_set& present, clock::time_point as_of) {
    return std::make_shared<const inventory_snapshot>(std::move(records), present, as_of);
}

void inventory_snapshot::build_text(column c, distinct_values& values) {
    auto& col = text_[index(c)];
    constexpr std::uint32_t none = distinct_values::none;
    std::vector<std::string_view> distinct(values.size());
    for (std::uint32_t k = 0; k < values.size(); ++k) distinct[k] = values.value(k);
    const auto& first_ids = values.row_ids;

    std::vector<std::string> lowered(distinct.size());
    for (std::size_t k = 0; k < distinct.size(); ++k) lowered[k] = lower_case_utf8(distinct[k]);

    std::vector<std::uint32_t> by_order(distinct.size());
    std::iota(by_order.begin(), by_order.end(), 0u);
    std::sort(by_order.begin(), by_order.end(), [&](std::uint32_t a, std::uint32_t b) {
        // "" goes after every value so that empty sorts with NULL.
        if (distinct[a].empty() != distinct[b].empty()) return distinct[b].empty();
        return compare_natural(lowered[a], distinct[a], lowered[b], distinct[b]) < 0;
    });

    col.size = static_cast<value_id>(distinct.size());
    col.non_empty = col.size;
    std::vector<std::uint32_t> final_id(distinct.size());
    std::size_t chars = 0, lower_chars = 0;
    for (std::size_t k = 0; k < by_order.size(); ++k) {
        final_id[by_order[k]] = static_cast<std::uint32_t>(k);
        chars += distinct[by_order[k]].size();
        lower_chars += lowered[by_order[k]].size();
        if (distinct[by_order[k]].empty()) col.non_empty = static_cast<value_id>(k);
    }
    if (chars >= none || lower_chars >= none)
        throw std::length_error("inventory snapshot: text column too large");
    col.chars.reserve(chars);
    col.lower_chars.reserve(lower_chars);
    col.offsets.reserve(distinct.size() + 1);
    col.lower_offsets.reserve(distinct.size() + 1);
    col.offsets.push_back(0);
    col.lower_offsets.push_back(0);
    for (const std::uint32_t k : by_order) {
        col.chars += distinct[k];
        col.lower_chars += lowered[k];
        col.offsets.push_back(static_cast<std::uint32_t>(col.chars.size()));
        col.lower_offsets.push_back(static_cast<std::uint32_t>(col.lower_chars.size()));
    }

    col.ids.resize(rows_);
    col.posting_offsets.assign(std::size_t{col.size} + 2, 0);
    for (std::size_t r = 0; r < rows_; ++r) {
        const value_id id = first_ids[r] == none ? col.size : final_id[first_ids[r]];
        col.ids[r] = id;
        ++col.posting_offsets[id + 1];
    }
    for (std::size_t k = 1; k < col.posting_offsets.size(); ++k)
        col.posting_offsets[k] += col.posting_offsets[k - 1];
    col.posting_rows.resize(rows_);
    {
        std::vector<std::uint32_t> fill(col.posting_offsets.begin(), col.posting_offsets.end() - 1);
        for (std::size_t r = 0; r < rows_; ++r)
            col.posting_rows[fill[col.ids[r]]++] = static_cast<row_index>(r);
    }

    col.hash_slots.assign(table_size_for(col.size), none);
    const std::size_t mask = col.hash_slots.size() - 1;
    for (std::size_t k = 0; k < distinct.size(); ++k) {
        std::size_t h = values.hashes[k] & mask;
        while (col.hash_slots[h] != none) h = (h + 1) & mask;
        col.hash_slots[h] = final_id[k];
    }
}

std::shared_ptr<const inventory_snapshot> inventory_snapshot::merge(
    std::vector<std::shared_ptr<const inventory_snapshot>> parts) {
    std::erase(parts, nullptr);
    if (parts.size() == 1) return parts.front();
    column_set present{};
    clock::time_point as_of{};
    std::size_t rows = 0;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        for (std::size_t c = 0; c < column_count; ++c)
            present[c] = present[c] || parts[k]->present_[c];
        as_of = k == 0 ? parts[k]->as_of_ : std::min(as_of, parts[k]->as_of_);
        rows += parts[k]->size();
    }
    std::vector<inventory_record> records;
    records.reserve(rows);
    for (const auto& p : parts)
        for (std::size_t r = 0; r < p->size(); ++r)
            records.push_back(p->record(static_cast<row_index>(r)));
    return build(std::move(records), present, as_of);
}

// ---------------------------------------------------------------------------------------------

bool inventory_snapshot::is_null(row_index row, column c) const {
    if (!has_column(c)) return true;
    switch (info(c).kind) {
        case column_kind::text:
            return text_[index(c)].ids[row] == text_[index(c)].size;
        case column_kind::number:
            return std::isnan(on_hand_[row]);
        case column_kind::date:
            return dates_[index(c)][row] == date_null;
    }
    return true;
}

std::optional<std::string_view> inventory_snapshot::text(row_index row, column c) const {
    if (!has_column(c) || info(c).kind != column_kind::text) return std::nullopt;
    const auto& col = text_[index(c)];
    const value_id id = col.ids[row];
    if (id == col.size) return std::nullopt;
    return value(c, id);
}

void inventory_snapshot::append_cell_text(std::string& out, row_index row, column c) const {
    if (!has_column(c)) return;
    switch (info(c).kind) {
        case column_kind::text:
            if (const auto t = text(row, c)) out += *t;
            break;
        case column_kind::number:
            if (!std::isnan(on_hand_[row])) append_number(out, on_hand_[row]);
            break;
        case column_kind::date:
            if (const auto d = dates_[index(c)][row]; d != date_null) append_iso_date(out, d);
            break;
    }
}

std::string inventory_snapshot::cell_text(row_index row, column c) const {
    std::string out;
    append_cell_text(out, row, c);
    return out;
}

inventory_record inventory_snapshot::record(row_index row) const {
    inventory_record r;
    for (const auto& ci : erp::columns) {
        if (!has_column(ci.id) || is_null(row, ci.id)) continue;
        if (ci.kind == column_kind::number)
            r.on_hand = on_hand_[row];
        else
            r[ci.id] = cell_text(row, ci.id);
    }
    return r;
}

std::string_view inventory_snapshot::lower_value(column c, value_id id) const {
    const auto& col = text_[index(c)];
    if (id >= col.size) return {};
    return std::string_view(col.lower_chars)
        .substr(col.lower_offsets[id], col.lower_offsets[id + 1] - col.lower_offsets[id]);
}

std::optional<inventory_snapshot::value_id> inventory_snapshot::find_value(
    column c, std::string_view exact) const {
    const auto& col = text_[index(c)];
    if (col.hash_slots.empty()) return std::nullopt;
    const std::size_t mask = col.hash_slots.size() - 1;
    for (std::size_t h = hash_text(exact) & mask;; h = (h + 1) & mask) {
        const std::uint32_t id = col.hash_slots[h];
        if (id == std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
        if (value(c, id) == exact) return id;
    }
}

std::span<const inventory_snapshot::row_index> inventory_snapshot::rows_with(column c,
                                                                             value_id id) const {
    const auto& col = text_[index(c)];
    if (col.ids.empty() || id > col.size) return {};
    return std::span(col.posting_rows)
        .subspan(col.posting_offsets[id], col.posting_offsets[id + 1] - col.posting_offsets[id]);
}

// ---------------------------------------------------------------------------------------------

std::uint64_t inventory_snapshot::sort_key(row_index row, column c) const {
    if (!has_column(c)) return 0;
    switch (info(c).kind) {
        case column_kind::text:
            return text_[index(c)].ids[row];
        case column_kind::number:
            return ordered_bits(on_hand_[row]);
        case column_kind::date: {
            const std::int32_t d = dates_[index(c)][row];
            return d == date_null ? std::numeric_limits<std::uint64_t>::max()
                                  : std::uint64_t{static_cast<std::uint32_t>(d) ^ 0x80000000u};
        }
    }
    return 0;
}

namespace {

// Stable counting sort of positions 0..keys.size()-1 by keys[i] < range: O(n + range), against
// O(n log n) comparisons for std::sort. Every text column (ids) and date column qualifies.
std::vector<std::uint32_t> counting_order(const std::vector<std::uint32_t>& keys,
                                          std::size_t range) {
    std::vector<std::uint32_t> start(range + 1, 0);
    for (const auto k : keys) ++start[k + 1];
    for (std::size_t k = 1; k <= range; ++k) start[k] += start[k - 1];
    std::vector<std::uint32_t> out(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
        out[start[keys[i]]++] = static_cast<std::uint32_t>(i);
    return out;
}

}  // namespace

void inventory_snapshot::build_default_order() const {
    // Least significant first: by lot, then stably by part, leaves ties in row order.
    std::vector<std::uint32_t> keys(rows_);
    for (std::size_t r = 0; r < rows_; ++r) keys[r] = id_at(static_cast<row_index>(r), column::lot);
    const auto by_lot = counting_order(keys, std::size_t{null_id(column::lot)} + 1);
    for (std::size_t k = 0; k < rows_; ++k) keys[k] = id_at(by_lot[k], column::part);
    const auto by_part = counting_order(keys, std::size_t{null_id(column::part)} + 1);
    default_order_.resize(rows_);
    default_rank_.resize(rows_);
    for (std::size_t k = 0; k < rows_; ++k) {
        default_order_[k] = by_lot[by_part[k]];
        default_rank_[default_order_[k]] = static_cast<std::uint32_t>(k);
    }
}

std::span<const inventory_snapshot::row_index> inventory_snapshot::default_order() const {
    std::call_once(default_once_, [this] { build_default_order(); });
    return default_order_;
}

const inventory_snapshot::sort_cache& inventory_snapshot::sorted(column c) const {
    auto& cache = sorts_[index(c)];
    std::call_once(cache.once, [&] {
        const auto base = default_order();
        // keys[k] is the sort key of the k-th row in the default order, so a stable sort by key
        // alone leaves ties in part, lot, row order.
        std::vector<std::uint64_t> keys(rows_);
        constexpr std::uint64_t null_key = std::numeric_limits<std::uint64_t>::max();
        std::uint64_t low = null_key, high = 0;
        for (std::size_t k = 0; k < rows_; ++k) {
            keys[k] = sort_key(base[k], c);
            if (keys[k] == null_key) continue;
            low = std::min(low, keys[k]);
            high = std::max(high, keys[k]);
        }
        if (low > high) low = high = 0;     // every key NULL
        std::vector<std::uint32_t> by_key;  // positions in the default order
        if (high - low <= 4 * rows_ + 1024) {
            std::vector<std::uint32_t> small(rows_);
            for (std::size_t k = 0; k < rows_; ++k)
                small[k] = static_cast<std::uint32_t>(keys[k] == null_key ? high - low + 1
                                                                          : keys[k] - low);
            by_key = counting_order(small, static_cast<std::size_t>(high - low) + 2);
        } else {
            by_key.resize(rows_);
            std::iota(by_key.begin(), by_key.end(), 0u);
            std::stable_sort(by_key.begin(), by_key.end(),
                             [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
        }
        cache.ascending.resize(rows_);
        cache.descending.resize(rows_);
        cache.ascending_rank.resize(rows_);
        cache.descending_rank.resize(rows_);
        for (std::size_t k = 0; k < rows_; ++k) cache.ascending[k] = base[by_key[k]];
        // Descending keeps the tie-break ascending: the runs of equal keys are reversed as
        // blocks, each block keeping its inner order.
        std::size_t out = 0;
        for (std::size_t end = rows_; end > 0;) {
            std::size_t begin = end - 1;
            while (begin > 0 && keys[by_key[begin - 1]] == keys[by_key[end - 1]]) --begin;
            for (std::size_t k = begin; k < end; ++k) cache.descending[out++] = cache.ascending[k];
            end = begin;
        }
        for (std::size_t k = 0; k < rows_; ++k) {
            cache.ascending_rank[cache.ascending[k]] = static_cast<std::uint32_t>(k);
            cache.descending_rank[cache.descending[k]] = static_cast<std::uint32_t>(k);
        }
    });
    return cache;
}

std::span<const inventory_snapshot::row_index> inventory_snapshot::order(column c,
                                                                         bool descending) const {
    const auto& cache = sorted(c);
    return descending ? cache.descending : cache.ascending;
}

std::span<const std::uint32_t> inventory_snapshot::rank(column c, bool descending) const {
    const auto& cache = sorted(c);
    return descending ? cache.descending_rank : cache.ascending_rank;
}

// ---------------------------------------------------------------------------------------------

namespace {

std::uint32_t trigram_at(std::string_view s, std::size_t i) {
    return (std::uint32_t{static_cast<unsigned char>(s[i])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(s[i + 1])} << 8) |
           std::uint32_t{static_cast<unsigned char>(s[i + 2])};
}

}  // namespace

void inventory_snapshot::build_trigrams() const {
    auto& t = trigrams_;
    std::uint32_t base = 0;
    for (std::size_t c = 0; c < column_count; ++c) {
        t.column_base[c] = base;
        base += text_[c].size;
    }
    t.column_base[column_count] = base;

    // (trigram << 32 | entry), pushed in entry order; each entry's trigrams deduplicated.
    std::vector<std::uint64_t> pairs;
    std::vector<std::uint32_t> grams;
    for (std::size_t c = 0; c < column_count; ++c) {
        const auto col = static_cast<column>(c);
        for (value_id id = 0; id < text_[c].size; ++id) {
            const std::string_view s = lower_value(col, id);
            if (s.size() < 3) continue;
            grams.clear();
            for (std::size_t i = 0; i + 3 <= s.size(); ++i) grams.push_back(trigram_at(s, i));
            std::sort(grams.begin(), grams.end());
            grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
            for (const std::uint32_t g : grams)
                pairs.push_back((std::uint64_t{g} << 32) | (t.column_base[c] + id));
        }
    }
    // LSD radix sort on the 24-bit trigram: stable, so entries stay ascending within a trigram.
    std::vector<std::uint64_t> tmp(pairs.size());
    for (int shift = 32; shift < 56; shift += 8) {
        std::array<std::size_t, 257> count{};
        for (const auto p : pairs) ++count[((p >> shift) & 0xFF) + 1];
        for (std::size_t k = 1; k < count.size(); ++k) count[k] += count[k - 1];
        for (const auto p : pairs) tmp[count[(p >> shift) & 0xFF]++] = p;
        pairs.swap(tmp);
    }
    t.entries.resize(pairs.size());
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        const auto g = static_cast<std::uint32_t>(pairs[k] >> 32);
        if (t.keys.empty() || t.keys.back() != g) {
            t.keys.push_back(g);
            t.offsets.push_back(static_cast<std::uint32_t>(k));
        }
        t.entries[k] = static_cast<std::uint32_t>(pairs[k]);
    }
    t.offsets.push_back(static_cast<std::uint32_t>(pairs.size()));
}

inventory_snapshot::id_bits inventory_snapshot::values_containing(std::string_view needle) const {
    id_bits out;
    for (std::size_t c = 0; c < column_count; ++c)
        if (present_[c] && info(static_cast<column>(c)).kind == column_kind::text)
            out[c].assign((text_[c].size + 63) / 64, 0);
    auto mark = [&](std::size_t c, value_id id) {
        out[c][id / 64] |= std::uint64_t{1} << (id % 64);
    };

    if (needle.size() < 3) {
        // One or two bytes match most of a dictionary anyway: scanning is as good as an index.
        for (std::size_t c = 0; c < column_count; ++c) {
            const auto col = static_cast<column>(c);
            for (value_id id = 0; id < text_[c].size && !out[c].empty(); ++id)
                if (lower_value(col, id).find(needle) != std::string_view::npos) mark(c, id);
        }
        return out;
    }

    std::call_once(trigram_once_, [this] { build_trigrams(); });
    const auto& t = trigrams_;
    // The needle's rarest trigram bounds the candidates; checking each candidate for the whole
    // needle is then cheap. A three-byte needle is its own trigram, so no check is needed.
    std::span<const std::uint32_t> best;
    bool first = true;
    for (std::size_t i = 0; i + 3 <= needle.size(); ++i) {
        const std::uint32_t g = trigram_at(needle, i);
        const auto it = std::lower_bound(t.keys.begin(), t.keys.end(), g);
        if (it == t.keys.end() || *it != g) return out;
        const auto k = static_cast<std::size_t>(it - t.keys.begin());
        const std::span<const std::uint32_t> list(t.entries.data() + t.offsets[k],
                                                  t.offsets[k + 1] - t.offsets[k]);
        if (first || list.size() < best.size()) best = list;
        first = false;
    }
    std::size_t c = 0;
    for (const std::uint32_t entry : best) {
        while (entry >= t.column_base[c + 1]) ++c;
        const value_id id = entry - t.column_base[c];
        if (needle.size() == 3 ||
            lower_value(static_cast<column>(c), id).find(needle) != std::string_view::npos)
            mark(c, id);
    }
    return out;
}

const inventory_snapshot::json_rendering& inventory_snapshot::rendered_json(column c) const {
    auto& r = json_[index(c)];
    std::call_once(json_once_[index(c)], [&] {
        const value_id count = empty_id(c);
        r.starts.reserve(std::size_t{count} + 1);
        r.array.push_back('[');
        for (value_id id = 0; id < count; ++id) {
            if (id) r.array.push_back(',');
            r.starts.push_back(static_cast<std::uint32_t>(r.array.size()));
            append_json_string(r.array, value(c, id));
        }
        r.array.push_back(']');
        // The value before each start is followed by one ',' or the closing ']'.
        r.starts.push_back(static_cast<std::uint32_t>(r.array.size()));
        r.array.shrink_to_fit();
    });
    return r;
}

void inventory_snapshot::append_cell_json(std::string& out, row_index row, column c) const {
    switch (info(c).kind) {
        case column_kind::text: {
            const auto id = id_at(row, c);
            if (id == null_id(c)) break;
            out.append(value_json(c, id));
            return;
        }
        case column_kind::number:
            if (const auto v = number(row, c); v && std::isfinite(*v)) return append_number(out, *v);
            break;
        case column_kind::date:
            if (const auto d = date(row, c)) {
                out.push_back('"');
                append_iso_date(out, *d);
                out.push_back('"');
                return;
            }
            break;
    }
    out.append("null");
}

const inventory_snapshot::row_rendering& inventory_snapshot::rendered_rows() const {
    std::call_once(rows_once_, [this] {
        auto& r = rows_json_;
        const auto present = present_columns();
        r.starts.reserve(rows_ + 1);
        for (row_index row = 0; row < rows_; ++row) {
            r.starts.push_back(r.text.size());
            r.text.push_back('[');
            for (std::size_t k = 0; k < present.size(); ++k) {
                if (k) r.text.push_back(',');
                append_cell_json(r.text, row, present[k]);
            }
            r.text.push_back(']');
        }
        r.starts.push_back(r.text.size());
        r.text.shrink_to_fit();
    });
    return rows_json_;
}

void inventory_snapshot::warm_up() const {
    for (const auto& ci : erp::columns) sorted(ci.id);
    for (const column c : facet_columns) all_values_json(c);
    rendered_rows();
    std::call_once(trigram_once_, [this] { build_trigrams(); });
}

}  // namespace portal::erp
