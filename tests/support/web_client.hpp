// A cookie-keeping client for integration tests, with helpers to read CSRF tokens and sign in.
#pragma once

#include "support/portal_process.hpp"

#include <map>
#include <string>

namespace portal::testing {

class web_client {
public:
    explicit web_client(int port) : port_(port) {}

    http_result get(const std::string& target, env_map headers = {});
    // POSTs form fields (encoded here). Adds no CSRF token by itself.
    http_result post(const std::string& target, const std::vector<std::pair<std::string, std::string>>& fields,
                     env_map headers = {});

    // GETs `page` and returns the csrf_token of its first form (the pre-session cookie is kept).
    std::string csrf_from(const std::string& page);

    // Signs in through /login; returns the POST's response.
    http_result login(const std::string& email, const std::string& password, const std::string& next = {});

    // Signs in through /admin-login; returns the POST's response.
    http_result admin_login(const std::string& username, const std::string& password, const std::string& next = {});
    // The CSRF token of a signed-in admin's forms (read from the dashboard's sign-out form).
    std::string admin_csrf();

    std::map<std::string, std::string>& cookies() { return cookies_; }
    std::string cookie(const std::string& name) const;

private:
    void remember(const http_result& r);
    env_map with_cookies(env_map headers) const;
    int port_;
    std::map<std::string, std::string> cookies_;
};

// The value of `name="csrf_token" value="…"` in a page, or "".
std::string find_csrf(const std::string& html);

}  // namespace portal::testing
