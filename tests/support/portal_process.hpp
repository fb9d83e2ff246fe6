// Test harness: runs the real customer-portal binary on a free loopback port and talks HTTP to it.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace portal::testing {

using env_map = std::map<std::string, std::string>;

// A fresh temporary folder, removed with the object.
struct temp_dir {
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::string path;
};

int free_port();
std::string test_secret_key();  // 48 characters

struct command_result {
    int exit_code = -1;
    std::string output;  // stdout and stderr
};
// Runs the binary to completion with exactly `env` (plus PATH), in `cwd`, feeding `input` on stdin.
command_result run_portal(const std::vector<std::string>& args, const env_map& env, const std::string& cwd,
                          const std::string& input = {});

class portal_process {
public:
    // Starts `customer-portal <args>` with HOST=127.0.0.1, a free PORT, SECRET_KEY and a store in the
    // working folder unless `env` says otherwise, and waits until /healthz answers.
    explicit portal_process(env_map env = {}, std::vector<std::string> args = {"serve"}, std::string cwd = {});
    ~portal_process();
    portal_process(const portal_process&) = delete;
    portal_process& operator=(const portal_process&) = delete;

    int port() const { return port_; }
    const std::string& cwd() const { return cwd_; }
    pid_t pid() const { return pid_; }
    std::string output() const;

    // Sends SIGTERM and waits for the exit code (-1 when killed by a signal).
    int terminate(std::chrono::seconds timeout = std::chrono::seconds(20));
    void kill_hard();
    bool running();

private:
    temp_dir own_dir_;
    std::string cwd_;
    std::string log_path_;
    int port_ = 0;
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

struct http_result {
    int status = 0;
    std::multimap<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string header(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
};

http_result http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body = {}, const env_map& headers = {});
inline http_result http_get(int port, const std::string& target, const env_map& headers = {}) {
    return http_request(port, "GET", target, {}, headers);
}
// A form POST (application/x-www-form-urlencoded) of already-encoded `body`.
http_result http_post_form(int port, const std::string& target, const std::string& body, const env_map& headers = {});

std::string url_encode(const std::string& s);

}  // namespace portal::testing
