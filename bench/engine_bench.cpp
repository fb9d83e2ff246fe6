// The inventory engine under the SPEC §9 request mix, without HTTP: run_query, then the JSON body.
#include "erp/inventory_json.hpp"
#include "erp/inventory_query.hpp"
#include "erp/inventory_snapshot.hpp"
#include "synthetic_inventory.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

namespace {

using namespace portal::erp;
using portal::bench::synthetic_rows;


column_set all_columns() {
    column_set s{};
    s.fill(true);
    return s;
}

std::shared_ptr<const inventory_snapshot> snapshot_of(std::size_t n) {
    static std::map<std::size_t, std::shared_ptr<const inventory_snapshot>> built;
    auto& s = built[n];
    if (!s) {
        s = inventory_snapshot::build(synthetic_rows(n, 42), all_columns(),
                                      std::chrono::system_clock::now());
        s->warm_up();
    }
    return s;
}

enum class mix { paging, exact, search, mixed };

// Queries as the SPEC §9 load generator sends them: paging with a random sort column and page;
// an exact part or bin; a random 3-letter fragment of some cell's text.
std::vector<inventory_query> queries_for(const inventory_snapshot& s, mix m, std::size_t count) {
    std::mt19937 rng(7);
    auto pick = [&](std::size_t k) {
        return std::uniform_int_distribution<std::size_t>(0, k - 1)(rng);
    };
    std::vector<inventory_query> out;
    for (std::size_t k = 0; k < count; ++k) {
        mix kind = m;
        if (m == mix::mixed) {
            const std::size_t r = pick(4);
            kind = r < 2 ? mix::paging : r == 2 ? mix::exact : mix::search;
        }
        inventory_query q;
        const auto row = static_cast<std::uint32_t>(pick(s.size()));
        switch (kind) {
            case mix::paging:
                q.sort = columns[pick(column_count)].id;
                q.descending = pick(2) == 1;
                q.page = 1 + pick(s.size() / q.per_page);
                break;
            case mix::exact:
                if (pick(2) == 0)
                    q.part = std::string(*s.text(row, column::part));
                else
                    q.bin = std::string(*s.text(row, column::bin));
                break;
            case mix::search: {
                std::string text;
                while (text.size() < 3) {
                    const column c =
                        std::array{column::part, column::description, column::bin,
                                   column::lot,  column::reference,   column::po}[pick(6)];
                    text = std::string(
                        s.text(static_cast<std::uint32_t>(pick(s.size())), c).value_or(""));
                }
                std::size_t at = pick(text.size() - 2);
                while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80)
                    --at;  // whole characters
                q.q = text.substr(at, 3);
                break;
            }
            case mix::mixed:
                break;
        }
        out.push_back(std::move(q));
    }
    return out;
}

void run(benchmark::State& state, mix m, bool with_json) {
    const auto snap = snapshot_of(static_cast<std::size_t>(state.range(0)));
    const auto queries = queries_for(*snap, m, 4096);
    std::size_t k = 0, bytes = 0, matches = 0;
    for (auto _ : state) {
        const auto& q = queries[k++ % queries.size()];
        const auto result = run_query(*snap, q);
        matches += result.total;
        if (with_json) {
            const auto body = inventory_json(*snap, result, q, false);
            bytes += body.size();
            benchmark::DoNotOptimize(body.data());
        }
        benchmark::DoNotOptimize(result.rows.data());
    }
    state.counters["json_bytes"] =
        benchmark::Counter(static_cast<double>(bytes) / static_cast<double>(k));
    state.counters["matches"] =
        benchmark::Counter(static_cast<double>(matches) / static_cast<double>(k));
    state.counters["req/s/core"] =
        benchmark::Counter(static_cast<double>(k), benchmark::Counter::kIsRate);
}

void BM_paging(benchmark::State& s) {
    run(s, mix::paging, true);
}
void BM_exact_part_or_bin(benchmark::State& s) {
    run(s, mix::exact, true);
}
void BM_q_3_letters(benchmark::State& s) {
    run(s, mix::search, true);
}
void BM_mixed(benchmark::State& s) {
    run(s, mix::mixed, true);
}
void BM_mixed_query_only(benchmark::State& s) {
    run(s, mix::mixed, false);
}

BENCHMARK(BM_paging)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_exact_part_or_bin)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_q_3_letters)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mixed)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mixed_query_only)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

void BM_build(benchmark::State& state) {
    const auto rows = synthetic_rows(static_cast<std::size_t>(state.range(0)), 42);
    for (auto _ : state) {
        state.PauseTiming();  // the copy stands in for reading the ERP, which is not ours to time
        auto copy = rows;
        state.ResumeTiming();
        auto snap = inventory_snapshot::build(std::move(copy), all_columns(),
                                              std::chrono::system_clock::now());
        benchmark::DoNotOptimize(snap.get());
    }
}
BENCHMARK(BM_build)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

// What the first requests of a new snapshot pay, or a cache pays up front: every column's sort
// order both ways and the trigram index.
void BM_build_and_warm_up(benchmark::State& state) {
    const auto rows = synthetic_rows(static_cast<std::size_t>(state.range(0)), 42);
    for (auto _ : state) {
        state.PauseTiming();  // the copy stands in for reading the ERP, which is not ours to time
        auto copy = rows;
        state.ResumeTiming();
        auto snap = inventory_snapshot::build(std::move(copy), all_columns(),
                                              std::chrono::system_clock::now());
        snap->warm_up();
        benchmark::DoNotOptimize(snap.get());
    }
}
BENCHMARK(BM_build_and_warm_up)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_merge_two_halves(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto a = inventory_snapshot::build(synthetic_rows(n / 2, 1), all_columns(),
                                             std::chrono::system_clock::now());
    const auto b = inventory_snapshot::build(synthetic_rows(n / 2, 2), all_columns(),
                                             std::chrono::system_clock::now());
    for (auto _ : state) benchmark::DoNotOptimize(inventory_snapshot::merge({a, b}).get());
}
BENCHMARK(BM_merge_two_halves)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
