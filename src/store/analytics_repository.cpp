#include "store/analytics_repository.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace portal::store {

namespace analytics_sql {

std::string utc_day(dialect d, const std::string& column) {
    switch (d) {
        // SOCI writes std::tm to SQLite as 'YYYY-MM-DD HH:MM:SS' text (as CURRENT_TIMESTAMP does).
        case dialect::sqlite:
            return "substr(" + column + ", 1, 10)";
        case dialect::postgresql:
            return "to_char(" + column + ", 'YYYY-MM-DD')";
        // Style 23 is ISO 8601's yyyy-mm-dd whatever the server's language and date format.
        case dialect::mssql:
            return "CONVERT(CHAR(10), " + column + ", 23)";
    }
    return column;
}

std::string first_rows(dialect d, const std::string& placeholder) {
    if (d == dialect::mssql) return " OFFSET 0 ROWS FETCH NEXT " + placeholder + " ROWS ONLY";
    return " LIMIT " + placeholder;
}

}  // namespace analytics_sql

namespace {

// "2026-11-24" → that day; nullopt for anything else.
std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
    if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
        int value = 0;
        auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, value);
        if (ec != std::errc() || p != text.data() + pos + len) return std::nullopt;
        return value;
    };
    auto y = number(0, 4), m = number(5, 2), dd = number(8, 2);
    if (!y || !m || !dd) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                          std::chrono::month{static_cast<unsigned>(*m)},
                                          std::chrono::day{static_cast<unsigned>(*dd)}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd};
}

// Prepares `sql` with `values` bound and the intos already exchanged on `st`, and runs it.
void run(soci::statement& st, bound_values& values, const std::string& sql, bool fetch_one) {
    values.bind(st);
    st.alloc();
    st.prepare(sql);
    st.define_and_bind();
    st.execute(fetch_one);
}

const std::string logins_between =
    " WHERE action_type = :action AND \"timestamp\" >= :from AND \"timestamp\" < :to";

}  // namespace

long long analytics_repository::count_logins(time_point from, time_point to) {
    return db_.with_session([&](soci::session& s) {
        std::string action = customer_login_action;
        std::tm f = to_db_time(from), t = to_db_time(to);
        long long n = 0;
        s << "SELECT COUNT(*) FROM AuditLog" + logins_between, soci::use(action, "action"),
            soci::use(f, "from"), soci::use(t, "to"), soci::into(n);
        return n;
    });
}

long long analytics_repository::count_unique_logins(time_point from, time_point to) {
    return db_.with_session([&](soci::session& s) {
        std::string action = customer_login_action;
        std::tm f = to_db_time(from), t = to_db_time(to);
        long long n = 0;
        s << "SELECT COUNT(DISTINCT target_customer_id) FROM AuditLog" + logins_between,
            soci::use(action, "action"), soci::use(f, "from"), soci::use(t, "to"), soci::into(n);
        return n;
    });
}

std::vector<day_logins> analytics_repository::logins_per_day(std::chrono::sys_days first,
                                                             int days) {
    const int count = std::max(days, 0);
    const std::string day = analytics_sql::utc_day(db_.sql_dialect(), "\"timestamp\"");
    bound_values values;
    const std::string sql =
        "SELECT " + day + ", COUNT(*) FROM AuditLog WHERE action_type = " +
        values.add(std::string(customer_login_action)) +
        " AND \"timestamp\" >= " + values.add(time_point(first)) + " AND \"timestamp\" < " +
        values.add(time_point(first + std::chrono::days(count))) + " GROUP BY " + day;

    std::map<std::chrono::sys_days, long long> found;
    db_.with_session([&](soci::session& s) {
        std::string text;
        long long n = 0;
        soci::statement st(s);
        st.exchange(soci::into(text));
        st.exchange(soci::into(n));
        run(st, values, sql, false);
        while (st.fetch()) {
            if (auto d = parse_day(text)) found[*d] += n;
        }
    });

    std::vector<day_logins> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const auto d = first + std::chrono::days(i);
        const auto it = found.find(d);
        out.push_back({d, it == found.end() ? 0 : it->second});
    }
    return out;
}

std::vector<active_customer> analytics_repository::most_active(time_point from, time_point to,
                                                               int limit) {
    const dialect d = db_.sql_dialect();
    bound_values values;
    const std::string sql =
        "SELECT c.customer_id, c.first_name, c.last_name, c.email, COUNT(*), MAX(a.\"timestamp\") "
        "FROM AuditLog a JOIN Customers c ON c.customer_id = a.target_customer_id "
        "WHERE a.action_type = " +
        values.add(std::string(customer_login_action)) +
        " AND a.\"timestamp\" >= " + values.add(from) + " AND a.\"timestamp\" < " + values.add(to) +
        " GROUP BY c.customer_id, c.first_name, c.last_name, c.email "
        "ORDER BY COUNT(*) DESC, MAX(a.\"timestamp\") DESC, c.customer_id" +
        analytics_sql::first_rows(d, values.add(std::clamp(limit, 1, 1000)));

    return db_.with_session([&](soci::session& s) {
        active_customer row;
        std::tm last{};
        soci::indicator last_ind{};
        soci::statement st(s);
        st.exchange(soci::into(row.customer_id));
        st.exchange(soci::into(row.first_name));
        st.exchange(soci::into(row.last_name));
        st.exchange(soci::into(row.email));
        st.exchange(soci::into(row.logins));
        st.exchange(soci::into(last, last_ind));
        run(st, values, sql, false);
        std::vector<active_customer> out;
        while (st.fetch()) {
            row.last_login = last_ind == soci::i_ok ? from_db_time(last) : time_point{};
            out.push_back(row);
        }
        return out;
    });
}

std::vector<recent_login> analytics_repository::recent_logins(int limit) {
    const dialect d = db_.sql_dialect();
    bound_values values;
    const std::string sql =
        "SELECT a.log_id, a.\"timestamp\", a.admin_username, a.target_customer_id, c.first_name, "
        "c.last_name, a.ip_address "
        "FROM AuditLog a LEFT JOIN Customers c ON c.customer_id = a.target_customer_id "
        "WHERE a.action_type = " +
        values.add(std::string(customer_login_action)) +
        " ORDER BY a.\"timestamp\" DESC, a.log_id DESC" +
        analytics_sql::first_rows(d, values.add(std::clamp(limit, 1, 1000)));

    return db_.with_session([&](soci::session& s) {
        long long log_id = 0;
        std::tm at{};
        int customer_id = 0;
        std::string email, first, last, ip;
        soci::indicator at_ind{}, customer_ind{}, first_ind{}, last_ind{}, ip_ind{};
        soci::statement st(s);
        st.exchange(soci::into(log_id));
        st.exchange(soci::into(at, at_ind));
        st.exchange(soci::into(email));
        st.exchange(soci::into(customer_id, customer_ind));
        st.exchange(soci::into(first, first_ind));
        st.exchange(soci::into(last, last_ind));
        st.exchange(soci::into(ip, ip_ind));
        run(st, values, sql, false);
        std::vector<recent_login> out;
        while (st.fetch()) {
            recent_login r;
            r.log_id = log_id;
            r.at = at_ind == soci::i_ok ? from_db_time(at) : time_point{};
            r.email = email;
            if (customer_ind == soci::i_ok) r.customer_id = customer_id;
            if (first_ind == soci::i_ok) r.first_name = first;
            if (last_ind == soci::i_ok) r.last_name = last;
            if (ip_ind == soci::i_ok) r.ip_address = ip;
            out.push_back(std::move(r));
        }
        return out;
    });
}

}  // namespace portal::store
