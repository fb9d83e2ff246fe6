#include "http/request_context.hpp"


namespace portal::http {

std::optional<std::string> request_context::query_param(std::string_view name) const {
    return find_param(query, name);
}

const std::string& request_context::route_param(std::string_view name) const {
    for (const auto& [k, v] : route_params)
        if (k == name) return v;
    throw std::logic_error("route has no parameter " + std::string(name));
}

bool request_context::wants_json() const {
    if (path.rfind("/api/", 0) == 0) return true;
    const auto accept = req[bhttp::field::accept];
    return accept.find("application/json") != std::string_view::npos &&
           accept.find("text/html") == std::string_view::npos;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte; a broken escape is a 400.
std::string form_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= in.size() || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0)
                throw http_error(status::bad_request, "The form data is malformed.");
            out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

param_list parse_form(std::string_view body) {
    param_list out;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        out.emplace_back(form_decode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
    }
    return out;
}

std::optional<std::string> find_param(const param_list& params, std::string_view name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return std::nullopt;
}

std::vector<std::string> find_all(const param_list& params, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : params)
        if (k == name) out.push_back(v);
    return out;
}

std::optional<std::string> find_cookie(const request& req, std::string_view name) {
    for (auto it = req.find(bhttp::field::cookie); it != req.end() && it->name() == bhttp::field::cookie; ++it) {
        std::string_view rest = it->value();
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            std::string_view pair = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            const auto eq = pair.find('=');
            if (eq == std::string_view::npos) continue;
            std::string_view key = pair.substr(0, eq);
            while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
            if (key != name) continue;
            std::string_view value = pair.substr(eq + 1);
            while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
    }
    return std::nullopt;
}

std::string make_set_cookie(std::string_view name, std::string_view value, const cookie_options& opts) {
    std::string out;
    out.append(name).append("=").append(value).append("; Path=").append(opts.path);
    if (opts.max_age) out.append("; Max-Age=").append(std::to_string(opts.max_age->count()));
    if (opts.http_only) out.append("; HttpOnly");
    if (opts.secure) out.append("; Secure");
    if (!opts.same_site.empty()) out.append("; SameSite=").append(opts.same_site);
    return out;
}

}  // namespace portal::http
