#include "store/customers_repository.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace portal::store {

namespace {

constexpr const char* customer_columns =
    "customer_id, first_name, last_name, email, password_hash, erp_customer_name, is_active, "
    "created_date, last_login_date, must_reset_password";

// Binding targets for one row of customer_columns. The Flask schema lets the flags and dates be
// NULL; a NULL flag reads as false, as it did in the Flask portal.
struct customer_row {
    int customer_id = 0;
    std::string first_name, last_name, email, password_hash, erp_customer_name;
    int is_active = 0;
    std::tm created_date{};
    std::tm last_login_date{};
    int must_reset_password = 0;
    soci::indicator active_ind = soci::i_ok, created_ind = soci::i_ok, last_login_ind = soci::i_ok,
                    must_reset_ind = soci::i_ok;

    void exchange(soci::statement& st) {
        st.exchange(soci::into(customer_id));
        st.exchange(soci::into(first_name));
        st.exchange(soci::into(last_name));
        st.exchange(soci::into(email));
        st.exchange(soci::into(password_hash));
        st.exchange(soci::into(erp_customer_name));
        st.exchange(soci::into(is_active, active_ind));
        st.exchange(soci::into(created_date, created_ind));
        st.exchange(soci::into(last_login_date, last_login_ind));
        st.exchange(soci::into(must_reset_password, must_reset_ind));
    }

    customer_record record() const {
        customer_record r;
        r.customer_id = customer_id;
        r.first_name = first_name;
        r.last_name = last_name;
        r.email = email;
        r.password_hash = password_hash;
        r.erp_customer_name = erp_customer_name;
        r.is_active = active_ind == soci::i_ok && is_active != 0;
        if (created_ind == soci::i_ok) r.created_date = from_db_time(created_date);
        if (last_login_ind == soci::i_ok) r.last_login_date = from_db_time(last_login_date);
        r.must_reset_password = must_reset_ind == soci::i_ok && must_reset_password != 0;
        return r;
    }
};

std::vector<customer_record> fetch_customers(soci::session& s, const std::string& sql,
                                             bound_values& values) {
    customer_row row;
    soci::statement st(s);
    row.exchange(st);
    values.bind(st);
    st.alloc();
    st.prepare(sql);
    st.define_and_bind();
    st.execute(false);
    std::vector<customer_record> out;
    while (st.fetch()) out.push_back(row.record());
    return out;
}

// SQL Server compares with the database's case-insensitive collation, which its UNIQUE index on
// email also uses; elsewhere lower() on both sides matches the unique index on lower(email).
std::string email_equals(dialect d, const std::string& placeholder) {
    if (d == dialect::mssql) return "email = " + placeholder;
    return "lower(email) = lower(" + placeholder + ")";
}

bool email_taken(soci::session& s, dialect d, const std::string& email, int except_customer_id) {
    bound_values values;
    const std::string sql = "SELECT COUNT(*) FROM Customers WHERE " +
                            email_equals(d, values.add(email)) + " AND customer_id <> " +
                            values.add(except_customer_id);
    long long count = 0;
    soci::statement st(s);
    st.exchange(soci::into(count));
    values.bind(st);
    st.alloc();
    st.prepare(sql);
    st.define_and_bind();
    st.execute(true);
    return count > 0;
}

long long execute_counting(soci::statement& st) {
    st.execute(true);
    return st.get_affected_rows();
}

std::string sort_expression(customer_sort sort) {
    switch (sort) {
        case customer_sort::customer_id:
            return "customer_id";
        case customer_sort::first_name:
            return "lower(first_name)";
        case customer_sort::last_name:
            return "lower(last_name)";
        case customer_sort::email:
            return "lower(email)";
        case customer_sort::erp_customer_name:
            return "lower(erp_customer_name)";
        case customer_sort::is_active:
            return "COALESCE(is_active, 0)";
        case customer_sort::created_date:
            return "created_date";
        case customer_sort::last_login_date:
            return "last_login_date";
    }
    return "customer_id";
}

std::string status_condition(status_filter status) {
    switch (status) {
        case status_filter::active:
            return " AND is_active = 1";
        case status_filter::inactive:
            return " AND COALESCE(is_active, 0) = 0";
        case status_filter::all:
            break;
    }
    return {};
}

}  // namespace

