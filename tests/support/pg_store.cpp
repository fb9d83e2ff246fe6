#include "support/pg_store.hpp"

#include <unistd.h>

#include <atomic>

namespace portal::testing {

pg_store::pg_store(const test::pg_cluster& cluster, std::string db_name)
    : host(cluster.host()),
      port(cluster.port()),
      name(std::move(db_name)),
      user(name),
      password("store-password-" + name) {
    cluster.execute("CREATE ROLE " + user + " LOGIN PASSWORD '" + password + "'");
    cluster.execute("CREATE DATABASE " + name + " OWNER " + user);
}

env_map pg_store::portal_env() const {
    return {{"DB_DRIVER", "postgresql"}, {"DB_SERVER", host},   {"DB_PORT", std::to_string(port)},
            {"DB_NAME", name},           {"DB_USERNAME", user}, {"DB_PASSWORD", password}};
}

app::database_settings pg_store::settings() const {
    app::database_settings s;
    s.driver = "postgresql";
    s.server = host;
    s.port = port;
    s.name = name;
    s.username = user;
    s.password = password;
    s.timeout_seconds = 10;
    return s;
}

std::string unique_store_name(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

}  // namespace portal::testing
