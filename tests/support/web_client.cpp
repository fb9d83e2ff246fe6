#include "support/web_client.hpp"

namespace portal::testing {

std::string find_csrf(const std::string& html) {
    const std::string marker = "name=\"csrf_token\" value=\"";
    const auto pos = html.find(marker);
    if (pos == std::string::npos) return {};
    const auto start = pos + marker.size();
    return html.substr(start, html.find('"', start) - start);
}

void web_client::remember(const http_result& r) {
    for (const auto& c : r.all("set-cookie")) {
        const auto eq = c.find('=');
        const auto semi = c.find(';');
        const auto name = c.substr(0, eq);
        const auto value = c.substr(eq + 1, semi - eq - 1);
        if (c.find("Max-Age=0") != std::string::npos) cookies_.erase(name);
        else cookies_[name] = value;
    }
}

env_map web_client::with_cookies(env_map headers) const {
    std::string jar;
    for (const auto& [k, v] : cookies_) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) headers.emplace("Cookie", jar);
    return headers;
}

http_result web_client::get(const std::string& target, env_map headers) {
    auto r = http_get(port_, target, with_cookies(std::move(headers)));
    remember(r);
    return r;
}

http_result web_client::post(const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& fields, env_map headers) {
    std::string body;
    for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    auto r = http_post_form(port_, target, body, with_cookies(std::move(headers)));
    remember(r);
    return r;
}

std::string web_client::csrf_from(const std::string& page) { return find_csrf(get(page).body); }

http_result web_client::login(const std::string& email, const std::string& password, const std::string& next) {
    // A browser that is already signed in is sent on from /login; any public form page carries the
    // same pre-session token.
    auto token = csrf_from("/login");
    if (token.empty()) token = csrf_from("/admin-login");
    return post("/login", {{"csrf_token", token}, {"email", email}, {"password", password}, {"hp_email", ""},
                           {"next", next}});
}

http_result web_client::admin_login(const std::string& username, const std::string& password,
                                    const std::string& next) {
    auto token = csrf_from("/admin-login");
    if (token.empty()) token = csrf_from("/login");
    return post("/admin-login", {{"csrf_token", token}, {"username", username}, {"password", password},
                                 {"hp_email", ""}, {"next", next}});
}

std::string web_client::admin_csrf() {
    auto page = get("/admin");
    return find_csrf(page.body);
}

std::string web_client::cookie(const std::string& name) const {
    auto it = cookies_.find(name);
    return it == cookies_.end() ? std::string() : it->second;
}

}  // namespace portal::testing
