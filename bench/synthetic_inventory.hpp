// Synthetic inventory for the benchmarks.
#pragma once

#include "erp/inventory_columns.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace portal::bench {

using namespace portal::erp;

// A synthetic customer that looks like a warehouse's: parts repeat over lots and bins, lots are
// nearly unique, a handful of statuses, some missing lots and dates, some non-ASCII text, and
// text that exports must neutralise. Shared by the engine and export benchmarks.
inline std::vector<inventory_record> synthetic_rows(std::size_t n, unsigned seed,
                                                    const std::string& only_customer = {}) {
    std::mt19937 rng(seed);
    auto pick = [&](std::size_t k) {
        return std::uniform_int_distribution<std::size_t>(0, k - 1)(rng);
    };
    static const std::vector<std::string> words{
        "Organic", "Apple",  "Juice",  "Widget", "Bracket", "Steel",  "Äpfel",  "Crème",
        "Frozen",  "Carton", "Bottle", "Resin",  "Valve",   "Gasket", "Pallet", "Sauce",
        "Flour",   "Sugar",  "Blue",   "Large",  "Small",   "Ø12mm",  "Spare",  "Kit",
        "=SUM(A1)", "-2 Washer"};
    static const std::vector<std::string> statuses{
        "Available",     "Quarantined", "Issued to Job", "Sales Reserved",
        "Staged to Job", "Failed QC",   "Pending QC",    "Approved QC"};
    static const std::vector<std::string> units{"EA", "CS", "LB", "KG", "PL", "GAL"};
    static const std::vector<std::string> warehouses{"Main", "North", "Cold Store", "Zürich Außenlager"};
    static const std::vector<std::string> customers{"Acme Foods", "Bäckerei Müller", "Initech"};
    const std::size_t parts = std::max<std::size_t>(10, n / 20),
                      bins = std::max<std::size_t>(10, n / 10);
    auto date = [&] {
        auto two = [](std::size_t v) {
            return std::string(1, static_cast<char>('0' + v / 10)) +
                   static_cast<char>('0' + v % 10);
        };
        return std::to_string(2020 + pick(8)) + "-" + two(1 + pick(12)) + "-" + two(1 + pick(28));
    };
    std::vector<inventory_record> rows(n);
    for (auto& r : rows) {
        const std::size_t part = pick(parts);
        r[column::customer] = only_customer.empty() ? customers[part % customers.size()] : only_customer;
        r[column::part] = "P-" + std::to_string(1000 + part);
        r[column::customer_part] = "CP" + std::to_string(part * 7 % 100000);
        r[column::description] = words[part % words.size()] + " " + words[part / 7 % words.size()] +
                                 " " + std::to_string(part % 50) + "oz";
        r.on_hand = static_cast<double>(1 + pick(500)) * (pick(10) == 0 ? 0.125 : 1.0);
        r[column::unit] = units[part % units.size()];
        const std::size_t bin = pick(bins);
        r[column::bin] = std::string(1, static_cast<char>('A' + bin % 20)) + "-" +
                         std::to_string(bin / 20 % 40) + "-" + std::to_string(bin / 800 + 1);
        r[column::warehouse] = warehouses[bin % warehouses.size()];
        if (pick(3) != 0) r[column::reference] = "REF-" + std::to_string(pick(n / 2 + 1));
        if (pick(8) != 0) r[column::lot] = "L" + std::to_string(pick(n * 2));
        if (pick(4) != 0) r[column::expires] = date();
        r[column::last_transaction] = date();
        r[column::received] = date();
        if (pick(2) != 0) r[column::po] = "PO" + std::to_string(pick(n / 10 + 1));
        r[column::status] = statuses[pick(8) < 4 ? 0 : pick(statuses.size())];
    }
    return rows;
}

}  // namespace portal::bench
