#include "export/csv_writer.hpp"

#include "export/neutralise.hpp"

namespace portal::exports {

void append_csv_field(std::string& out, std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += field;
        return;
    }
    out += '"';
    for (const char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

csv_writer::csv_writer(std::shared_ptr<const erp::inventory_snapshot> snapshot, row_list rows)
    : snapshot_(std::move(snapshot)), rows_(std::move(rows)), columns_(export_columns(*snapshot_)) {}

bool csv_writer::next(std::string& out) {
    const std::size_t start = out.size();
    if (!header_written_) {
        out += "\xEF\xBB\xBF";  // so that Excel reads the file as UTF-8
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (i) out += ',';
            append_csv_field(out, column_heading(columns_[i]));
        }
        out += "\r\n";
        header_written_ = true;
    }
    while (next_row_ < rows_.size() && out.size() - start < piece_size) append_record(out, rows_[next_row_++]);
    return next_row_ < rows_.size();
}

void csv_writer::append_record(std::string& out, erp::inventory_snapshot::row_index row) {
    const auto& s = *snapshot_;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i) out += ',';
        const erp::column c = columns_[i];
        switch (erp::info(c).kind) {
        case erp::column_kind::text:
            if (const auto text = s.text(row, c); text && !text->empty()) {
                scratch_.clear();
                append_neutralised(scratch_, *text);
                append_csv_field(out, scratch_);
            }
            break;
        case erp::column_kind::number:
            // Numbers, negative ones too, stay plain numbers: only text is neutralised.
            if (const auto n = s.number(row, c)) erp::append_number(out, *n);
            break;
        case erp::column_kind::date:
            if (const auto d = s.date(row, c)) erp::append_iso_date(out, *d);
            break;
        }
    }
    out += "\r\n";
}

}  // namespace portal::exports
