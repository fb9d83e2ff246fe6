// The admin's customer form (create and edit): reading and checking the fields, the stored form of
// the ERP names ("A|B" or "All", as the Flask portal kept them), and the audit details it produces.
#pragma once

#include "http/request_context.hpp"
#include "store/customers_repository.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace portal::web {

inline constexpr std::size_t max_name_length = 100;        // Customers.first_name / last_name
inline constexpr std::size_t max_email_length = 255;       // Customers.email
inline constexpr std::size_t max_erp_names_length = 4000;  // Customers.erp_customer_name

struct customer_form {
    std::string first_name;
    std::string last_name;
    std::string email;
    std::vector<std::string> erp_names;  // trimmed, no empties, no repeats, in the order sent
    bool all = false;                    // `All` was chosen (alone, when the form is valid)

    // field name (first_name, last_name, email, erp_customer_name) → a sentence for the admin
    std::map<std::string, std::string> errors;

    bool ok() const { return errors.empty(); }
    // "A|B" or "All": what goes into Customers.erp_customer_name.
    std::string stored_erp_names() const;
};

// Reads first_name, last_name, email and every erp_customer_name value of a posted form.
customer_form read_customer_form(const http::param_list& form);

// The ERP names of a stored value, for the form ("All" is not a name: see is_all).
customer_form form_from_record(const store::customer_record& customer);

// A plausible single address: local@domain.tld, no spaces or control characters, at most 255
// characters. Deliverability is for the welcome email to find out.
bool looks_like_email(std::string_view email);

// Length in Unicode code points of valid UTF-8 (the store counts characters, not bytes).
std::size_t text_length(std::string_view utf8);

// Audit details (JSON objects built with Boost.JSON; never a password hash):
// the fields of a new account;
std::string created_details(const store::new_customer& created, bool emailed);
// {"field":{"from":…,"to":…}} for each changed field, or "" when nothing changed;
std::string update_details(const store::customer_record& before,
                           const store::customer_update& after);
// {"is_active":{"from":…,"to":…}}.
std::string active_details(bool from, bool to);

// Two stored ERP values name the same set of customers ("A|B" and "B|A").
bool same_erp_names(const std::string& a, const std::string& b);

}  // namespace portal::web
