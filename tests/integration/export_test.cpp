// The exports against the real binary and real readers: openpyxl and LibreOffice open the
// workbook, Python's csv module reads the CSV, both hold exactly the API's rows for the same
// filters; isolation between customers, refusals, the audit trail, and no temporary file left
// behind by a client that goes away mid-download (SPEC §4, §7, issue 5).
#include "auth/password_hash.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "support/web_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

using namespace portal;
using namespace portal::testing;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* demo_password = "demo-password-2026";
const std::string checker = std::string(PORTAL_SOURCE_DIR) + "/tests/integration/xlsx_check.py";

store::database local_store(const std::string& path) {
    app::database_settings s;
    s.driver = "sqlite";
    s.name = path;
    return store::database(s);
}

void save(const std::string& path, const std::string& body) {
    std::ofstream out(path, std::ios::binary);
    out << body;
}

// Runs xlsx_check.py and returns its JSON summary ({"ok", "errors", "rows", …}).
json::object run_checker(const std::string& args) {
    const std::string command = "/usr/bin/python3 " + checker + " " + args + " 2>&1";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed");
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    ::pclose(pipe);
    boost::system::error_code ec;
    auto value = json::parse(out, ec);
    if (ec || !value.is_object()) throw std::runtime_error("xlsx_check.py said: " + out);
    return value.as_object();
}

std::string errors_of(const json::object& summary) {
    return json::serialize(summary.at("errors"));
}

// Files the portal process has open in `dir` (from /proc/<pid>/fd), deleted ones included.
std::vector<std::string> open_files_in(pid_t pid, const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const auto target = fs::read_symlink(fd.path(), ec);
        if (!ec && target.string().rfind(dir + "/", 0) == 0) out.push_back(target.string());
    }
    return out;
}

// Records in a CSV body: every record ends with CRLF; a line break inside a field is a bare LF.
std::size_t crlf_count(const std::string& body) {
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = body.find("\r\n", pos)) != std::string::npos; pos += 2) ++n;
    return n;
}

std::size_t entries_in(const std::string& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

// The demo portal with its own TMPDIR, so that every temporary file it makes can be counted.
class exports : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        tmp_ = new temp_dir;
        // THREADS=1: one workbook is built at a time (see the test of a second, concurrent one).
        portal_ = new portal_process(env_map{{"TMPDIR", tmp_->path}, {"THREADS", "1"}}, {"demo"});
    }
    static void TearDownTestSuite() {
        delete portal_;
        delete tmp_;
        portal_ = nullptr;
        tmp_ = nullptr;
    }
    web_client signed_in(const std::string& email) {
        web_client c(portal_->port());
        EXPECT_EQ(c.login(email, demo_password).status, 303);
        return c;
    }

    // Downloads the API's first page and both exports for `params` into the scratch folder and
    // checks them together; returns the checker's summary and the API's total.
    // `export_only` is added to the exports' parameters only (paging, which they ignore).
    std::pair<json::object, std::int64_t> download_and_check(web_client& c,
                                                             const std::string& params,
                                                             const std::string& checker_args = {},
                                                             const std::string& export_only = {}) {
        const std::string sep = params.empty() ? "" : "&";
        auto api = c.get("/api/v1/inventory?per_page=1000" + sep + params);
        EXPECT_EQ(api.status, 200) << params << ": " << api.body;
        const auto total = json::parse(api.body).as_object().at("total").as_int64();
        const std::string query = params + (export_only.empty() ? "" : sep + export_only);
        auto xlsx = c.get("/inventory/export.xlsx?" + query);
        auto csv = c.get("/inventory/export.csv?" + query);
        EXPECT_EQ(xlsx.status, 200) << params << ": " << xlsx.body.substr(0, 300);
        EXPECT_EQ(csv.status, 200) << params << ": " << csv.body.substr(0, 300);
        const std::string base = scratch_.path + "/export" + std::to_string(++downloads_);
        save(base + ".json", api.body);
        save(base + ".xlsx", xlsx.body);
        save(base + ".csv", csv.body);
        auto summary = run_checker("--xlsx " + base + ".xlsx --csv " + base + ".csv --api " + base +
                                   ".json --total " + std::to_string(total) + " " + checker_args);
        return {summary, total};
    }

    static portal_process* portal_;
    static temp_dir* tmp_;
    temp_dir scratch_;
    int downloads_ = 0;
};
portal_process* exports::portal_ = nullptr;
temp_dir* exports::tmp_ = nullptr;

}  // namespace

