#include "store/outbox_repository.hpp"

#include <algorithm>

namespace portal::store {

namespace {

std::string text_or_empty(const std::string& value, soci::indicator ind) {
    return ind == soci::i_ok ? value : std::string();
}

std::chrono::seconds backoff_after(int attempts, std::chrono::seconds first_retry) {
    const int doublings = std::clamp(attempts - 1, 0, 6);
    return std::min<std::chrono::seconds>(first_retry * (1 << doublings), first_retry * 60);
}

}  // namespace

long long outbox_repository::enqueue(const outbound_mail& mail, time_point now) {
    const dialect d = db_.sql_dialect();
    return db_.in_transaction([&](soci::session& s) {
        std::string recipient = truncate_text(mail.recipient, 255),
                    subject = truncate_text(mail.subject, 500);
        std::string bcc = truncate_text(mail.bcc, 1000), text = mail.text_body,
                    html = mail.html_body;
        soci::indicator bcc_ind = bcc.empty() ? soci::i_null : soci::i_ok;
        soci::indicator html_ind = html.empty() ? soci::i_null : soci::i_ok;
        std::tm created = to_db_time(now), due = created;
        const std::string columns =
            "(recipient, bcc, subject, text_body, html_body, created_at, attempts, "
            "next_attempt_at)";
        const std::string values = "(:r, :b, :s, :t, :h, :c, 0, :n)";
        const std::string sql =
            d == dialect::mssql
                ? "INSERT INTO MailOutbox " + columns + " OUTPUT INSERTED.id VALUES " + values
                : "INSERT INTO MailOutbox " + columns + " VALUES " + values + " RETURNING id";
        long long id = 0;
        s << sql, soci::use(recipient), soci::use(bcc, bcc_ind), soci::use(subject),
            soci::use(text), soci::use(html, html_ind), soci::use(created), soci::use(due),
            soci::into(id);
        return id;
    });
}

std::vector<outbox_message> outbox_repository::claim_due(time_point now, int limit,
                                                         std::chrono::seconds lease) {
    const dialect d = db_.sql_dialect();
    const int batch = std::clamp(limit, 1, 1000);
    return db_.in_transaction([&](soci::session& s) {
        std::tm now_tm = to_db_time(now), hidden_until = to_db_time(now + lease);
        int max_attempts = outbox_max_attempts;

        std::vector<long long> candidates;
        {
            bound_values values;
            const std::string due =
                " FROM MailOutbox WHERE sent_at IS NULL AND next_attempt_at <= " + values.add(now) +
                " AND attempts < " + values.add(max_attempts) + " ORDER BY next_attempt_at, id";
            const std::string sql = d == dialect::mssql
                                        ? "SELECT id" + due + " OFFSET 0 ROWS FETCH NEXT " +
                                              values.add(batch) + " ROWS ONLY"
                                        : "SELECT id" + due + " LIMIT " + values.add(batch);
            long long id = 0;
            soci::statement st(s);
            st.exchange(soci::into(id));
            values.bind(st);
            st.alloc();
            st.prepare(sql);
            st.define_and_bind();
            st.execute(false);
            while (st.fetch()) candidates.push_back(id);
        }

        // Claim one by one with the due condition repeated: another instance that read the same
        // candidates claims each row at most once between us, whatever the isolation level.
        std::vector<long long> claimed;
        for (long long candidate : candidates) {
            long long id = candidate;
            soci::statement st =
                (s.prepare << "UPDATE MailOutbox SET next_attempt_at = :until "
                              "WHERE id = :id AND sent_at IS NULL AND next_attempt_at <= :now",
                 soci::use(hidden_until), soci::use(id), soci::use(now_tm));
            st.execute(true);
            if (st.get_affected_rows() == 1) claimed.push_back(candidate);
        }

        std::vector<outbox_message> out;
        for (long long candidate : claimed) {
            long long id = candidate;
            outbox_message m;
            std::string bcc, text, html, error;
            int text_long = 0, html_long = 0;
            std::tm created{}, next{}, sent{};
            soci::indicator bcc_ind{}, text_ind{}, html_ind{}, error_ind{}, sent_ind{};
            s << "SELECT id, recipient, bcc, subject, " + short_text_column(d, "text_body") + ", " +
                     long_text_flag(d, "text_body") + ", " + short_text_column(d, "html_body") +
                     ", " + long_text_flag(d, "html_body") +
                     ", created_at, attempts, next_attempt_at, sent_at, last_error FROM MailOutbox "
                     "WHERE id = :id",
                soci::use(id), soci::into(m.id), soci::into(m.recipient), soci::into(bcc, bcc_ind),
                soci::into(m.subject), soci::into(text, text_ind), soci::into(text_long),
                soci::into(html, html_ind), soci::into(html_long), soci::into(created),
                soci::into(m.attempts), soci::into(next), soci::into(sent, sent_ind),
                soci::into(error, error_ind);
            m.bcc = text_or_empty(bcc, bcc_ind);
            m.text_body =
                text_long != 0
                    ? read_long_text(s, d, "MailOutbox", "text_body", "id", id).value_or("")
                    : text_or_empty(text, text_ind);
            m.html_body =
                html_long != 0
                    ? read_long_text(s, d, "MailOutbox", "html_body", "id", id).value_or("")
                    : text_or_empty(html, html_ind);
            m.created_at = from_db_time(created);
            m.next_attempt_at = from_db_time(next);
            if (sent_ind == soci::i_ok) m.sent_at = from_db_time(sent);
            m.last_error = text_or_empty(error, error_ind);
            out.push_back(std::move(m));
        }
        return out;
    });
}

bool outbox_repository::mark_sent(long long id, time_point now) {
    return db_.in_transaction([&](soci::session& s) {
        long long message = id;
        std::tm sent = to_db_time(now);
        soci::statement st =
            (s.prepare
                 << "UPDATE MailOutbox SET sent_at = :t, attempts = attempts + 1 WHERE id = :id",
             soci::use(sent), soci::use(message));
        st.execute(true);
        return st.get_affected_rows() > 0;
    });
}

bool outbox_repository::mark_failed(long long id, const std::string& error, time_point now,
                                    std::chrono::seconds first_retry) {
    return db_.in_transaction([&](soci::session& s) {
        long long message = id;
        int attempts = 0;
        s << "SELECT attempts FROM MailOutbox WHERE id = :id AND sent_at IS NULL",
            soci::use(message), soci::into(attempts);
        if (!s.got_data()) return false;
        ++attempts;
        std::tm next = to_db_time(now + backoff_after(attempts, first_retry));
        std::string text = truncate_text(error, 1000);
        s << "UPDATE MailOutbox SET attempts = :a, next_attempt_at = :n, last_error = :e WHERE id "
             "= :id",
            soci::use(attempts), soci::use(next), soci::use(text), soci::use(message);
        return true;
    });
}

bool outbox_repository::release(long long id, time_point now) {
    return db_.in_transaction([&](soci::session& s) {
        long long message = id;
        std::tm due = to_db_time(now);
        soci::statement st =
            (s.prepare << "UPDATE MailOutbox SET next_attempt_at = :n WHERE id = :id AND sent_at "
                          "IS NULL",
             soci::use(due), soci::use(message));
        st.execute(true);
        return st.get_affected_rows() > 0;
    });
}

long long outbox_repository::count_pending() {
    return db_.with_session([&](soci::session& s) {
        long long n = 0;
        int max_attempts = outbox_max_attempts;
        s << "SELECT COUNT(*) FROM MailOutbox WHERE sent_at IS NULL AND attempts < :m",
            soci::use(max_attempts), soci::into(n);
        return n;
    });
}

long long outbox_repository::count_failed() {
    return db_.with_session([&](soci::session& s) {
        long long n = 0;
        int max_attempts = outbox_max_attempts;
        s << "SELECT COUNT(*) FROM MailOutbox WHERE sent_at IS NULL AND attempts >= :m",
            soci::use(max_attempts), soci::into(n);
        return n;
    });
}

}  // namespace portal::store
