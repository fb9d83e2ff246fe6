// The real binary over real sockets: headers, errors, limits, timeouts, shutdown, configuration.
#include "support/portal_process.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>

using namespace portal::testing;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

portal_process& shared_portal() {
    static portal_process p;
    return p;
}

void expect_security_headers(const http_result& r) {
    EXPECT_NE(r.header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_NE(r.header("content-security-policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r.header("referrer-policy"), "same-origin");
    EXPECT_FALSE(r.header("x-request-id").empty());
}

std::string raw_exchange(int port, const std::string& data, std::chrono::seconds wait) {
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    net::write(s, net::buffer(data));
    std::string out;
    boost::system::error_code ec;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    s.non_blocking(true);
    while (std::chrono::steady_clock::now() < deadline) {
        auto n = s.read_some(net::buffer(buf), ec);
        if (ec == net::error::would_block) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        if (ec) break;
        out.append(buf, n);
    }
    return out;
}

}  // namespace

TEST(server, pages_carry_security_headers) {
    auto r = http_get(shared_portal().port(), "/login");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
    EXPECT_EQ(r.header("cache-control"), "no-store");
    expect_security_headers(r);
}

TEST(server, front_door_redirects_to_sign_in) {
    auto r = http_get(shared_portal().port(), "/");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/login");
}

TEST(server, unknown_page_is_a_styled_404) {
    auto r = http_get(shared_portal().port(), "/no-such-page");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("Page not found"), std::string::npos);
    EXPECT_NE(r.body.find("/static/css/app.css"), std::string::npos);
    expect_security_headers(r);
}

TEST(server, api_errors_are_json) {
    auto r = http_get(shared_portal().port(), "/api/v1/nothing");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    EXPECT_EQ(r.body.rfind("{\"error\":", 0), 0u);
}

TEST(server, wrong_method_is_405) {
    auto r = http_request(shared_portal().port(), "DELETE", "/healthz");
    EXPECT_EQ(r.status, 405);
}

TEST(server, static_files_have_etags_and_types) {
    const int port = shared_portal().port();
    auto r = http_get(port, "/static/css/app.css");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/css; charset=utf-8");
    EXPECT_NE(r.header("cache-control").find("max-age"), std::string::npos);
    const auto etag = r.header("etag");
    ASSERT_FALSE(etag.empty());
    auto again = http_get(port, "/static/css/app.css", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    expect_security_headers(r);
}

TEST(server, static_paths_cannot_escape_the_folder) {
    const int port = shared_portal().port();
    for (const char* target : {"/static/../CMakeLists.txt", "/static/%2e%2e/CMakeLists.txt",
                               "/static/%2E%2E/%2E%2E/etc/passwd", "/static/css/..%2f..%2fCMakeLists.txt",
                               "/static/..%5c..%5cCMakeLists.txt", "/static/%252e%252e/CMakeLists.txt",
                               "/static//etc/passwd", "/static/css/app.css%00.png"}) {
        auto r = http_get(port, target);
        EXPECT_TRUE(r.status == 404 || r.status == 400) << target << " gave " << r.status;
        EXPECT_EQ(r.body.find("cmake_minimum_required"), std::string::npos) << target;
        EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
    }
}

TEST(server, health_readiness_and_metrics) {
    const int port = shared_portal().port();
    auto h = http_get(port, "/healthz");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.body, R"({"status":"ok"})");
    // No ERP is configured here (the default ODBC driver is not installed): not ready, and it says why.
    auto ready = http_get(port, "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.body.find("\"store\":true"), std::string::npos);
    EXPECT_NE(ready.body.find("\"erp\":false"), std::string::npos);
    auto m = http_get(port, "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("portal_http_requests_total{route=\"/healthz\",status=\"200\"}"), std::string::npos);
    EXPECT_NE(m.body.find("portal_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST(server, keep_alive_serves_several_requests_on_one_connection) {
    const auto out = raw_exchange(shared_portal().port(),
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n",
                                  std::chrono::seconds(3));
    std::size_t count = 0;
    for (auto pos = out.find("HTTP/1.1 200"); pos != std::string::npos; pos = out.find("HTTP/1.1 200", pos + 1))
        ++count;
    EXPECT_EQ(count, 2u) << out;
}

TEST(server, body_over_the_limit_is_413) {
    const std::string big(2 * 1024 * 1024, 'a');
    try {
        auto r = http_post_form(shared_portal().port(), "/login", "x=" + big);
        EXPECT_EQ(r.status, 413);
    } catch (const std::exception& e) {
        // The server may close before the client finished sending; the status line must still have come.
        ADD_FAILURE() << "no 413 answer: " << e.what();
    }
}

TEST(server, malformed_request_is_400) {
    const auto out = raw_exchange(shared_portal().port(), "GET / HTTP/1.1\r\nHost x\r\nBad Header\r\n\r\n",
                                  std::chrono::seconds(2));
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
}

TEST(server, slow_header_client_is_cut_off) {
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(shared_portal().port())));
    net::write(s, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));  // never finishes
    const auto start = std::chrono::steady_clock::now();
    char buf[256];
    boost::system::error_code ec;
    s.read_some(net::buffer(buf), ec);  // blocks until the server gives up on us
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
    EXPECT_LT(waited, std::chrono::seconds(15));
}

