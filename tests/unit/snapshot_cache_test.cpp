// The snapshot cache for a caller that may not wait (the quick lane): it is refused rather than
// blocked, the fetch it needs is started all the same, and nothing is asked of the ERP twice.
#include "erp/snapshot_cache.hpp"

#include "erp/demo_erp.hpp"
#include "erp/query_file.hpp"
#include "http/metrics.hpp"
#include "support/portal_process.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using namespace portal;
using erp::wait;

const std::string queries_dir = std::string(PORTAL_SOURCE_DIR) + "/queries/";

class snapshot_cache_waits : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new portal::testing::temp_dir();
        erp::build_demo_erp(dir_->path + "/erp.db");
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    snapshot_cache_waits()
        : source_(settings(),
                  erp::load_query_file(queries_dir + "portable_inventory.sql",
                                       erp::query_kind::inventory),
                  erp::load_query_file(queries_dir + "portable_customers.sql",
                                       erp::query_kind::customers)),
          cache_(source_, std::chrono::seconds(300), metrics_) {}

    static app::database_settings settings() {
        app::database_settings s;
        s.driver = "sqlite";
        s.name = dir_->path + "/erp.db";
        return s;
    }
    double erp_queries() const { return metrics_.value("portal_erp_queries_total"); }

    static portal::testing::temp_dir* dir_;
    http::metrics_registry metrics_;
    erp::erp_source source_;
    erp::snapshot_cache cache_;
};
portal::testing::temp_dir* snapshot_cache_waits::dir_ = nullptr;

}  // namespace

TEST_F(snapshot_cache_waits, a_cold_name_is_refused_but_fetched_once) {
    EXPECT_THROW(cache_.for_account("Acme Foods", wait::refused), erp::snapshot_not_ready);
    // The refused call started the fetch; this one waits for that same fetch.
    const auto view = cache_.for_account("Acme Foods", wait::allowed);
    EXPECT_EQ(view.snapshot->size(), 600u);
    EXPECT_EQ(erp_queries(), 1.0);
    EXPECT_EQ(cache_.for_account("Acme Foods", wait::refused).snapshot, view.snapshot)
        << "fresh: no wait";
    EXPECT_EQ(erp_queries(), 1.0);
}

TEST_F(snapshot_cache_waits, a_union_not_yet_merged_is_refused_even_when_its_parts_are_fresh) {
    cache_.for_account("Acme Foods", wait::allowed);
    cache_.for_account("Café Ñandú", wait::allowed);
    EXPECT_THROW(cache_.for_account("Acme Foods|Café Ñandú", wait::refused),
                 erp::snapshot_not_ready);
    const auto merged = cache_.for_account("Acme Foods|Café Ñandú", wait::allowed);
    EXPECT_EQ(cache_.for_account("Acme Foods|Café Ñandú", wait::refused).snapshot, merged.snapshot);
    EXPECT_EQ(erp_queries(), 2.0);
}

TEST_F(snapshot_cache_waits, the_customer_list_for_all_is_refused_until_it_is_read) {
    EXPECT_THROW(cache_.customer_names(wait::refused), erp::snapshot_not_ready);
    const auto names = cache_.customer_names(wait::allowed);
    auto expected = erp::demo_customer_names();
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
              std::set<std::string>(expected.begin(), expected.end()));
    EXPECT_EQ(cache_.customer_names(wait::refused), names);
}
