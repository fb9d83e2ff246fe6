// Routes on method + path with `{name}` segments; each route declares who may call it.
#pragma once

#include "http/request_context.hpp"

#include <functional>
#include <string>
#include <vector>

namespace portal::http {

// Who may call a route. Anything not declared is denied: a route must name its audience.
enum class access { anyone, customer, admin, signed_in };

using handler = std::function<response(request_context&)>;

struct route {
    verb method;
    std::string pattern;
    access audience;
    handler fn;
    std::vector<std::string> segments;  // pattern split on '/'
};

class router {
public:
    void add(verb method, std::string pattern, access audience, handler fn);

    struct match_result {
        const route* found = nullptr;
        param_list params;
        bool path_exists = false;  // some route has this path with another method (405)
    };
    // HEAD matches GET routes.
    match_result match(verb method, std::string_view path) const;

    const std::vector<route>& routes() const { return routes_; }

private:
    std::vector<route> routes_;
};

// Splits a decoded path into segments; "/a/b/" → {"a", "b", ""}.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace portal::http
