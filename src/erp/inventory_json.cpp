#include "erp/inventory_json.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <vector>

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

// Length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), or 0.
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

// Writes through a raw pointer into a std::string grown ahead of need: per-character
// push_back, with its capacity check and terminator store each time, was most of the cost.
class json_writer {
  public:
    explicit json_writer(std::string& out, std::size_t expected) : out_(out) {
        const std::size_t used = out_.size();
        out_.resize(used + std::max<std::size_t>(expected, 256));
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }
    json_writer(const json_writer&) = delete;
    json_writer& operator=(const json_writer&) = delete;
    ~json_writer() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }

    void ensure(std::size_t n) {
        if (static_cast<std::size_t>(end_ - p_) >= n) return;
        const auto used = static_cast<std::size_t>(p_ - out_.data());
        out_.resize(std::max(out_.size() * 2, used + n));
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }
    void put(char c) {
        ensure(1);
        *p_++ = c;
    }
    void put(std::string_view s) {
        ensure(s.size());
        std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }
    void put_unsigned(std::size_t v) {
        ensure(24);
        p_ = std::to_chars(p_, end_, v).ptr;
    }

    void put_string(std::string_view s) {
        // Worst case every byte becomes \u00XX; one check then no checks per byte.
        ensure(s.size() * 6 + 2);
        char* p = p_;
        *p++ = '"';
        for (std::size_t i = 0; i < s.size();) {
            const auto b = static_cast<unsigned char>(s[i]);
            const std::uint8_t cls = byte_class[b];
            if (cls == 0) {
                *p++ = static_cast<char>(b);
                ++i;
                continue;
            }
            if (cls == 1) {
                *p++ = '\\';
                switch (b) {
                    case '"':
                        *p++ = '"';
                        break;
                    case '\\':
                        *p++ = '\\';
                        break;
                    case '\n':
                        *p++ = 'n';
                        break;
                    case '\r':
                        *p++ = 'r';
                        break;
                    case '\t':
                        *p++ = 't';
                        break;
                    case '\b':
                        *p++ = 'b';
                        break;
                    case '\f':
                        *p++ = 'f';
                        break;
                    default:
                        *p++ = 'u';
                        *p++ = '0';
                        *p++ = '0';
                        *p++ = hex_digits[b >> 4];
                        *p++ = hex_digits[b & 0xF];
                }
                ++i;
                continue;
            }
            char32_t cp;
            const std::size_t len = utf8_length(s, i, cp);
            if (len == 0) {  // not UTF-8: U+FFFD, 3 bytes for 1, within the 6 reserved
                *p++ = '\xEF';
                *p++ = '\xBF';
                *p++ = '\xBD';
                ++i;
            } else if (cp == 0x2028 || cp == 0x2029) {  // 6 bytes for 3
                std::memcpy(p, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
                p += 6;
                i += len;
            } else {
                std::memcpy(p, s.data() + i, len);
                p += len;
                i += len;
            }
        }
        *p++ = '"';
        p_ = p;
    }

  private:
    std::string& out_;
    char* p_;
    char* end_;
};

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    json_writer w(out, text.size() * 6 + 2);
    w.put_string(text);
}

void append_utc_timestamp(std::string& out, std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(when).time_since_epoch().count();
    const auto days = static_cast<std::int32_t>(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
    const auto in_day = static_cast<int>(secs - std::int64_t{days} * 86400);
    append_iso_date(out, days);
    const int h = in_day / 3600, m = in_day / 60 % 60, s = in_day % 60;
    const char t[10] = {'T', static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10),
                        ':', static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10),
                        ':', static_cast<char>('0' + s / 10), static_cast<char>('0' + s % 10),
                        'Z'};
    out.append(t, 10);
}

std::string inventory_json(const inventory_snapshot& snapshot, const query_result& result,
                           const inventory_query& query, bool stale) {
    // Text comes from the snapshot already rendered as JSON (rendered once per snapshot), so
    // rows and facets are copies. An unfiltered facet holds every non-empty value:
    // that whole array is one copy.
    std::array<bool, facet_columns.size()> facet_is_all{};
    std::size_t facet_bytes = 0;
    for (std::size_t k = 0; k < facet_columns.size(); ++k) {
        const column c = facet_columns[k];
        facet_is_all[k] = snapshot.has_column(c) && result.facets[k].size() == snapshot.empty_id(c);
        facet_bytes +=
            facet_is_all[k] ? snapshot.all_values_json(c).size() : result.facets[k].size() * 16;
    }

    std::string out;
    {
        json_writer w(out, 512 + result.rows.size() * 160 + facet_bytes);
        w.put("{\"columns\":[");
        const auto present = snapshot.present_columns();
        for (std::size_t k = 0; k < present.size(); ++k) {
            if (k) w.put(',');
            w.put('"');
            w.put(info(present[k]).name);
            w.put('"');
        }
        w.put("],\"rows\":[");
        // Rows come rendered from the snapshot. The page's rows are scattered over it, so each
        // one is a cache miss: find them all first, independently, then copy.
        const std::size_t nrows = result.rows.size();
        std::vector<std::string_view> rows(nrows);
        std::size_t row_bytes = nrows;
        for (std::size_t n = 0; n < nrows; ++n) {
            rows[n] = snapshot.row_json(result.rows[n]);
            __builtin_prefetch(rows[n].data());
            row_bytes += rows[n].size();
        }
        w.ensure(row_bytes);
        for (std::size_t n = 0; n < nrows; ++n) {
            if (n) w.put(',');
            w.put(rows[n]);
        }
        w.put("],\"total\":");
        w.put_unsigned(result.total);
        w.put(",\"page\":");
        w.put_unsigned(query.page);
        w.put(",\"per_page\":");
        w.put_unsigned(query.per_page);
        w.put(",\"facets\":{");
        for (std::size_t k = 0; k < facet_columns.size(); ++k) {
            const column c = facet_columns[k];
            if (k) w.put(',');
            w.put('"');
            w.put(info(c).name);
            w.put("\":");
            if (facet_is_all[k]) {
                w.put(snapshot.all_values_json(c));
                continue;
            }
            w.put('[');
            const auto& ids = result.facets[k];
            for (std::size_t n = 0; n < ids.size(); ++n) {
                if (n) w.put(',');
                w.put(snapshot.value_json(c, ids[n]));
            }
            w.put(']');
        }
        w.put("},\"as_of\":\"");
        std::string when;
        append_utc_timestamp(when, snapshot.as_of());
        w.put(when);
        w.put("\",\"stale\":");
        w.put(stale ? "true}" : "false}");
    }
    return out;
}

}  // namespace portal::erp
