#include "http/client_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace portal::http {
namespace {

namespace ip = boost::asio::ip;

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

bool in_range(const ip::address& a, const std::string& range) {
    boost::system::error_code ec;
    if (range.find('/') == std::string::npos) {
        auto r = ip::make_address(range, ec);
        return !ec && r == a;
    }
    if (a.is_v4()) {
        auto net = ip::make_network_v4(range, ec);
        if (ec) return false;
        return ip::network_v4(a.to_v4(), net.prefix_length()).canonical() == net.canonical();
    }
    auto net = ip::make_network_v6(range, ec);
    if (ec) return false;
    return ip::network_v6(a.to_v6(), net.prefix_length()).canonical() == net.canonical();
}

}  // namespace

bool address_in(const std::string& address, const std::vector<std::string>& ranges) {
    boost::system::error_code ec;
    const auto a = ip::make_address(address, ec);
    if (ec) return false;
    for (const auto& r : ranges)
        if (in_range(a, r)) return true;
    return false;
}

std::string client_address(const request& req, const std::string& peer, const std::vector<std::string>& trusted) {
    if (trusted.empty() || !address_in(peer, trusted)) return peer;
    boost::system::error_code ec;
    if (auto cf = req["CF-Connecting-IP"]; !cf.empty()) {
        auto candidate = trim(cf);
        ip::make_address(candidate, ec);
        if (!ec) return candidate;
    }
    std::string_view xff = req["X-Forwarded-For"];
    while (!xff.empty()) {
        const auto comma = xff.rfind(',');
        auto candidate = trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
        xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
        ip::make_address(candidate, ec);
        if (ec) break;  // garbage: stop believing the header
        if (!address_in(candidate, trusted)) return candidate;
    }
    return peer;
}

}  // namespace portal::http
