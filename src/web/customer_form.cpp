#include "web/customer_form.hpp"

#include "erp/snapshot_cache.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

namespace portal::web {
namespace {

namespace json = boost::json;

std::string trim(std::string_view s) {
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
    };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// Code points of `s`, or nullopt when it is not well-formed UTF-8 or holds a control character
// (C0, DEL, C1): none belongs in a name or an address, and they would garble lists and logs.
std::optional<std::size_t> checked_length(std::string_view s) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++count) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = 0;
        std::size_t n = 0;
        if (b < 0x80) {
            cp = b, n = 1;
        } else if ((b & 0xE0) == 0xC0) {
            cp = b & 0x1F, n = 2;
        } else if ((b & 0xF0) == 0xE0) {
            cp = b & 0x0F, n = 3;
        } else if ((b & 0xF8) == 0xF0) {
            cp = b & 0x07, n = 4;
        } else {
            return std::nullopt;
        }
        if (i + n > s.size()) return std::nullopt;
        for (std::size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (c & 0x3F);
        }
        const bool overlong =
            (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return std::nullopt;
        i += n;
    }
    return count;
}

// "first name" errors for one required name field.
void check_name(customer_form& f, const std::string& field, const std::string& value,
                std::string_view label) {
    const auto length = checked_length(value);
    if (value.empty())
        f.errors[field] = "Enter a " + std::string(label) + ".";
    else if (!length)
        f.errors[field] = "The " + std::string(label) + " contains characters that cannot be used.";
    else if (*length > max_name_length)
        f.errors[field] = "The " + std::string(label) + " can be at most " +
                          std::to_string(max_name_length) + " characters long.";
}

bool is_all_choice(std::string_view name) {
    return name.size() == 3 && (name[0] == 'A' || name[0] == 'a') &&
           (name[1] == 'L' || name[1] == 'l') && (name[2] == 'L' || name[2] == 'l');
}

}  // namespace

std::size_t text_length(std::string_view utf8) {
    return checked_length(utf8).value_or(utf8.size());
}

bool looks_like_email(std::string_view email) {
    const auto length = checked_length(email);
    if (!length || *length > max_email_length) return false;
    const auto at = email.rfind('@');
    if (at == std::string_view::npos || at == 0 || email.find('@') != at) return false;
    const auto local = email.substr(0, at);
    const auto domain = email.substr(at + 1);
    if (local.size() > 64 || domain.empty()) return false;
    // Characters that never appear in an address typed by a person (quoted local parts aside).
    for (char c : email) {
        if (c == ' ' || c == ',' || c == ';' || c == ':' || c == '<' || c == '>' || c == '(' ||
            c == ')' || c == '[' || c == ']' || c == '\\' || c == '"')
            return false;
    }
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return false;
    // The domain: dot-separated labels of letters, digits and hyphens (or non-ASCII for
    // internationalised names), not starting or ending with a hyphen, with a top-level label of
    // at least two characters.
    std::size_t labels = 0;
    std::string_view rest = domain;
    std::string_view last;
    while (true) {
        const auto dot = rest.find('.');
        const auto label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            const auto u = static_cast<unsigned char>(c);
            const bool ok = u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-';
            if (!ok) return false;
        }
        ++labels;
        last = label;
        if (dot == std::string_view::npos) break;
        rest = rest.substr(dot + 1);
    }
    return labels >= 2 && last.size() >= 2;
}

std::string customer_form::stored_erp_names() const {
    if (all) return "All";
    std::string out;
    for (const auto& name : erp_names) {
        if (!out.empty()) out += '|';
        out += name;
    }
    return out;
}

customer_form read_customer_form(const http::param_list& form) {
    customer_form f;
    f.first_name = trim(http::find_param(form, "first_name").value_or(""));
    f.last_name = trim(http::find_param(form, "last_name").value_or(""));
    f.email = trim(http::find_param(form, "email").value_or(""));
    check_name(f, "first_name", f.first_name, "first name");
    check_name(f, "last_name", f.last_name, "last name");

    if (f.email.empty())
        f.errors["email"] = "Enter an email address.";
    else if (checked_length(f.email).value_or(0) > max_email_length)
        f.errors["email"] = "The email address can be at most " + std::to_string(max_email_length) +
                            " characters long.";
    else if (!looks_like_email(f.email))
        f.errors["email"] = "Enter a valid email address, like name@example.com.";

    std::string erp_error;
    for (const auto& raw : http::find_all(form, "erp_customer_name")) {
        auto name = trim(raw);
        if (name.empty()) continue;
        if (is_all_choice(name)) {
            f.all = true;
            continue;
        }
        if (name.find('|') != std::string::npos) {
            erp_error =
                "An ERP customer name cannot contain “|”: the portal uses it to separate names.";
        } else if (!checked_length(name)) {
            erp_error = "An ERP customer name contains characters that cannot be used.";
        }
        if (std::find(f.erp_names.begin(), f.erp_names.end(), name) == f.erp_names.end())
            f.erp_names.push_back(std::move(name));
    }
    if (erp_error.empty()) {
        if (f.all && !f.erp_names.empty())
            erp_error =
                "“All customers” already includes every customer: choose it alone, or choose names "
                "without it.";
        else if (!f.all && f.erp_names.empty())
            erp_error = "Choose at least one ERP customer, or “All customers”.";
        else if (checked_length(f.stored_erp_names()).value_or(0) > max_erp_names_length)
            erp_error = "Too many ERP customers: their names together can be at most " +
                        std::to_string(max_erp_names_length) + " characters long.";
    }
    if (!erp_error.empty()) f.errors["erp_customer_name"] = erp_error;
    return f;
}

customer_form form_from_record(const store::customer_record& customer) {
    customer_form f;
    f.first_name = customer.first_name;
    f.last_name = customer.last_name;
    f.email = customer.email;
    if (erp::is_all(customer.erp_customer_name))
        f.all = true;
    else
        f.erp_names = erp::split_erp_names(customer.erp_customer_name);
    return f;
}

bool same_erp_names(const std::string& a, const std::string& b) {
    const auto x = erp::split_erp_names(a), y = erp::split_erp_names(b);
    return std::set<std::string>(x.begin(), x.end()) == std::set<std::string>(y.begin(), y.end());
}

std::string created_details(const store::new_customer& created, bool emailed) {
    json::object o;
    o["first_name"] = created.first_name;
    o["last_name"] = created.last_name;
    o["email"] = created.email;
    o["erp_customer_name"] = created.erp_customer_name;
    o["is_active"] = created.is_active;
    o["must_reset_password"] = created.must_reset_password;
    o["welcome_link_emailed"] = emailed;
    return json::serialize(o);
}

std::string update_details(const store::customer_record& before,
                           const store::customer_update& after) {
    json::object o;
    const auto diff = [&](const char* field, const std::string& from, const std::string& to) {
        if (from == to) return;
        o[field] = json::object{{"from", from}, {"to", to}};
    };
    diff("first_name", before.first_name, after.first_name);
    diff("last_name", before.last_name, after.last_name);
    diff("email", before.email, after.email);
    diff("erp_customer_name", before.erp_customer_name, after.erp_customer_name);
    return o.empty() ? std::string() : json::serialize(o);
}

std::string active_details(bool from, bool to) {
    return json::serialize(json::object{{"is_active", json::object{{"from", from}, {"to", to}}}});
}

}  // namespace portal::web
