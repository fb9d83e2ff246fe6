#include "export/xlsx_writer.hpp"

#include "export/neutralise.hpp"

#include <xlsxwriter.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

// libxlsxwriter packs the workbook with minizip at zlib's default level (6) and offers no
// setting for it. For the large, repetitive XML of an export, deflating takes most of the time at
// level 6 and less than half of it at level 1, for a file about a fifth larger (SPEC §9: 100,000
// rows in 1.5 s). So this definition interposes on minizip's: libxlsxwriter's call resolves
// here (the executable comes first in symbol lookup) and is passed on with level 1 when the
// default is asked for. If libxlsxwriter was built with a private minizip, this is never called
// and nothing changes but the speed. The prototype is minizip's (zip.h), stable since 1.1.
extern "C" int zipOpenNewFileInZip4_64(
    void* file, const char* filename, const void* zipfi, const void* extrafield_local,
    unsigned size_extrafield_local, const void* extrafield_global, unsigned size_extrafield_global,
    const char* comment, int method, int level, int raw, int window_bits, int mem_level,
    int strategy, const char* password, unsigned long crc_for_crypting,
    unsigned long version_made_by, unsigned long flag_base, int zip64) {
    using open_fn = int (*)(void*, const char*, const void*, const void*, unsigned, const void*,
                            unsigned, const char*, int, int, int, int, int, int, const char*,
                            unsigned long, unsigned long, unsigned long, int);
    static const auto real = reinterpret_cast<open_fn>(dlsym(RTLD_NEXT, "zipOpenNewFileInZip4_64"));
    if (!real) return -104;                            // ZIP_INTERNALERROR
    constexpr int default_level = -1, fast_level = 1;  // Z_DEFAULT_COMPRESSION, Z_BEST_SPEED
    return real(file, filename, zipfi, extrafield_local, size_extrafield_local, extrafield_global,
                size_extrafield_global, comment, method,
                level == default_level ? fast_level : level, raw, window_bits, mem_level, strategy,
                password, crc_for_crypting, version_made_by, flag_base, zip64);
}

namespace portal::exports {
namespace {

using row_index = erp::inventory_snapshot::row_index;

constexpr std::size_t max_cell_bytes = 32767;  // Excel's limit is 32,767 characters
constexpr double min_width = 6, max_width = 60;

// Decodes the UTF-8 code point at s[i] (valid UTF-8 assumed); advances i.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) len = s.size() - i;
    char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
    i += len;
    return cp;
}

bool is_wide(char32_t cp) {
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
}

// Roughly how many "0" widths text takes in the default font: CJK counts double.
std::size_t display_width(std::string_view text) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            ++w;
        } else {
            w += is_wide(next_code_point(text, i)) ? 2 : 1;
        }
    }
    return w;
}

// Cuts text to at most max_cell_bytes without splitting a UTF-8 sequence.
void limit_cell(std::string& text) {
    if (text.size() <= max_cell_bytes) return;
    std::size_t end = max_cell_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
}

struct workbook_deleter {
    void operator()(lxw_workbook* wb) const { lxw_workbook_free(wb); }
};
using workbook_ptr = std::unique_ptr<lxw_workbook, workbook_deleter>;

void check(lxw_error e, const char* what) {
    if (e != LXW_NO_ERROR)
        throw std::runtime_error(std::string("xlsx export: ") + what + ": " + lxw_strerror(e));
}

// A new, empty file made with mkstemps; its name is removed again with this object.
struct temp_name {
    explicit temp_name(const std::filesystem::path& dir) {
        path = (dir / "portal-export-XXXXXX.xlsx").string();
        const int fd = ::mkstemps(path.data(), 5);
        if (fd < 0)
            throw std::runtime_error("xlsx export: cannot create a file in " + dir.string() + ": " +
                                     std::strerror(errno));
        ::close(fd);
    }
    ~temp_name() { ::unlink(path.c_str()); }
    temp_name(const temp_name&) = delete;
    temp_name& operator=(const temp_name&) = delete;
    std::string path;
};

constexpr std::size_t block_rows = 1024;

// A column's gathered block, and per dictionary value whether it can be written as it is: each
// value is checked (and measured for the column's width) once, not once per cell.
struct column_writer {
    explicit column_writer(erp::column c) : block(c) {}
    column_block block;
    std::vector<std::uint8_t> verdict;  // text, per id: 0 not seen yet, 1 as it is, 2 rewritten
    std::size_t width = 0;              // the widest cell so far
};

}  // namespace

