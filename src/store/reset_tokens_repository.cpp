#include "store/reset_tokens_repository.hpp"

namespace portal::store {

namespace {

// The PasswordResetTokens row matching `condition`, whose placeholders `uses` bind in order.
template <class... Uses>
std::optional<reset_token_record> select_token(soci::session& s, const std::string& condition,
                                               const Uses&... uses) {
    reset_token_record r;
    std::tm expiry{}, created{};
    int used = 0;
    std::string purpose;
    soci::indicator used_ind{}, purpose_ind{}, created_ind{};
    soci::statement st(s);
    (st.exchange(uses), ...);
    st.exchange(soci::into(r.token_id));
    st.exchange(soci::into(r.customer_id));
    st.exchange(soci::into(r.token_hash));
    st.exchange(soci::into(expiry));
    st.exchange(soci::into(used, used_ind));
    st.exchange(soci::into(purpose, purpose_ind));
    st.exchange(soci::into(created, created_ind));
    st.alloc();
    st.prepare(
        "SELECT token_id, customer_id, token_hash, expiry_date, is_used, purpose, created_at "
        "FROM PasswordResetTokens WHERE " +
        condition);
    st.define_and_bind();
    if (!st.execute(true)) return std::nullopt;
    r.expiry_date = from_db_time(expiry);
    r.is_used = used_ind == soci::i_ok && used != 0;
    if (purpose_ind == soci::i_ok) r.purpose = purpose;
    if (created_ind == soci::i_ok) r.created_at = from_db_time(created);
    return r;
}

}  // namespace

int reset_tokens_repository::create(int customer_id, const std::string& token_hash,
                                    time_point expires, const std::string& purpose,
                                    time_point now) {
    const dialect d = db_.sql_dialect();
    return db_.in_transaction([&](soci::session& s) {
        int customer = customer_id;
        std::string hash = token_hash, why = purpose;
        std::tm expiry = to_db_time(expires), created = to_db_time(now);
        const std::string columns =
            "(customer_id, token_hash, expiry_date, is_used, purpose, created_at)";
        const std::string values = "(:c, :h, :x, 0, :p, :t)";
        const std::string sql = d == dialect::mssql
                                    ? "INSERT INTO PasswordResetTokens " + columns +
                                          " OUTPUT INSERTED.token_id VALUES " + values
                                    : "INSERT INTO PasswordResetTokens " + columns + " VALUES " +
                                          values + " RETURNING token_id";
        int id = 0;
        s << sql, soci::use(customer), soci::use(hash), soci::use(expiry), soci::use(why),
            soci::use(created), soci::into(id);
        return id;
    });
}

std::optional<reset_token_record> reset_tokens_repository::find_valid(const std::string& token_hash,
                                                                      time_point now) {
    return db_.with_session([&](soci::session& s) {
        std::string hash = token_hash;
        std::tm now_tm = to_db_time(now);
        return select_token(s,
                            "token_hash = :h AND COALESCE(is_used, 0) = 0 AND expiry_date > :now",
                            soci::use(hash), soci::use(now_tm));
    });
}

bool reset_tokens_repository::mark_used(int token_id, time_point now) {
    return db_.in_transaction([&](soci::session& s) {
        int id = token_id;
        std::tm now_tm = to_db_time(now);
        // The condition is re-checked under the row lock the UPDATE takes, so of two concurrent
        // callers only the first changes a row; the second sees is_used = 1 and changes none.
        soci::statement st =
            (s.prepare
                 << "UPDATE PasswordResetTokens SET is_used = 1 "
                    "WHERE token_id = :id AND COALESCE(is_used, 0) = 0 AND expiry_date > :now",
             soci::use(id), soci::use(now_tm));
        st.execute(true);
        return st.get_affected_rows() == 1;
    });
}

std::optional<int> reset_tokens_repository::consume(const std::string& token_hash, time_point now) {
    return db_.in_transaction([&](soci::session& s) -> std::optional<int> {
        std::string hash = token_hash;
        std::tm now_tm = to_db_time(now);
        soci::statement st =
            (s.prepare
                 << "UPDATE PasswordResetTokens SET is_used = 1 "
                    "WHERE token_hash = :h AND COALESCE(is_used, 0) = 0 AND expiry_date > :now",
             soci::use(hash), soci::use(now_tm));
        st.execute(true);
        if (st.get_affected_rows() != 1) return std::nullopt;
        int customer_id = 0;
        s << "SELECT customer_id FROM PasswordResetTokens WHERE token_hash = :h", soci::use(hash),
            soci::into(customer_id);
        return customer_id;
    });
}

int reset_tokens_repository::delete_for_customer(int customer_id) {
    return db_.in_transaction([&](soci::session& s) {
        int id = customer_id;
        soci::statement st =
            (s.prepare << "DELETE FROM PasswordResetTokens WHERE customer_id = :id", soci::use(id));
        st.execute(true);
        return static_cast<int>(st.get_affected_rows());
    });
}

std::optional<reset_token_record> reset_tokens_repository::find_by_hash(
    const std::string& token_hash) {
    return db_.with_session([&](soci::session& s) {
        std::string hash = token_hash;
        return select_token(s, "token_hash = :h", soci::use(hash));
    });
}

}  // namespace portal::store
