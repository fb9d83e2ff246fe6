#include "http/metrics.hpp"

#include <fmt/format.h>

namespace portal::http {
namespace {

std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out;
}

}  // namespace

void metrics_registry::observe_request(const std::string& route, unsigned status,
                                       std::chrono::duration<double> elapsed) {
    const std::string labels = fmt::format("route=\"{}\",status=\"{}\"", escape_label(route), status);
    std::lock_guard lock(mutex_);
    auto& f = families_["portal_http_requests_total"];
    if (f.type.empty()) {
        f.type = "counter";
        f.help = "HTTP requests by route and status.";
    }
    f.values[labels] += 1;
    auto& h = latency_[route];
    for (std::size_t i = 0; i < latency_buckets.size(); ++i)
        if (elapsed.count() <= latency_buckets[i]) ++h.buckets[i];
    ++h.count;
    h.sum += elapsed.count();
}

void metrics_registry::add(const std::string& name, const std::string& help, double value,
                           const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    f.type = "counter";
    f.help = help;
    f.values[labels] += value;
}

void metrics_registry::set_gauge(const std::string& name, const std::string& help, double value,
                                 const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    f.type = "gauge";
    f.help = help;
    f.values[labels] = value;
}

void metrics_registry::add_gauge_source(std::function<void(metrics_registry&)> source) {
    std::lock_guard lock(mutex_);
    gauge_sources_.push_back(std::move(source));
}

double metrics_registry::value(const std::string& name, const std::string& labels) const {
    std::lock_guard lock(mutex_);
    auto f = families_.find(name);
    if (f == families_.end()) return 0;
    auto v = f->second.values.find(labels);
    return v == f->second.values.end() ? 0 : v->second;
}

std::string metrics_registry::render() {
    std::vector<std::function<void(metrics_registry&)>> sources;
    {
        std::lock_guard lock(mutex_);
        sources = gauge_sources_;
    }
    for (auto& s : sources) s(*this);

    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
        for (const auto& [labels, v] : f.values) {
            out += labels.empty() ? fmt::format("{} {}\n", name, v) : fmt::format("{}{{{}}} {}\n", name, labels, v);
        }
    }
    out += "# HELP portal_http_request_duration_seconds Time to build a response, by route.\n"
           "# TYPE portal_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
        const std::string r = escape_label(route);
        for (std::size_t i = 0; i < latency_buckets.size(); ++i)
            out += fmt::format("portal_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", r,
                               latency_buckets[i], h.buckets[i]);
        out += fmt::format("portal_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", r, h.count);
        out += fmt::format("portal_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", r, h.sum);
        out += fmt::format("portal_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", r, h.count);
    }
    return out;
}

}  // namespace portal::http
