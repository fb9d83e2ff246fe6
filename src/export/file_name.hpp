// The download's file name, `Inventory_<customer>_<YYYYMMDD_HHMMSS>.<ext>`, and its RFC 6266
// Content-Disposition header.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace portal::exports {

struct file_names {
    std::string utf8;   // letters and digits of any script kept; for filename*
    std::string ascii;  // only [A-Za-z0-9._-]; for filename, which older clients read
};

// Runs of anything but letters and digits become one '_'; the customer part is cut to 60
// characters; a customer with nothing usable left is left out ("Inventory_20261124_100000.xlsx").
// `when` is shown in the server's local time zone.
file_names export_file_names(std::string_view customer, std::string_view extension,
                             std::chrono::system_clock::time_point when);

// `attachment; filename="<ascii>"; filename*=UTF-8''<utf8, percent-encoded>` (RFC 6266, RFC 8187).
std::string content_disposition(const file_names& names);

}  // namespace portal::exports
