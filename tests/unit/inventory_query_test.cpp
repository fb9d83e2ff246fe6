// The inventory engine (snapshot, query, JSON) against a plain reference implementation.
#include "erp/inventory_query.hpp"
#include "erp/inventory_json.hpp"
#include "erp/inventory_snapshot.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <locale.h>
#include <algorithm>
#include <chrono>
#include <cwctype>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace portal::erp {
namespace {

using records = std::vector<inventory_record>;
using params = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// The reference: the SPEC §4 rules written as directly as possible, row by row, with no indexes.

std::u32string decode(std::string_view s) {
    // Invalid bytes become code points above U+10FFFF so that they survive and compare apart.
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
        bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            ok = (c & 0xC0) == 0x80;
            cp = (cp << 6) | (c & 0x3F);
        }
        const char32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (ok && len > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = false;
        if (!ok) {
            out.push_back(0x110000 + b);
            ++i;
        } else {
            out.push_back(cp);
            i += static_cast<std::size_t>(len);
        }
    }
    return out;
}

locale_t test_locale() {
    static const locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
    return l;
}

std::u32string ref_lower(std::string_view s) {
    std::u32string u = decode(s);
    for (auto& c : u)
        if (c < 0x110000)
            c = static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), test_locale()));
    return u;
}

std::string encode(const std::u32string& u) {
    std::string out;
    for (const char32_t c : u) {
        if (c >= 0x110000) {
            out.push_back(static_cast<char>(c - 0x110000));
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

std::u32string ref_upper(std::u32string u) {
    for (auto& c : u)
        if (c < 0x110000)
            c = static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), test_locale()));
    return u;
}

// Natural order as tokens: a digit run is one token compared by value, anything else one code
// point; then the raw bytes.
struct token {
    bool number;
    std::u32string digits;  // without leading zeros
    char32_t ch;
};

std::vector<token> tokens(const std::u32string& s) {
    std::vector<token> out;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] >= U'0' && s[i] <= U'9') {
            std::size_t j = i;
            while (j < s.size() && s[j] >= U'0' && s[j] <= U'9') ++j;
            std::u32string d = s.substr(i, j - i);
            d.erase(0, std::min(d.find_first_not_of(U'0'), d.size()));
            out.push_back({true, d, 0});
            i = j;
        } else {
            out.push_back({false, {}, s[i]});
            ++i;
        }
    }
    return out;
}

// Memoised only because the reference sorts the same few strings many times over.
const std::vector<token>& tokens_of(const std::string& s) {
    static thread_local std::map<std::string, std::vector<token>> memo;
    auto it = memo.find(s);
    if (it == memo.end()) it = memo.emplace(s, tokens(ref_lower(s))).first;
    return it->second;
}

int ref_compare_text(const std::string& a, const std::string& b) {
    const auto &ta = tokens_of(a), &tb = tokens_of(b);
    for (std::size_t i = 0; i < ta.size() && i < tb.size(); ++i) {
        const auto &x = ta[i], &y = tb[i];
        if (x.number && y.number) {
            if (x.digits.size() != y.digits.size())
                return x.digits.size() < y.digits.size() ? -1 : 1;
            if (x.digits != y.digits) return x.digits < y.digits ? -1 : 1;
        } else {
            // A number token against a character compares as its first digit would.
            const char32_t cx = x.number ? U'0' : x.ch, cy = y.number ? U'0' : y.ch;
            if (cx != cy) return cx < cy ? -1 : 1;
        }
    }
    if (ta.size() != tb.size()) return ta.size() < tb.size() ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

// Text cell: 0 non-empty, 1 "", 2 NULL, then the text.
int ref_compare_cell(const std::optional<std::string>& a, const std::optional<std::string>& b) {
    const int ca = !a ? 2 : a->empty() ? 1 : 0, cb = !b ? 2 : b->empty() ? 1 : 0;
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca != 0) return 0;
    return ref_compare_text(*a, *b);
}

bool ref_valid_date(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(s[static_cast<std::size_t>(i)]))) return false;
    const std::chrono::year_month_day ymd{
        std::chrono::year{std::stoi(s.substr(0, 4))},
        std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
        std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
    return ymd.ok() && std::stoi(s.substr(0, 4)) > 0;
}

struct reference {
    records rows;  // absent columns already cleared
    column_set present;

