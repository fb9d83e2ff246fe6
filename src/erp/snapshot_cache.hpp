// One immutable inventory snapshot per ERP customer name, cached ERP_CACHE_SECONDS, fetched once
// however many viewers ask at the same time (single flight), on the ERP's own threads.
#pragma once

#include "erp/erp_source.hpp"
#include "erp/inventory_snapshot.hpp"

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace portal::http { class metrics_registry; }

namespace portal::erp {

struct snapshot_view {
    std::shared_ptr<const inventory_snapshot> snapshot;
    bool stale = false;  // the ERP could not be reached; this is the last good snapshot
};

// Whether a caller may wait for the ERP (or for a merge of large snapshots). A caller that may
// not gets snapshot_not_ready instead; the fetch it needs is started all the same.
enum class wait { allowed, refused };
struct snapshot_not_ready : std::runtime_error {
    snapshot_not_ready() : std::runtime_error("the snapshot is not ready") {}
};

// What the account may see: "A", "A|B" or "All", as stored in Customers.erp_customer_name.
std::vector<std::string> split_erp_names(const std::string& stored);
bool is_all(const std::string& stored);

class snapshot_cache {
public:
    snapshot_cache(erp_source& source, std::chrono::seconds ttl, http::metrics_registry& metrics,
                   std::size_t erp_threads = 4);
    ~snapshot_cache();

    // The union of the snapshots of `stored` ("A|B" or "All"). Blocks the calling worker until the
    // ERP answers for these names only; throws erp_unavailable when a name has never been read.
    snapshot_view for_account(const std::string& stored, wait w = wait::allowed);
    snapshot_view for_names(const std::vector<std::string>& names, wait w = wait::allowed);

    // Checks the query's columns against the ERP off the caller's thread and logs the outcome:
    // start-up stays fast and an ERP that is down at start does not stop the portal.
    void probe_in_background();

    // The ERP's customer names (cached like a snapshot).
    std::vector<std::string> customer_names(wait w = wait::allowed);

    struct status {
        bool last_query_ok = true;
        std::optional<std::chrono::system_clock::time_point> last_query_at;
        double hits = 0, misses = 0;
    };
    status current_status() const;

private:
    struct entry {
        std::shared_ptr<const inventory_snapshot> snapshot;
        std::chrono::steady_clock::time_point fetched{};
        std::shared_future<void> in_flight;
        bool refreshing = false;
    };
    snapshot_view one(const std::string& name, wait w);
    std::shared_future<void> start_fetch(const std::string& name, entry& e);

    erp_source& source_;
    std::chrono::seconds ttl_;
    http::metrics_registry& metrics_;
    boost::asio::thread_pool pool_;
    mutable std::mutex mutex_;
    std::map<std::string, entry> entries_;

    struct merged_entry {
        std::vector<std::shared_ptr<const inventory_snapshot>> parts;
        std::shared_ptr<const inventory_snapshot> merged;
    };
    std::map<std::string, merged_entry> merged_;

    std::vector<std::string> customers_;
    std::chrono::steady_clock::time_point customers_fetched_{};
    std::mutex customers_mutex_;

    bool last_ok_ = true;
    std::optional<std::chrono::system_clock::time_point> last_query_at_;
    double hits_ = 0, misses_ = 0;
};

}  // namespace portal::erp
