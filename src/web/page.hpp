// Rendering a page inside the layout, and the error answers (HTML page or JSON).
#pragma once

#include "app/services.hpp"
#include "auth/principal.hpp"
#include "http/request_context.hpp"
#include "web/templates.hpp"

namespace portal::web {

struct flash {
    std::string kind;  // error, success, info
    std::string message;
};

// A `scripts` list for a page's data: the module scripts it needs beside the layout's.
mustache_data script_list(std::initializer_list<std::string_view> sources);

// The signed-in caller of this request, or nullptr.
const auth::principal* caller(const http::request_context& ctx);

// The CSRF token for forms on this page (sets the pre-session cookie when needed).
std::string csrf_for(const app::services& s, http::request_context& ctx);

// A one-time message shown on the next page rendered (after a redirect). Only known codes are
// accepted, so the cookie can never inject text.
void set_flash(http::request_context& ctx, std::string_view code);

http::response render_page(const app::services& s, http::request_context& ctx, const std::string& name,
                           const mustache_data& data, const std::string& title,
                           http::status code = http::status::ok, const std::vector<flash>& flashes = {});

// The error answer for a request: a styled page, or {"error": message} for API callers.
http::response error_response(const app::services& s, http::request_context& ctx, http::status code,
                              const std::string& message);

std::string default_message(http::status code);

}  // namespace portal::web
