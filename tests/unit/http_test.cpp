#include "http/client_address.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"
#include "http/security_headers.hpp"
#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace portal::http;

namespace {
response ok_handler(request_context&) { return text_response(status::ok, "ok", "text/plain"); }
}  // namespace

TEST(router, matches_method_path_and_parameters) {
    router r;
    r.add(verb::get, "/admin/customers", access::admin, ok_handler);
    r.add(verb::get, "/admin/customers/{id}", access::admin, ok_handler);
    r.add(verb::post, "/admin/customers/{id}/activate", access::admin, ok_handler);
    r.add(verb::get, "/reset-password/{token}", access::anyone, ok_handler);

    auto m = r.match(verb::get, "/admin/customers/42");
    ASSERT_NE(m.found, nullptr);
    EXPECT_EQ(m.found->pattern, "/admin/customers/{id}");
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].second, "42");

    EXPECT_EQ(r.match(verb::get, "/admin/customers").found->pattern, "/admin/customers");
    EXPECT_NE(r.match(verb::head, "/admin/customers").found, nullptr);

    auto wrong_method = r.match(verb::get, "/admin/customers/42/activate");
    EXPECT_EQ(wrong_method.found, nullptr);
    EXPECT_TRUE(wrong_method.path_exists);

    EXPECT_EQ(r.match(verb::get, "/admin/customers/").found, nullptr);  // empty parameter
    EXPECT_EQ(r.match(verb::get, "/admin").found, nullptr);
    EXPECT_EQ(r.match(verb::get, "/admin/customers/42/extra").found, nullptr);
    EXPECT_EQ(r.match(verb::get, "admin/customers").found, nullptr);
    EXPECT_FALSE(r.match(verb::get, "/nothing").path_exists);
}

TEST(forms, decodes_urlencoded_bodies) {
    auto p = parse_form("email=a%40b.com&password=p+w%2Bx&erp_customer_name=A&erp_customer_name=B%20C&empty=");
    EXPECT_EQ(find_param(p, "email"), "a@b.com");
    EXPECT_EQ(find_param(p, "password"), "p w+x");
    EXPECT_EQ(find_all(p, "erp_customer_name"), (std::vector<std::string>{"A", "B C"}));
    EXPECT_EQ(find_param(p, "empty"), "");
    EXPECT_EQ(find_param(p, "missing"), std::nullopt);
    EXPECT_TRUE(parse_form("").empty());
    EXPECT_THROW(parse_form("a=%zz"), http_error);
}

TEST(cookies, finds_values_across_headers) {
    request req;
    req.insert(bhttp::field::cookie, "theme=dark; portal_session=abc123 ");
    req.insert(bhttp::field::cookie, "other=\"quoted\"");
    EXPECT_EQ(find_cookie(req, "portal_session"), "abc123");
    EXPECT_EQ(find_cookie(req, "other"), "quoted");
    EXPECT_EQ(find_cookie(req, "portal"), std::nullopt);
    EXPECT_EQ(find_cookie(req, "missing"), std::nullopt);
}

TEST(cookies, set_cookie_has_the_security_attributes) {
    cookie_options o;
    o.secure = true;
    EXPECT_EQ(make_set_cookie("portal_session", "t", o), "portal_session=t; Path=/; HttpOnly; Secure; SameSite=Lax");
    o.secure = false;
    o.max_age = std::chrono::seconds(0);
    EXPECT_EQ(make_set_cookie("x", "", o), "x=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(static_paths, refuse_traversal_in_any_form) {
    EXPECT_TRUE(is_safe_relative_path("css/app.css"));
    for (auto bad : {"", "/etc/passwd", "../secret", "css/../../x", "./css/app.css", "css//app.css", "..",
                     "css\\..\\x", "a/.."}) {
        EXPECT_FALSE(is_safe_relative_path(bad)) << bad;
    }
    EXPECT_FALSE(is_safe_relative_path(std::string_view("a\0b", 3)));
}

TEST(static_files, serves_only_files_under_the_root_with_etags) {
    namespace fs = std::filesystem;
    const auto root = fs::temp_directory_path() / ("static-test-" + std::to_string(::getpid()));
    fs::create_directories(root / "css");
    std::ofstream(root / "css" / "app.css") << "body{}";
    std::ofstream(root.parent_path() / "outside.txt") << "secret";
    static_files files(root.string());

    request req;
    auto r = files.serve(req, "css/app.css");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "body{}");
    EXPECT_EQ(r->headers[bhttp::field::content_type], "text/css; charset=utf-8");
    const std::string etag(r->headers[bhttp::field::etag]);
    EXPECT_FALSE(etag.empty());

    req.set(bhttp::field::if_none_match, etag);
    auto cached = files.serve(req, "css/app.css");
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->result, status::not_modified);
    EXPECT_TRUE(cached->body.empty());

    EXPECT_FALSE(files.serve(req, "../outside.txt"));
    EXPECT_FALSE(files.serve(req, "css/missing.css"));
    fs::remove_all(root);
}

TEST(mime, common_types) {
    EXPECT_EQ(mime_type("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("a.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type("a.png"), "image/png");
    EXPECT_EQ(mime_type("noext"), "application/octet-stream");
}

TEST(security_headers, are_added_without_overriding_choices) {
    response r;
    apply_security_headers(r, {true});
    EXPECT_NE(r.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string_view::npos);
    EXPECT_EQ(r.headers["Content-Security-Policy"].find("unsafe-inline"), std::string_view::npos);
    EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r.headers["Referrer-Policy"], "same-origin");
    EXPECT_EQ(r.headers[bhttp::field::cache_control], "no-store");
    EXPECT_FALSE(r.headers[bhttp::field::strict_transport_security].empty());

    response own;
    own.set("Referrer-Policy", "no-referrer");
    own.set(bhttp::field::cache_control, "public, max-age=60");
    apply_security_headers(own, {false});
    EXPECT_EQ(own.headers["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(own.headers[bhttp::field::cache_control], "public, max-age=60");
    EXPECT_TRUE(own.headers[bhttp::field::strict_transport_security].empty());
}

TEST(client_address, trusts_forwarding_headers_only_from_trusted_proxies) {
    request req;
    req.set("X-Forwarded-For", "203.0.113.9, 10.0.0.2");
    EXPECT_EQ(client_address(req, "198.51.100.1", {}), "198.51.100.1");
    EXPECT_EQ(client_address(req, "198.51.100.1", {"10.0.0.1"}), "198.51.100.1");
    EXPECT_EQ(client_address(req, "10.0.0.1", {"10.0.0.0/24"}), "203.0.113.9");
    EXPECT_EQ(client_address(req, "10.0.0.1", {"10.0.0.1"}), "10.0.0.2");
    req.set("CF-Connecting-IP", "2001:db8::1");
    EXPECT_EQ(client_address(req, "10.0.0.1", {"10.0.0.1"}), "2001:db8::1");
    request garbage;
    garbage.set("X-Forwarded-For", "not-an-address");
    EXPECT_EQ(client_address(garbage, "10.0.0.1", {"10.0.0.1"}), "10.0.0.1");
}