std::optional<double> excel_serial_date(std::int32_t days) {
    // 1899-12-30 is Excel's day 0 for every date after its phantom 1900-02-29 (serial 60).
    constexpr std::int32_t epoch_offset = 25569;  // days from 1899-12-30 to 1970-01-01
    const std::int64_t serial = static_cast<std::int64_t>(days) + epoch_offset;
    if (serial < 2 || serial > 2958465) return std::nullopt;  // 1900-01-01 .. 9999-12-31
    return static_cast<double>(serial < 61 ? serial - 1 : serial);
}

std::string sheet_name_for(std::string_view name) {
    std::string clean;
    std::size_t units = 0;  // UTF-16 code units, as Excel counts the 31
    std::string valid;
    append_valid_utf8(valid, name);
    for (std::size_t i = 0; i < valid.size();) {
        const std::size_t start = i;
        const char32_t cp = next_code_point(valid, i);
        // Characters Excel refuses become a space; runs of spaces become one.
        if (cp <= 0x20 || cp == 0x7F ||
            std::strchr("[]:*?/\\", static_cast<int>(cp < 0x80 ? cp : 'x'))) {
            if (!clean.empty() && clean.back() != ' ' && units < 31) {
                clean += ' ';
                ++units;
            }
        } else {
            const std::size_t cost = cp > 0xFFFF ? 2 : 1;
            if (units + cost > 31) break;
            clean.append(valid, start, i - start);
            units += cost;
        }
    }
    const auto first = clean.find_first_not_of(" '");
    if (first == std::string::npos) return "Inventory";
    clean = clean.substr(first, clean.find_last_not_of(" '") - first + 1);
    std::string lower = clean;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower == "history") return "Inventory";
    return clean;
}

export_file::export_file(int fd) : fd_(fd) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        ::close(fd_);
        throw std::runtime_error(std::string("xlsx export: fstat: ") + std::strerror(errno));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
}

export_file::~export_file() {
    ::close(fd_);
}

bool export_file::next(std::string& out) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, size_ - read_));
    const std::size_t old = out.size();
    out.resize(old + want);
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::read(fd_, out.data() + old + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            out.resize(old + got);
            throw std::runtime_error(std::string("xlsx export: read: ") +
                                     (n < 0 ? std::strerror(errno) : "file ended early"));
        }
        got += static_cast<std::size_t>(n);
    }
    read_ += got;
    return read_ < size_;
}