    std::optional<std::string> cell(std::size_t r, column c) const {
        if (!present[static_cast<std::size_t>(c)]) return std::nullopt;
        auto v = rows[r][c];
        if (info(c).kind == column_kind::date && v && !ref_valid_date(*v)) return std::nullopt;
        return v;
    }
    std::optional<double> on_hand(std::size_t r) const {
        if (!present[static_cast<std::size_t>(column::on_hand)]) return std::nullopt;
        return rows[r].on_hand;
    }

    bool matches(std::size_t r, const inventory_query& q, std::optional<column> except) const {
        const std::array<std::pair<column, const std::optional<std::string>*>, 6> exact{
            {{column::part, &q.part},
             {column::bin, &q.bin},
             {column::status, &q.status},
             {column::lot, &q.lot},
             {column::warehouse, &q.warehouse},
             {column::customer, &q.customer}}};
        for (const auto& [c, v] : exact) {
            if (!*v || except == c) continue;
            if (cell(r, c) != **v) return false;
        }
        if (!q.q.empty()) {
            const auto needle = ref_lower(q.q);
            bool any = false;
            for (const auto& ci : columns) {
                if (ci.kind != column_kind::text) continue;
                const auto v = cell(r, ci.id);
                if (v && ref_lower(*v).find(needle) != std::u32string::npos) any = true;
            }
            if (!any) return false;
        }
        return true;
    }

    int compare_key(std::size_t a, std::size_t b, column c) const {
        if (info(c).kind == column_kind::number) {
            const auto x = on_hand(a), y = on_hand(b);
            if (!x || !y) return !x == !y ? 0 : !x ? 1 : -1;
            return *x < *y ? -1 : *x > *y ? 1 : 0;
        }
        if (info(c).kind == column_kind::date) {
            const auto x = cell(a, c), y = cell(b, c);
            if (!x || !y) return !x == !y ? 0 : !x ? 1 : -1;
            return *x < *y ? -1 : *x > *y ? 1 : 0;
        }
        return ref_compare_cell(cell(a, c), cell(b, c));
    }

    std::vector<std::uint32_t> ordered(const inventory_query& q) const {
        std::vector<std::uint32_t> out;
        for (std::size_t r = 0; r < rows.size(); ++r)
            if (matches(r, q, std::nullopt)) out.push_back(static_cast<std::uint32_t>(r));
        const column by = q.sort.value_or(column::part);
        std::stable_sort(out.begin(), out.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (int k = compare_key(a, b, by); k != 0) return q.descending ? k > 0 : k < 0;
            if (q.then_sort) {
                if (int k = compare_key(a, b, *q.then_sort); k != 0) return q.then_descending ? k > 0 : k < 0;
            }
            if (int k = ref_compare_cell(cell(a, column::part), cell(b, column::part)); k != 0)
                return k < 0;
            return ref_compare_cell(cell(a, column::lot), cell(b, column::lot)) < 0;
        });
        return out;
    }

    std::vector<std::string> facet(const inventory_query& q, column c) const {
        std::vector<std::string> out;
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const auto v = cell(r, c);
            if (v && !v->empty() && matches(r, q, c)) out.push_back(*v);
        }
        std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
            return ref_compare_text(a, b) < 0;
        });
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// Random data with many near-collisions: case variants, leading zeros, non-ASCII, empties, NULLs.

struct generator {
    std::mt19937 rng;
    explicit generator(unsigned seed) : rng(seed) {}

    std::size_t pick(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    }
    bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

    std::string word() {
        static const std::vector<std::string> pieces{
            "a", "A", "b", "B", "x", "0",  "1",  "2",  "9", "10", "007", "-",  " ",  "ä",   "Ä",
            "é", "É", "ß", "ø", "İ", "ab", "Ab", "\"", "<", "&",  "\\",  "\t", "中", "\xff"};
        std::string s;
        const std::size_t n = pick(6);
        for (std::size_t k = 0; k < n; ++k) s += pieces[pick(pieces.size())];
        return s;
    }

