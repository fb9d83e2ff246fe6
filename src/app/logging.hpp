// Log set-up (LOG_LEVEL, LOG_FILE, LOG_FORMAT) and the one-line-per-request access log.
#pragma once

#include "app/config.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace portal::app {

void setup_logging(const config& cfg);

struct access_entry {
    std::string_view method;
    std::string_view path;
    unsigned status;
    std::size_t bytes;
    std::chrono::duration<double> elapsed;
    std::string_view request_id;
    std::string_view user;
    std::string_view client;
};
void log_request(const access_entry& e);

std::string json_escape(std::string_view s);

}  // namespace portal::app
