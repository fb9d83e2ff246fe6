#include "store/sessions_repository.hpp"

namespace portal::store {

namespace {

// Column widths from the schema (SPEC §6 and migration 2).
constexpr std::size_t ip_width = 100;
constexpr std::size_t user_agent_width = 500;

std::string text_or_empty(const std::string& value, soci::indicator ind) {
    return ind == soci::i_ok ? value : std::string();
}

long long affected(soci::statement& st) {
    st.execute(true);
    return st.get_affected_rows();
}

struct customer_session_row {
    std::string session_id;
    int customer_id = 0;
    std::tm created_at{}, last_seen{}, expires_at{};
    std::string ip_address, user_agent, csrf_secret;
    std::string first_name, last_name, email, erp_customer_name;
    int is_active = 0, must_reset_password = 0;
    soci::indicator created_ind{}, last_seen_ind{}, expires_ind{}, ip_ind{}, ua_ind{}, csrf_ind{},
        active_ind{}, must_reset_ind{};

    void exchange(soci::statement& st) {
        st.exchange(soci::into(session_id));
        st.exchange(soci::into(customer_id));
        st.exchange(soci::into(created_at, created_ind));
        st.exchange(soci::into(last_seen, last_seen_ind));
        st.exchange(soci::into(expires_at, expires_ind));
        st.exchange(soci::into(ip_address, ip_ind));
        st.exchange(soci::into(user_agent, ua_ind));
        st.exchange(soci::into(csrf_secret, csrf_ind));
        st.exchange(soci::into(first_name));
        st.exchange(soci::into(last_name));
        st.exchange(soci::into(email));
        st.exchange(soci::into(erp_customer_name));
        st.exchange(soci::into(is_active, active_ind));
        st.exchange(soci::into(must_reset_password, must_reset_ind));
    }

    customer_session value() const {
        customer_session r;
        r.session.session_id = session_id;
        r.session.customer_id = customer_id;
        if (created_ind == soci::i_ok) r.session.created_at = from_db_time(created_at);
        // Sessions the Flask portal wrote may lack last_seen: count them as seen when created.
        r.session.last_seen =
            last_seen_ind == soci::i_ok ? from_db_time(last_seen) : r.session.created_at;
        if (expires_ind == soci::i_ok) r.session.expires_at = from_db_time(expires_at);
        r.session.ip_address = text_or_empty(ip_address, ip_ind);
        r.session.user_agent = text_or_empty(user_agent, ua_ind);
        r.session.csrf_secret = text_or_empty(csrf_secret, csrf_ind);
        r.customer.customer_id = customer_id;
        r.customer.first_name = first_name;
        r.customer.last_name = last_name;
        r.customer.email = email;
        r.customer.erp_customer_name = erp_customer_name;
        r.customer.is_active = active_ind == soci::i_ok && is_active != 0;
        r.customer.must_reset_password = must_reset_ind == soci::i_ok && must_reset_password != 0;
        return r;
    }
};

struct admin_session_row {
    std::string session_id, admin_username, auth_method;
    std::tm created_at{}, last_seen{};
    std::string ip_address, user_agent, csrf_secret;
    soci::indicator ip_ind{}, ua_ind{}, csrf_ind{};

    void exchange(soci::statement& st) {
        st.exchange(soci::into(session_id));
        st.exchange(soci::into(admin_username));
        st.exchange(soci::into(auth_method));
        st.exchange(soci::into(created_at));
        st.exchange(soci::into(last_seen));
        st.exchange(soci::into(ip_address, ip_ind));
        st.exchange(soci::into(user_agent, ua_ind));
        st.exchange(soci::into(csrf_secret, csrf_ind));
    }