    std::string date() {
        static const std::vector<std::string> odd{"2027-02-30", "not a date", "2024-13-01", ""};
        if (chance(0.05)) return odd[pick(odd.size())];
        const int y = 1999 + static_cast<int>(pick(30));
        const auto m = 1 + pick(12), d = 1 + pick(28);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, static_cast<int>(m),
                      static_cast<int>(d));
        return buf;
    }

    std::vector<std::string> pool(std::size_t n) {
        std::vector<std::string> p;
        for (std::size_t k = 0; k < n; ++k) p.push_back(word());
        p.push_back("");
        return p;
    }

    std::pair<records, column_set> snapshot_data(std::size_t rows) {
        column_set present{};
        for (const auto& ci : columns)
            present[static_cast<std::size_t>(ci.id)] = ci.required || chance(0.7);
        std::array<std::vector<std::string>, column_count> pools;
        for (auto& p : pools) p = pool(1 + pick(12));
        records out(rows);
        for (auto& r : out) {
            for (const auto& ci : columns) {
                if (ci.kind == column_kind::number || chance(0.1)) continue;
                const auto& p = pools[static_cast<std::size_t>(ci.id)];
                r[ci.id] = ci.kind == column_kind::date ? date() : p[pick(p.size())];
            }
            if (!chance(0.1)) {
                static const std::vector<double> nums{0, -0.0, 1, 2, 2.5, -3, 120, 1e6, 0.1, 7};
                r.on_hand = nums[pick(nums.size())];
            }
        }
        return {std::move(out), present};
    }

    std::optional<std::string> some_value(const records& rows, column c) {
        if (rows.empty() || chance(0.1)) return word();
        const auto& v = rows[pick(rows.size())][c];
        return v ? *v : word();
    }

    std::string fragment(const records& rows) {
        if (rows.empty() || chance(0.2)) return word();
        const auto& r = rows[pick(rows.size())];
        const auto c = columns[pick(column_count)].id;
        if (!r[c] || r[c]->empty()) return word();
        // A random slice of code points, sometimes upper-cased.
        std::u32string u = decode(*r[c]);
        const std::size_t b = pick(u.size()),
                          len = 1 + pick(std::min<std::size_t>(4, u.size() - b));
        u = u.substr(b, len);
        if (std::any_of(u.begin(), u.end(), [](char32_t ch) { return ch >= 0x110000; }))
            return word();
        std::string s;
        for (char32_t ch : u) {
            std::u32string one(1, ch);
            s += encode(chance(0.5) ? ref_upper(one) : ref_lower(encode(one)));
        }
        return s;
    }

    inventory_query query(const records& rows) {
        inventory_query q;
        if (chance(0.3)) q.q = fragment(rows);
        if (chance(0.2)) q.part = some_value(rows, column::part);
        if (chance(0.2)) q.bin = some_value(rows, column::bin);
        if (chance(0.2)) q.status = some_value(rows, column::status);
        if (chance(0.1)) q.lot = some_value(rows, column::lot);
        if (chance(0.1)) q.warehouse = some_value(rows, column::warehouse);
        if (chance(0.1)) q.customer = some_value(rows, column::customer);
        if (chance(0.85)) q.sort = columns[pick(column_count)].id;
        q.descending = chance(0.5);
        if (q.sort && chance(0.3)) {
            q.then_sort = columns[pick(column_count)].id;
            if (q.then_sort == q.sort) q.then_sort.reset();
            q.then_descending = chance(0.5);
        }
        q.per_page = chance(0.3) ? 1 + pick(3) : 1 + pick(25);
        q.page = 1 + pick(rows.size() / q.per_page + 3);
        return q;
    }
};

reference make_reference(const records& rows, const column_set& present) {
    reference ref{rows, present};
    return ref;
}

std::string describe(const inventory_query& q) {
    std::string s = "q='" + q.q + "'";
    for (auto [name, v] : {std::pair{"part", &q.part},
                           {"bin", &q.bin},
                           {"status", &q.status},
                           {"lot", &q.lot},
                           {"warehouse", &q.warehouse},
                           {"customer", &q.customer}})
        if (*v) s += std::string(" ") + name + "='" + **v + "'";
    s += " sort=" + std::string(q.sort ? info(*q.sort).name : "-") +
         (q.descending ? " desc" : " asc");
    if (q.then_sort) s += " then=" + std::string(info(*q.then_sort).name) + (q.then_descending ? " desc" : " asc");
    s += " page=" + std::to_string(q.page) + " per_page=" + std::to_string(q.per_page);
    return s;
}

