// A real load balancer for the several-instances tests: Debian's haproxy, run as the test's child
// on a free loopback port with a generated configuration, stopped again with the object.
#pragma once

#include "support/portal_process.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace portal::testing {

struct haproxy_server {
    std::string name;  // also the value of the X-Served-By response header haproxy adds
    int port = 0;      // on 127.0.0.1
};

// The configuration used (see haproxy::config() for the text): HTTP mode, round robin, health
// checks of GET /healthz every 200 ms (100 ms while a server changes state; two failures mark it
// down), `retries 3` with `option redispatch 1` so a refused connection goes to the next server,
// and layer-7 retries of GET/HEAD requests whose server closed the connection without answering
// (a server killed mid-request). Other requests are never replayed once sent: a POST may have
// been committed. `option forwardfor` adds X-Forwarded-For; the response gets X-Served-By.
class haproxy {
  public:
    // Throws std::runtime_error (with haproxy's output) when it does not start, or when its
    // frontend does not answer within 10 s.
    explicit haproxy(std::vector<haproxy_server> servers, std::string binary = "/usr/sbin/haproxy");
    ~haproxy();
    haproxy(const haproxy&) = delete;
    haproxy& operator=(const haproxy&) = delete;

    int port() const { return port_; }
    const std::string& config() const { return config_; }
    std::string output() const;  // haproxy's stdout and stderr (its log of every request)

    // The server's status as haproxy's health checks see it ("UP", "DOWN", "UP 1/2" while going
    // down, …), read from the admin socket's `show stat`; "" for an unknown server.
    std::string server_status(const std::string& name) const;
    // Polls server_status until it is exactly `status`; throws with the output after `timeout`.
    void wait_for_status(const std::string& name, const std::string& status,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    // SIGTERM, then SIGKILL if it has not ended within 5 s. Safe to call twice.
    void stop();

  private:
    std::string admin_command(const std::string& command) const;

    temp_dir dir_;
    std::vector<haproxy_server> servers_;
    std::string config_;
    std::string config_path_;
    std::string socket_path_;
    std::string log_path_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// Sends `command` to a haproxy admin socket and returns its whole answer.
std::string haproxy_admin_command(const std::string& socket_path, const std::string& command);

}  // namespace portal::testing
