// The per-request cost of resolving a customer session in the local store (SQLite).
#include "auth/sessions.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>

using namespace portal;

static void resolve_customer_session(benchmark::State& state) {
    const auto path = std::filesystem::temp_directory_path() / "portal-session-bench.db";
    std::filesystem::remove(path);
    app::config cfg;
    cfg.secret_key = std::string(48, 'k');
    cfg.store.driver = "sqlite";
    cfg.store.name = path.string();
    store::database db(cfg.store);
    store::migrate(db);
    store::customers_repository customers(db);
    store::new_customer c{"Bench", "User", "bench@example.com", "x", "Acme Foods", true, false};
    auto id = customers.create(c, std::chrono::system_clock::now()).customer_id;
    auth::session_service sessions(db, cfg);
    auto started = sessions.start_customer(*customers.find_by_id(id), "127.0.0.1", "bench");
    for (auto _ : state) {
        auto p = sessions.resolve_customer(started.token);
        benchmark::DoNotOptimize(p);
    }
    std::filesystem::remove(path);
}
BENCHMARK(resolve_customer_session)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