void check_against_reference(const inventory_snapshot& snap, const reference& ref,
                             const inventory_query& q) {
    SCOPED_TRACE(describe(q));
    const auto expected = ref.ordered(q);
    const auto result = run_query(snap, q);
    ASSERT_EQ(result.total, expected.size());
    const std::size_t begin = std::min(expected.size(), (q.page - 1) * q.per_page);
    const std::size_t end = std::min(expected.size(), begin + q.per_page);
    const std::vector<std::uint32_t> page(expected.begin() + static_cast<std::ptrdiff_t>(begin),
                                          expected.begin() + static_cast<std::ptrdiff_t>(end));
    ASSERT_EQ(result.rows, page);
    ASSERT_EQ(matching_rows(snap, q), expected);
    for (const column c : facet_columns) {
        const auto got = facet_values(snap, result, c);
        const auto want = ref.facet(q, c);
        ASSERT_EQ(std::vector<std::string>(got.begin(), got.end()), want)
            << "facet " << info(c).name;
    }
}

const auto as_of_time =
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 24} + std::chrono::hours{10};

TEST(InventoryEngine, MatchesReferenceOnRandomSnapshots) {
    generator gen(20261124);
    std::size_t cases = 0;
    for (int s = 0; s < 120; ++s) {
        const std::size_t n = s < 5 ? static_cast<std::size_t>(s) : 1 + gen.pick(250);
        auto [rows, present] = gen.snapshot_data(n);
        const auto ref = make_reference(rows, present);
        const auto snap = inventory_snapshot::build(rows, present, as_of_time);
        ASSERT_EQ(snap->size(), n);
        for (int k = 0; k < 30; ++k, ++cases) {
            check_against_reference(*snap, ref, gen.query(rows));
            if (HasFatalFailure()) return;
        }
    }
    EXPECT_GE(cases, 3000u);
}

TEST(InventoryEngine, CellsReadBackAsBuilt) {
    generator gen(7);
    for (int s = 0; s < 20; ++s) {
        auto [rows, present] = gen.snapshot_data(1 + gen.pick(100));
        const auto ref = make_reference(rows, present);
        const auto snap = inventory_snapshot::build(rows, present, as_of_time);
        for (std::uint32_t r = 0; r < rows.size(); ++r) {
            for (const auto& ci : columns) {
                if (ci.kind == column_kind::number) {
                    EXPECT_EQ(snap->number(r, ci.id), ref.on_hand(r));
                    continue;
                }
                const auto want = ref.cell(r, ci.id);
                EXPECT_EQ(snap->is_null(r, ci.id), !want);
                EXPECT_EQ(snap->cell_text(r, ci.id), want.value_or(""));
                if (ci.kind == column_kind::text) {
                    EXPECT_EQ(snap->text(r, ci.id), want);
                } else {
                    EXPECT_EQ(snap->date(r, ci.id).has_value(), want.has_value());
                }
            }
        }
    }
}

