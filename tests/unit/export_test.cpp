// The export writers: formula neutralisation, CSV framing, the xlsx package and its cells, file
// and sheet names — without HTTP.
#include "export/csv_writer.hpp"
#include "export/file_name.hpp"
#include "export/neutralise.hpp"
#include "export/xlsx_writer.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>

namespace portal::exports {
namespace {

namespace fs = std::filesystem;
using erp::column;
using erp::inventory_record;

// ---------------------------------------------------------------------------------------------
// Neutralisation (SPEC §7, OWASP CSV injection)

TEST(neutralise, formula_starts_get_an_apostrophe_and_everything_else_is_left_alone) {
    const std::pair<std::string, std::string> table[] = {
        {"=1+1", "'=1+1"},
        {"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
        {"+49-LOT", "'+49-LOT"},
        {"+1", "'+1"},
        {"-2 Offset Washer", "'-2 Offset Washer"},
        {"-1+1", "'-1+1"},
        {"-", "'-"},
        {"-1.", "'-1."},
        {"-.5", "'-.5"},
        {"-1e5", "'-1e5"},
        {"@SUM(1,2)", "'@SUM(1,2)"},
        {"\tTab-led", "'\tTab-led"},
        {"\rCR-led", "'\rCR-led"},
        // a plain negative decimal reads back as the number it is: harmless, left alone
        {"-12", "-12"},
        {"-0.5", "-0.5"},
        {"-2500.125", "-2500.125"},
        // not at the start, or not a trigger
        {"", ""},
        {"A=1", "A=1"},
        {" =1+1", " =1+1"},
        {"'=1+1", "'=1+1"},
        {"\n=1", "\n=1"},
        {"Bäckerei", "Bäckerei"},
        {"12", "12"},
    };
    for (const auto& [in, want] : table) {
        EXPECT_EQ(neutralised(in), want) << "input: " << in;
        EXPECT_EQ(needs_neutralising(in), want != in) << "input: " << in;
    }
}

TEST(neutralise, invalid_utf8_becomes_the_replacement_character) {
    EXPECT_EQ(neutralised("a\xFF"
                          "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(neutralised("=\xC3"), "'=\xEF\xBF\xBD");               // truncated sequence
    EXPECT_EQ(neutralised("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
    EXPECT_EQ(neutralised("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(neutralised("東京 \xF0\x9F\x93\xA6"), "東京 \xF0\x9F\x93\xA6");
}

// ---------------------------------------------------------------------------------------------
// A small snapshot with every kind of cell

inventory_record row(std::string part, std::optional<double> on_hand,
                     std::optional<std::string> description,
                     std::optional<std::string> expires = std::nullopt,
                     std::string customer = "Acme Foods") {
    inventory_record r;
    r[column::customer] = std::move(customer);
    r[column::part] = std::move(part);
    r[column::description] = std::move(description);
    r.on_hand = on_hand;
    r[column::bin] = "B-01";
    r[column::expires] = std::move(expires);
    return r;
}

erp::column_set some_columns() {
    erp::column_set s{};
    for (const column c : {column::customer, column::part, column::description, column::on_hand,
                           column::bin, column::expires})
        s[static_cast<std::size_t>(c)] = true;
    return s;
}

std::shared_ptr<const erp::inventory_snapshot> sample() {
    std::vector<inventory_record> rows{
        row("A-1", 120, "Widget, large", "2026-11-24"),
        row("A-2", -5, "-5 is not a number here", std::nullopt),
        row("A-3", 0.125, "=SUM(A1:A9)", "1900-01-01"),
        row("A-4", std::nullopt, "Say \"cheese\"\nthen smile", "1899-12-31"),
        row("A-5", 7, std::nullopt, std::nullopt, "Bäckerei Müller GmbH"),
        row("A-6", 1, "@cmd", std::nullopt, "東京フーズ"),
    };
    return erp::inventory_snapshot::build(std::move(rows), some_columns(),
                                          std::chrono::system_clock::now());
}

row_list all_rows(const erp::inventory_snapshot& s) {
    row_list out(s.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<erp::inventory_snapshot::row_index>(i);
    return out;
}

// ---------------------------------------------------------------------------------------------
// CSV

std::string whole_csv(csv_writer& w, std::vector<std::string>* pieces = nullptr) {
    std::string all;
    for (bool more = true; more;) {
        std::string piece;
        more = w.next(piece);
        if (pieces) pieces->push_back(piece);
        all += piece;
    }
    return all;
}

TEST(csv, fields_are_quoted_per_rfc_4180) {
    const std::pair<std::string, std::string> table[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\rhere", "\"cr\rhere\""},
        {"semi;colon", "semi;colon"},
        {"'=1+1", "'=1+1"},
    };
    for (const auto& [in, want] : table) {
        std::string out;
        append_csv_field(out, in);
        EXPECT_EQ(out, want) << "input: " << in;
    }
}

TEST(csv, bom_header_crlf_neutralised_text_and_plain_numbers) {
    const auto s = sample();
    csv_writer w(s, all_rows(*s));
    EXPECT_EQ(w.row_count(), 6u);
    const std::string csv = whole_csv(w);
    const std::string want =
        "\xEF\xBB\xBF"
        "Customer,Part,Description,On hand,Bin,Expires\r\n"
        "Acme Foods,A-1,\"Widget, large\",120,B-01,2026-11-24\r\n"
        "Acme Foods,A-2,'-5 is not a number here,-5,B-01,\r\n"
        "Acme Foods,A-3,'=SUM(A1:A9),0.125,B-01,1900-01-01\r\n"
        "Acme Foods,A-4,\"Say \"\"cheese\"\"\nthen smile\",,B-01,1899-12-31\r\n"
        "Bäckerei Müller GmbH,A-5,,7,B-01,\r\n"
        "東京フーズ,A-6,'@cmd,1,B-01,\r\n";
    EXPECT_EQ(csv, want);
}

TEST(csv, no_rows_is_just_the_header) {
    const auto s = sample();
    csv_writer w(s, {});
    EXPECT_EQ(whole_csv(w),
              "\xEF\xBB\xBF"
              "Customer,Part,Description,On hand,Bin,Expires\r\n");
}

TEST(csv, a_large_export_comes_in_whole_record_pieces_of_about_64_kib) {
    std::vector<inventory_record> records;
    for (int i = 0; i < 20'000; ++i)
        records.push_back(
            row("P-" + std::to_string(i), i, "Description number " + std::to_string(i)));
    const auto s = erp::inventory_snapshot::build(std::move(records), some_columns(),
                                                  std::chrono::system_clock::now());
    csv_writer w(s, all_rows(*s));
    std::vector<std::string> pieces;
    const std::string all = whole_csv(w, &pieces);
    ASSERT_GT(pieces.size(), 10u);
    for (const auto& p : pieces) {
        EXPECT_LE(p.size(), csv_writer::piece_size + 64 * 100);  // at most a block of records more
        EXPECT_TRUE(p.ends_with("\r\n"));
    }
    for (std::size_t i = 0; i + 1 < pieces.size(); ++i)
        EXPECT_GE(pieces[i].size(), csv_writer::piece_size);
    std::size_t lines = 0;
    for (std::size_t pos = 0; (pos = all.find("\r\n", pos)) != std::string::npos; pos += 2) ++lines;
    EXPECT_EQ(lines, 20'001u);
}

// ---------------------------------------------------------------------------------------------
// xlsx: a minimal zip reader (central directory + raw inflate) to look inside the package.

std::uint32_t le(const std::string& b, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(b.at(at + static_cast<std::size_t>(i)));
    return v;
}

struct zip_entry {
    std::string content;
    unsigned flags = 0;  // general purpose bits; 1-2 say how hard deflate tried (6: fastest)
};

std::map<std::string, zip_entry> unzip_entries(const std::string& zip) {
    std::map<std::string, zip_entry> out;
    const std::size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
    if (eocd == std::string::npos) throw std::runtime_error("no end of central directory");
    const std::uint32_t entries = le(zip, eocd + 10, 2);
    std::size_t at = le(zip, eocd + 16, 4);
    for (std::uint32_t e = 0; e < entries; ++e) {
        if (le(zip, at, 4) != 0x02014b50) throw std::runtime_error("bad central directory entry");
        const auto flags = le(zip, at + 8, 2);
        const auto method = le(zip, at + 10, 2);
        const auto compressed = le(zip, at + 20, 4), size = le(zip, at + 24, 4);
        const auto name_len = le(zip, at + 28, 2), extra_len = le(zip, at + 30, 2),
                   comment_len = le(zip, at + 32, 2);
        const auto local = le(zip, at + 42, 4);
        const std::string name = zip.substr(at + 46, name_len);
        at += 46 + name_len + extra_len + comment_len;
        if (le(zip, local, 4) != 0x04034b50) throw std::runtime_error("bad local header");
        const std::size_t data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
        std::string content(size, '\0');
        if (method == 0) {
            content = zip.substr(data, size);
        } else {
            z_stream z{};
            if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2");
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zip.data() + data));
            z.avail_in = compressed;
            z.next_out = reinterpret_cast<Bytef*>(content.data());
            z.avail_out = size;
            const int rc = inflate(&z, Z_FINISH);
            inflateEnd(&z);
            if (rc != Z_STREAM_END) throw std::runtime_error("inflate failed for " + name);
        }
        out[name] = {std::move(content), flags};
    }
    return out;
}

std::map<std::string, std::string> unzip(const std::string& zip) {
    std::map<std::string, std::string> out;
    for (auto& [name, entry] : unzip_entries(zip)) out[name] = std::move(entry.content);
    return out;
}

struct scratch_dir {
    scratch_dir() {
        std::string pattern = (fs::temp_directory_path() / "export-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
        path = pattern;
    }
    ~scratch_dir() { fs::remove_all(path); }
    std::size_t entries() const {
        return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {}));
    }
    fs::path path;
};

std::string read_all(export_file& f) {
    std::string out;
    for (bool more = true; more;) {
        const std::size_t before = out.size();
        more = f.next(out);
        EXPECT_LE(out.size() - before, export_file::piece_size);
    }
    return out;
}

TEST(xlsx, the_package_has_typed_neutralised_cells_a_frozen_bold_header_and_an_autofilter) {
    const auto s = sample();
    scratch_dir dir;
    xlsx_properties p;
    p.sheet_name = "Acme: Foods [EU]";
    p.title = "Inventory – Acme Foods";
    p.comments = "Stock as of 2026-11-24T10:00:00Z";
    p.created = std::chrono::system_clock::from_time_t(1'764'000'000);
    auto file = write_xlsx(*s, all_rows(*s), p, dir.path);
    EXPECT_EQ(dir.entries(), 0u) << "the file's name is removed as soon as it is open";
    const std::string zip = read_all(*file);
    EXPECT_EQ(zip.size(), file->size());
    ASSERT_TRUE(zip.starts_with("PK"));
    const auto parts = unzip(zip);
    ASSERT_TRUE(parts.count("xl/worksheets/sheet1.xml"));
    const std::string& sheet = parts.at("xl/worksheets/sheet1.xml");

    EXPECT_NE(parts.at("xl/workbook.xml").find("name=\"Acme Foods EU\""), std::string::npos);
    EXPECT_NE(
        sheet.find(
            "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"),
        std::string::npos);
    EXPECT_NE(sheet.find("<autoFilter ref=\"A1:F7\"/>"), std::string::npos);
    EXPECT_NE(sheet.find("<cols>"), std::string::npos);
    // the header: bold style (s="1") on inline strings
    EXPECT_NE(sheet.find("<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>Customer</t></is></c>"),
              std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"D1\" s=\"1\" t=\"inlineStr\"><is><t>On hand</t></is></c>"),
              std::string::npos);
    // numbers are numbers, negative ones too
    EXPECT_NE(sheet.find("<c r=\"D2\"><v>120</v></c>"), std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"D3\"><v>-5</v></c>"), std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"D4\"><v>0.125</v></c>"), std::string::npos);
    EXPECT_EQ(sheet.find("<c r=\"D5\""), std::string::npos) << "NULL stays an empty cell";
    // dates are serial numbers with the date style; one before 1900 stays text
    EXPECT_NE(sheet.find("<c r=\"F2\" s=\"2\"><v>46350</v></c>"), std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"F4\" s=\"2\"><v>1</v></c>"), std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"F5\" t=\"inlineStr\"><is><t>1899-12-31</t></is></c>"),
              std::string::npos);
    // text is text, neutralised, escaped, non-ASCII intact
    EXPECT_NE(
        sheet.find("<c r=\"C3\" t=\"inlineStr\"><is><t>'-5 is not a number here</t></is></c>"),
        std::string::npos);
    EXPECT_NE(sheet.find("<t>'=SUM(A1:A9)</t>"), std::string::npos);
    EXPECT_NE(sheet.find("<t>'@cmd</t>"), std::string::npos);
    EXPECT_NE(sheet.find("<c r=\"C5\" t=\"inlineStr\"><is><t>Say \"cheese\"\nthen smile</t>"),
              std::string::npos);
    EXPECT_NE(sheet.find("<t>Bäckerei Müller GmbH</t>"), std::string::npos);
    EXPECT_NE(sheet.find("<t>東京フーズ</t>"), std::string::npos);
    EXPECT_EQ(sheet.find("<f>"), std::string::npos) << "no formulas at all";

    const std::string& styles = parts.at("xl/styles.xml");
    EXPECT_NE(styles.find("formatCode=\"yyyy-mm-dd\""), std::string::npos);
    EXPECT_NE(styles.find("<b/>"), std::string::npos);
    const std::string& core = parts.at("docProps/core.xml");
    EXPECT_NE(core.find("<dc:title>Inventory – Acme Foods</dc:title>"), std::string::npos);
    EXPECT_NE(core.find("<dc:creator>Customer Portal</dc:creator>"), std::string::npos);
    EXPECT_NE(core.find("2025-11-24T16:00:00Z"), std::string::npos) << core;

    file.reset();
    EXPECT_EQ(dir.entries(), 0u) << "nothing is left behind";
}

TEST(xlsx, the_package_is_deflated_at_the_fastest_level) {
    // xlsx_writer.cpp interposes on minizip to get zlib level 1 (SPEC §9's 1.5 s for 100,000
    // rows): if that stops working the budget is at risk, so say so here.
    const auto s = sample();
    scratch_dir dir;
    auto file = write_xlsx(*s, all_rows(*s),
                           {"Acme", "Inventory", "", std::chrono::system_clock::now()}, dir.path);
    const auto entries = unzip_entries(read_all(*file));
    ASSERT_TRUE(entries.count("xl/worksheets/sheet1.xml"));
    EXPECT_EQ(entries.at("xl/worksheets/sheet1.xml").flags & 6u, 6u);
}

TEST(xlsx, no_rows_still_makes_a_valid_workbook) {
    const auto s = sample();
    scratch_dir dir;
    auto file =
        write_xlsx(*s, {}, {"Empty", "Inventory", "", std::chrono::system_clock::now()}, dir.path);
    const auto parts = unzip(read_all(*file));
    EXPECT_NE(parts.at("xl/worksheets/sheet1.xml").find("<autoFilter ref=\"A1:F1\"/>"),
              std::string::npos);
}

TEST(xlsx, a_failure_leaves_no_file_behind) {
    const auto s = sample();
    EXPECT_THROW(write_xlsx(*s, all_rows(*s), {}, "/nonexistent/directory"), std::runtime_error);
    scratch_dir dir;
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    if (::geteuid() != 0) {  // root writes anyway
        EXPECT_THROW(write_xlsx(*s, all_rows(*s), {}, dir.path), std::runtime_error);
    }
    fs::permissions(dir.path, fs::perms::owner_all);
    EXPECT_EQ(dir.entries(), 0u);
}

TEST(xlsx, excel_serial_dates_follow_excel_including_its_1900_leap_day) {
    EXPECT_EQ(excel_serial_date(0), 25569.0);            // 1970-01-01
    EXPECT_EQ(excel_serial_date(20781), 46350.0);        // 2026-11-24
    EXPECT_EQ(excel_serial_date(-25508), 61.0);          // 1900-03-01
    EXPECT_EQ(excel_serial_date(-25509), 59.0);          // 1900-02-28
    EXPECT_EQ(excel_serial_date(-25567), 1.0);           // 1900-01-01
    EXPECT_EQ(excel_serial_date(-25568), std::nullopt);  // 1899-12-31
    EXPECT_EQ(excel_serial_date(2932896), 2958465.0);    // 9999-12-31
    EXPECT_EQ(excel_serial_date(2932897), std::nullopt);
}

TEST(xlsx, sheet_names_are_made_valid) {
    EXPECT_EQ(sheet_name_for("Acme Foods"), "Acme Foods");
    EXPECT_EQ(sheet_name_for("A[b]:c*?/\\d"), "A b c d");
    EXPECT_EQ(sheet_name_for("'Quoted'"), "Quoted");
    EXPECT_EQ(sheet_name_for("O'Reilly & Sons <Wholesale>"), "O'Reilly & Sons <Wholesale>");
    EXPECT_EQ(sheet_name_for(""), "Inventory");
    EXPECT_EQ(sheet_name_for("[]"), "Inventory");
    EXPECT_EQ(sheet_name_for("History"), "Inventory");
    EXPECT_EQ(sheet_name_for("Line\none"), "Line one");
    EXPECT_EQ(sheet_name_for("Northwind Traders, Bäckerei Müller GmbH"),
              "Northwind Traders, Bäckerei Mül");
    EXPECT_EQ(sheet_name_for("東京フーズ"), "東京フーズ");
    std::string emoji;
    for (int i = 0; i < 20; ++i) emoji += "\xF0\x9F\x93\xA6";  // two UTF-16 units each
    EXPECT_EQ(sheet_name_for(emoji).size(), 15u * 4);
    EXPECT_EQ(sheet_name_for("bad \xFF byte"), "bad \xEF\xBF\xBD byte");
}

// ---------------------------------------------------------------------------------------------
// File names and Content-Disposition

class file_names_test : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* tz = std::getenv("TZ");
        old_tz_ = tz ? std::optional<std::string>(tz) : std::nullopt;
        setenv("TZ", "UTC", 1);
        tzset();
    }
    void TearDown() override {
        if (old_tz_)
            setenv("TZ", old_tz_->c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }
    // 2026-11-24 10:00:00 UTC
    std::chrono::system_clock::time_point when =
        std::chrono::system_clock::from_time_t(1'795'514'400);
    std::optional<std::string> old_tz_;
};

TEST_F(file_names_test, names_carry_the_customer_and_the_time) {
    auto n = export_file_names("Acme Foods", "xlsx", when);
    EXPECT_EQ(n.utf8, "Inventory_Acme_Foods_20261124_100000.xlsx");
    EXPECT_EQ(n.ascii, n.utf8);
    n = export_file_names("Bäckerei Müller GmbH", "csv", when);
    EXPECT_EQ(n.utf8, "Inventory_Bäckerei_Müller_GmbH_20261124_100000.csv");
    EXPECT_EQ(n.ascii, "Inventory_Backerei_Muller_GmbH_20261124_100000.csv");
    n = export_file_names("東京フーズ", "xlsx", when);
    EXPECT_EQ(n.utf8, "Inventory_東京フーズ_20261124_100000.xlsx");
    EXPECT_EQ(n.ascii, "Inventory_20261124_100000.xlsx");
    n = export_file_names("O'Reilly & Sons <Wholesale>", "xlsx", when);
    EXPECT_EQ(n.utf8, "Inventory_O_Reilly_Sons_Wholesale_20261124_100000.xlsx");
    n = export_file_names("../../etc/passwd", "csv", when);
    EXPECT_EQ(n.utf8, "Inventory_etc_passwd_20261124_100000.csv");
    n = export_file_names(std::string(200, 'x'), "csv", when);
    EXPECT_EQ(n.utf8, "Inventory_" + std::string(60, 'x') + "_20261124_100000.csv");
}

TEST_F(file_names_test, content_disposition_has_a_safe_ascii_name_and_an_encoded_utf8_one) {
    EXPECT_EQ(content_disposition(export_file_names("Bäckerei Müller GmbH", "xlsx", when)),
              "attachment; filename=\"Inventory_Backerei_Muller_GmbH_20261124_100000.xlsx\"; "
              "filename*=UTF-8''Inventory_B%C3%A4ckerei_M%C3%BCller_GmbH_20261124_100000.xlsx");
    // Nothing from the name can end the header, the quoted string or the parameter.
    const auto hostile =
        content_disposition(export_file_names("a\"b\r\nSet-Cookie: x=1; \\ é", "csv", when));
    EXPECT_EQ(hostile.find_first_of("\r\n\\"), std::string::npos);
    EXPECT_EQ(std::count(hostile.begin(), hostile.end(), '"'), 2);
    EXPECT_EQ(std::count(hostile.begin(), hostile.end(), ';'), 2);
    EXPECT_TRUE(std::regex_search(hostile, std::regex("^attachment; filename=\"[A-Za-z0-9_.-]+\"; "
                                                      "filename\\*=UTF-8''[A-Za-z0-9_.%-]+$")))
        << hostile;
}

}  // namespace
}  // namespace portal::exports
