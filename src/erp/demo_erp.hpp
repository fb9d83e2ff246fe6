// A demo ERP: an SQLite database shaped like Deacom's stock tables, for `customer-portal demo` and
// the tests (SPEC §3, §5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portal::erp {

// Creates `sqlite_path` (an old file there is replaced atomically, so a server reading it keeps
// a consistent file) with Deacom's table and column names — dtfifo, dmprod, dmpr1, dmunit, dmloc,
// dmware — and varied data: customers with 0 to 100,000 stock rows, several warehouses, missing
// lots and dates, every status, depleted rows (fi_balance <= 0), non-ASCII text, and text that
// looks like HTML or spreadsheet formulas. The same seed gives the same data. Throws
// std::runtime_error on failure.
void build_demo_erp(const std::string& sqlite_path, std::uint32_t seed = 42);

// The demo's ERP customer names (dmpr1.p1_name, trimmed), in a fixed order that does not depend
// on the seed: the demo accounts refer to them.
std::vector<std::string> demo_customer_names();

}  // namespace portal::erp