TEST(InventoryEngine, MergedSnapshotMatchesReference) {
    generator gen(99);
    for (int s = 0; s < 15; ++s) {
        std::vector<std::shared_ptr<const inventory_snapshot>> parts;
        records all;
        column_set present{};
        const std::size_t count = 2 + gen.pick(3);
        for (std::size_t p = 0; p < count; ++p) {
            auto [rows, cols] = gen.snapshot_data(gen.pick(80));
            for (auto& r : rows)  // what a part does not have is NULL in the union
                for (const auto& ci : columns)
                    if (!cols[static_cast<std::size_t>(ci.id)]) {
                        if (ci.kind == column_kind::number)
                            r.on_hand.reset();
                        else
                            r[ci.id].reset();
                    }
            for (std::size_t c = 0; c < column_count; ++c) present[c] = present[c] || cols[c];
            parts.push_back(
                inventory_snapshot::build(rows, cols, as_of_time + std::chrono::minutes(p)));
            all.insert(all.end(), rows.begin(), rows.end());
        }
        parts.push_back(nullptr);
        const auto merged = inventory_snapshot::merge(parts);
        ASSERT_EQ(merged->size(), all.size());
        EXPECT_EQ(merged->as_of(), as_of_time);
        EXPECT_EQ(merged->columns(), present);
        const auto ref = make_reference(all, present);
        for (int k = 0; k < 40; ++k) {
            check_against_reference(*merged, ref, gen.query(all));
            if (HasFatalFailure()) return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targeted cases.

inventory_record row(std::string part, std::string bin, std::optional<double> on_hand = 1,
                     std::optional<std::string> lot = std::nullopt) {
    inventory_record r;
    r[column::part] = std::move(part);
    r[column::bin] = std::move(bin);
    r.on_hand = on_hand;
    r[column::lot] = std::move(lot);
    return r;
}

column_set columns_of(std::initializer_list<column> cs) {
    column_set s{};
    for (const column c : cs) s[static_cast<std::size_t>(c)] = true;
    return s;
}

std::vector<std::string> column_in_order(const inventory_snapshot& s,
                                         const std::vector<std::uint32_t>& rows, column c) {
    std::vector<std::string> out;
    for (const auto r : rows) out.push_back(s.is_null(r, c) ? "NULL" : s.cell_text(r, c));
    return out;
}

TEST(InventoryEngine, NaturalCaseInsensitiveTextOrder) {
    const auto snap = inventory_snapshot::build(
        {row("B-10", "x"), row("b-2", "x"), row("B-1", "x"), row("B-02", "x"), row("a-100", "x"),
         row("A-99", "x"), row("", "x"), row("Äpfel", "x"), row("apfel", "x")},
        columns_of({column::part, column::bin, column::on_hand}), as_of_time);
    inventory_query q;
    q.sort = column::part;
    EXPECT_EQ(column_in_order(*snap, matching_rows(*snap, q), column::part),
              (std::vector<std::string>{"A-99", "a-100", "apfel", "B-1", "B-02", "b-2", "B-10",
                                        "Äpfel", ""}));
    q.descending = true;
    EXPECT_EQ(column_in_order(*snap, matching_rows(*snap, q), column::part),
              (std::vector<std::string>{"", "Äpfel", "B-10", "b-2", "B-02", "B-1", "apfel", "a-100",
                                        "A-99"}));
    EXPECT_LT(compare_natural("B-2", "B-10"), 0);
    EXPECT_LT(compare_natural("x9", "X10"), 0);
    EXPECT_GT(compare_natural("b", "A"), 0);
    EXPECT_NE(compare_natural("abc", "ABC"), 0);
}

TEST(InventoryEngine, UnicodeSearchIsCaseInsensitive) {
    auto r1 = row("P1", "x");
    r1[column::description] = "ÄPFEL aus Südtirol";
    auto r2 = row("P2", "x");
    r2[column::description] = "äpfelmus";
    auto r3 = row("P3", "x");
    r3[column::description] = "Birnen";
    const auto snap = inventory_snapshot::build(
        {r1, r2, r3}, columns_of({column::part, column::bin, column::on_hand, column::description}),
        as_of_time);
    for (const std::string needle : {"äpf", "ÄPF", "Äpfel", "äp", "ä"}) {
        inventory_query q;
        q.q = needle;
        EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{0, 1})) << needle;
    }
    inventory_query q;
    q.q = "SÜD";
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{0}));
    q.q = "apf";  // no folding of accents: ä is not a
    EXPECT_TRUE(matching_rows(*snap, q).empty());
    EXPECT_EQ(lower_case_utf8("ÄPFEL Ωmega İ"), "äpfel ωmega i");
}

TEST(InventoryEngine, NullsLastAscendingFirstDescending) {
    auto a = row("A", "x", 5, "L2"), b = row("B", "x", std::nullopt, "L1"),
         c = row("C", "x", -2, "L1");
    a[column::expires] = "2027-01-01";
    c[column::expires] = "2026-12-31";
    const auto snap = inventory_snapshot::build(
        {a, b, c},
        columns_of({column::part, column::bin, column::on_hand, column::lot, column::expires}),
        as_of_time);
    inventory_query q;
    q.sort = column::on_hand;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{2, 0, 1}));
    q.descending = true;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{1, 0, 2}));
    q.sort = column::expires;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{1, 0, 2}));
    q.descending = false;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{2, 0, 1}));
    q.sort = column::customer;  // absent: every key NULL, so the default order
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{0, 1, 2}));
}

TEST(InventoryEngine, TiesBrokenByPartThenLotEvenWhenDescending) {
    const auto snap = inventory_snapshot::build(
        {row("B", "1", 3, "L2"), row("A", "1", 3, "L9"), row("B", "1", 3, "L10"),
         row("A", "2", 7, "L1"), row("B", "1", 3, "L2")},
        columns_of({column::part, column::bin, column::on_hand, column::lot}), as_of_time);
    inventory_query q;  // default: part, then lot (naturally), then row
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{3, 1, 0, 4, 2}));
    q.sort = column::on_hand;
    q.descending = true;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{3, 1, 0, 4, 2}));
    q.sort = column::bin;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{3, 1, 0, 4, 2}));
    q.descending = false;
    EXPECT_EQ(matching_rows(*snap, q), (std::vector<std::uint32_t>{1, 0, 4, 2, 3}));
}

