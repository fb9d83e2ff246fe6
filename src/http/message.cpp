#include "http/message.hpp"

namespace portal::http {

response text_response(status code, std::string body, std::string_view content_type) {
    response r;
    r.result = code;
    r.set(bhttp::field::content_type, content_type);
    r.body = std::move(body);
    return r;
}

response json_response(status code, std::string body) {
    return text_response(code, std::move(body), "application/json; charset=utf-8");
}

response html_response(status code, std::string body) {
    return text_response(code, std::move(body), "text/html; charset=utf-8");
}

response redirect(std::string_view location) {
    response r;
    r.result = status::see_other;
    r.set(bhttp::field::location, location);
    return r;
}

}  // namespace portal::http
