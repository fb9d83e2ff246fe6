// The page templates (templates/*.mustache), loaded once; pages render into the shared layout.
#pragma once

#include <kainjow/mustache.hpp>

#include <map>
#include <string>

namespace portal::web {

using mustache_data = kainjow::mustache::data;

// The text of every *.mustache file directly under `dir`, by file name without ".mustache"
// ("layout", "welcome.txt", …). Throws std::runtime_error when the folder is missing ("<what>
// folder not found: <dir>") or a template does not parse (naming the file).
std::map<std::string, std::string> load_mustache_sources(const std::string& dir,
                                                         const std::string& what);

class template_set {
  public:
    // Reads every *.mustache under `dir`; throws when one is missing or does not parse.
    explicit template_set(const std::string& dir);

    // Renders one template on its own (e.g. an email body).
    std::string render(const std::string& name, const mustache_data& data) const;

    // Renders `name` and wraps it in layout.mustache. `layout` holds the layout's fields
    // (title, csrf_token, signed_in, flashes, …); `content` is set here.
    std::string page(const std::string& name, const mustache_data& data,
                     mustache_data layout) const;

    bool has(const std::string& name) const { return sources_.count(name) != 0; }

  private:
    std::map<std::string, std::string> sources_;
};

}  // namespace portal::web