TEST(InventoryEngine, FacetsCascadeAndPagingPastTheEnd) {
    auto r = [](std::string part, std::string bin, std::string status) {
        auto x = row(std::move(part), std::move(bin));
        x[column::status] = std::move(status);
        return x;
    };
    const auto snap = inventory_snapshot::build(
        {r("A", "B-2", "Available"), r("A", "B-10", "Quarantined"), r("C", "B-2", ""),
         r("D", "B-3", "Available")},
        columns_of({column::part, column::bin, column::on_hand, column::status}), as_of_time);
    inventory_query q;
    q.part = "A";
    q.page = 3;
    q.per_page = 1;
    auto res = run_query(*snap, q);
    EXPECT_EQ(res.total, 2u);
    EXPECT_TRUE(res.rows.empty());
    EXPECT_EQ(facet_values(*snap, res, column::part),
              (std::vector<std::string_view>{"A", "C", "D"}));
    EXPECT_EQ(facet_values(*snap, res, column::bin),
              (std::vector<std::string_view>{"B-2", "B-10"}));
    EXPECT_EQ(facet_values(*snap, res, column::status),
              (std::vector<std::string_view>{"Available", "Quarantined"}));
    q.bin = "B-2";
    q.page = 1;
    res = run_query(*snap, q);
    EXPECT_EQ(res.rows, (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(facet_values(*snap, res, column::part), (std::vector<std::string_view>{"A", "C"}));
    EXPECT_EQ(facet_values(*snap, res, column::bin),
              (std::vector<std::string_view>{"B-2", "B-10"}));
    q.part = "nope";
    res = run_query(*snap, q);
    EXPECT_EQ(res.total, 0u);
    EXPECT_EQ(facet_values(*snap, res, column::part), (std::vector<std::string_view>{"A", "C"}));
    EXPECT_TRUE(facet_values(*snap, res, column::bin).empty());
}

TEST(InventoryEngine, ConcurrentFirstUseGivesOneAnswer) {
    generator gen(5);
    auto [rows, present] = gen.snapshot_data(3000);
    const auto snap = inventory_snapshot::build(rows, present, as_of_time);
    std::vector<inventory_query> queries;
    for (int k = 0; k < 200; ++k) queries.push_back(gen.query(rows));
    // The lazily built sort orders and search index are raced for by every thread at once.
    std::vector<std::vector<std::vector<std::uint32_t>>> got(4);
    std::vector<std::thread> threads;
    for (auto& out : got)
        threads.emplace_back([&snap, &queries, &out] {
            for (const auto& q : queries) out.push_back(matching_rows(*snap, q));
        });
    for (auto& t : threads) t.join();
    const auto ref = make_reference(rows, present);
    for (std::size_t k = 0; k < queries.size(); k += 20)
        EXPECT_EQ(got[0][k], ref.ordered(queries[k]));
    for (const auto& g : got) EXPECT_EQ(g, got[0]);
}

TEST(InventoryEngine, DatesParseStrictly) {
    EXPECT_EQ(parse_iso_date("1970-01-01"), 0);
    EXPECT_EQ(parse_iso_date("2024-02-29"), 19782);
    EXPECT_EQ(parse_iso_date("2024-02-29 00:00:00"), 19782);
    EXPECT_FALSE(parse_iso_date("2023-02-29"));
    EXPECT_FALSE(parse_iso_date("2023-2-01"));
    EXPECT_FALSE(parse_iso_date("20230201"));
    std::string s;
    append_iso_date(s, 19782);
    EXPECT_EQ(s, "2024-02-29");
}

// ---------------------------------------------------------------------------------------------
// Parameters.

std::string parse_error(const params& p) {
    const auto r = parse_inventory_query(p);
    return r ? std::string() : r.error();
}

TEST(InventoryQueryParse, ReadsEveryParameter) {
    const auto r = parse_inventory_query(params{{"q", "  äpf "},
                                                {"part", "A-1"},
                                                {"bin", "B 2"},
                                                {"status", "Available"},
                                                {"lot", "L"},
                                                {"warehouse", "W"},
                                                {"customer", "Acme"},
                                                {"sort", "on_hand"},
                                                {"order", "desc"},
                                                {"page", "3"},
                                                {"per_page", "1000"},
                                                {"utm_source", "\xff"}});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->q, "äpf");
    EXPECT_EQ(r->part, "A-1");
    EXPECT_EQ(r->bin, "B 2");
    EXPECT_EQ(r->status, "Available");
    EXPECT_EQ(r->lot, "L");
    EXPECT_EQ(r->warehouse, "W");
    EXPECT_EQ(r->customer, "Acme");
    EXPECT_EQ(r->sort, column::on_hand);
    EXPECT_TRUE(r->descending);
    EXPECT_EQ(r->page, 3u);
    EXPECT_EQ(r->per_page, 1000u);
}

TEST(InventoryQueryParse, EmptyValuesMeanDefaults) {
    const auto r = parse_inventory_query(params{
        {"q", " "}, {"part", ""}, {"sort", ""}, {"order", ""}, {"page", ""}, {"per_page", ""}});
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->q.empty());
    EXPECT_FALSE(r->part);
    EXPECT_FALSE(r->sort);
    EXPECT_FALSE(r->descending);
    EXPECT_EQ(r->page, 1u);
    EXPECT_EQ(r->per_page, 100u);
}