std::optional<customer_sort> parse_customer_sort(std::string_view column) {
    static constexpr std::array<std::pair<std::string_view, customer_sort>, 8> columns{{
        {"customer_id", customer_sort::customer_id},
        {"first_name", customer_sort::first_name},
        {"last_name", customer_sort::last_name},
        {"email", customer_sort::email},
        {"erp_customer_name", customer_sort::erp_customer_name},
        {"is_active", customer_sort::is_active},
        {"created_date", customer_sort::created_date},
        {"last_login_date", customer_sort::last_login_date},
    }};
    for (const auto& [name, sort] : columns) {
        if (name == column) return sort;
    }
    return std::nullopt;
}

std::optional<status_filter> parse_status_filter(std::string_view status) {
    if (status == "all") return status_filter::all;
    if (status == "active") return status_filter::active;
    if (status == "inactive") return status_filter::inactive;
    return std::nullopt;
}

create_result customers_repository::create(const new_customer& customer, time_point now) {
    const dialect d = db_.sql_dialect();
    try {
        return db_.in_transaction([&](soci::session& s) -> create_result {
            if (email_taken(s, d, customer.email, 0)) return {save_status::duplicate_email, 0};
            bound_values values;
            const std::string fields =
                "first_name, last_name, email, password_hash, erp_customer_name, is_active, "
                "created_date, must_reset_password";
            const std::string list =
                values.add(customer.first_name) + ", " + values.add(customer.last_name) + ", " +
                values.add(customer.email) + ", " + values.add(customer.password_hash) + ", " +
                values.add(customer.erp_customer_name) + ", " +
                values.add(customer.is_active ? 1 : 0) + ", " + values.add(now) + ", " +
                values.add(customer.must_reset_password ? 1 : 0);
            // The insert itself refuses a duplicate that a concurrent transaction committed after
            // the check above, returning no row instead of failing the transaction.
            std::string sql;
            if (d == dialect::mssql) {
                sql = "INSERT INTO Customers (" + fields + ") OUTPUT INSERTED.customer_id SELECT " +
                      list +
                      " WHERE NOT EXISTS (SELECT 1 FROM Customers WITH (UPDLOCK, HOLDLOCK) WHERE " +
                      email_equals(d, values.add(customer.email)) + ")";
            } else {
                sql = "INSERT INTO Customers (" + fields + ") VALUES (" + list +
                      ") ON CONFLICT DO NOTHING RETURNING customer_id";
            }
            int id = 0;
            soci::indicator ind = soci::i_null;
            soci::statement st(s);
            st.exchange(soci::into(id, ind));
            values.bind(st);
            st.alloc();
            st.prepare(sql);
            st.define_and_bind();
            const bool got_row = st.execute(true);
            if (!got_row || ind != soci::i_ok) return {save_status::duplicate_email, 0};
            return {save_status::saved, id};
        });
    } catch (const soci::soci_error& e) {
        if (is_unique_violation(e)) return {save_status::duplicate_email, 0};
        throw;
    }
}

std::optional<customer_record> customers_repository::find_by_id(int customer_id) {
    return db_.with_session([&](soci::session& s) -> std::optional<customer_record> {
        bound_values values;
        const std::string sql = std::string("SELECT ") + customer_columns +
                                " FROM Customers WHERE customer_id = " + values.add(customer_id);
        auto rows = fetch_customers(s, sql, values);
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    });
}

std::optional<customer_record> customers_repository::find_by_email(const std::string& email) {
    const dialect d = db_.sql_dialect();
    return db_.with_session([&](soci::session& s) -> std::optional<customer_record> {
        bound_values values;
        const std::string sql = std::string("SELECT ") + customer_columns +
                                " FROM Customers WHERE " + email_equals(d, values.add(email));
        auto rows = fetch_customers(s, sql, values);
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    });
}

save_status customers_repository::update(int customer_id, const customer_update& fields) {
    const dialect d = db_.sql_dialect();
    try {
        return db_.in_transaction([&](soci::session& s) -> save_status {
            int id = customer_id;
            long long exists = 0;
            s << "SELECT COUNT(*) FROM Customers WHERE customer_id = :id", soci::use(id),
                soci::into(exists);
            if (exists == 0) return save_status::not_found;
            if (email_taken(s, d, fields.email, customer_id)) return save_status::duplicate_email;
            std::string first = fields.first_name, last = fields.last_name, email = fields.email,
                        erp = fields.erp_customer_name;
            s << "UPDATE Customers SET first_name = :f, last_name = :l, email = :e, "
                 "erp_customer_name = :n "
                 "WHERE customer_id = :id",
                soci::use(first), soci::use(last), soci::use(email), soci::use(erp), soci::use(id);
            return save_status::saved;
        });
    } catch (const soci::soci_error& e) {
        if (is_unique_violation(e)) return save_status::duplicate_email;
        throw;
    }
}

