// A running portal with a local super-admin, a handle on its SQLite store, and helpers to add
// customers and read the audit log: the base of every admin integration test.
#pragma once

#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"
#include "store/database.hpp"
#include "support/web_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portal::testing {

inline constexpr const char* admin_user = "admin";
inline constexpr const char* admin_password = "staff password 2026";
inline constexpr const char* customer_password = "correct horse battery";

// The Argon2id hash of admin_password (computed once per test program).
const std::string& admin_password_hash();
const std::string& customer_password_hash();

class admin_fixture : public ::testing::Test {
  protected:
    explicit admin_fixture(env_map extra_env = {});

    // A web_client signed in as the local admin (asserts the sign-in worked).
    web_client signed_in_admin();
    // A web_client signed in as a customer added with add_customer().
    web_client signed_in_customer(const std::string& email);

    int add_customer(const std::string& email, const std::string& erp_name = "Acme Foods",
                     bool active = true, const std::string& first_name = "Ada",
                     const std::string& last_name = "Lovelace");

    std::vector<store::audit_entry> audit(const std::string& action = {});
    long long count(const std::string& sql);  // SELECT COUNT(*) … against the store

    static app::database_settings store_settings(const std::string& cwd);

    portal_process portal_;
    store::database db_;
};

}  // namespace portal::testing
