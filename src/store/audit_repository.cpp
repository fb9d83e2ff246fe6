#include "store/audit_repository.hpp"

#include <algorithm>

namespace portal::store {

namespace {

std::string where_clause(const audit_filter& f, bound_values& values) {
    std::string where = " WHERE 1 = 1";
    if (!f.actor.empty()) {
        where += " AND lower(admin_username) LIKE lower(" + values.add(contains_pattern(f.actor)) +
                 ") ESCAPE '!'";
    }
    if (!f.action_type.empty()) where += " AND action_type = " + values.add(f.action_type);
    if (f.customer_id) where += " AND target_customer_id = " + values.add(*f.customer_id);
    if (!f.customer_email.empty()) {
        where += " AND lower(target_customer_email) LIKE lower(" +
                 values.add(contains_pattern(f.customer_email)) + ") ESCAPE '!'";
    }
    if (f.from) where += " AND \"timestamp\" >= " + values.add(*f.from);
    if (f.to) where += " AND \"timestamp\" < " + values.add(*f.to);
    return where;
}

template <class T>
std::optional<T> optional_of(const T& value, soci::indicator ind) {
    if (ind != soci::i_ok) return std::nullopt;
    return value;
}

// The columns read_entries expects, in its order (after any TOP clause).
std::string entry_columns(dialect d) {
    return "log_id, \"timestamp\", admin_username, action_type, target_customer_id, "
           "target_customer_email, " +
           short_text_column(d, "details") + ", " + long_text_flag(d, "details") +
           ", ip_address, user_agent";
}

// Runs `sql` (selecting entry_columns, with `values` bound) and reads every row.
std::vector<audit_entry> read_entries(database& db, dialect d, const std::string& sql,
                                      bound_values& values) {
    return db.with_session([&](soci::session& s) {
        audit_entry row;
        std::tm at{};
        int customer_id = 0, details_long = 0;
        std::string email, details, ip, ua;
        soci::indicator at_ind{}, customer_ind{}, email_ind{}, details_ind{}, ip_ind{}, ua_ind{};
        soci::statement st(s);
        st.exchange(soci::into(row.log_id));
        st.exchange(soci::into(at, at_ind));
        st.exchange(soci::into(row.admin_username));
        st.exchange(soci::into(row.action_type));
        st.exchange(soci::into(customer_id, customer_ind));
        st.exchange(soci::into(email, email_ind));
        st.exchange(soci::into(details, details_ind));
        st.exchange(soci::into(details_long));
        st.exchange(soci::into(ip, ip_ind));
        st.exchange(soci::into(ua, ua_ind));
        values.bind(st);
        st.alloc();
        st.prepare(sql);
        st.define_and_bind();
        st.execute(false);
        std::vector<audit_entry> out;
        std::vector<std::size_t> long_details;
        while (st.fetch()) {
            audit_entry e;
            e.log_id = row.log_id;
            e.timestamp = at_ind == soci::i_ok ? from_db_time(at) : time_point{};
            e.admin_username = row.admin_username;
            e.action_type = row.action_type;
            e.target_customer_id = optional_of(customer_id, customer_ind);
            e.target_customer_email = optional_of(email, email_ind);
            e.details = optional_of(details, details_ind);
            e.ip_address = optional_of(ip, ip_ind);
            e.user_agent = optional_of(ua, ua_ind);
            if (details_long != 0) long_details.push_back(out.size());
            out.push_back(std::move(e));
        }
        // After the loop: SQL Server without MARS runs one result set per connection at a time.
        for (std::size_t i : long_details) {
            out[i].details = read_long_text(s, d, "AuditLog", "details", "log_id", out[i].log_id);
        }
        return out;
    });
}

}  // namespace

long long audit_repository::append(const new_audit_entry& entry) {
    const dialect d = db_.sql_dialect();
    return db_.in_transaction([&](soci::session& s) {
        std::tm at = to_db_time(entry.timestamp);
        std::string actor = truncate_text(entry.admin_username, 100);
        std::string action = truncate_text(entry.action_type, 50);
        int customer_id = entry.target_customer_id.value_or(0);
        soci::indicator customer_ind = entry.target_customer_id ? soci::i_ok : soci::i_null;
        std::string email = entry.target_customer_email.value_or("");
        soci::indicator email_ind = entry.target_customer_email ? soci::i_ok : soci::i_null;
        std::string details = entry.details.value_or("");
        soci::indicator details_ind = entry.details ? soci::i_ok : soci::i_null;
        std::string ip = truncate_text(entry.ip_address.value_or(""), 100);
        soci::indicator ip_ind = entry.ip_address ? soci::i_ok : soci::i_null;
        std::string ua = truncate_text(entry.user_agent.value_or(""), 500);
        soci::indicator ua_ind = entry.user_agent ? soci::i_ok : soci::i_null;

        const std::string columns =
            "(\"timestamp\", admin_username, action_type, target_customer_id, "
            "target_customer_email, details, "
            "ip_address, user_agent)";
        const std::string values = "(:t, :a, :k, :c, :e, :d, :ip, :ua)";
        const std::string sql =
            d == dialect::mssql
                ? "INSERT INTO AuditLog " + columns + " OUTPUT INSERTED.log_id VALUES " + values
                : "INSERT INTO AuditLog " + columns + " VALUES " + values + " RETURNING log_id";
        long long id = 0;
        s << sql, soci::use(at), soci::use(actor), soci::use(action),
            soci::use(customer_id, customer_ind), soci::use(email, email_ind),
            soci::use(details, details_ind), soci::use(ip, ip_ind), soci::use(ua, ua_ind),
            soci::into(id);
        return id;
    });
}

std::vector<audit_entry> audit_repository::list(const audit_filter& filter) {
    const dialect d = db_.sql_dialect();
    const int per_page = std::clamp(filter.per_page, 1, 1000);
    const long long offset = static_cast<long long>(std::max(filter.page, 1) - 1) * per_page;
    bound_values values;
    std::string sql = "SELECT " + entry_columns(d) + " FROM AuditLog" +
                      where_clause(filter, values) + " ORDER BY \"timestamp\" DESC, log_id DESC";
    if (d == dialect::mssql) {
        sql += " OFFSET " + values.add(offset) + " ROWS FETCH NEXT " + values.add(per_page) +
               " ROWS ONLY";
    } else {
        sql += " LIMIT " + values.add(per_page) + " OFFSET " + values.add(offset);
    }
    return read_entries(db_, d, sql, values);
}

long long audit_repository::count(const audit_filter& filter) {
    bound_values values;
    const std::string sql = "SELECT COUNT(*) FROM AuditLog" + where_clause(filter, values);
    return db_.with_session([&](soci::session& s) {
        long long n = 0;
        soci::statement st(s);
        st.exchange(soci::into(n));
        values.bind(st);
        st.alloc();
        st.prepare(sql);
        st.define_and_bind();
        st.execute(true);
        return n;
    });
}

}  // namespace portal::store