TEST_F(exports, both_formats_hold_exactly_the_apis_rows_for_several_filters) {
    auto nina = signed_in("nina@northwind.example");
    struct view {
        std::string params;
        std::string about;
        std::string export_only;
    };
    const view views[] = {
        {"status=Available", "one filter, default sort", ""},
        {"q=hyperlink&sort=on_hand&order=desc",
         "a search with formula-like text, sorted by a number", ""},
        {"customer=" + url_encode("Bäckerei Müller GmbH") + "&sort=expires&order=desc",
         "one of two customers", ""},
        {"warehouse=" + url_encode("Zürich Außenlager") + "&status=Available&sort=lot",
         "non-ASCII filter; paging is ignored", "page=3&per_page=10"},
        {"part=NO-SUCH-PART", "no rows at all", ""},
    };
    for (const auto& v : views) {
        SCOPED_TRACE(v.about + ": " + v.params);
        auto [summary, total] = download_and_check(nina, v.params, {}, v.export_only);
        EXPECT_TRUE(summary.at("ok").as_bool()) << errors_of(summary);
        EXPECT_EQ(summary.at("rows").as_int64(), total);
        if (v.params.rfind("customer=", 0) == 0) {
            EXPECT_EQ(json::serialize(summary.at("customers")), "[\"Bäckerei Müller GmbH\"]");
        }
        if (v.params.rfind("q=hyperlink", 0) == 0) {
            EXPECT_GT(total, 0);
            EXPECT_GT(summary.at("neutralised").as_int64(), 0) << "the demo has =HYPERLINK(…) text";
        }
        if (v.params.rfind("warehouse=", 0) == 0) {
            EXPECT_GT(total, 10) << "paging must not cut the export";
            EXPECT_GT(summary.at("non_ascii").as_int64(), 0);
            EXPECT_NE(json::serialize(summary.at("first_row")).find("Zürich Außenlager"),
                      std::string::npos);
        }
    }
}

TEST_F(exports, libreoffice_converts_the_workbook_to_the_same_rows) {
    // One small file: LibreOffice takes seconds to start.
    auto nina = signed_in("nina@northwind.example");
    auto [summary, total] = download_and_check(nina, "q=hyperlink", "--libreoffice");
    EXPECT_TRUE(summary.at("ok").as_bool()) << errors_of(summary);
    ASSERT_TRUE(summary.contains("libreoffice_rows"));
    EXPECT_EQ(summary.at("libreoffice_rows").as_int64(), total);
}

