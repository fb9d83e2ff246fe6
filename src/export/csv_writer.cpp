#include "export/csv_writer.hpp"

#include "export/neutralise.hpp"

#include <algorithm>
#include <cmath>

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
    : snapshot_(std::move(snapshot)), rows_(std::move(rows)) {
    for (const erp::column c : snapshot_->present_columns()) {
        columns_.emplace_back(c);
        verdicts_.emplace_back(
            erp::info(c).kind == erp::column_kind::text ? snapshot_->dictionary_size(c) : 0, 0);
    }
}

bool csv_writer::next(std::string& out) {
    const std::size_t start = out.size();
    if (!header_written_) {
        out += "\xEF\xBB\xBF";  // so that Excel reads the file as UTF-8
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (i) out += ',';
            append_csv_field(out, column_heading(columns_[i].id));
        }
        out += "\r\n";
        header_written_ = true;
    }
    while (next_row_ < rows_.size() && out.size() - start < piece_size) {
        const std::size_t n = std::min(block_rows, rows_.size() - next_row_);
        append_block(out, std::span(rows_).subspan(next_row_, n));
        next_row_ += n;
    }
    return next_row_ < rows_.size();
}

void csv_writer::append_block(std::string& out,
                              std::span<const erp::inventory_snapshot::row_index> rows) {
    const auto& s = *snapshot_;
    for (auto& c : columns_) c.gather(s, rows);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (i) out += ',';
            const auto& c = columns_[i];
            switch (c.kind) {
                case erp::column_kind::text: {
                    const auto id = c.ids[k];
                    if (id >= s.empty_id(c.id)) break;  // NULL or empty
                    const std::string_view v = s.value(c.id, id);
                    auto& verdict = verdicts_[i][id];
                    if (verdict == 0) {
                        const bool as_is = !needs_neutralising(v) &&
                                           v.find_first_of(",\"\r\n") == std::string_view::npos &&
                                           erp::is_valid_utf8(v);
                        verdict = as_is ? 1 : 2;
                    }
                    if (verdict == 1) {
                        out += v;
                    } else {
                        scratch_.clear();
                        append_neutralised(scratch_, v);
                        append_csv_field(out, scratch_);
                    }
                    break;
                }
                case erp::column_kind::number:
                    // Numbers, negative ones too, stay plain numbers: only text is neutralised.
                    if (!std::isnan(c.numbers[k])) erp::append_number(out, c.numbers[k]);
                    break;
                case erp::column_kind::date:
                    if (c.dates[k] != column_block::no_date) erp::append_iso_date(out, c.dates[k]);
                    break;
            }
        }
        out += "\r\n";
    }
}

}  // namespace portal::exports
