#include "auth/redirects.hpp"

namespace portal::auth {

bool is_safe_next(std::string_view next) {
    if (next.empty() || next.size() > 2048 || next[0] != '/') return false;
    if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return false;
    for (unsigned char c : next) {
        // Browsers treat '\' like '/', and strip tabs and newlines before parsing.
        if (c < 0x20 || c == 0x7f || c == '\\') return false;
    }
    // An encoded slash or backslash right after the first one would decode into "//".
    if (next.size() >= 4 && next[1] == '%') {
        const std::string_view enc = next.substr(1, 3);
        if (enc == "%2f" || enc == "%2F" || enc == "%5c" || enc == "%5C") return false;
    }
    return true;
}

std::string safe_next(std::string_view next, std::string_view fallback) {
    return std::string(is_safe_next(next) ? next : fallback);
}

}  // namespace portal::auth