std::unique_ptr<export_file> write_xlsx(const erp::inventory_snapshot& s,
                                        std::span<const row_index> rows,
                                        const xlsx_properties& properties,
                                        const std::filesystem::path& temp_dir) {
    const auto columns = s.present_columns();
    if (rows.size() + 1 > LXW_ROW_MAX)
        throw std::runtime_error("xlsx export: more rows than a worksheet holds");

    temp_name file(temp_dir);
    std::string tmpdir = temp_dir.string();
    lxw_workbook_options options{};
    options.constant_memory = LXW_TRUE;  // each row goes to disk as soon as the next one starts
    options.tmpdir = tmpdir.data();      // honour TMPDIR: libxlsxwriter's default ignores it
    options.use_zip64 = LXW_FALSE;
    workbook_ptr wb(workbook_new_opt(file.path.c_str(), &options));
    if (!wb) throw std::runtime_error("xlsx export: cannot start a workbook");

    std::string title = properties.title, author = "Customer Portal",
                comments = properties.comments;
    lxw_doc_properties doc{};
    doc.title = title.data();
    doc.author = author.data();
    doc.comments = comments.empty() ? nullptr : comments.data();
    doc.created = std::chrono::system_clock::to_time_t(properties.created);
    check(workbook_set_properties(wb.get(), &doc), "properties");

    const std::string sheet = sheet_name_for(properties.sheet_name);
    lxw_worksheet* ws = workbook_add_worksheet(wb.get(), sheet.c_str());
    if (!ws) ws = workbook_add_worksheet(wb.get(), "Inventory");
    if (!ws) throw std::runtime_error("xlsx export: cannot add a worksheet");
    lxw_format* bold = workbook_add_format(wb.get());
    format_set_bold(bold);
    lxw_format* date = workbook_add_format(wb.get());
    format_set_num_format(date, "yyyy-mm-dd");

    std::vector<column_writer> writers;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        column_writer w(columns[i]);
        w.width = display_width(column_heading(columns[i])) + 3;  // room for the autofilter button
        if (w.block.kind == erp::column_kind::text)
            w.verdict.assign(s.dictionary_size(columns[i]), 0);
        if (w.block.kind == erp::column_kind::date) w.width = std::max<std::size_t>(w.width, 10);
        writers.push_back(std::move(w));
        check(worksheet_write_string(ws, 0, static_cast<lxw_col_t>(i),
                                     std::string(column_heading(columns[i])).c_str(), bold),
              "heading");
    }
    const auto last_col = static_cast<lxw_col_t>(columns.empty() ? 0 : columns.size() - 1);
    worksheet_freeze_panes(ws, 1, 0);
    check(worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(rows.size()), last_col),
          "autofilter");

    std::string text;
    for (std::size_t first = 0; first < rows.size(); first += block_rows) {
        const auto block = rows.subspan(first, std::min(block_rows, rows.size() - first));
        // Rows go to libxlsxwriter in order, as constant-memory mode requires.
        for (auto& w : writers) w.block.gather(s, block);
        for (std::size_t k = 0; k < block.size(); ++k) {
            const auto out_row = static_cast<lxw_row_t>(first + k + 1);
            for (std::size_t i = 0; i < writers.size(); ++i) {
                auto& w = writers[i];
                const auto col = static_cast<lxw_col_t>(i);
                switch (w.block.kind) {
                    case erp::column_kind::text: {
                        const auto id = w.block.ids[k];
                        if (id >= s.empty_id(w.block.id)) break;  // NULL or empty: no cell
                        const std::string_view v = s.value(w.block.id, id);
                        if (w.verdict[id] == 0) {
                            const bool neutralise = needs_neutralising(v);
                            const bool as_is =
                                !neutralise && v.size() <= max_cell_bytes && erp::is_valid_utf8(v);
                            w.verdict[id] = as_is ? 1 : 2;
                            w.width = std::max(w.width, display_width(v) + (neutralise ? 1 : 0));
                        }
                        text.clear();
                        if (w.verdict[id] == 1) {
                            text.append(v);
                        } else {
                            append_neutralised(text, v);
                            limit_cell(text);
                        }
                        check(worksheet_write_string(ws, out_row, col, text.c_str(), nullptr),
                              "text cell");
                        break;
                    }
                    case erp::column_kind::number: {
                        const double n = w.block.numbers[k];
                        if (!std::isfinite(n)) break;  // NaN is NULL
                        check(worksheet_write_number(ws, out_row, col, n, nullptr), "number cell");
                        text.clear();
                        erp::append_number(text, n);
                        w.width = std::max(w.width, text.size());
                        break;
                    }
                    case erp::column_kind::date: {
                        const std::int32_t d = w.block.dates[k];
                        if (d == column_block::no_date) break;
                        if (const auto serial = excel_serial_date(d)) {
                            check(worksheet_write_number(ws, out_row, col, *serial, date),
                                  "date cell");
                        } else {  // outside what Excel can show as a date: the text instead
                            text.clear();
                            erp::append_iso_date(text, d);
                            check(worksheet_write_string(ws, out_row, col, text.c_str(), nullptr),
                                  "date cell");
                        }
                        break;
                    }
                }
            }
        }
    }

    // Column widths go into the sheet's header when the file is assembled, so they can be set
    // now that every cell has been measured.
    for (std::size_t i = 0; i < writers.size(); ++i) {
        const auto col = static_cast<lxw_col_t>(i);
        const double width =
            std::clamp(static_cast<double>(writers[i].width) + 1, min_width, max_width);
        check(worksheet_set_column(ws, col, col, width, nullptr), "column width");
    }

    // workbook_close frees the workbook whatever happens.
    check(workbook_close(wb.release()), "writing the file");
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error(std::string("xlsx export: reopen: ") + std::strerror(errno));
    return std::make_unique<export_file>(
        fd);  // `file` removes the name now; the data lives on until fd closes
}

}  // namespace portal::exports
