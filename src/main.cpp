// customer-portal: parse the command line, load the configuration, run one command.
#include "app/application.hpp"
#include "app/config.hpp"
#include "app/demo.hpp"
#include "app/logging.hpp"
#include "erp/snapshot_cache.hpp"
#include "auth/ldap_directory.hpp"
#include "auth/password_hash.hpp"
#include "erp/erp_source.hpp"
#include "mail/message.hpp"
#include "mail/smtp_client.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include <termios.h>
#include <unistd.h>

using namespace portal;

namespace {

constexpr int exit_usage = 2;

int serve(app::config cfg) {
    app::require_server_secret(cfg);
    app::setup_logging(cfg);
    const auto started = std::chrono::steady_clock::now();
    app::application application(cfg);
    application.svc().snapshots.probe_in_background();
    http::server_options options;
    options.host = cfg.host;
    options.port = static_cast<unsigned short>(cfg.port);
    options.io_threads = cfg.threads;
    // General-lane handlers may wait on the store or the ERP, so that pool is larger than the core
    // count; the quick lane has one thread per core (http::lane).
    options.worker_threads = std::max(8, cfg.threads * 4);
    options.quick_threads = cfg.threads;
    http::server server(
        options, [&](const http::request& req, const http::connection_info& c) { return application.handle(req, c); },
        [&](http::status code, const http::connection_info& c) { return application.handle_unreadable(code, c); },
        [&](const http::request& req) { return application.is_quick(req); });
    server.run([&](unsigned short port) {
        const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        spdlog::info("Customer Portal {} listening on http://{}:{} (ready in {:.0f} ms)", PORTAL_VERSION, cfg.host,
                     port, ms);
    });
    spdlog::info("stopped");
    return 0;
}

// Reads one line from stdin; on a terminal without echo.
std::string read_secret(const char* prompt) {
    const bool tty = isatty(STDIN_FILENO);
    termios saved{};
    if (tty) {
        std::cerr << prompt << std::flush;
        tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

int hash_password_command() {
    const std::string password = read_secret("Password: ");
    if (password.empty()) {
        std::cerr << "hash-password: no password given\n";
        return exit_usage;
    }
    if (isatty(STDIN_FILENO) && read_secret("Repeat: ") != password) {
        std::cerr << "hash-password: the two entries differ\n";
        return exit_usage;
    }
    std::cout << auth::hash_password(password) << "\n";
    return 0;
}

// check-config: one line per dependency; exit 1 when one that is configured cannot be reached.
int check_config(const app::config& cfg) {
    if (cfg.smtp.configured() && !mail::parse_address(cfg.smtp.from))
        throw app::config_error("EMAIL_FROM", "is not an email address: '" + cfg.smtp.from + "'");
    bool all_ok = true;
    const auto line = [&](const std::string& what, bool ok, const std::string& text) {
        std::cout << what << ": " << (ok ? "" : "FAILED: ") << text << std::endl;
        all_ok = all_ok && ok;
    };
    try {
        store::database db(cfg.store, 1);
        if (!db.ping()) throw std::runtime_error("does not answer (" + db.description() + ")");
        const int version = store::schema_version(db), latest = store::latest_schema_version();
        line("local store", true,
             "ok, " + db.description() + ", schema version " + std::to_string(version) +
                 (version < latest ? " (serve or migrate brings it to " + std::to_string(latest) + ")" : ""));
    } catch (const std::exception& e) {
        line("local store", false, e.what());
    }
    try {
        auto erp = erp::make_erp_source(cfg);
        erp->probe();
        line("ERP", true, "ok, " + erp->description());
    } catch (const std::exception& e) {
        line("ERP", false, e.what());
    }
    if (!cfg.smtp.configured()) {
        line("SMTP", true, "not configured (SMTP_SERVER): no email is sent; admins are shown set-password links");
    } else {
        const auto outcome = mail::smtp_check(cfg.smtp);
        line("SMTP", outcome.ok, (outcome.ok ? "ok, " : "") + mail::smtp_description(cfg.smtp) +
                                     (outcome.ok ? "" : ": " + outcome.error));
    }
    const auto directory = auth::check_directory(cfg);  // binds as AD_SERVICE_ACCOUNT
    line("LDAP", directory.ok, directory.line);
    // No built-in default admin: without either kind, /admin-login is closed (not a failure).
    const bool local_admin = !cfg.admin_username.empty() && !cfg.admin_password_hash.empty();
    line("admin sign-in", true,
         local_admin ? "local super-admin '" + cfg.admin_username + "'" +
                           (cfg.ldap.configured() ? ", and members of AD_PORTAL_ADMIN_GROUP" : "")
         : cfg.ldap.configured() ? "members of AD_PORTAL_ADMIN_GROUP only (no ADMIN_USERNAME / ADMIN_PASSWORD_HASH)"
                                 : "closed: set ADMIN_USERNAME and ADMIN_PASSWORD_HASH (or AD_SERVER) to open /admin-login");
    return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    store::configure_sqlite_process();
    CLI::App cli{"Customer Portal: each customer sees its own live ERP stock.", "customer-portal"};
    cli.set_version_flag("--version", std::string("customer-portal ") + PORTAL_VERSION);
    std::optional<std::string> env_file;
    cli.add_option("--env-file", env_file, "read configuration from this file instead of ./.env");
    cli.require_subcommand(1);
    auto* serve_cmd = cli.add_subcommand("serve", "run the server (creates or migrates the tables first)");
    auto* demo_cmd = cli.add_subcommand("demo", "build a demo ERP and sample accounts, print the logins, serve them");
    auto* hash_cmd = cli.add_subcommand("hash-password", "read a password and print a hash for ADMIN_PASSWORD_HASH");
    auto* migrate_cmd = cli.add_subcommand("migrate", "create or migrate the local store's tables");
    auto* check_cmd = cli.add_subcommand("check-config", "validate the configuration and reach each dependency");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = cli.exit(e);
        return code == 0 ? 0 : exit_usage;
    }

    try {
        if (*hash_cmd) return hash_password_command();
        auto cfg = app::load_config(env_file);
        if (*demo_cmd) {
            auto logins = app::prepare_demo(cfg);
            std::cout << "Customer Portal demo: http://localhost:" << cfg.port << "/\n\nSign in with:\n";
            for (const auto& l : logins)
                std::cout << "  " << l.login << std::string(26 - std::min<std::size_t>(25, l.login.size()), ' ')
                          << l.password << "   " << l.who << "\n";
            std::cout << "  (administrators sign in at /admin-login)\n" << std::endl;
            return serve(std::move(cfg));
        }
        if (*serve_cmd) return serve(std::move(cfg));
        if (*migrate_cmd) {
            app::setup_logging(cfg);
            store::database db(cfg.store);
            store::migrate(db);
            std::cout << "local store at schema version " << store::schema_version(db) << "\n";
            return 0;
        }
        if (*check_cmd) return check_config(cfg);
    } catch (const app::config_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
