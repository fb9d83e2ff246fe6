#include "erp/snapshot_cache.hpp"

#include "http/metrics.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace portal::erp {

namespace {
using steady = std::chrono::steady_clock;
}

std::vector<std::string> split_erp_names(const std::string& stored) {
    std::vector<std::string> out;
    std::string_view rest = stored;
    while (true) {
        const auto bar = rest.find('|');
        std::string_view part = rest.substr(0, bar);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty() && std::find(out.begin(), out.end(), part) == out.end()) out.emplace_back(part);
        if (bar == std::string_view::npos) break;
        rest = rest.substr(bar + 1);
    }
    return out;
}

bool is_all(const std::string& stored) {
    auto names = split_erp_names(stored);
    return names.size() == 1 && names[0] == "All";
}

snapshot_cache::snapshot_cache(erp_source& source, std::chrono::seconds ttl, http::metrics_registry& metrics,
                               std::size_t erp_threads)
    : source_(source), ttl_(ttl), metrics_(metrics), pool_(erp_threads) {}

snapshot_cache::~snapshot_cache() { pool_.join(); }

std::shared_future<void> snapshot_cache::start_fetch(const std::string& name, entry& e) {
    auto promise = std::make_shared<std::promise<void>>();
    e.in_flight = promise->get_future().share();
    e.refreshing = true;
    boost::asio::post(pool_, [this, name, promise] {
        const auto started = steady::now();
        std::shared_ptr<const inventory_snapshot> fresh;
        std::exception_ptr failure;
        try {
            auto result = source_.fetch_inventory(name);
            fresh = inventory_snapshot::build(std::move(result.rows), result.present, std::chrono::system_clock::now());
            fresh->warm_up();  // sort orders and the search index, here rather than on a request
        } catch (...) {
            failure = std::current_exception();
        }
        const std::chrono::duration<double> took = steady::now() - started;
        metrics_.add("portal_erp_queries_total", "ERP inventory queries run.");
        metrics_.add("portal_erp_query_seconds_total", "Time spent in ERP inventory queries.", took.count());
        {
            std::lock_guard lock(mutex_);
            auto& e = entries_[name];
            e.refreshing = false;
            last_query_at_ = std::chrono::system_clock::now();
            last_ok_ = !failure;
            if (fresh) {
                e.snapshot = fresh;
                e.fetched = steady::now();
            }
        }
        if (failure) {
            metrics_.add("portal_erp_query_failures_total", "ERP inventory queries that failed.");
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& ex) {
                spdlog::warn("ERP query for one customer failed after {:.1f} s: {}", took.count(), ex.what());
            }
            promise->set_exception(failure);
        } else {
            metrics_.set_gauge("portal_erp_snapshot_rows", "Rows in the latest snapshot of each ERP customer.",
                               static_cast<double>(fresh->size()));
            promise->set_value();
        }
    });
    return e.in_flight;
}

snapshot_view snapshot_cache::one(const std::string& name, wait w) {
    std::shared_future<void> wait_for;
    {
        std::lock_guard lock(mutex_);
        auto& e = entries_[name];
        if (e.snapshot && steady::now() - e.fetched < ttl_) {
            ++hits_;
            metrics_.add("portal_erp_cache_total", "Snapshot requests by result.", 1, "result=\"hit\"");
            return {e.snapshot, false};
        }
        if (w == wait::refused) {  // counted when asked again by a caller that may wait
            if (!e.refreshing) start_fetch(name, e);
            throw snapshot_not_ready();
        }
        ++misses_;
        metrics_.add("portal_erp_cache_total", "Snapshot requests by result.", 1, "result=\"miss\"");
        wait_for = e.refreshing ? e.in_flight : start_fetch(name, e);
    }
    try {
        wait_for.get();
    } catch (const std::exception& ex) {
        std::lock_guard lock(mutex_);
        auto& e = entries_[name];
        if (e.snapshot) return {e.snapshot, true};
        throw erp_unavailable(ex.what());
    }
    std::lock_guard lock(mutex_);
    return {entries_[name].snapshot, false};
}

snapshot_view snapshot_cache::for_names(const std::vector<std::string>& names, wait w) {
    if (names.empty()) throw erp_unavailable("the account is linked to no ERP customer");
    if (names.size() == 1) return one(names[0], w);
    // Start every fetch first so the names are read in parallel, then collect.
    {
        std::lock_guard lock(mutex_);
        for (const auto& n : names) {
            auto& e = entries_[n];
            if (!(e.snapshot && steady::now() - e.fetched < ttl_) && !e.refreshing) start_fetch(n, e);
        }
    }
    snapshot_view out;
    std::vector<std::shared_ptr<const inventory_snapshot>> parts;
    std::exception_ptr failure;
    for (const auto& n : names) {
        try {
            auto v = one(n, w);
            out.stale = out.stale || v.stale;
            parts.push_back(v.snapshot);
        } catch (const erp_unavailable&) {
            failure = std::current_exception();
        }
    }
    if (parts.empty() && failure) std::rethrow_exception(failure);
    if (failure) out.stale = true;  // some names could not be read at all: say so

    std::string key;
    for (const auto& n : names) key += n + '\x1f';
    {
        std::lock_guard lock(mutex_);
        auto it = merged_.find(key);
        if (it != merged_.end() && it->second.parts == parts) {
            out.snapshot = it->second.merged;
            return out;
        }
    }
    if (w == wait::refused) throw snapshot_not_ready();  // a merge of large snapshots takes a while
    auto merged = inventory_snapshot::merge(parts);
    merged->warm_up();
    std::lock_guard lock(mutex_);
    merged_[key] = {parts, merged};
    out.snapshot = merged;
    return out;
}

snapshot_view snapshot_cache::for_account(const std::string& stored, wait w) {
    if (is_all(stored)) return for_names(customer_names(w), w);
    return for_names(split_erp_names(stored), w);
}

std::vector<std::string> snapshot_cache::customer_names(wait w) {
    // The lock is held while the ERP is asked: a caller that may not wait does not queue for it.
    std::unique_lock lock(customers_mutex_, std::defer_lock);
    if (w == wait::allowed) lock.lock();
    else if (!lock.try_lock()) throw snapshot_not_ready();
    if (!customers_.empty() && steady::now() - customers_fetched_ < std::max(ttl_, std::chrono::seconds(60)))
        return customers_;
    if (w == wait::refused) throw snapshot_not_ready();
    try {
        customers_ = source_.fetch_customers();
        customers_fetched_ = steady::now();
    } catch (const std::exception& e) {
        if (customers_.empty()) throw erp_unavailable(e.what());
        spdlog::warn("ERP customer list: serving the last one read: {}", e.what());
    }
    return customers_;
}

void snapshot_cache::probe_in_background() {
    boost::asio::post(pool_, [this] {
        try {
            source_.probe();
            spdlog::info("ERP reachable: {}", source_.description());
        } catch (const std::exception& e) {
            spdlog::error("ERP check failed (inventory will answer 503 until it works): {}", e.what());
        }
    });
}

snapshot_cache::status snapshot_cache::current_status() const {
    std::lock_guard lock(mutex_);
    return {last_ok_, last_query_at_, hits_, misses_};
}

}  // namespace portal::erp