    admin_session_record value() const {
        admin_session_record r;
        r.session_id = session_id;
        r.admin_username = admin_username;
        r.auth_method = auth_method;
        r.created_at = from_db_time(created_at);
        r.last_seen = from_db_time(last_seen);
        r.ip_address = text_or_empty(ip_address, ip_ind);
        r.user_agent = text_or_empty(user_agent, ua_ind);
        r.csrf_secret = text_or_empty(csrf_secret, csrf_ind);
        return r;
    }
};

// A session looked up by id on every request: prepared once per pooled connection.
template <class Row, const char* Sql>
struct session_lookup {
    std::string id;
    Row row;
    soci::statement st;

    explicit session_lookup(soci::session& s) : st(s) {
        row.exchange(st);
        st.exchange(soci::use(id));
        st.alloc();
        st.prepare(Sql);
        st.define_and_bind();
    }

    auto run(const std::string& session_id) -> std::optional<decltype(row.value())> {
        id = session_id;
        if (!st.execute(true)) return std::nullopt;
        auto found = row.value();
        // Step past the only row: a SQLite statement left mid-result would keep its read
        // transaction (and an old snapshot) open on this connection until the next request.
        st.fetch();
        return found;
    }
};

}  // namespace

void sessions_repository::create_customer_session(const customer_session_record& session) {
    db_.in_transaction([&](soci::session& s) {
        std::string id = session.session_id, csrf = session.csrf_secret;
        std::string ip = truncate_text(session.ip_address, ip_width);
        std::string ua = truncate_text(session.user_agent, user_agent_width);
        int customer_id = session.customer_id;
        std::tm created = to_db_time(session.created_at), seen = to_db_time(session.last_seen),
                expires{};
        soci::indicator expires_ind = soci::i_null;
        if (session.expires_at) {
            expires = to_db_time(*session.expires_at);
            expires_ind = soci::i_ok;
        }
        s << "INSERT INTO ActiveSessions (session_id, customer_id, last_seen, ip_address, "
             "user_agent, created_at, "
             "csrf_secret, expires_at) VALUES (:id, :c, :seen, :ip, :ua, :created, :csrf, "
             ":expires)",
            soci::use(id), soci::use(customer_id), soci::use(seen), soci::use(ip), soci::use(ua),
            soci::use(created), soci::use(csrf), soci::use(expires, expires_ind);
    });
}

constexpr char customer_session_sql[] =
    "SELECT s.session_id, s.customer_id, s.created_at, s.last_seen, s.expires_at, s.ip_address, "
    "s.user_agent, s.csrf_secret, c.first_name, c.last_name, c.email, c.erp_customer_name, c.is_active, "
    "c.must_reset_password FROM ActiveSessions s JOIN Customers c ON c.customer_id = s.customer_id "
    "WHERE s.session_id = :id";

std::optional<customer_session> sessions_repository::find_customer_session(
    const std::string& session_id) {
    return db_.with_prepared<session_lookup<customer_session_row, customer_session_sql>>(
        [&](auto& lookup) { return lookup.run(session_id); });
}

bool sessions_repository::touch_customer_session(const std::string& session_id, time_point now) {
    return db_.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        std::tm seen = to_db_time(now);
        soci::statement st =
            (s.prepare << "UPDATE ActiveSessions SET last_seen = :t WHERE session_id = :id",
             soci::use(seen), soci::use(id));
        return affected(st) > 0;
    });
}

bool sessions_repository::delete_customer_session(const std::string& session_id) {
    return db_.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        soci::statement st =
            (s.prepare << "DELETE FROM ActiveSessions WHERE session_id = :id", soci::use(id));
        return affected(st) > 0;
    });
}

int sessions_repository::delete_customer_sessions(int customer_id) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id;
        soci::statement st =
            (s.prepare << "DELETE FROM ActiveSessions WHERE customer_id = :id", soci::use(id));
        return static_cast<int>(affected(st));
    });
}

