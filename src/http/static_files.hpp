// The files under static/, read once at start and served from memory: a request can only name a
// file that was found there, so no path (encoded or not) reaches outside the folder.
#pragma once

#include "http/request_context.hpp"

#include <string>
#include <unordered_map>

namespace portal::http {

class static_files {
public:
    explicit static_files(const std::string& root);

    // `relative` is the decoded path below /static/. nullopt when there is no such file.
    std::optional<response> serve(const request& req, std::string_view relative) const;

    // A short hash of every file's content, for cache-busting `?v=` in templates.
    const std::string& version() const { return version_; }

private:
    struct entry {
        std::string body;
        std::string etag;
        std::string content_type;
    };
    std::unordered_map<std::string, entry> files_;
    std::string version_;
};

std::string_view mime_type(std::string_view filename);

// True when a decoded relative path is plain: no "..", ".", empty segment, backslash, NUL or
// leading slash. Used as a second check beside the map lookup.
bool is_safe_relative_path(std::string_view path);

}  // namespace portal::http