// The audit page's action list and the CSV export's pages (admin audit, issue 6).
namespace portal::store {

std::vector<std::string> list_audit_actions(database& db) {
    return db.with_session([&](soci::session& s) {
        std::vector<std::string> out;
        std::string action;
        soci::statement st =
            (s.prepare << "SELECT DISTINCT action_type FROM AuditLog ORDER BY action_type",
             soci::into(action));
        st.execute(false);
        while (st.fetch()) out.push_back(action);
        return out;
    });
}

long long max_audit_log_id(database& db) {
    return db.with_session([&](soci::session& s) {
        long long id = 0;
        soci::indicator ind = soci::i_null;
        s << "SELECT MAX(log_id) FROM AuditLog", soci::into(id, ind);
        return ind == soci::i_ok ? id : 0LL;
    });
}

std::vector<audit_entry> list_audit_after(database& db, const audit_filter& filter,
                                          const std::optional<audit_cursor>& after,
                                          long long max_log_id, int limit) {
    const dialect d = db.sql_dialect();
    limit = std::clamp(limit, 1, 5000);
    bound_values values;
    std::string where = where_clause(filter, values) + " AND log_id <= " + values.add(max_log_id);
    if (after) {
        const std::string before = values.add(after->timestamp);
        const std::string same = values.add(after->timestamp);
        where += " AND (\"timestamp\" < " + before + " OR (\"timestamp\" = " + same +
                 " AND log_id < " + values.add(after->log_id) + "))";
    }
    const std::string top = d == dialect::mssql ? "TOP (" + values.add(limit) + ") " : "";
    std::string sql = "SELECT " + top + entry_columns(d) + " FROM AuditLog" + where +
                      " ORDER BY \"timestamp\" DESC, log_id DESC";
    if (d != dialect::mssql) sql += " LIMIT " + values.add(limit);
    return read_entries(db, d, sql, values);
}

}  // namespace portal::store
