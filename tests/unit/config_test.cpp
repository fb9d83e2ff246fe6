#include "app/config.hpp"

#include <gtest/gtest.h>

using portal::app::config_error;
using portal::app::make_config;
using portal::app::parse_dotenv;

TEST(dotenv, reads_the_flask_portal_template_syntax) {
    const auto env = parse_dotenv(R"(# Customer Portal settings

SECRET_KEY=abc123   # change me
DB_SERVER="sql01\SQLEXPRESS"
DB_NAME='CustomerPortalDB'
  export SMTP_PORT = 587
EMAIL_FROM="Portal <portal@example.com>"  # shown to customers
HASH=pbkdf2:sha256:260000$salt$hex
URL=http://x/#anchor
EMPTY=
not a line
QUOTED_HASH="a # b"
)");
    EXPECT_EQ(env.at("SECRET_KEY"), "abc123");
    EXPECT_EQ(env.at("DB_SERVER"), "sql01\\SQLEXPRESS");
    EXPECT_EQ(env.at("DB_NAME"), "CustomerPortalDB");
    EXPECT_EQ(env.at("SMTP_PORT"), "587");
    EXPECT_EQ(env.at("EMAIL_FROM"), "Portal <portal@example.com>");
    EXPECT_EQ(env.at("HASH"), "pbkdf2:sha256:260000$salt$hex");
    EXPECT_EQ(env.at("URL"), "http://x/#anchor");
    EXPECT_EQ(env.at("EMPTY"), "");
    EXPECT_EQ(env.at("QUOTED_HASH"), "a # b");
    EXPECT_EQ(env.count("not a line"), 0u);
}

TEST(config, defaults_when_nothing_is_set) {
    const auto c = make_config({}, {});
    EXPECT_EQ(c.session_hours.count(), 8);
    EXPECT_EQ(c.session_idle.count(), 60);
    EXPECT_EQ(c.store.driver, "sqlite");
    EXPECT_EQ(c.store.name, "data/portal.db");
    EXPECT_EQ(c.erp.timeout_seconds, 30);
    EXPECT_EQ(c.erp_cache.count(), 30);
    EXPECT_EQ(c.app_base_url, "http://localhost:5001");
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.port, 5001);
    EXPECT_GE(c.threads, 1);
    EXPECT_FALSE(c.log_json);
    EXPECT_FALSE(c.secure_cookies());
}

TEST(config, environment_wins_over_dotenv) {
    const auto c = make_config({{"PORT", "6000"}}, {{"PORT", "7000"}, {"HOST", "127.0.0.1"}});
    EXPECT_EQ(c.port, 6000);
    EXPECT_EQ(c.host, "127.0.0.1");
}

TEST(config, bad_values_name_their_key) {
    auto key_of = [](std::map<std::string, std::string> env) {
        try {
            make_config(env, {});
        } catch (const config_error& e) {
            return e.key;
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(key_of({{"PORT", "http"}}), "PORT");
    EXPECT_EQ(key_of({{"PORT", "70000"}}), "PORT");
    EXPECT_EQ(key_of({{"SESSION_HOURS", "-1"}}), "SESSION_HOURS");
    EXPECT_EQ(key_of({{"SMTP_USE_TLS", "maybe"}}), "SMTP_USE_TLS");
    EXPECT_EQ(key_of({{"LOG_FORMAT", "xml"}}), "LOG_FORMAT");
    EXPECT_EQ(key_of({{"APP_BASE_URL", "portal.example.com"}}), "APP_BASE_URL");
    EXPECT_EQ(key_of({{"DB_DRIVER", "postgresql"}, {"DB_NAME", "portal"}}), "DB_SERVER");
    EXPECT_EQ(key_of({{"DB_SERVER", "sql01"}, {"DB_NAME", "CustomerPortalDB"}}), "DB_DRIVER");
    EXPECT_EQ(key_of({{"ADMIN_USERNAME", "admin"}}), "ADMIN_PASSWORD_HASH");
    EXPECT_EQ(key_of({{"AD_SERVER", "ldap://dc1"}}), "AD_BASE_DN");
    EXPECT_EQ(key_of({{"SMTP_SERVER", "mail"}}), "EMAIL_FROM");
    EXPECT_EQ(key_of({{"ERP_DB_TIMEOUT", "0"}}), "ERP_DB_TIMEOUT");
}

TEST(config, odbc_driver_names_and_flags) {
    const auto c = make_config({{"DB_DRIVER", "{ODBC Driver 17 for SQL Server}"},
                                {"DB_SERVER", "sql01"},
                                {"DB_NAME", "CustomerPortalDB"},
                                {"DB_USE_WINDOWS_AUTH", "True"},
                                {"APP_BASE_URL", "https://portal.example.com/"},
                                {"TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16"}},
                               {});
    EXPECT_EQ(c.store.driver, "ODBC Driver 17 for SQL Server");
    EXPECT_TRUE(c.store.is_odbc());
    EXPECT_TRUE(c.store.windows_auth);
    EXPECT_EQ(c.app_base_url, "https://portal.example.com");
    EXPECT_TRUE(c.secure_cookies());
    ASSERT_EQ(c.trusted_proxies.size(), 2u);
    EXPECT_EQ(c.trusted_proxies[1], "192.168.0.0/16");
}

TEST(config, server_secret_must_be_long_enough) {
    auto c = make_config({}, {});
    EXPECT_THROW(portal::app::require_server_secret(c), config_error);
    c.secret_key = std::string(31, 'x');
    EXPECT_THROW(portal::app::require_server_secret(c), config_error);
    c.secret_key = std::string(32, 'x');
    EXPECT_NO_THROW(portal::app::require_server_secret(c));
}
