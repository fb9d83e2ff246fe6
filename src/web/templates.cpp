#include "web/templates.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace portal::web {

std::map<std::string, std::string> load_mustache_sources(const std::string& dir,
                                                         const std::string& what) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir)) throw std::runtime_error(what + " folder not found: " + dir);
    std::map<std::string, std::string> sources;
    for (const auto& item : fs::directory_iterator(dir)) {
        if (item.path().extension() != ".mustache") continue;
        std::ifstream in(item.path());
        std::stringstream buffer;
        buffer << in.rdbuf();
        kainjow::mustache::mustache check(buffer.str());
        if (!check.is_valid())
            throw std::runtime_error("template " + item.path().string() + ": " +
                                     check.error_message());
        sources[item.path().stem().string()] = buffer.str();
    }
    return sources;
}

template_set::template_set(const std::string& dir)
    : sources_(load_mustache_sources(dir, "templates")) {
    if (!has("layout")) throw std::runtime_error("templates/layout.mustache is missing");
}

std::string template_set::render(const std::string& name, const mustache_data& data) const {
    const auto it = sources_.find(name);
    if (it == sources_.end()) throw std::runtime_error("no template named " + name);
    // A parsed template keeps render state, so each render parses its own (a few microseconds).
    kainjow::mustache::mustache tmpl(it->second);
    return tmpl.render(data);
}

std::string template_set::page(const std::string& name, const mustache_data& data,
                               mustache_data layout) const {
    layout.set("content", render(name, data));
    return render("layout", layout);
}

}  // namespace portal::web
