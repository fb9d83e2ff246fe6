// The email bodies (templates/email/*.mustache): each email is <name>.txt and <name>.html,
// rendered into layout.txt and layout.html. The text parts are not HTML-escaped; the HTML parts
// are.
#pragma once

#include <kainjow/mustache.hpp>

#include <map>
#include <string>

namespace portal::mail {

using email_data = kainjow::mustache::data;

struct email_body {
    std::string text;
    std::string html;
};

class email_templates {
  public:
    // Reads every *.mustache under `dir`; throws std::runtime_error when the folder, a layout or
    // a template is missing or does not parse.
    explicit email_templates(const std::string& dir);

    // Both parts of email `name` with `data` (which the layouts see too).
    email_body render(const std::string& name, const email_data& data) const;

    bool has(const std::string& name) const;

  private:
    std::string render_one(const std::string& name, const email_data& data, bool escape) const;
    std::map<std::string, std::string> sources_;
};

}  // namespace portal::mail
