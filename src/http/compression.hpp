// gzip for large text responses when the client accepts it.
#pragma once

#include "http/message.hpp"

namespace portal::http {

bool accepts_gzip(const request& req);

// Compresses r.body in place (and sets Content-Encoding, Vary) when worth it and accepted.
void maybe_gzip(const request& req, response& r, std::size_t min_size = 1024);

std::string gzip(std::string_view data, int level = 1);

}  // namespace portal::http
