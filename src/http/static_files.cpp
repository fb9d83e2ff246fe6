#include "http/static_files.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace portal::http {
namespace {

std::string sha256_hex(std::string_view data, std::size_t chars) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len && out.size() < chars; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

}  // namespace

std::string_view mime_type(std::string_view filename) {
    const auto dot = filename.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? "" : filename.substr(dot + 1);
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff2") return "font/woff2";
    if (ext == "json") return "application/json";
    if (ext == "txt") return "text/plain; charset=utf-8";
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "webmanifest") return "application/manifest+json";
    return "application/octet-stream";
}

bool is_safe_relative_path(std::string_view path) {
    if (path.empty() || path.front() == '/') return false;
    for (char c : path)
        if (c == '\\' || c == '\0') return false;
    while (true) {
        const auto slash = path.find('/');
        const auto seg = path.substr(0, slash);
        if (seg.empty() || seg == "." || seg == "..") return false;
        if (slash == std::string_view::npos) return true;
        path.remove_prefix(slash + 1);
    }
}

static_files::static_files(const std::string& root) {
    namespace fs = std::filesystem;
    std::string all_etags;
    if (!fs::is_directory(root)) throw std::runtime_error("static folder not found: " + root);
    for (const auto& item : fs::recursive_directory_iterator(root)) {
        if (!item.is_regular_file()) continue;
        std::ifstream in(item.path(), std::ios::binary);
        std::stringstream buffer;
        buffer << in.rdbuf();
        entry e;
        e.body = buffer.str();
        e.etag = "\"" + sha256_hex(e.body, 16) + "\"";
        const auto relative = fs::relative(item.path(), root).generic_string();
        e.content_type = std::string(mime_type(relative));
        all_etags += relative + e.etag;
        files_.emplace(relative, std::move(e));
    }
    version_ = sha256_hex(all_etags, 10);
}

std::optional<response> static_files::serve(const request& req, std::string_view relative) const {
    if (!is_safe_relative_path(relative)) return std::nullopt;
    const auto it = files_.find(std::string(relative));
    if (it == files_.end()) return std::nullopt;
    const auto& e = it->second;
    response r;
    r.set(bhttp::field::etag, e.etag);
    // Pages link assets with ?v=<content hash>, so a long lifetime is safe.
    r.set(bhttp::field::cache_control, "public, max-age=86400");
    if (req[bhttp::field::if_none_match] == e.etag) {
        r.result = status::not_modified;
        return r;
    }
    r.set(bhttp::field::content_type, e.content_type);
    r.body = e.body;
    return r;
}

}  // namespace portal::http