bool customers_repository::set_password_hash(int customer_id, const std::string& password_hash) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id;
        std::string hash = password_hash;
        soci::statement st =
            (s.prepare << "UPDATE Customers SET password_hash = :h, must_reset_password = 0 "
                          "WHERE customer_id = :id",
             soci::use(hash), soci::use(id));
        return execute_counting(st) > 0;
    });
}

bool customers_repository::set_must_reset_password(int customer_id, bool must_reset) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id, flag = must_reset ? 1 : 0;
        soci::statement st =
            (s.prepare << "UPDATE Customers SET must_reset_password = :f WHERE customer_id = :id",
             soci::use(flag), soci::use(id));
        return execute_counting(st) > 0;
    });
}

bool customers_repository::set_active(int customer_id, bool active) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id, flag = active ? 1 : 0;
        soci::statement st =
            (s.prepare << "UPDATE Customers SET is_active = :f WHERE customer_id = :id",
             soci::use(flag), soci::use(id));
        return execute_counting(st) > 0;
    });
}

bool customers_repository::set_last_login(int customer_id, time_point when) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id;
        std::tm at = to_db_time(when);
        soci::statement st =
            (s.prepare << "UPDATE Customers SET last_login_date = :t WHERE customer_id = :id",
             soci::use(at), soci::use(id));
        return execute_counting(st) > 0;
    });
}

customer_page customers_repository::list(const customer_query& query) {
    const dialect d = db_.sql_dialect();
    const int per_page = std::clamp(query.per_page, 1, 1000);
    const int page = std::max(query.page, 1);

    // The count and the page take the same conditions, each statement with its own bound values.
    auto where_clause = [&](bound_values& values) {
        std::string where = " WHERE 1 = 1";
        if (!query.search.empty()) {
            const std::string pattern = contains_pattern(query.search);
            const std::string full_name = d == dialect::mssql ? "first_name + N' ' + last_name"
                                                              : "first_name || ' ' || last_name";
            const std::array<std::string, 5> columns{"first_name", "last_name", full_name, "email",
                                                     "erp_customer_name"};
            where += " AND (";
            for (std::size_t i = 0; i < columns.size(); ++i) {
                if (i > 0) where += " OR ";
                where +=
                    "lower(" + columns[i] + ") LIKE lower(" + values.add(pattern) + ") ESCAPE '!'";
            }
            where += ")";
        }
        return where + status_condition(query.status);
    };
    bound_values count_values;
    const std::string count_where = where_clause(count_values);
    bound_values values;
    const std::string where = where_clause(values);

    const std::string key = sort_expression(query.sort);
    const std::string direction = query.descending ? " DESC" : " ASC";
    // NULLs (never logged in) last in either direction and on every back end; then a tiebreaker
    // on the key so pages neither repeat nor skip rows.
    std::string order =
        " ORDER BY CASE WHEN " + key + " IS NULL THEN 1 ELSE 0 END, " + key + direction;
    if (query.sort == customer_sort::last_name) order += ", lower(first_name)" + direction;
    if (query.sort != customer_sort::customer_id) order += ", customer_id" + direction;

    const long long offset = static_cast<long long>(page - 1) * per_page;
    std::string paging;
    if (d == dialect::mssql) {
        paging = " OFFSET " + values.add(offset) + " ROWS FETCH NEXT " + values.add(per_page) +
                 " ROWS ONLY";
    } else {
        paging = " LIMIT " + values.add(per_page) + " OFFSET " + values.add(offset);
    }

    return db_.with_session([&](soci::session& s) {
        customer_page result;
        {
            soci::statement st(s);
            st.exchange(soci::into(result.total));
            count_values.bind(st);
            st.alloc();
            st.prepare("SELECT COUNT(*) FROM Customers" + count_where);
            st.define_and_bind();
            st.execute(true);
        }
        result.rows = fetch_customers(
            s,
            std::string("SELECT ") + customer_columns + " FROM Customers" + where + order + paging,
            values);
        return result;
    });
}

long long customers_repository::count(status_filter status) {
    return db_.with_session([&](soci::session& s) {
        long long total = 0;
        s << "SELECT COUNT(*) FROM Customers WHERE 1 = 1" + status_condition(status),
            soci::into(total);
        return total;
    });
}

}  // namespace portal::store
