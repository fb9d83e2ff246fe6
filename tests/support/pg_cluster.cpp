#include "support/pg_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>

namespace portal::test {
namespace {

namespace fs = std::filesystem;

struct command_result {
    int status = -1;
    std::string output;  // stdout and stderr together
};

// fork/exec rather than system(): no shell, so paths and SQL need no quoting.
command_result run(const std::vector<std::string>& argv) {
    char out_template[] = "/tmp/pg_cluster_out.XXXXXX";
    int out_fd = ::mkstemp(out_template);
    if (out_fd < 0) throw std::runtime_error("pg_cluster: mkstemp failed");
    ::unlink(out_template);

    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out_fd);
        throw std::runtime_error("pg_cluster: fork failed");
    }
    if (pid == 0) {
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(out_fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::string message = "exec " + argv[0] + " failed: " + std::strerror(errno) + "\n";
        (void)!::write(2, message.data(), message.size());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    command_result result;
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ::lseek(out_fd, 0, SEEK_SET);
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(out_fd, buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
    ::close(out_fd);
    return result;
}

std::string find_bin_dir() {
    if (const char* env = std::getenv("PG_BIN_DIR"); env && *env) return env;
    std::vector<fs::path> candidates;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
        if (fs::exists(entry.path() / "bin" / "initdb")) candidates.push_back(entry.path() / "bin");
    if (candidates.empty())
        throw std::runtime_error(
            "pg_cluster: no PostgreSQL server found under /usr/lib/postgresql (set PG_BIN_DIR)");
    // The newest major version: directory names are version numbers.
    std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
        return std::atoi(a.parent_path().filename().c_str()) <
               std::atoi(b.parent_path().filename().c_str());
    });
    return candidates.back().string();
}

// The kernel picks a free port; the server binds it a moment later (a small race, retried).
int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("pg_cluster: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
        ::close(fd);
        throw std::runtime_error("pg_cluster: could not find a free port");
    }
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string random_password() {
    std::random_device rd;
    const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string s;
    for (int i = 0; i < 24; ++i) s += alphabet[rd() % (sizeof alphabet - 1)];
    return s;
}

// libpq conninfo quoting: single quotes, with \ and ' escaped by a backslash.
std::string conninfo_value(const std::string& v) {
    std::string s = "'";
    for (char c : v) {
        if (c == '\\' || c == '\'') s += '\\';
        s += c;
    }
    return s + "'";
}

}  // namespace

pg_cluster::pg_cluster() : bin_dir_(find_bin_dir()), superuser_password_(random_password()) {
    as_root_ = ::geteuid() == 0;
    char dir_template[] = "/tmp/pg_cluster.XXXXXX";
    if (!::mkdtemp(dir_template)) throw std::runtime_error("pg_cluster: mkdtemp failed");
    dir_ = dir_template;
    data_dir_ = dir_ + "/data";
    log_file_ = dir_ + "/server.log";
    try {
        start();
    } catch (...) {
        stop();
        throw;
    }
}

pg_cluster::~pg_cluster() { stop(); }