int sessions_repository::delete_expired_customer_sessions(time_point now, std::chrono::seconds idle,
                                                          std::chrono::seconds lifetime) {
    return db_.in_transaction([&](soci::session& s) {
        std::tm idle_cutoff = to_db_time(now - idle), now_tm = to_db_time(now),
                lifetime_cutoff = to_db_time(now - lifetime);
        soci::statement st =
            (s.prepare
                 << "DELETE FROM ActiveSessions WHERE COALESCE(last_seen, created_at) < :idle "
                    "OR (expires_at IS NOT NULL AND expires_at <= :now) "
                    "OR (expires_at IS NULL AND created_at < :lifetime)",
             soci::use(idle_cutoff), soci::use(now_tm), soci::use(lifetime_cutoff));
        return static_cast<int>(affected(st));
    });
}

std::vector<session_listing> sessions_repository::list_customer_sessions() {
    return db_.with_session([&](soci::session& s) {
        session_listing row;
        std::tm created{}, seen{};
        soci::indicator ip_ind{}, ua_ind{}, created_ind{}, seen_ind{};
        soci::statement st =
            (s.prepare
                 << "SELECT s.session_id, s.customer_id, c.first_name, c.last_name, c.email, "
                    "s.ip_address, "
                    "s.user_agent, s.created_at, s.last_seen FROM ActiveSessions s "
                    "JOIN Customers c ON c.customer_id = s.customer_id "
                    "ORDER BY CASE WHEN s.last_seen IS NULL THEN 1 ELSE 0 END, s.last_seen DESC, "
                    "s.session_id",
             soci::into(row.session_id), soci::into(row.customer_id), soci::into(row.first_name),
             soci::into(row.last_name), soci::into(row.email), soci::into(row.ip_address, ip_ind),
             soci::into(row.user_agent, ua_ind), soci::into(created, created_ind),
             soci::into(seen, seen_ind));
        st.execute(false);
        std::vector<session_listing> out;
        while (st.fetch()) {
            session_listing item = row;
            item.ip_address = text_or_empty(row.ip_address, ip_ind);
            item.user_agent = text_or_empty(row.user_agent, ua_ind);
            item.created_at = created_ind == soci::i_ok ? from_db_time(created) : time_point{};
            item.last_seen = seen_ind == soci::i_ok ? from_db_time(seen) : item.created_at;
            out.push_back(std::move(item));
        }
        return out;
    });
}

long long sessions_repository::count_customer_sessions() {
    return db_.with_session([&](soci::session& s) {
        long long n = 0;
        s << "SELECT COUNT(*) FROM ActiveSessions", soci::into(n);
        return n;
    });
}

void sessions_repository::create_admin_session(const admin_session_record& session) {
    db_.in_transaction([&](soci::session& s) {
        std::string id = session.session_id, user = session.admin_username,
                    method = session.auth_method, csrf = session.csrf_secret;
        std::string ip = truncate_text(session.ip_address, ip_width);
        std::string ua = truncate_text(session.user_agent, user_agent_width);
        std::tm created = to_db_time(session.created_at), seen = to_db_time(session.last_seen);
        s << "INSERT INTO AdminSessions (session_id, admin_username, auth_method, created_at, "
             "last_seen, "
             "ip_address, user_agent, csrf_secret) VALUES (:id, :u, :m, :created, :seen, :ip, :ua, "
             ":csrf)",
            soci::use(id), soci::use(user), soci::use(method), soci::use(created), soci::use(seen),
            soci::use(ip), soci::use(ua), soci::use(csrf);
    });
}

constexpr char admin_session_sql[] =
    "SELECT session_id, admin_username, auth_method, created_at, last_seen, ip_address, user_agent, "
    "csrf_secret FROM AdminSessions WHERE session_id = :id";

std::optional<admin_session_record> sessions_repository::find_admin_session(
    const std::string& session_id) {
    return db_.with_prepared<session_lookup<admin_session_row, admin_session_sql>>(
        [&](auto& lookup) { return lookup.run(session_id); });
}

bool sessions_repository::touch_admin_session(const std::string& session_id, time_point now) {
    return db_.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        std::tm seen = to_db_time(now);
        soci::statement st =
            (s.prepare << "UPDATE AdminSessions SET last_seen = :t WHERE session_id = :id",
             soci::use(seen), soci::use(id));
        return affected(st) > 0;
    });
}