TEST(InventoryQueryParse, TwoSortColumnsForASecondarySort) {
    const auto r = parse_inventory_query(params{{"sort", "status,expires"}, {"order", "desc,asc"}});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->sort, column::status);
    EXPECT_TRUE(r->descending);
    EXPECT_EQ(r->then_sort, column::expires);
    EXPECT_FALSE(r->then_descending);
    const auto one_order = parse_inventory_query(params{{"sort", "bin,lot"}, {"order", "desc"}});
    ASSERT_TRUE(one_order);
    EXPECT_TRUE(one_order->descending);
    EXPECT_FALSE(one_order->then_descending);
    EXPECT_NE(parse_error({{"sort", "bin,bin"}}).find("two different"), std::string::npos);
    EXPECT_NE(parse_error({{"sort", "bin,price"}}).find("sort must be"), std::string::npos);
    EXPECT_NE(parse_error({{"sort", "bin,lot,part"}}).find("sort must be"), std::string::npos);
    EXPECT_NE(parse_error({{"sort", "bin,"}}).find("sort must be"), std::string::npos);
    EXPECT_NE(parse_error({{"order", "asc,up"}}).find("order"), std::string::npos);
}

TEST(InventoryQueryParse, RefusesBadValues) {
    EXPECT_NE(parse_error({{"sort", "price"}}).find("sort must be one of"), std::string::npos);
    EXPECT_NE(parse_error({{"order", "up"}}).find("order"), std::string::npos);
    EXPECT_NE(parse_error({{"order", "DESC"}}), "");
    for (const std::string p : {"0", "-1", "abc", "1.5", "+2", " 1", "99999999999999"})
        EXPECT_NE(parse_error({{"page", p}}).find("page"), std::string::npos) << p;
    for (const std::string p : {"0", "1001", "x", "-5"})
        EXPECT_NE(parse_error({{"per_page", p}}).find("per_page"), std::string::npos) << p;
    EXPECT_NE(parse_error({{"part", "a"}, {"part", "b"}}).find("more than once"),
              std::string::npos);
    EXPECT_NE(parse_error({{"q", std::string(201, 'a')}}).find("longer"), std::string::npos);
    EXPECT_EQ(parse_error({{"q", std::string(200, 'a')}}), "");
    EXPECT_NE(parse_error({{"bin", "\xc3\x28"}}).find("UTF-8"), std::string::npos);
    EXPECT_NE(parse_error({{"q", "\xed\xa0\x80"}}).find("UTF-8"),
              std::string::npos);  // a surrogate
    EXPECT_EQ(parse_error({{"page", "1000000000"}}), "");
}

// ---------------------------------------------------------------------------------------------
// JSON.

