// A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, a server on a free
// loopback port, removed again when the object is destroyed.
#pragma once

#include <string>
#include <vector>

namespace portal::test {

// Starts the server in the constructor and stops it (and deletes its files) in the destructor.
// When the process runs as root, initdb and the server run as the `postgres` user (PostgreSQL
// refuses root). Administration goes over the Unix socket with trust authentication; TCP clients
// on 127.0.0.1 must give a password (scram-sha-256), so tests exercise real password handling.
// Any failure to start throws std::runtime_error carrying the server's log: tests fail loudly
// rather than skip.
class pg_cluster {
public:
    pg_cluster();
    ~pg_cluster();
    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    int port() const { return port_; }
    const std::string& host() const { return host_; }  // "127.0.0.1"
    const std::string& superuser() const { return superuser_; }
    const std::string& superuser_password() const { return superuser_password_; }
    const std::string& directory() const { return dir_; }
    const std::string& bin_dir() const { return bin_dir_; }

    // A libpq/SOCI connection string for `database` over TCP, as the superuser unless a user and
    // password are given.
    std::string connection_string(const std::string& database = "postgres") const;
    std::string connection_string(const std::string& database, const std::string& user,
                                  const std::string& password) const;

    void create_database(const std::string& name) const;

    // Runs SQL through psql as the superuser over the Unix socket; throws with psql's output when
    // it fails.
    void execute(const std::string& sql, const std::string& database = "postgres") const;

    // Runs a psql script file (ON_ERROR_STOP) in `database`.
    void execute_file(const std::string& path, const std::string& database) const;

    // The server log so far (for failure messages).
    std::string log() const;

    // An outage of the store: stop_server() shuts the server down (fast mode: open connections
    // are ended, new ones refused) and keeps its data; start_server() starts it again on the same
    // port. Both wait until the server has finished; both throw with the log when pg_ctl fails.
    void stop_server();
    void start_server();
    bool server_running() const { return running_; }

private:
    void start();
    void stop() noexcept;
    std::string server_options() const;
    std::vector<std::string> as_server_user(std::vector<std::string> argv) const;

    std::string bin_dir_;
    std::string dir_;
    std::string data_dir_;
    std::string log_file_;
    std::string host_ = "127.0.0.1";
    std::string superuser_ = "postgres";
    std::string superuser_password_;
    int port_ = 0;
    bool running_ = false;
    bool as_root_ = false;
};

// Copies every table (and index) of an SQLite database into `database` of the cluster, with
// PostgreSQL column types mapped from the SQLite declared types (DATETIME becomes timestamp).
// Used to run the same demo ERP data through the PostgreSQL and ODBC code paths.
void copy_sqlite_to_postgres(const pg_cluster& cluster, const std::string& sqlite_path,
                             const std::string& database);

}  // namespace portal::test