TEST(server, sigterm_finishes_the_request_in_flight_and_exits_zero) {
    portal_process p;
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(p.port())));
    // Headers arrive, the body is still on its way when the signal lands.
    net::write(s, net::buffer(std::string("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                                          "Content-Type: text/plain\r\n\r\n12345")));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server read the headers
    ::kill(p.pid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    net::write(s, net::buffer(std::string("67890")));
    std::string response;
    boost::system::error_code ec;
    char buf[4096];
    while (!ec) {
        auto n = s.read_some(net::buffer(buf), ec);
        response.append(buf, n);
    }
    EXPECT_EQ(response.rfind("HTTP/1.1 405", 0), 0u) << response;
    EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
    EXPECT_EQ(p.terminate(), 0) << p.output();
    // No new connection is accepted once it has stopped.
    EXPECT_THROW(http_get(p.port(), "/healthz"), std::exception);
}

TEST(server, request_log_has_one_json_line_per_request) {
    portal_process p(env_map{{"LOG_FORMAT", "json"}});
    http_get(p.port(), "/login?next=%2Finventory");
    p.terminate();
    const auto out = p.output();
    const auto pos = out.find("\"path\":\"/login\"");
    ASSERT_NE(pos, std::string::npos) << out;
    const auto line_start = out.rfind('\n', pos) + 1;
    const auto line = out.substr(line_start, out.find('\n', pos) - line_start);
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    for (const char* field : {"\"method\":\"GET\"", "\"status\":200", "\"bytes\":", "\"ms\":", "\"request_id\":",
                              "\"user\":", "\"client\":\"127.0.0.1\""})
        EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
}

TEST(command_line, bad_configuration_exits_2_naming_the_key) {
    temp_dir dir;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"PORT", "eighty"}, {"SESSION_HOURS", "0"}, {"LOG_FORMAT", "yaml"}, {"SECRET_KEY", "short"}}) {
        env_map env{{"SECRET_KEY", test_secret_key()}, {"DB_NAME", dir.path + "/p.db"}};
        env[key] = value;
        auto r = run_portal({"serve"}, env, dir.path);
        EXPECT_EQ(r.exit_code, 2) << key << ": " << r.output;
        EXPECT_NE(r.output.find(key), std::string::npos) << r.output;
        EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    }
}

TEST(command_line, env_file_is_read_and_environment_wins) {
    temp_dir dir;
    {
        std::ofstream env(dir.path + "/custom.env");
        env << "# test\nPORT=notaport   # broken on purpose\n";
    }
    auto broken = run_portal({"--env-file", dir.path + "/custom.env", "serve"},
                             {{"SECRET_KEY", test_secret_key()}}, dir.path);
    EXPECT_EQ(broken.exit_code, 2);
    EXPECT_NE(broken.output.find("PORT"), std::string::npos);
    auto missing = run_portal({"--env-file", dir.path + "/nope.env", "migrate"}, {}, dir.path);
    EXPECT_EQ(missing.exit_code, 2);
    auto migrated = run_portal({"--env-file", dir.path + "/custom.env", "migrate"},
                               {{"PORT", "5001"}, {"DB_NAME", dir.path + "/m.db"}}, dir.path);
    EXPECT_EQ(migrated.exit_code, 0) << migrated.output;
}

TEST(command_line, help_and_version) {
    temp_dir dir;
    auto v = run_portal({"--version"}, {}, dir.path);
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_NE(v.output.find("customer-portal 0."), std::string::npos);
    auto h = run_portal({"--help"}, {}, dir.path);
    EXPECT_EQ(h.exit_code, 0);
    for (const char* cmd : {"serve", "demo", "hash-password", "migrate", "check-config"})
        EXPECT_NE(h.output.find(cmd), std::string::npos) << cmd;
    auto none = run_portal({}, {}, dir.path);
    EXPECT_EQ(none.exit_code, 2);
    auto unknown = run_portal({"frobnicate"}, {}, dir.path);
    EXPECT_EQ(unknown.exit_code, 2);
}
