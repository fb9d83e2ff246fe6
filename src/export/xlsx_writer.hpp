// The Excel export: libxlsxwriter in constant-memory mode writes the rows to a temporary file,
// which is then read back a piece at a time for a streamed response.
#pragma once

#include "export/export_table.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace portal::exports {

struct xlsx_properties {
    std::string sheet_name;  // made valid by sheet_name_for()
    std::string title;
    std::string comments;
    std::chrono::system_clock::time_point created = std::chrono::system_clock::now();
};

// A valid worksheet name for `name`: none of []:*?/\ or control characters, no apostrophe at
// either end, at most 31 characters (UTF-16 units, as Excel counts), never empty or "History".
std::string sheet_name_for(std::string_view name);

// A finished export file, open for reading. Its directory entry is already gone (see
// write_xlsx), so closing it — when the object is destroyed, e.g. because the client went away
// mid-download — frees the disk space and nothing can be left behind.
class export_file {
  public:
    static constexpr std::size_t piece_size = 64 * 1024;

    explicit export_file(int fd);
    ~export_file();
    export_file(const export_file&) = delete;
    export_file& operator=(const export_file&) = delete;

    std::uint64_t size() const { return size_; }
    // Appends up to piece_size more bytes to `out`; false once the end has been appended.
    // Throws std::runtime_error on a read error.
    bool next(std::string& out);

  private:
    int fd_;
    std::uint64_t size_ = 0;
    std::uint64_t read_ = 0;
};

// Writes `rows` of the snapshot (header row bold and frozen, autofilter, column widths from the
// data, numbers as numbers, dates as dates, text as neutralised text) to a new file in
// `temp_dir` (mkstemp), opens it and removes its name. libxlsxwriter's own working files go to
// `temp_dir` too. Memory stays bounded whatever the number of rows. Throws std::runtime_error.
std::unique_ptr<export_file> write_xlsx(
    const erp::inventory_snapshot& snapshot,
    std::span<const erp::inventory_snapshot::row_index> rows, const xlsx_properties& properties,
    const std::filesystem::path& temp_dir = std::filesystem::temp_directory_path());

// Excel's serial day number for days since 1970-01-01, or nullopt before 1900-01-01 or after
// 9999-12-31 (Excel cannot show those as dates). Keeps Excel's phantom 1900-02-29.
std::optional<double> excel_serial_date(std::int32_t days);

}  // namespace portal::exports
