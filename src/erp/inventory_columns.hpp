// The columns of the ERP inventory query (SPEC §5), in their contract order, and one row as read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portal::erp {

enum class column : std::uint8_t {
    customer,
    part,
    customer_part,
    description,
    on_hand,
    unit,
    bin,
    warehouse,
    reference,
    lot,
    expires,
    last_transaction,
    received,
    po,
    status,
};
inline constexpr std::size_t column_count = 15;

enum class column_kind : std::uint8_t { text, number, date };

struct column_info {
    column id;
    std::string_view name;  // the alias the query returns and the API uses
    column_kind kind;
    bool required;
};

inline constexpr std::array<column_info, column_count> columns{{
    {column::customer, "customer", column_kind::text, false},
    {column::part, "part", column_kind::text, true},
    {column::customer_part, "customer_part", column_kind::text, false},
    {column::description, "description", column_kind::text, false},
    {column::on_hand, "on_hand", column_kind::number, true},
    {column::unit, "unit", column_kind::text, false},
    {column::bin, "bin", column_kind::text, true},
    {column::warehouse, "warehouse", column_kind::text, false},
    {column::reference, "reference", column_kind::text, false},
    {column::lot, "lot", column_kind::text, false},
    {column::expires, "expires", column_kind::date, false},
    {column::last_transaction, "last_transaction", column_kind::date, false},
    {column::received, "received", column_kind::date, false},
    {column::po, "po", column_kind::text, false},
    {column::status, "status", column_kind::text, false},
}};

inline const column_info& info(column c) { return columns[static_cast<std::size_t>(c)]; }

inline std::optional<column> column_from_name(std::string_view name) {
    for (const auto& c : columns)
        if (c.name == name) return c.id;
    return std::nullopt;
}

// One stock row as read from the ERP. Text and dates are kept as the ERP gave them; dates are
// normalised to "YYYY-MM-DD" by the reader. A NULL (or a column the query did not return) is empty.
struct inventory_record {
    std::array<std::optional<std::string>, column_count> text;  // unused for on_hand
    std::optional<double> on_hand;

    std::optional<std::string>& operator[](column c) { return text[static_cast<std::size_t>(c)]; }
    const std::optional<std::string>& operator[](column c) const {
        return text[static_cast<std::size_t>(c)];
    }
};

// Which columns a query returned (the API's "columns" lists exactly these, in contract order).
using column_set = std::array<bool, column_count>;

}  // namespace portal::erp
