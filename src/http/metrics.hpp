// Counters, gauges and the request latency histogram, rendered in Prometheus text format.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace portal::http {

class metrics_registry {
public:
    // A request finished: counts by route pattern and status, and observes its latency.
    void observe_request(const std::string& route, unsigned status, std::chrono::duration<double> elapsed);

    // `labels` is already in Prometheus form, e.g. `result="hit"`, or empty.
    void add(const std::string& name, const std::string& help, double value = 1.0,
             const std::string& labels = {});
    void set_gauge(const std::string& name, const std::string& help, double value,
                   const std::string& labels = {});
    // Gauges read when /metrics is rendered (e.g. open connections, cached snapshots).
    void add_gauge_source(std::function<void(metrics_registry&)> source);

    double value(const std::string& name, const std::string& labels = {}) const;
    std::string render();

    static constexpr std::array<double, 13> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                            0.05,   0.1,   0.25,   0.5,   1.0,  2.5, 10.0};

private:
    struct family {
        std::string type;
        std::string help;
        std::map<std::string, double> values;  // by labels
    };
    struct histogram {
        std::array<std::uint64_t, latency_buckets.size()> buckets{};
        std::uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, family> families_;
    std::map<std::string, histogram> latency_;  // by route
    std::vector<std::function<void(metrics_registry&)>> gauge_sources_;
};

}  // namespace portal::http