std::vector<std::string> pg_cluster::as_server_user(std::vector<std::string> argv) const {
    if (!as_root_) return argv;
    std::vector<std::string> wrapped{"runuser", "-u", "postgres", "--"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

void pg_cluster::start() {
    if (as_root_) {
        passwd* pw = ::getpwnam("postgres");
        if (!pw)
            throw std::runtime_error(
                "pg_cluster: running as root but there is no `postgres` user to run the server");
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("pg_cluster: chown of " + dir_ + " failed");
    }
    ::chmod(dir_.c_str(), 0700);

    // The superuser's password goes in a file so it never appears on a command line.
    const std::string pwfile = dir_ + "/pwfile";
    {
        std::ofstream out(pwfile);
        out << superuser_password_ << "\n";
    }
    if (as_root_) {
        passwd* pw = ::getpwnam("postgres");
        (void)!::chown(pwfile.c_str(), pw->pw_uid, pw->pw_gid);
    }

    auto init = run(as_server_user({bin_dir_ + "/initdb", "-D", data_dir_, "-U", superuser_,
                                    "--pwfile=" + pwfile, "-E", "UTF8", "--no-locale",
                                    "--no-sync", "--auth-local=trust",
                                    "--auth-host=scram-sha-256"}));
    std::filesystem::remove(pwfile);
    if (init.status != 0)
        throw std::runtime_error("pg_cluster: initdb failed (exit " + std::to_string(init.status) +
                                 "):\n" + init.output);

    std::string last_failure;
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        auto started = run(as_server_user({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", log_file_,
                                           "-o", server_options(), "-w", "-t", "60", "start"}));
        if (started.status == 0) {
            running_ = true;
            return;
        }
        last_failure = "pg_ctl start failed (exit " + std::to_string(started.status) + "):\n" +
                       started.output + "\nserver log:\n" + log();
        // Someone took the port between our probe and the server's bind: try another.
        if (log().find("could not bind") == std::string::npos) break;
    }
    throw std::runtime_error("pg_cluster: " + last_failure);
}

std::string pg_cluster::server_options() const {
    return "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
           " -c unix_socket_directories=" + dir_ +
           " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
           " -c max_connections=50 -c shared_buffers=32MB";
}

void pg_cluster::stop_server() {
    if (!running_) return;
    auto stopped = run(as_server_user(
        {bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "60", "stop"}));
    if (stopped.status != 0)
        throw std::runtime_error("pg_cluster: pg_ctl stop failed (exit " +
                                 std::to_string(stopped.status) + "):\n" + stopped.output +
                                 "\nserver log:\n" + log());
    running_ = false;
}

void pg_cluster::start_server() {
    if (running_) return;
    // The same port as before: clients configured with it must find the server again.
    auto started = run(as_server_user({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", log_file_,
                                       "-o", server_options(), "-w", "-t", "60", "start"}));
    if (started.status != 0)
        throw std::runtime_error("pg_cluster: pg_ctl start failed (exit " +
                                 std::to_string(started.status) + "):\n" + started.output +
                                 "\nserver log:\n" + log());
    running_ = true;
}

void pg_cluster::stop() noexcept {
    try {
        if (running_) {
            run(as_server_user({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "immediate", "-w",
                                "-t", "30", "stop"}));
            running_ = false;
        }
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    } catch (...) {
        // A destructor must not throw; a leftover temp directory is the worst outcome.
    }
}

std::string pg_cluster::log() const { return read_file(log_file_); }

std::string pg_cluster::connection_string(const std::string& database) const {
    return connection_string(database, superuser_, superuser_password_);
}

std::string pg_cluster::connection_string(const std::string& database, const std::string& user,
                                          const std::string& password) const {
    return "host=" + host_ + " port=" + std::to_string(port_) + " dbname=" +
           conninfo_value(database) + " user=" + conninfo_value(user) +
           " password=" + conninfo_value(password) + " connect_timeout=10";
}

void pg_cluster::execute(const std::string& sql, const std::string& database) const {
    std::vector<std::string> argv{bin_dir_ + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                  "-h", dir_, "-p", std::to_string(port_), "-U", superuser_,
                                  "-d", database, "-c", sql};
    auto r = run(argv);
    if (r.status != 0)
        throw std::runtime_error("pg_cluster: psql failed (exit " + std::to_string(r.status) +
                                 ") running: " + sql + "\n" + r.output);
}

void pg_cluster::execute_file(const std::string& path, const std::string& database) const {
    std::vector<std::string> argv{bin_dir_ + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                  "-h", dir_, "-p", std::to_string(port_), "-U", superuser_,
                                  "-d", database, "-f", path};
    auto r = run(argv);
    if (r.status != 0)
        throw std::runtime_error("pg_cluster: psql -f " + path + " failed (exit " +
                                 std::to_string(r.status) + "):\n" + r.output);
}

void pg_cluster::create_database(const std::string& name) const {
    std::string quoted = "\"";
    for (char c : name) quoted += (c == '"') ? std::string("\"\"") : std::string(1, c);
    execute("CREATE DATABASE " + quoted + "\"");
}

namespace {

struct sqlite_closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using sqlite_ptr = std::unique_ptr<sqlite3, sqlite_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

stmt_ptr prepare(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
        throw std::runtime_error("copy_sqlite_to_postgres: " + std::string(sqlite3_errmsg(db)) +
                                 " in: " + sql);
    return stmt_ptr(raw);
}

std::string text_column(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t ? reinterpret_cast<const char*>(t) : "";
}

std::string quote_ident(const std::string& name) {
    std::string q = "\"";
    for (char c : name) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

// SQLite accepts any declared type; PostgreSQL needs real ones. Only DATETIME is foreign to it.
std::string postgres_type(std::string declared) {
    std::string upper = declared;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.empty()) return "text";
    if (upper.find("DATETIME") != std::string::npos) return "timestamp";
    if (upper == "REAL" || upper == "DOUBLE") return "double precision";
    return declared;
}

// COPY text format: backslash escapes, \N for NULL.
void append_copy_field(std::string& out, sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        out += "\\N";
        return;
    }
    const unsigned char* t = sqlite3_column_text(s, i);
    int n = sqlite3_column_bytes(s, i);
    for (int k = 0; k < n; ++k) {
        char c = static_cast<char>(t[k]);
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

}  // namespace

void copy_sqlite_to_postgres(const pg_cluster& cluster, const std::string& sqlite_path,
                             const std::string& database) {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string message = raw ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        throw std::runtime_error("copy_sqlite_to_postgres: cannot open " + sqlite_path + ": " +
                                 message);
    }
    sqlite_ptr db(raw);

    // One psql script: tables, COPY data inline, then the indexes, all in one transaction.
    std::string script = "BEGIN;\n";
    std::vector<std::string> index_sql;
    {
        auto tables = prepare(db.get(),
                              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                              "LIKE 'sqlite_%' ORDER BY name");
        std::vector<std::string> names;
        while (sqlite3_step(tables.get()) == SQLITE_ROW) names.push_back(text_column(tables.get(), 0));

        for (const auto& table : names) {
            auto info = prepare(db.get(), "PRAGMA table_info(" + quote_ident(table) + ")");
            std::vector<std::string> columns;
            std::vector<std::string> keys;
            std::string create = "CREATE TABLE " + quote_ident(table) + " (";
            while (sqlite3_step(info.get()) == SQLITE_ROW) {
                std::string column = text_column(info.get(), 1);
                std::string type = postgres_type(text_column(info.get(), 2));
                bool not_null = sqlite3_column_int(info.get(), 3) != 0;
                if (sqlite3_column_int(info.get(), 5) > 0) keys.push_back(quote_ident(column));
                create += (columns.empty() ? "" : ", ") + quote_ident(column) + " " + type +
                          (not_null ? " NOT NULL" : "");
                columns.push_back(quote_ident(column));
            }
            if (!keys.empty()) {
                create += ", PRIMARY KEY (";
                for (std::size_t i = 0; i < keys.size(); ++i) create += (i ? ", " : "") + keys[i];
                create += ")";
            }
            script += create + ");\n";

            std::string column_list;
            for (std::size_t i = 0; i < columns.size(); ++i)
                column_list += (i ? ", " : "") + columns[i];
            script += "COPY " + quote_ident(table) + " (" + column_list + ") FROM stdin;\n";
            auto rows = prepare(db.get(), "SELECT * FROM " + quote_ident(table));
            while (sqlite3_step(rows.get()) == SQLITE_ROW) {
                for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
                    if (i) script += '\t';
                    append_copy_field(script, rows.get(), i);
                }
                script += '\n';
            }
            script += "\\.\n";
        }

        auto indexes = prepare(db.get(),
                               "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
                               "NULL ORDER BY name");
        while (sqlite3_step(indexes.get()) == SQLITE_ROW)
            index_sql.push_back(text_column(indexes.get(), 0));
    }
    for (const auto& sql : index_sql) script += sql + ";\n";
    script += "COMMIT;\nANALYZE;\n";

    const std::string script_path = cluster.directory() + "/load_" + database + ".sql";
    {
        std::ofstream out(script_path, std::ios::binary);
        out << script;
        if (!out) throw std::runtime_error("copy_sqlite_to_postgres: cannot write " + script_path);
    }
    try {
        cluster.execute_file(script_path, database);
    } catch (...) {
        std::filesystem::remove(script_path);
        throw;
    }
    std::filesystem::remove(script_path);
}

}  // namespace portal::test
