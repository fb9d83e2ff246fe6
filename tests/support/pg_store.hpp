// The portal's local store on a real PostgreSQL: a fresh database and login role in a test
// cluster, with the DB_* settings that point a portal (or the test itself) at it.
#pragma once

#include "app/config.hpp"
#include "support/pg_cluster.hpp"
#include "support/portal_process.hpp"

#include <string>

namespace portal::testing {

struct pg_store {
    // Creates role and database `name` (letters, digits and _ only) owned by that role, which
    // signs in over TCP with a password, as a site's portal would.
    pg_store(const test::pg_cluster& cluster, std::string name);

    // DB_DRIVER=postgresql, DB_SERVER, DB_PORT, DB_NAME, DB_USERNAME, DB_PASSWORD.
    env_map portal_env() const;
    // The same store for the test's own reads and writes.
    app::database_settings settings() const;

    std::string host;
    int port = 0;
    std::string name;
    std::string user;
    std::string password;
};

// A database name not used before in this test program.
std::string unique_store_name(const std::string& prefix);

}  // namespace portal::testing
