// The HTTP listener and its connections: I/O only. Requests go to a handler function on a worker
// pool (handlers may block on a database); responses come back to the connection's strand.
#pragma once

#include "http/message.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace portal::http {

struct server_options {
    std::string host = "0.0.0.0";
    unsigned short port = 5001;
    int io_threads = 1;
    int worker_threads = 8;  // the general lane
    int quick_threads = 0;   // the quick lane; 0: every request on the general lane
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 1024 * 1024;
    std::chrono::seconds header_timeout{5};   // to receive a request's headers once it started
    std::chrono::seconds body_timeout{30};
    std::chrono::seconds idle_timeout{30};    // keep-alive wait for the next request
    std::chrono::seconds drain_timeout{30};   // how long SIGTERM waits for in-flight requests
    std::size_t max_connections = 2048;
};

struct connection_info {
    std::string remote_address;
    bool may_wait = true;  // false while the request runs on the quick lane
};

using request_handler = std::function<response(const request&, const connection_info&)>;
// Whether a request runs on the quick lane (see router.hpp's lane); called on the I/O thread.
using lane_picker = std::function<bool(const request&)>;
// Answers a request that could not be read (413 past a limit, 400 malformed).
using error_handler = std::function<response(status, const connection_info&)>;

class server {
public:
    server(server_options options, request_handler on_request, error_handler on_error,
           lane_picker is_quick = {});
    ~server();

    // Binds, then serves until SIGTERM/SIGINT or stop(); drains in-flight requests before returning.
    // `on_listening` receives the bound port (useful with port 0).
    void run(const std::function<void(unsigned short)>& on_listening = {});
    void stop();

    std::size_t active_connections() const;

    struct impl;  // public only so the connection class in server.cpp can reach it

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace portal::http
