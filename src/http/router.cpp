#include "http/router.hpp"

#include <stdexcept>

namespace portal::http {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path[0] != '/') return out;
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

void router::add(verb method, std::string pattern, access audience, handler fn, lane runs_on) {
    route r{method, std::move(pattern), audience, std::move(fn), {}, runs_on};
    for (auto s : split_path(r.pattern)) r.segments.emplace_back(s);
    if (r.segments.empty()) throw std::invalid_argument("route pattern must start with '/': " + r.pattern);
    routes_.push_back(std::move(r));
}

router::match_result router::match(verb method, std::string_view path) const {
    match_result result;
    const auto parts = split_path(path);
    if (parts.empty()) return result;
    for (const auto& r : routes_) {
        if (r.segments.size() != parts.size()) continue;
        param_list params;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            const auto& seg = r.segments[i];
            if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
                if (parts[i].empty()) ok = false;
                else params.emplace_back(seg.substr(1, seg.size() - 2), std::string(parts[i]));
            } else {
                ok = seg == parts[i];
            }
        }
        if (!ok) continue;
        if (r.method == method || (method == verb::head && r.method == verb::get)) {
            result.found = &r;
            result.params = std::move(params);
            return result;
        }
        result.path_exists = true;
    }
    return result;
}

}  // namespace portal::http
