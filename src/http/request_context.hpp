// Everything a handler knows about one request: the message, its decoded path and parameters,
// the client, and (filled in by the app) who is calling.
#pragma once

#include "http/message.hpp"

#include <any>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portal::http {

using param_list = std::vector<std::pair<std::string, std::string>>;

struct request_context {
    explicit request_context(const request& r) : req(r) {}

    const request& req;
    std::string path;          // percent-decoded path, without the query
    param_list query;          // decoded query parameters in order
    param_list route_params;   // values of `{name}` segments of the matched route
    param_list form;           // a urlencoded POST body, decoded
    std::string route_pattern; // the matched route's pattern, for metrics and logs
    std::string client_address;
    std::string request_id;
    std::string user_label;    // who is calling, for the request log; empty when anonymous
    std::any principal;        // the app's idea of the signed-in caller
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::vector<std::string> set_cookies;  // added to the response by the app
    // False on the quick lane (see router's lane): anything that would wait on the ERP or a long
    // computation must not, and asks to be run again on the general lane instead.
    bool may_wait = true;

    // The first value of a parameter, or nullopt.
    std::optional<std::string> query_param(std::string_view name) const;
    const std::string& route_param(std::string_view name) const;
    bool wants_json() const;  // API paths and clients asking only for JSON
};

// Decodes an application/x-www-form-urlencoded body (or query string). Throws http_error 400 on
// malformed encoding.
param_list parse_form(std::string_view body);
std::optional<std::string> find_param(const param_list& params, std::string_view name);
std::vector<std::string> find_all(const param_list& params, std::string_view name);

// Reads a cookie from the Cookie header(s); nullopt if absent.
std::optional<std::string> find_cookie(const request& req, std::string_view name);

struct cookie_options {
    bool http_only = true;
    bool secure = false;
    std::string same_site = "Lax";
    std::string path = "/";
    std::optional<std::chrono::seconds> max_age;  // nullopt: a browser-session cookie
};
std::string make_set_cookie(std::string_view name, std::string_view value, const cookie_options& opts);

}  // namespace portal::http
