// The CSV export (RFC 4180, UTF-8 with a byte-order mark, CRLF), produced a piece at a time so a
// response can stream it without ever holding the whole file.
#pragma once

#include "export/export_table.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace portal::exports {

// Appends one field: quoted (with quotes doubled) when it holds a comma, a quote, CR or LF.
void append_csv_field(std::string& out, std::string_view field);

class csv_writer {
  public:
    static constexpr std::size_t piece_size = 64 * 1024;

    // Keeps the snapshot alive while the file is being sent. `rows` in the order to write them.
    csv_writer(std::shared_ptr<const erp::inventory_snapshot> snapshot, row_list rows);

    // Appends the next piece to `out`: whole records, piece_size bytes or a block of records more
    // (the first piece starts with the BOM and the header). Returns false once the last record
    // has been appended.
    bool next(std::string& out);

    std::size_t row_count() const { return rows_.size(); }

  private:
    static constexpr std::size_t block_rows = 64;  // whole records per gathered block

    void append_block(std::string& out, std::span<const erp::inventory_snapshot::row_index> rows);

    std::shared_ptr<const erp::inventory_snapshot> snapshot_;
    row_list rows_;
    std::vector<column_block> columns_;
    // Text columns, per dictionary id: 0 not seen yet, 1 written as it is, 2 neutralised and/or
    // quoted. Most values need neither, and are then copied straight from the dictionary.
    std::vector<std::vector<std::uint8_t>> verdicts_;
    std::size_t next_row_ = 0;
    bool header_written_ = false;
    std::string scratch_;
};

}  // namespace portal::exports
