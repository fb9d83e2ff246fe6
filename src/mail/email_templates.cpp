#include "mail/email_templates.hpp"

#include "web/templates.hpp"

#include <stdexcept>

namespace portal::mail {

email_templates::email_templates(const std::string& dir)
    // Keyed "welcome.txt", "layout.html", …
    : sources_(web::load_mustache_sources(dir, "email templates")) {
    for (const char* layout : {"layout.txt", "layout.html"})
        if (!sources_.count(layout))
            throw std::runtime_error("email template " + dir + "/" + layout +
                                     ".mustache is missing");
}

bool email_templates::has(const std::string& name) const {
    return sources_.count(name + ".txt") != 0 && sources_.count(name + ".html") != 0;
}

std::string email_templates::render_one(const std::string& name, const email_data& data,
                                        bool escape) const {
    const auto it = sources_.find(name);
    if (it == sources_.end()) throw std::runtime_error("no email template named " + name);
    kainjow::mustache::mustache tmpl(it->second);
    // Plain text is not HTML: "&" stays "&". Nothing in a text part is ever interpreted as markup.
    if (!escape) tmpl.set_custom_escape([](const std::string& s) { return s; });
    return tmpl.render(data);
}

email_body email_templates::render(const std::string& name, const email_data& data) const {
    email_body body;
    for (const bool html : {false, true}) {
        const std::string ext = html ? ".html" : ".txt";
        email_data wrapped = data;
        wrapped.set("content", render_one(name + ext, data, html));
        (html ? body.html : body.text) = render_one("layout" + ext, wrapped, html);
    }
    return body;
}

}  // namespace portal::mail