TEST(InventoryJson, HasTheSpecShape) {
    inventory_record a = row("A-100", "B-01-02", 120, "L1");
    a[column::customer] = "Acme Foods";
    a[column::description] = "Widget \"big\" <b>\n\x01 ünï \xff end \xe2\x80\xa8";
    a[column::expires] = "2027-03-01";
    a[column::status] = "Available";
    inventory_record b = row("A-7", "", 2.5);
    const auto snap = inventory_snapshot::build(
        {a, b},
        columns_of({column::customer, column::part, column::description, column::on_hand,
                    column::bin, column::lot, column::expires, column::status}),
        as_of_time);
    inventory_query q;
    q.per_page = 10;
    const auto res = run_query(*snap, q);
    const std::string text = inventory_json(*snap, res, q, false);

    EXPECT_EQ(text.find("120.0"), std::string::npos);
    EXPECT_EQ(text.find('<'), std::string::npos);
    EXPECT_NE(text.find("\\u003c"), std::string::npos);
    boost::system::error_code ec;
    const auto doc = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    const auto& o = doc.as_object();
    std::vector<std::string> keys;
    for (const auto& kv : o) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"columns", "rows", "total", "page", "per_page",
                                              "facets", "as_of", "stale"}));
    EXPECT_EQ(boost::json::serialize(o.at("columns")),
              R"(["customer","part","description","on_hand","bin","lot","expires","status"])");
    const auto& rows = o.at("rows").as_array();
    ASSERT_EQ(rows.size(), 2u);
    // Default order is by part, naturally: A-7 before A-100.
    const auto& first = rows[0].as_array();
    ASSERT_EQ(first.size(), 8u);
    EXPECT_TRUE(first[0].is_null());
    EXPECT_EQ(first[1].as_string(), "A-7");
    EXPECT_TRUE(first[2].is_null());
    EXPECT_EQ(first[3].as_double(), 2.5);
    EXPECT_EQ(first[4].as_string(), "");
    EXPECT_TRUE(first[5].is_null() && first[6].is_null() && first[7].is_null());
    EXPECT_NE(text.find(R"([null,"A-7",null,2.5,"",null,null,null])"), std::string::npos);
    const auto& r = rows[1].as_array();
    EXPECT_EQ(r[0].as_string(), "Acme Foods");
    EXPECT_EQ(r[2].as_string(), "Widget \"big\" <b>\n\x01 ünï \xEF\xBF\xBD end \xe2\x80\xa8");
    EXPECT_TRUE(r[3].is_int64());
    EXPECT_EQ(r[3].as_int64(), 120);
    EXPECT_EQ(r[6].as_string(), "2027-03-01");
    EXPECT_EQ(o.at("total").as_int64(), 2);
    EXPECT_EQ(o.at("page").as_int64(), 1);
    EXPECT_EQ(o.at("per_page").as_int64(), 10);
    EXPECT_EQ(boost::json::serialize(o.at("facets")),
              R"({"part":["A-7","A-100"],"bin":["B-01-02"],"status":["Available"]})");
    EXPECT_EQ(o.at("as_of").as_string(), "2026-11-24T10:00:00Z");
    EXPECT_EQ(o.at("stale").as_bool(), false);
    EXPECT_NE(inventory_json(*snap, res, q, true).find("\"stale\":true}"), std::string::npos);
}

TEST(InventoryJson, RandomSnapshotsAlwaysParse) {
    generator gen(31);
    for (int s = 0; s < 30; ++s) {
        auto [rows, present] = gen.snapshot_data(gen.pick(60));
        const auto snap = inventory_snapshot::build(rows, present, as_of_time);
        for (int k = 0; k < 10; ++k) {
            const auto q = gen.query(rows);
            const auto res = run_query(*snap, q);
            boost::system::error_code ec;
            const auto doc = boost::json::parse(inventory_json(*snap, res, q, false), ec);
            ASSERT_FALSE(ec);
            const auto& out_rows = doc.at("rows").as_array();
            ASSERT_EQ(out_rows.size(), res.rows.size());
            for (std::size_t n = 0; n < out_rows.size(); ++n) {
                std::size_t col = 0;
                for (const auto& ci : columns) {
                    if (!snap->has_column(ci.id)) continue;
                    const auto& v = out_rows[n].as_array().at(col++);
                    const auto row_id = res.rows[n];
                    if (snap->is_null(row_id, ci.id)) {
                        EXPECT_TRUE(v.is_null());
                    } else if (ci.kind == column_kind::number) {
                        EXPECT_EQ(v.to_number<double>(), *snap->number(row_id, ci.id));
                    } else if (is_valid_utf8(snap->cell_text(row_id, ci.id))) {
                        EXPECT_EQ(v.as_string(), snap->cell_text(row_id, ci.id));
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace portal::erp