TEST_F(exports, downloads_are_named_for_the_customer_and_are_not_cached) {
    auto alice = signed_in("alice@acme.example");
    auto xlsx = alice.get("/inventory/export.xlsx");
    ASSERT_EQ(xlsx.status, 200);
    EXPECT_EQ(xlsx.header("content-type"),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(xlsx.header("cache-control"), "no-store");
    EXPECT_EQ(xlsx.header("transfer-encoding"), "chunked");
    EXPECT_TRUE(std::regex_match(
        xlsx.header("content-disposition"),
        std::regex("attachment; filename=\"Inventory_Acme_Foods_[0-9]{8}_[0-9]{6}\\.xlsx\"; "
                   "filename\\*=UTF-8''Inventory_Acme_Foods_[0-9]{8}_[0-9]{6}\\.xlsx")))
        << xlsx.header("content-disposition");

    auto nina = signed_in("nina@northwind.example");
    auto csv = nina.get("/inventory/export.csv?customer=" + url_encode("Bäckerei Müller GmbH"));
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.header("content-type").rfind("text/csv; charset=utf-8", 0), 0u);
    EXPECT_NE(csv.header("content-disposition").find("filename=\"Inventory_Backerei_Muller_GmbH_"),
              std::string::npos);
    EXPECT_NE(csv.header("content-disposition")
                  .find("filename*=UTF-8''Inventory_B%C3%A4ckerei_M%C3%BCller_GmbH_"),
              std::string::npos);

    auto head = http_request(portal_->port(), "HEAD", "/inventory/export.csv", {},
                             {{"Cookie", "portal_session=" + alice.cookie("portal_session")}});
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

TEST_F(exports, signed_out_exports_are_refused) {
    web_client anonymous(portal_->port());
    for (const std::string path :
         {"/inventory/export.xlsx", "/inventory/export.csv?status=Available"}) {
        auto r = anonymous.get(path);
        EXPECT_TRUE(r.status == 303 || r.status == 401) << path << ": " << r.status;
        if (r.status == 303) {
            EXPECT_EQ(r.header("location").rfind("/login?next=", 0), 0u);
        }
        EXPECT_EQ(r.body.find("Acme"), std::string::npos);
    }
    web_client forged(portal_->port());
    forged.cookies()["portal_session"] = std::string(43, 'A');
    auto r = forged.get("/inventory/export.csv");
    EXPECT_TRUE(r.status == 303 || r.status == 401) << r.status;
}

TEST_F(exports, another_customers_rows_never_appear_whatever_the_parameters_say) {
    auto alice = signed_in("alice@acme.example");
    auto all = alice.get("/inventory/export.csv");
    ASSERT_EQ(all.status, 200);
    std::size_t records = 0;
    for (std::size_t pos = 0; (pos = all.body.find("\r\nAcme Foods,", pos)) != std::string::npos;
         pos += 2)
        ++records;
    EXPECT_EQ(records, 600u);
    EXPECT_EQ(all.body.find("Globex"), std::string::npos);

    for (const std::string& widen :
         {std::string("customer=Globex%20Corporation"), std::string("customer=All"),
          std::string("q=Globex"), std::string("customer=Acme%20Foods%7CGlobex%20Corporation"),
          std::string("erp_customer=Globex%20Corporation&customer=Globex%20Corporation")}) {
        for (const std::string format : {"csv", "xlsx"}) {
            auto r = alice.get("/inventory/export." + format + "?" + widen);
            ASSERT_EQ(r.status, 200) << widen;
            if (format == "csv") {
                EXPECT_EQ(r.body.find("Globex"), std::string::npos) << widen;
                EXPECT_EQ(crlf_count(r.body), 1u) << "header only: " << widen;
            } else {
                const std::string file = scratch_.path + "/widen.xlsx";
                save(file, r.body);
                auto summary = run_checker("--xlsx " + file + " --total 0");
                EXPECT_TRUE(summary.at("ok").as_bool()) << widen << ": " << errors_of(summary);
            }
        }
    }
}

TEST_F(exports, bad_parameters_are_400_and_paging_is_ignored) {
    auto alice = signed_in("alice@acme.example");
    for (const std::string& bad :
         {std::string("sort=password_hash"), std::string("order=sideways"),
          "q=" + std::string(300, 'a'), std::string("part=a&part=b"), std::string("status=%FF")}) {
        for (const std::string format : {"csv", "xlsx"}) {
            auto r = alice.get("/inventory/export." + format + "?" + bad);
            EXPECT_EQ(r.status, 400) << format << "?" << bad;
            EXPECT_EQ(r.header("content-disposition"), "") << "an error is not a download";
        }
    }
    auto r = alice.get("/inventory/export.csv?per_page=5000&page=abc");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(crlf_count(r.body), 601u) << "all 600 rows and the header";
}

TEST_F(exports, each_export_is_audited_with_format_rows_and_filters) {
    auto alice = signed_in("alice@acme.example");
    ASSERT_EQ(alice.get("/inventory/export.xlsx?status=Available&sort=on_hand&order=desc").status,
              200);
    ASSERT_EQ(alice.get("/inventory/export.csv").status, 200);

    auto db = local_store(portal_->cwd() + "/data/demo/portal.db");
    store::audit_filter f;
    f.action_type = "EXPORT";
    f.customer_email = "alice@acme.example";
    const auto entries = store::audit_repository(db).list(f);
    ASSERT_GE(entries.size(), 2u);
    const auto csv = json::parse(entries[0].details.value_or("{}")).as_object();
    const auto xlsx = json::parse(entries[1].details.value_or("{}")).as_object();
    EXPECT_EQ(entries[0].admin_username, "alice@acme.example");
    EXPECT_EQ(csv.at("format"), "csv");
    EXPECT_EQ(csv.at("rows").to_number<std::int64_t>(), 600);
    EXPECT_EQ(xlsx.at("format"), "xlsx");
    EXPECT_GT(xlsx.at("rows").to_number<std::int64_t>(), 0);
    EXPECT_LT(xlsx.at("rows").to_number<std::int64_t>(), 600);
    EXPECT_EQ(xlsx.at("filters").at("status"), "Available");
    EXPECT_EQ(xlsx.at("sort"), "on_hand");
    EXPECT_EQ(xlsx.at("order"), "desc");
}

TEST_F(exports, a_client_that_disconnects_mid_download_leaves_no_temporary_file) {
    namespace net = boost::asio;
    using tcp = net::ip::tcp;
    auto gary =
        signed_in("gary@globex.example");  // 100,000 rows: far more than socket buffers hold
    ASSERT_EQ(entries_in(tmp_->path), 0u);

    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.open(tcp::v4());
    socket.set_option(
        net::socket_base::receive_buffer_size(4096));  // the server soon has to wait for us
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(portal_->port())));
    const std::string request =
        "GET /inventory/export.xlsx HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: portal_session=" +
        gary.cookie("portal_session") + "\r\n\r\n";
    net::write(socket, net::buffer(request));
    std::string received;
    char buf[4096];
    while (received.find("\r\n\r\n") == std::string::npos || received.size() < 32 * 1024) {
        const std::size_t n = socket.read_some(net::buffer(buf));
        received.append(buf, n);
    }
    ASSERT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received.substr(0, 200);

    // Mid-download the portal holds the workbook open — and nothing else in its TMPDIR, not even
    // a name: the file was unlinked as soon as it was written.
    const auto during = open_files_in(portal_->pid(), tmp_->path);
    ASSERT_EQ(during.size(), 1u);
    EXPECT_NE(during[0].find("(deleted)"), std::string::npos) << during[0];
    EXPECT_EQ(entries_in(tmp_->path), 0u);

    socket.set_option(net::socket_base::linger(true, 0));  // reset, as a closed browser tab does
    socket.close();

    // The server notices on its next write and drops the stream, closing the file.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (!open_files_in(portal_->pid(), tmp_->path).empty() &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(open_files_in(portal_->pid(), tmp_->path).empty()) << "the workbook is still open";
    EXPECT_EQ(entries_in(tmp_->path), 0u);
    EXPECT_EQ(http_get(portal_->port(), "/healthz").status, 200);
    EXPECT_EQ(gary.get("/api/v1/inventory?per_page=1").status, 200) << "the portal serves on";
}

