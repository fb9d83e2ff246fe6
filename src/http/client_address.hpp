// Which address a request comes from: the socket's, unless that peer is a trusted proxy.
#pragma once

#include "http/message.hpp"

#include <string>
#include <vector>

namespace portal::http {

// `trusted` holds addresses or CIDR ranges (v4 or v6). With a trusted peer, CF-Connecting-IP is
// believed, else the right-most X-Forwarded-For entry that is not itself a trusted proxy.
std::string client_address(const request& req, const std::string& peer, const std::vector<std::string>& trusted);

bool address_in(const std::string& address, const std::vector<std::string>& ranges);

}  // namespace portal::http
