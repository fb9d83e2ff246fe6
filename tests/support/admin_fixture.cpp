#include "support/admin_fixture.hpp"

#include "auth/password_hash.hpp"

namespace portal::testing {

const std::string& admin_password_hash() {
    static const std::string hash = auth::hash_password(admin_password);
    return hash;
}

const std::string& customer_password_hash() {
    static const std::string hash = auth::hash_password(customer_password);
    return hash;
}

namespace {
env_map with_admin(env_map env) {
    env.emplace("ADMIN_USERNAME", admin_user);
    env.emplace("ADMIN_PASSWORD_HASH", admin_password_hash());
    return env;
}
}  // namespace

admin_fixture::admin_fixture(env_map extra_env)
    : portal_(with_admin(std::move(extra_env))), db_(store_settings(portal_.cwd())) {}

app::database_settings admin_fixture::store_settings(const std::string& cwd) {
    app::database_settings s;
    s.driver = "sqlite";
    s.name = cwd + "/portal.db";
    return s;
}

web_client admin_fixture::signed_in_admin() {
    web_client c(portal_.port());
    auto r = c.admin_login(admin_user, admin_password);
    EXPECT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.header("location"), "/admin");
    return c;
}

web_client admin_fixture::signed_in_customer(const std::string& email) {
    web_client c(portal_.port());
    auto r = c.login(email, customer_password);
    EXPECT_EQ(r.status, 303) << r.body;
    return c;
}

int admin_fixture::add_customer(const std::string& email, const std::string& erp_name, bool active,
                                const std::string& first_name, const std::string& last_name) {
    store::new_customer c;
    c.first_name = first_name;
    c.last_name = last_name;
    c.email = email;
    c.password_hash = customer_password_hash();
    c.erp_customer_name = erp_name;
    c.is_active = active;
    auto r = store::customers_repository(db_).create(c, std::chrono::system_clock::now());
    EXPECT_EQ(r.status, store::save_status::saved);
    return r.customer_id;
}

std::vector<store::audit_entry> admin_fixture::audit(const std::string& action) {
    store::audit_filter f;
    f.action_type = action;
    f.per_page = 1000;
    return store::audit_repository(db_).list(f);
}

long long admin_fixture::count(const std::string& sql) {
    long long n = 0;
    db_.with_session([&](soci::session& s) { s << sql, soci::into(n); });
    return n;
}

}  // namespace portal::testing
