// Requests and responses as the handlers see them, and the one exception type handlers throw.
#pragma once

#include <boost/beast/http.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace portal::http {

namespace bhttp = boost::beast::http;
using request = bhttp::request<bhttp::string_body>;
using status = bhttp::status;
using verb = bhttp::verb;

struct response {
    status result = status::ok;
    bhttp::fields headers;
    std::string body;
    // A body too large to hold in memory: each call appends the next piece to `out` and returns
    // false when nothing is left. Sent with chunked transfer encoding. Runs on a worker thread.
    std::function<bool(std::string& out)> stream;
    // Not an answer: the handler ran where it may not wait (request_context::may_wait) and would
    // have had to. The server runs the request again on the general pool, where it may.
    bool run_where_waiting_is_allowed = false;

    void set(bhttp::field name, std::string_view value) { headers.set(name, value); }
    void set(std::string_view name, std::string_view value) { headers.set(name, value); }
};

// Thrown by handlers for an expected failure. `public_message` is shown to the client; `detail`
// (what()) goes to the log only.
struct http_error : std::runtime_error {
    status code;
    std::string public_message;
    http_error(status code_, std::string public_message_, const std::string& detail = {})
        : std::runtime_error(detail.empty() ? public_message_ : detail),
          code(code_),
          public_message(std::move(public_message_)) {}
};

response text_response(status code, std::string body, std::string_view content_type);
response json_response(status code, std::string body);
response html_response(status code, std::string body);
response redirect(std::string_view location);  // 303 See Other

}  // namespace portal::http
