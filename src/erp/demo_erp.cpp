#include "erp/demo_erp.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace portal::erp {
namespace {

struct demo_customer {
    std::string_view name;
    std::string_view stored_name;  // as dmpr1 holds it: one is CHAR-padded like SQL Server does
    std::string_view code;         // part number prefix
    int stock_rows;                // rows with fi_balance > 0
};

// Sizes from a handful of rows to 100,000; the order and names are fixed (demo accounts use them).
constexpr std::array<demo_customer, 8> customers{{
    {"Acme Foods", "Acme Foods", "ACM", 600},
    {"Bäckerei Müller GmbH", "Bäckerei Müller GmbH", "BMG", 5'000},
    {"Café Ñandú", "Café Ñandú", "CAF", 40},
    {"東京フーズ", "東京フーズ", "TKF", 3},
    {"Northwind Traders", "Northwind Traders       ", "NWT", 10'000},
    {"Globex Corporation", "Globex Corporation", "GLX", 100'000},
    {"O'Reilly & Sons <Wholesale>", "O'Reilly & Sons <Wholesale>", "ORS", 250},
    {"Empty Shelf Co.", "Empty Shelf Co.", "ESC", 0},
}};

// Deterministic on every platform (std::uniform_int_distribution is not).
class demo_random {
public:
    explicit demo_random(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
    int between(int lo, int hi) { return lo + below(hi - lo + 1); }
    bool chance(int percent) { return below(100) < percent; }
    template <typename T, std::size_t N>
    const T& pick(const std::array<T, N>& items) {
        return items[static_cast<std::size_t>(below(static_cast<int>(N)))];
    }

private:
    std::uint64_t state_;
};

struct db_closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

void exec(sqlite3* db, const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        throw std::runtime_error("demo ERP: " + message);
    }
}

stmt_ptr prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
        throw std::runtime_error("demo ERP: " + std::string(sqlite3_errmsg(db)));
    return stmt_ptr(raw);
}

// Binds parameters left to right and runs one insert.
class row_writer {
public:
    row_writer(sqlite3* db, stmt_ptr stmt) : db_(db), stmt_(std::move(stmt)) {}
    row_writer& text(std::string_view v) {
        sqlite3_bind_text(stmt_.get(), ++index_, v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    row_writer& optional_text(const std::optional<std::string>& v) {
        return v ? text(std::string_view(*v)) : null();
    }
    row_writer& integer(long long v) {
        sqlite3_bind_int64(stmt_.get(), ++index_, v);
        return *this;
    }
    row_writer& real(double v) {
        sqlite3_bind_double(stmt_.get(), ++index_, v);
        return *this;
    }
    row_writer& null() {
        sqlite3_bind_null(stmt_.get(), ++index_);
        return *this;
    }
    void insert() {
        if (sqlite3_step(stmt_.get()) != SQLITE_DONE)
            throw std::runtime_error("demo ERP: " + std::string(sqlite3_errmsg(db_)));
        sqlite3_reset(stmt_.get());
        index_ = 0;
    }

private:
    sqlite3* db_;
    stmt_ptr stmt_;
    int index_ = 0;
};

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), so dates need no time zone.
std::string civil_date(long long days) {
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lld", y, m, d);
    return buffer;
}

// Dates are stored as SQL Server's DATETIME text, "YYYY-MM-DD hh:mm:ss".
std::string datetime(long long days, int seconds_of_day) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, " %02d:%02d:%02d", seconds_of_day / 3600,
                  seconds_of_day / 60 % 60, seconds_of_day % 60);
    return civil_date(days) + buffer;
}

constexpr long long reference_day = 20'605;  // 2026-06-01: fixed, so the data never ages

enum class stock_status {
    available,
    quarantined,
    issued_to_job,
    sales_reserved,
    staged_to_job,
    failed_qc,
    pending_qc,
    approved_qc
};
constexpr int status_count = 8;

stock_status random_status(demo_random& rng) {
    int r = rng.below(100);
    if (r < 70) return stock_status::available;
    if (r < 74) return stock_status::quarantined;
    if (r < 78) return stock_status::issued_to_job;
    if (r < 84) return stock_status::sales_reserved;
    if (r < 88) return stock_status::staged_to_job;
    if (r < 91) return stock_status::failed_qc;
    if (r < 96) return stock_status::pending_qc;
    return stock_status::approved_qc;
}

// Descriptions: plain, non-ASCII, and text that must be escaped in HTML or neutralised in exports.
constexpr std::array<std::string_view, 16> product_nouns{
    "Widget",        "Bracket",      "Flour 25 kg",     "Olive Oil 5 L", "Gasket",  "Spice Blend",
    "Crème Fraîche", "Jalapeño Dip", "Smörgåsbord Mix", "Ölfilter",      "Ñoquis",  "Pallet Wrap",
    "Matcha 抹茶",   "Label Roll",   "Carton 40x30",    "Hose Clamp"};
constexpr std::array<std::string_view, 10> product_adjectives{
    "Premium", "Organic", "Heavy-Duty", "Frozen", "Große", "Économique",
    "Mini",    "Bulk",    "Spicy",      "Café"};
constexpr std::array<std::string_view, 14> tricky_descriptions{
    "<b>bold</b> Widget",
    "<script>alert('x')</script> Gadget",
    "=SUM(A1:A9)",
    "+1 Spare Bracket",
    "-2 Offset Washer",
    "@cmd Toolkit",
    "\tTab-led Label",
    "Jalapeño Salsa, \"Extra Hot\"",
    "Line one\nLine two",
    "Bäckerei Brötchen 10 Stück",
    "東京 醤油 1L",
    "Ampersand & <Angle> \"Quotes\" 'Apostrophes'",
    "=HYPERLINK(\"http://example.invalid\",\"click\")",
    "50% off; semi;colons, commas",
};
constexpr std::array<std::string_view, 8> units{"EA  ", "CS  ", "KG  ", "LB  ",
                                                 "PLT ", "BX  ", "L   ", "Stk "};
constexpr std::array<std::string_view, 4> warehouses{"Main DC", "Cold Storage", "Overflow Annex",
                                                     "Zürich Außenlager"};
constexpr std::array<std::string_view, 4> special_bins{"RECV-DOCK", "QC-HOLD", "STAGE-01",
                                                       "SHIP-LANE-3"};
constexpr std::array<std::string_view, 6> tricky_references{
    "=1+1", "+31 20 555 0100", "-40 C reefer", "@SUM(1,2)", "<i>ASN</i> 4471", "Container MSKU1234565"};

constexpr int aisles = 6, racks = 20, levels = 5;
constexpr int bins_per_warehouse = aisles * racks * levels + static_cast<int>(special_bins.size());

// lo_id of a bin: warehouse-major, special bins after the rack bins.
int rack_bin_id(int warehouse, int index) { return warehouse * bins_per_warehouse + index + 1; }
int special_bin_id(int warehouse, int which) {
    return warehouse * bins_per_warehouse + aisles * racks * levels + which + 1;
}

std::string padded(std::string_view s, std::size_t width) {
    std::string r(s);
    if (r.size() < width) r.append(width - r.size(), ' ');
    return r;
}

void create_schema(sqlite3* db) {
    // Deacom's names; declared types as SQL Server has them (DATETIME, NUMERIC, VARCHAR/CHAR).
    exec(db, R"sql(
CREATE TABLE dmware (
    wa_id INTEGER PRIMARY KEY,
    wa_name VARCHAR(40) NOT NULL,
    wa_code CHAR(6),
    wa_city VARCHAR(40),
    wa_active CHAR(1)
);
CREATE TABLE dmloc (
    lo_id INTEGER PRIMARY KEY,
    lo_name CHAR(12) NOT NULL,
    lo_waid INTEGER,
    lo_type VARCHAR(12),
    lo_active CHAR(1)
);
CREATE TABLE dmunit (
    un_id INTEGER PRIMARY KEY,
    un_name CHAR(4) NOT NULL,
    un_descrip VARCHAR(40)
);
CREATE TABLE dmpr1 (
    p1_id INTEGER PRIMARY KEY,
    p1_name VARCHAR(60) NOT NULL,
    p1_code VARCHAR(10),
    p1_active CHAR(1)
);
CREATE TABLE dmprod (
    pr_id INTEGER PRIMARY KEY,
    pr_codenum VARCHAR(40) NOT NULL,
    pr_descrip VARCHAR(120),
    pr_unid INTEGER,
    pr_user5 INTEGER,
    pr_upc VARCHAR(20),
    pr_weight NUMERIC(18,4),
    pr_active CHAR(1)
);
CREATE TABLE dtfifo (
    fi_id INTEGER PRIMARY KEY,
    fi_prid INTEGER NOT NULL,
    fi_loid INTEGER,
    fi_waid INTEGER,
    fi_balance NUMERIC(18,4) NOT NULL,
    fi_origqty NUMERIC(18,4),
    fi_userlot VARCHAR(40),
    fi_lotnum VARCHAR(20),
    fi_expires DATETIME,
    fi_date DATETIME,
    fi_lotdate DATETIME,
    fi_type VARCHAR(12),
    fi_qc VARCHAR(12),
    fi_action VARCHAR(20),
    fi_postref VARCHAR(40),
    fi_attrib2 VARCHAR(40),
    fi_unitcost NUMERIC(18,4)
);
)sql");
}

void write_reference_tables(sqlite3* db) {
    row_writer ware(db, prepare(db, "INSERT INTO dmware VALUES (?, ?, ?, ?, ?)"));
    constexpr std::array<std::string_view, 4> codes{"MAIN", "COLD", "ANNEX", "ZRH"};
    constexpr std::array<std::string_view, 4> cities{"Rotterdam", "Rotterdam", "Breda", "Zürich"};
    for (int w = 0; w < static_cast<int>(warehouses.size()); ++w)
        ware.integer(w + 1).text(warehouses[w]).text(codes[w]).text(cities[w]).text("Y").insert();

    row_writer loc(db, prepare(db, "INSERT INTO dmloc VALUES (?, ?, ?, ?, ?)"));
    for (int w = 0; w < static_cast<int>(warehouses.size()); ++w) {
        int index = 0;
        for (int a = 0; a < aisles; ++a)
            for (int r = 1; r <= racks; ++r)
                for (int l = 1; l <= levels; ++l) {
                    char name[16];
                    std::snprintf(name, sizeof name, "%c-%02d-%02d", 'A' + a, r, l);
                    // lo_name is CHAR(12): SQL Server pads it, and so does the demo.
                    loc.integer(rack_bin_id(w, index++)).text(padded(name, 12)).integer(w + 1)
                        .text("RACK").text("Y").insert();
                }
        for (int s = 0; s < static_cast<int>(special_bins.size()); ++s)
            loc.integer(special_bin_id(w, s)).text(padded(special_bins[s], 12)).integer(w + 1)
                .text("FLOOR").text("Y").insert();
    }

    row_writer unit(db, prepare(db, "INSERT INTO dmunit VALUES (?, ?, ?)"));
    constexpr std::array<std::string_view, 8> unit_names{
        "Each", "Case", "Kilogram", "Pound", "Pallet", "Box", "Litre", "Stück"};
    for (int u = 0; u < static_cast<int>(units.size()); ++u)
        unit.integer(u + 1).text(units[u]).text(unit_names[u]).insert();

    row_writer pr1(db, prepare(db, "INSERT INTO dmpr1 VALUES (?, ?, ?, ?)"));
    for (int c = 0; c < static_cast<int>(customers.size()); ++c)
        pr1.integer(c + 1).text(customers[c].stored_name).text(customers[c].code).text("Y").insert();
}

struct part {
    int id;
    int unit;  // index into units
};

std::optional<std::string> description_for(demo_random& rng, const demo_customer& customer,
                                           int index) {
    if (customer.code == "TKF") {
        constexpr std::array<std::string_view, 3> japanese{"冷凍 餃子 1kg", "抹茶ラテ 粉末",
                                                           "醤油 <濃口> 1L"};
        return std::string(japanese[static_cast<std::size_t>(index) % japanese.size()]);
    }
    // Every customer with a few parts gets some of the awkward descriptions early on.
    if (index < static_cast<int>(tricky_descriptions.size()))
        return std::string(tricky_descriptions[static_cast<std::size_t>(index)]);
    if (rng.chance(2)) return std::nullopt;
    return std::string(rng.pick(product_adjectives)) + " " + std::string(rng.pick(product_nouns)) +
           " " + std::to_string(rng.between(1, 60) * 5);
}

std::vector<part> write_parts(demo_random& rng, row_writer& prod,
                              const demo_customer& customer, int customer_id, int& next_part_id) {
    int count = std::clamp(customer.stock_rows / 25, 1, 4'000);
    if (customer.stock_rows == 0) count = 4;
    if (customer.stock_rows > 0 && customer.stock_rows < 25) count = std::min(customer.stock_rows, 12);
    std::vector<part> parts;
    parts.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        part p{next_part_id++, rng.below(static_cast<int>(units.size()))};
        std::string code = std::string(customer.code) + "-" + std::to_string(10'000 + i * 7);
        if (i % 97 == 5) code += "/B";
        if (i % 211 == 9) code += "-rev2";
        prod.integer(p.id)
            .text(code)
            .optional_text(description_for(rng, customer, i))
            .integer(p.unit + 1)
            .integer(customer_id);
        if (rng.chance(80)) {
            prod.text("0" + std::to_string(700'000'000'000LL + static_cast<long long>(rng.next() % 99'999'999'999ULL)));
        } else {
            prod.null();
        }
        prod.real(rng.between(1, 25'000) / 1000.0).text("Y").insert();
        parts.push_back(p);
    }
    return parts;
}

struct stock_fields {
    std::optional<std::string> type, qc, action;
};

stock_fields fields_for(stock_status s, demo_random& rng) {
    // Deacom keeps lowercase codes; a few rows differ in case to keep the queries honest.
    auto cased = [&](std::string_view v) {
        std::string r(v);
        if (rng.chance(5)) r[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r[0])));
        return r;
    };
    switch (s) {
        case stock_status::quarantined: return {cased("quarantine"), std::nullopt, std::nullopt};
        case stock_status::issued_to_job: return {cased("job"), std::nullopt, std::nullopt};
        case stock_status::sales_reserved: return {cased("sal-reserv"), std::nullopt, std::nullopt};
        case stock_status::staged_to_job: return {cased("staging"), std::nullopt, std::nullopt};
        case stock_status::failed_qc: return {std::nullopt, std::string("Failed"), std::string("Reject")};
        case stock_status::pending_qc: return {std::nullopt, std::string("Pending"), std::nullopt};
        case stock_status::approved_qc: return {std::nullopt, std::string("Passed"), std::string("Approve")};
        case stock_status::available: break;
    }
    // Available stock: no type or a receipt type, no QC state (sometimes an empty string).
    if (rng.chance(30)) return {std::string("receipt"), std::string(""), std::nullopt};
    return {std::nullopt, std::nullopt, std::nullopt};
}

void write_stock_row(demo_random& rng, row_writer& fifo, long long& next_fifo_id, const part& p,
                     const demo_customer& customer, stock_status status, bool depleted,
                     int row_index) {
    int warehouse = customer.code == "ORS" ? 3 : rng.below(static_cast<int>(warehouses.size()));
    int bin;
    if (status == stock_status::quarantined && rng.chance(70))
        bin = special_bin_id(warehouse, 1);
    else if (status == stock_status::staged_to_job && rng.chance(70))
        bin = special_bin_id(warehouse, 2);
    else if (rng.chance(3))
        bin = special_bin_id(warehouse, rng.chance(50) ? 0 : 3);
    else
        bin = rack_bin_id(warehouse, rng.below(aisles * racks * levels));

    double balance;
    if (depleted) {
        balance = rng.chance(80) ? 0.0 : -rng.between(1, 5);
    } else if (units[static_cast<std::size_t>(p.unit)] == "KG  " ||
               units[static_cast<std::size_t>(p.unit)] == "LB  " || rng.chance(15)) {
        balance = rng.between(1, 2'500'000) / 1000.0;  // up to three decimals
    } else {
        balance = rng.between(1, 2'000);
    }

    long long received = reference_day - rng.between(1, 730);
    long long last_transaction = std::min(reference_day, received + rng.between(0, 120));

    std::optional<std::string> user_lot, system_lot;
    if (!rng.chance(10)) {
        std::string day = civil_date(received);  // "YYYY-MM-DD"
        user_lot = "L" + day.substr(2, 2) + day.substr(5, 2) + day.substr(8, 2) + "-" +
                   std::to_string(rng.between(10, 49));
    }
    if (user_lot || rng.chance(40)) system_lot = std::to_string(100'000 + next_fifo_id);
    if (!user_lot && system_lot && rng.chance(50)) user_lot = std::string("");  // blank, not NULL
    if (row_index % 997 == 11) user_lot = std::string("=HYPERLINK(\"x\")");
    if (row_index % 991 == 17) user_lot = std::string("+49-LOT");

    std::optional<std::string> expires;
    int e = rng.below(100);
    if (e < 30) {
        expires.reset();  // not perishable
    } else if (e < 32) {
        expires = "1900-01-01 00:00:00";  // Deacom's "no date"
    } else {
        expires = datetime(received + rng.between(60, 1'100), 0);
    }

    std::optional<std::string> received_text;
    if (!rng.chance(3)) received_text = datetime(received, rng.between(6 * 3600, 18 * 3600));

    std::optional<std::string> postref;
    int pr = rng.below(100);
    if (pr < 65)
        postref = "PO-" + std::to_string(20'000 + rng.below(80'000));
    else if (pr < 72)
        postref = "RMA " + std::to_string(rng.between(100, 999));
    else if (pr < 74)
        postref = std::string(rng.pick(tricky_references));

    std::optional<std::string> reference;
    int rf = rng.below(100);
    if (rf < 40)
        reference = "ASN " + std::to_string(rng.between(1'000, 99'999));
    else if (rf < 50)
        reference = "Trailer " + std::to_string(rng.between(10, 99));
    else if (rf < 53)
        reference = std::string(rng.pick(tricky_references));

    stock_fields f = fields_for(status, rng);
    fifo.integer(next_fifo_id++)
        .integer(p.id)
        .integer(bin)
        .integer(warehouse + 1)
        .real(balance)
        .real(std::max(balance, 0.0) + rng.between(0, 500))
        .optional_text(user_lot)
        .optional_text(system_lot)
        .optional_text(expires)
        .text(datetime(last_transaction, rng.between(0, 86'399)))
        .optional_text(received_text)
        .optional_text(f.type)
        .optional_text(f.qc)
        .optional_text(f.action)
        .optional_text(postref)
        .optional_text(reference)
        .real(rng.between(1, 50'000) / 100.0)
        .insert();
}

void write_stock(sqlite3* db, demo_random& rng) {
    row_writer prod(db, prepare(db, "INSERT INTO dmprod VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    row_writer fifo(db, prepare(db, "INSERT INTO dtfifo VALUES "
                                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    int next_part_id = 1;
    long long next_fifo_id = 1;
    for (int c = 0; c < static_cast<int>(customers.size()); ++c) {
        const auto& customer = customers[static_cast<std::size_t>(c)];
        auto parts = write_parts(rng, prod, customer, c + 1, next_part_id);
        for (int i = 0; i < customer.stock_rows; ++i) {
            // The first rows of every customer cover each status; the rest are drawn at random.
            stock_status status = i < status_count ? static_cast<stock_status>(i) : random_status(rng);
            const part& p = i < static_cast<int>(parts.size())
                                ? parts[static_cast<std::size_t>(i)]
                                : parts[static_cast<std::size_t>(rng.below(static_cast<int>(parts.size())))];
            write_stock_row(rng, fifo, next_fifo_id, p, customer, status, false, i);
        }
        // Depleted lots stay in dtfifo with a zero or negative balance; they are not stock.
        int depleted = customer.stock_rows == 0 ? 12 : std::max(1, customer.stock_rows / 16);
        for (int i = 0; i < depleted; ++i) {
            const part& p = parts[static_cast<std::size_t>(rng.below(static_cast<int>(parts.size())))];
            write_stock_row(rng, fifo, next_fifo_id, p, customer, random_status(rng), true, i);
        }
    }
}

}  // namespace

std::vector<std::string> demo_customer_names() {
    std::vector<std::string> names;
    for (const auto& c : customers) names.emplace_back(c.name);
    return names;
}

void build_demo_erp(const std::string& sqlite_path, std::uint32_t seed) {
    namespace fs = std::filesystem;
    // Build beside the target, then rename over it: readers of the old file are never disturbed.
    const std::string temp_path = sqlite_path + ".building-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove(temp_path, ec);
    if (auto parent = fs::path(sqlite_path).parent_path(); !parent.empty())
        fs::create_directories(parent, ec);

    try {
        sqlite3* raw = nullptr;
        if (sqlite3_open_v2(temp_path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK) {
            std::string message = raw ? sqlite3_errmsg(raw) : "out of memory";
            sqlite3_close(raw);
            throw std::runtime_error("demo ERP: cannot create " + temp_path + ": " + message);
        }
        db_ptr db(raw);
        // A scratch file: no journal or fsync until it is complete.
        exec(db.get(), "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                       "PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY;");
        exec(db.get(), "BEGIN");
        create_schema(db.get());
        write_reference_tables(db.get());
        demo_random rng(seed);
        write_stock(db.get(), rng);
        // Indexes after the data: faster to build once than to maintain row by row.
        exec(db.get(), "CREATE INDEX dtfifo_prid ON dtfifo (fi_prid);"
                       "CREATE INDEX dmprod_user5 ON dmprod (pr_user5);"
                       "CREATE INDEX dmpr1_name ON dmpr1 (p1_name);");
        exec(db.get(), "COMMIT");
        exec(db.get(), "ANALYZE");
        db.reset();
        for (const char* suffix : {"-journal", "-wal", "-shm"}) fs::remove(sqlite_path + suffix, ec);
        fs::rename(temp_path, sqlite_path);
    } catch (...) {
        fs::remove(temp_path, ec);
        throw;
    }
}

}  // namespace portal::erp
