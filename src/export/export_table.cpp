#include "export/export_table.hpp"

#include <cmath>

namespace portal::exports {

std::string_view column_heading(erp::column c) {
    // The same words as templates/inventory.mustache's column headers.
    switch (c) {
        case erp::column::customer:
            return "Customer";
        case erp::column::part:
            return "Part";
        case erp::column::customer_part:
            return "Your part";
        case erp::column::description:
            return "Description";
        case erp::column::on_hand:
            return "On hand";
        case erp::column::unit:
            return "Unit";
        case erp::column::bin:
            return "Bin";
        case erp::column::warehouse:
            return "Warehouse";
        case erp::column::reference:
            return "Reference";
        case erp::column::lot:
            return "Lot";
        case erp::column::expires:
            return "Expires";
        case erp::column::last_transaction:
            return "Last movement";
        case erp::column::received:
            return "Received";
        case erp::column::po:
            return "PO";
        case erp::column::status:
            return "Status";
    }
    return "";
}

void column_block::gather(const erp::inventory_snapshot& s,
                          std::span<const erp::inventory_snapshot::row_index> rows) {
    const std::size_t n = rows.size();
    switch (kind) {
        case erp::column_kind::text:
            ids.resize(n);
            for (std::size_t k = 0; k < n; ++k) ids[k] = s.id_at(rows[k], id);
            break;
        case erp::column_kind::number:
            numbers.resize(n);
            for (std::size_t k = 0; k < n; ++k)
                numbers[k] = s.number(rows[k], id).value_or(std::nan(""));
            break;
        case erp::column_kind::date:
            dates.resize(n);
            for (std::size_t k = 0; k < n; ++k) dates[k] = s.date(rows[k], id).value_or(no_date);
            break;
    }
}

}  // namespace portal::exports
