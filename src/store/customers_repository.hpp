// Customer accounts in the Flask portal's Customers table.
#pragma once

#include "store/database.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portal::store {

struct customer_record {
    int customer_id = 0;
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string password_hash;
    std::string erp_customer_name;  // "A", "A|B" or "All"
    bool is_active = true;
    time_point created_date{};
    std::optional<time_point> last_login_date;
    bool must_reset_password = false;
};

struct new_customer {
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string password_hash;
    std::string erp_customer_name;
    bool is_active = true;
    bool must_reset_password = false;
};

// The fields the admin edit form changes.
struct customer_update {
    std::string first_name;
    std::string last_name;
    std::string email;
    std::string erp_customer_name;
};

enum class save_status { saved, not_found, duplicate_email };

struct create_result {
    save_status status = save_status::saved;
    int customer_id = 0;  // set when saved
};

enum class status_filter { all, active, inactive };

// Columns the customer list may be sorted by; anything else from a request is not a column.
enum class customer_sort {
    customer_id,
    first_name,
    last_name,
    email,
    erp_customer_name,
    is_active,
    created_date,
    last_login_date
};

// "last_name" → customer_sort::last_name; nullopt for anything not on the list.
std::optional<customer_sort> parse_customer_sort(std::string_view column);
std::optional<status_filter> parse_status_filter(std::string_view status);

struct customer_query {
    std::string search;  // case-insensitive substring of first, last or full name, email, ERP name
    status_filter status = status_filter::all;
    customer_sort sort = customer_sort::last_name;
    bool descending = false;
    int page = 1;  // from 1
    int per_page = 50;
};

struct customer_page {
    std::vector<customer_record> rows;
    long long total = 0;  // rows matching search and status, over all pages
};

class customers_repository {
  public:
    explicit customers_repository(database& db) : db_(db) {}

    // The email is stored as given; one that exists in any letter case gives duplicate_email.
    create_result create(const new_customer& customer, time_point now);

    std::optional<customer_record> find_by_id(int customer_id);
    std::optional<customer_record> find_by_email(const std::string& email);  // case-insensitive

    save_status update(int customer_id, const customer_update& fields);

    // Stores a new hash and clears must_reset_password. False: no such customer.
    bool set_password_hash(int customer_id, const std::string& password_hash);
    bool set_must_reset_password(int customer_id, bool must_reset);
    bool set_active(int customer_id, bool active);
    bool set_last_login(int customer_id, time_point when);

    customer_page list(const customer_query& query);
    long long count(status_filter status = status_filter::all);

  private:
    database& db_;
};

}  // namespace portal::store