TEST_F(exports, a_finished_download_leaves_nothing_open) {
    auto nina = signed_in("nina@northwind.example");
    auto r = nina.get("/inventory/export.xlsx");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("PK", 0), 0u);
    // The last chunk is written before the stream is dropped: allow the server that moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!open_files_in(portal_->pid(), tmp_->path).empty() &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(open_files_in(portal_->pid(), tmp_->path).empty());
    EXPECT_EQ(entries_in(tmp_->path), 0u);
}

TEST_F(exports, a_second_workbook_while_one_is_being_built_is_asked_to_retry) {
    // Building a workbook takes a core for a while; with THREADS=1 only one is built at a time, so
    // that workers stay free for everyone else. The builder's file in TMPDIR shows when it runs.
    auto gary = signed_in("gary@globex.example");
    auto nina = signed_in("nina@northwind.example");
    ASSERT_EQ(gary.get("/api/v1/inventory?per_page=1").status, 200);  // the snapshot is cached
    auto first = std::async(std::launch::async, [&] { return gary.get("/inventory/export.xlsx"); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (entries_in(tmp_->path) == 0 && std::chrono::steady_clock::now() < deadline &&
           first.wait_for(std::chrono::milliseconds(1)) == std::future_status::timeout) {
    }
    // Our file, and at times libxlsxwriter's own temporary file for a worksheet beside it.
    ASSERT_GE(entries_in(tmp_->path), 1u) << "the first workbook is being built";
    auto second = nina.get("/inventory/export.xlsx?status=Available");
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(second.header("retry-after"), "5");
    EXPECT_NE(second.body.find("try again"), std::string::npos);
    EXPECT_EQ(nina.get("/inventory/export.csv?status=Available").status, 200)
        << "CSV is not held up";
    EXPECT_EQ(nina.get("/api/v1/inventory").status, 200) << "nor is the grid";
    auto done = first.get();
    EXPECT_EQ(done.status, 200);
    EXPECT_EQ(done.body.rfind("PK", 0), 0u);
    EXPECT_EQ(nina.get("/inventory/export.xlsx?status=Available").status, 200)
        << "the slot is free again";
}

// No snapshot and no ERP: a clear 503, not an empty file.
TEST(exports_without_erp, a_down_erp_with_nothing_cached_is_503) {
    temp_dir tmp;
    const std::string queries = std::string(PORTAL_SOURCE_DIR) + "/queries/";
    portal_process p(env_map{{"TMPDIR", tmp.path},
                             {"ERP_DB_DRIVER", "sqlite"},
                             {"ERP_DB_NAME", tmp.path + "/no-such-erp.db"},
                             {"ERP_DB_TIMEOUT", "2"},
                             {"ERP_INVENTORY_QUERY_FILE", queries + "portable_inventory.sql"},
                             {"ERP_CUSTOMERS_QUERY_FILE", queries + "portable_customers.sql"}});
    {
        auto db = local_store(p.cwd() + "/portal.db");
        store::new_customer c{
            "Alice", "Acme", "alice@acme.example", auth::hash_password(demo_password), "Acme Foods",
            true,    false};
        store::customers_repository(db).create(c, std::chrono::system_clock::now());
    }
    web_client alice(p.port());
    ASSERT_EQ(alice.login("alice@acme.example", demo_password).status, 303);
    for (const std::string format : {"csv", "xlsx"}) {
        auto r = alice.get("/inventory/export." + format);
        EXPECT_EQ(r.status, 503) << format;
        EXPECT_NE(r.body.find("not answering"), std::string::npos) << r.body.substr(0, 300);
        EXPECT_EQ(r.header("content-disposition"), "");
        EXPECT_EQ(r.body.find("no-such-erp"), std::string::npos) << "no connection details leak";
    }
    EXPECT_EQ(entries_in(tmp.path), 0u);
}
