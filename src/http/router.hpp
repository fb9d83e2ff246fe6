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

// Where a route's handler runs. The general lane is a pool larger than the core count, because
// its handlers may wait (on the ERP, a directory, a password hash, a long export). The quick lane
// is one thread per core for the few hot routes that answer from memory and the store: with
// nothing waiting there, no more threads are runnable than there are cores, and a hot request
// never queues behind a slow one. A quick handler that would have to wait is run again on the
// general lane (request_context::may_wait).
enum class lane { general, quick };

struct route {
    verb method;
    std::string pattern;
    access audience;
    handler fn;
    std::vector<std::string> segments;  // pattern split on '/'
    lane runs_on = lane::general;
};

class router {
public:
    void add(verb method, std::string pattern, access audience, handler fn, lane runs_on = lane::general);

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
