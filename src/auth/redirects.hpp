// Where a sign-in may send the browser afterwards: same-site paths only.
#pragma once

#include <string>
#include <string_view>

namespace portal::auth {

// True for a path on this site ("/inventory?part=A"); false for "//evil", "/\evil", "javascript:…",
// absolute URLs, control characters and anything not starting with a single '/'.
bool is_safe_next(std::string_view next);

// `next` when safe, else `fallback`.
std::string safe_next(std::string_view next, std::string_view fallback);

}  // namespace portal::auth
