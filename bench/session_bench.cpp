// The per-request cost of resolving a customer session in the local store (SQLite).
#include "auth/sessions.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

using namespace portal;

namespace {

// One store and one signed-in customer, shared by the benchmark's threads.
struct fixture {
    std::filesystem::path path = std::filesystem::temp_directory_path() / "portal-session-bench.db";
    app::config cfg;
    std::unique_ptr<store::database> db;
    std::unique_ptr<auth::session_service> sessions;
    std::string token;

    fixture() {
        store::configure_sqlite_process();  // as main() does
        std::filesystem::remove(path);
        cfg.secret_key = std::string(48, 'k');
        cfg.store.driver = "sqlite";
        cfg.store.name = path.string();
        db = std::make_unique<store::database>(cfg.store);
        store::migrate(*db);
        store::customers_repository customers(*db);
        store::new_customer c{"Bench", "User", "bench@example.com", "x", "Acme Foods", true, false};
        auto id = customers.create(c, std::chrono::system_clock::now()).customer_id;
        sessions = std::make_unique<auth::session_service>(*db, cfg);
        token = sessions->start_customer(*customers.find_by_id(id), "127.0.0.1", "bench").token;
    }
    ~fixture() { std::filesystem::remove(path); }
};

fixture& shared() {
    static fixture f;
    return f;
}

}  // namespace

// With two threads, as the quick lane runs on two cores: the figure is per resolve, wall time.
static void resolve_customer_session(benchmark::State& state) {
    auto& f = shared();
    for (auto _ : state) {
        auto p = f.sessions->resolve_customer(f.token);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(resolve_customer_session)->Unit(benchmark::kMicrosecond);
BENCHMARK(resolve_customer_session)->Threads(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
