// The current grid view as a download (SPEC §4): GET /inventory/export.xlsx and .csv take the
// API's filters and sort (no paging), read the same snapshot the grid does — only the caller's own
// ERP names — and stream the file from a worker thread.
#include "erp/inventory_query.hpp"
#include "erp/snapshot_cache.hpp"
#include "export/csv_writer.hpp"
#include "export/file_name.hpp"
#include "export/xlsx_writer.hpp"
#include "web/admin_support.hpp"
#include "web/audit.hpp"
#include "web/page.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

namespace portal::web {
namespace {

constexpr std::string_view erp_down_message =
    "Live stock cannot be exported right now: the warehouse system is not answering. Please try "
    "again in a few "
    "minutes.";
constexpr std::string_view busy_message =
    "Several Excel exports are being prepared right now. Please try again in a few seconds.";
constexpr std::string_view xlsx_type =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::string_view csv_type = "text/csv; charset=utf-8; header=present";

// Building a workbook keeps a worker and a core busy for up to a second or so; capping how many
// run at once keeps workers free for everyone else. Over the cap the caller is asked to retry.
class build_slots {
  public:
    explicit build_slots(int limit) : limit_(std::max(1, limit)) {}
    bool try_acquire() {
        int now = busy_.load();
        while (now < limit_)
            if (busy_.compare_exchange_weak(now, now + 1)) return true;
        return false;
    }
    void release() { --busy_; }

  private:
    const int limit_;
    std::atomic<int> busy_{0};
};

struct slot_guard {
    build_slots& slots;
    ~slot_guard() { slots.release(); }
};

struct export_view {
    const auth::principal* who = nullptr;
    erp::inventory_query query;
    erp::snapshot_view snapshot;
    exports::row_list rows;
    std::string customer;  // for the file and sheet names
};

// What the file is named after: the customer the view is narrowed to, or the account's.
std::string customer_label(const auth::principal& who, const erp::inventory_query& query) {
    const auto names = erp::split_erp_names(who.erp_customer_name);
    const bool all = erp::is_all(who.erp_customer_name);
    if (query.customer &&
        (all || std::find(names.begin(), names.end(), *query.customer) != names.end()))
        return *query.customer;
    if (all) return "All customers";
    // "A", "A and B", "A, B and C": as the page's heading names them.
    std::string joined;
    for (std::size_t i = 0; i < names.size(); ++i)
        joined += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return joined;
}

export_view prepare(app::services& s, http::request_context& ctx) {
    export_view v;
    v.who = caller(ctx);
    // An export is every matching row: the grid's paging parameters are not the export's business.
    http::param_list params;
    for (const auto& p : ctx.query)
        if (p.first != "page" && p.first != "per_page") params.push_back(p);
    auto query = erp::parse_inventory_query(params);
    if (!query) throw http::http_error(http::status::bad_request, query.error());
    v.query = std::move(*query);
    try {
        // The account's own names only: `customer=` can narrow within them, never widen.
        v.snapshot = s.snapshots.for_account(v.who->erp_customer_name);
    } catch (const erp::erp_unavailable& e) {
        throw http::http_error(http::status::service_unavailable, std::string(erp_down_message),
                               e.what());
    }
    v.customer = customer_label(*v.who, v.query);
    return v;
}

// {"format":"xlsx","rows":N,"filters":{…},"sort":"part","order":"asc"}
std::string audit_details(std::string_view format, const export_view& v) {
    boost::json::object filters;
    if (!v.query.q.empty()) filters["q"] = v.query.q;
    const std::pair<const char*, const std::optional<std::string>*> exact[] = {
        {"customer", &v.query.customer}, {"part", &v.query.part},
        {"bin", &v.query.bin},           {"status", &v.query.status},
        {"lot", &v.query.lot},           {"warehouse", &v.query.warehouse}};
    for (const auto& [name, value] : exact)
        if (*value) filters[name] = **value;
    boost::json::object details;
    details["format"] = format;
    details["rows"] = v.rows.size();
    details["filters"] = std::move(filters);
    details["sort"] = std::string(erp::info(v.query.sort.value_or(erp::column::part)).name);
    details["order"] = v.query.descending ? "desc" : "asc";
    if (v.snapshot.stale) details["stale"] = true;
    return boost::json::serialize(details);
}

http::response download_headers(std::string_view type, const export_view& v,
                                std::string_view extension) {
    http::response r;
    r.set(http::bhttp::field::content_type, type);
    r.set(http::bhttp::field::content_disposition,
          exports::content_disposition(
              exports::export_file_names(v.customer, extension, std::chrono::system_clock::now())));
    return r;
}

bool is_head(const http::request_context& ctx) {
    return ctx.req.method() == http::verb::head;
}

http::response export_xlsx(app::services& s, http::request_context& ctx, build_slots& slots) {
    auto v = prepare(s, ctx);
    auto r = download_headers(xlsx_type, v, "xlsx");
    if (is_head(ctx)) return r;
    if (!slots.try_acquire()) {
        auto busy =
            error_response(s, ctx, http::status::service_unavailable, std::string(busy_message));
        busy.set(http::bhttp::field::retry_after, "5");
        return busy;
    }
    const slot_guard guard{slots};
    v.rows = erp::matching_rows(*v.snapshot.snapshot, v.query);
    exports::xlsx_properties properties;
    properties.sheet_name = v.customer;
    properties.title = "Inventory – " + v.customer;
    properties.comments = "Stock as of " + iso_utc(v.snapshot.snapshot->as_of()) +
                          (v.snapshot.stale ? " (the warehouse system was not answering)" : "");
    // shared_ptr: the stream must be copyable. The file closes, and its space is freed, when the
    // server drops the stream — at the end, or when the client goes away mid-download.
    std::shared_ptr<exports::export_file> file =
        exports::write_xlsx(*v.snapshot.snapshot, v.rows, properties);
    record_audit(s, ctx, v.who->actor(), "EXPORT", {v.who->customer_id, v.who->email},
                 audit_details("xlsx", v));
    spdlog::info("xlsx export for {}: {} rows, {} bytes", v.who->email, v.rows.size(),
                 file->size());
    r.stream = [file](std::string& out) { return file->next(out); };
    return r;
}

http::response export_csv(app::services& s, http::request_context& ctx) {
    auto v = prepare(s, ctx);
    auto r = download_headers(csv_type, v, "csv");
    if (is_head(ctx)) return r;
    v.rows = erp::matching_rows(*v.snapshot.snapshot, v.query);
    record_audit(s, ctx, v.who->actor(), "EXPORT", {v.who->customer_id, v.who->email},
                 audit_details("csv", v));
    // Written a piece at a time as the client reads: never the whole file in memory.
    auto writer = std::make_shared<exports::csv_writer>(v.snapshot.snapshot, std::move(v.rows));
    r.stream = [writer](std::string& out) { return writer->next(out); };
    return r;
}

}  // namespace

void add_export_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;
    auto slots = std::make_shared<build_slots>(s.cfg.threads);
    r.add(verb::get, "/inventory/export.xlsx", access::customer,
          [&s, slots](http::request_context& ctx) { return export_xlsx(s, ctx, *slots); });
    r.add(verb::get, "/inventory/export.csv", access::customer,
          [&s](http::request_context& ctx) { return export_csv(s, ctx); });
}

}  // namespace portal::web
