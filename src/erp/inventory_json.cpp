#include "erp/inventory_json.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace portal::erp {

namespace {

// 0: copy as is; 1: escape (ASCII); 2: start of a multi-byte sequence to check.
constexpr std::array<std::uint8_t, 256> byte_class = [] {
    std::array<std::uint8_t, 256> t{};
    for (int b = 0; b < 0x20; ++b) t[b] = 1;
    t['"'] = t['\\'] = t['<'] = t['>'] = t['&'] = 1;
    for (int b = 0x80; b < 0x100; ++b) t[b] = 2;
    return t;
}();

constexpr char hex_digits[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0)
        len = 2, min = 0x80, cp = b0 & 0x1F;
    else if ((b0 & 0xF0) == 0xE0)
        len = 3, min = 0x800, cp = b0 & 0x0F;
    else if ((b0 & 0xF8) == 0xF0)
        len = 4, min = 0x10000, cp = b0 & 0x07;
    else
        return 0;
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

void append_unsigned(std::string& out, std::size_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t run = i;
        while (run < s.size() && byte_class[static_cast<unsigned char>(s[run])] == 0) ++run;
        out.append(s.data() + i, run - i);
        i = run;
        if (i == s.size()) break;
        const auto b = static_cast<unsigned char>(s[i]);
        if (byte_class[b] == 1) {
            switch (b) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                const char esc[6] = {'\\', 'u', '0', '0', hex_digits[b >> 4], hex_digits[b & 0xF]};
                out.append(esc, 6);
            }
            }
            ++i;
            continue;
        }
        char32_t cp;
        const std::size_t len = utf8_length(s, i, cp);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else if (cp == 0x2028 || cp == 0x2029) {
            out += cp == 0x2028 ? "\\u2028" : "\\u2029";
            i += len;
        } else {
            out.append(s.data() + i, len);
            i += len;
        }
    }
    out.push_back('"');
}

void append_utc_timestamp(std::string& out, std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(when).time_since_epoch().count();
    const auto days = static_cast<std::int32_t>(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
    const auto in_day = static_cast<int>(secs - std::int64_t{days} * 86400);
    append_iso_date(out, days);
    const int h = in_day / 3600, m = in_day / 60 % 60, s = in_day % 60;
    const char t[10] = {'T', static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10), ':',
                        static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10), ':',
                        static_cast<char>('0' + s / 10), static_cast<char>('0' + s % 10), 'Z'};
    out.append(t, 10);
}

std::string inventory_json(const inventory_snapshot& snapshot, const query_result& result,
                           const inventory_query& query, bool stale) {
    std::array<column, column_count> present{};
    std::size_t ncols = 0;
    for (const auto& ci : columns)
        if (snapshot.has_column(ci.id)) present[ncols++] = ci.id;

    std::size_t facet_entries = 0;
    for (const auto& f : result.facets) facet_entries += f.size();
    std::string out;
    // A generous guess so that the common response is written without reallocating.
    out.reserve(512 + result.rows.size() * (ncols * 14 + 4) + facet_entries * 16);

    out += "{\"columns\":[";
    for (std::size_t k = 0; k < ncols; ++k) {
        if (k) out.push_back(',');
        out.push_back('"');
        out += info(present[k]).name;
        out.push_back('"');
    }
    out += "],\"rows\":[";
    for (std::size_t n = 0; n < result.rows.size(); ++n) {
        const auto row = result.rows[n];
        out += n ? ",[" : "[";
        for (std::size_t k = 0; k < ncols; ++k) {
            if (k) out.push_back(',');
            const column c = present[k];
            switch (info(c).kind) {
            case column_kind::text: {
                const auto id = snapshot.id_at(row, c);
                if (id == snapshot.null_id(c))
                    out += "null";
                else
                    append_json_string(out, snapshot.value(c, id));
                break;
            }
            case column_kind::number: {
                const auto v = snapshot.number(row, c);
                if (v && std::isfinite(*v))
                    append_number(out, *v);
                else
                    out += "null";
                break;
            }
            case column_kind::date: {
                if (const auto d = snapshot.date(row, c)) {
                    out.push_back('"');
                    append_iso_date(out, *d);
                    out.push_back('"');
                } else {
                    out += "null";
                }
                break;
            }
            }
        }
        out.push_back(']');
    }
    out += "],\"total\":";
    append_unsigned(out, result.total);
    out += ",\"page\":";
    append_unsigned(out, query.page);
    out += ",\"per_page\":";
    append_unsigned(out, query.per_page);
    out += ",\"facets\":{";
    for (std::size_t k = 0; k < facet_columns.size(); ++k) {
        if (k) out.push_back(',');
        out.push_back('"');
        out += info(facet_columns[k]).name;
        out += "\":[";
        const auto& ids = result.facets[k];
        for (std::size_t n = 0; n < ids.size(); ++n) {
            if (n) out.push_back(',');
            append_json_string(out, snapshot.value(facet_columns[k], ids[n]));
        }
        out.push_back(']');
    }
    out += "},\"as_of\":\"";
    append_utc_timestamp(out, snapshot.as_of());
    out += "\",\"stale\":";
    out += stale ? "true}" : "false}";
    return out;
}

}  // namespace portal::erp