bool sessions_repository::delete_admin_session(const std::string& session_id) {
    return db_.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        soci::statement st =
            (s.prepare << "DELETE FROM AdminSessions WHERE session_id = :id", soci::use(id));
        return affected(st) > 0;
    });
}

int sessions_repository::delete_expired_admin_sessions(time_point now, std::chrono::seconds idle,
                                                       std::chrono::seconds lifetime) {
    return db_.in_transaction([&](soci::session& s) {
        std::tm idle_cutoff = to_db_time(now - idle), lifetime_cutoff = to_db_time(now - lifetime);
        soci::statement st =
            (s.prepare
                 << "DELETE FROM AdminSessions WHERE last_seen < :idle OR created_at < :lifetime",
             soci::use(idle_cutoff), soci::use(lifetime_cutoff));
        return static_cast<int>(affected(st));
    });
}

long long sessions_repository::count_admin_sessions() {
    return db_.with_session([&](soci::session& s) {
        long long n = 0;
        s << "SELECT COUNT(*) FROM AdminSessions", soci::into(n);
        return n;
    });
}

}  // namespace portal::store

// Housekeeping's automatic sign-out of idle sessions (admin sessions page, issue 6).
namespace portal::store {

bool delete_customer_session_if_idle(database& db, const std::string& session_id,
                                     time_point idle_before) {
    return db.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        std::tm cutoff = to_db_time(idle_before);
        soci::statement st =
            (s.prepare << "DELETE FROM ActiveSessions WHERE session_id = :id "
                          "AND COALESCE(last_seen, created_at) < :cutoff",
             soci::use(id), soci::use(cutoff));
        st.execute(true);
        return st.get_affected_rows() > 0;
    });
}

}  // namespace portal::store

// Set-password links waiting for their admin (web/link_notices.hpp).
namespace portal::store {

bool admin_session_has_notice(database& db, const std::string& session_id) {
    return db.with_session([&](soci::session& s) {
        std::string id = session_id;
        long long n = 0;
        s << "SELECT COUNT(*) FROM AdminSessions WHERE session_id = :id AND pending_notice IS "
             "NOT NULL",
            soci::use(id), soci::into(n);
        return n > 0;
    });
}

bool change_admin_session_notice(
    database& db, const std::string& session_id, bool only_if_pending,
    const std::function<std::optional<std::string>(const std::optional<std::string>&)>& change) {
    return db.in_transaction([&](soci::session& s) {
        std::string id = session_id;
        // A no-op UPDATE takes the row's write lock the same way on every dialect (SELECT … FOR
        // UPDATE is not T-SQL). A concurrent taker blocks here until this transaction ends, then
        // re-checks `pending_notice IS NOT NULL` against what was committed.
        const std::string lock_sql =
            std::string(
                "UPDATE AdminSessions SET pending_notice = pending_notice WHERE "
                "session_id = :id") +
            (only_if_pending ? " AND pending_notice IS NOT NULL" : "");
        soci::statement lock = (s.prepare << lock_sql, soci::use(id));
        if (affected(lock) == 0) return false;

        std::string stored;
        soci::indicator ind = soci::i_null;
        s << "SELECT pending_notice FROM AdminSessions WHERE session_id = :id", soci::use(id),
            soci::into(stored, ind);
        std::optional<std::string> current;
        if (s.got_data() && ind == soci::i_ok) current = stored;
        if (only_if_pending && !current) return false;

        const std::optional<std::string> next = change(current);
        if (next == current) return true;
        if (next && next->size() > admin_notice_width)
            throw std::length_error("an admin session notice is wider than its column");
        std::string value = next.value_or(std::string());
        soci::indicator value_ind = next ? soci::i_ok : soci::i_null;
        s << "UPDATE AdminSessions SET pending_notice = :n WHERE session_id = :id",
            soci::use(value, value_ind), soci::use(id);
        return true;
    });
}

}  // namespace portal::store
