#include "http/compression.hpp"

#include <zlib.h>

#include <stdexcept>

namespace portal::http {

bool accepts_gzip(const request& req) {
    const auto ae = req[bhttp::field::accept_encoding];
    const auto pos = ae.find("gzip");
    if (pos == std::string_view::npos) return false;
    // "gzip;q=0" refuses it.
    const auto rest = ae.substr(pos + 4, 6);
    return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

std::string gzip(std::string_view data, int level) {
    z_stream zs{};
    // 15 + 16: a gzip header and trailer rather than a bare zlib stream.
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::string out;
    out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(zs.total_out);
    return out;
}

void maybe_gzip(const request& req, response& r, std::size_t min_size) {
    r.set(bhttp::field::vary, "Accept-Encoding");
    if (r.body.size() < min_size || !accepts_gzip(req)) return;
    r.body = gzip(r.body);
    r.set(bhttp::field::content_encoding, "gzip");
}

}  // namespace portal::http
