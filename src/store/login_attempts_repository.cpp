#include "store/login_attempts_repository.hpp"

#include <algorithm>
#include <cctype>

namespace portal::store {

namespace {

// ASCII only, deliberately: emails compare by their ASCII case here and in the Customers lookup,
// and addresses are ASCII; the lower-cased form just has to be the same every time.
std::string lowered(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return truncate_text(out, 255);
}

}  // namespace

std::string_view to_string(attempt_scope scope) {
    return scope == attempt_scope::account ? "account" : "address";
}

void login_attempts_repository::record(attempt_scope scope, const std::string& subject,
                                       bool succeeded, time_point at) {
    db_.in_transaction([&](soci::session& s) {
        std::string scope_text(to_string(scope)), who = lowered(subject);
        std::tm when = to_db_time(at);
        int ok = succeeded ? 1 : 0;
        s << "INSERT INTO LoginAttempts (scope, subject, attempted_at, succeeded) VALUES (:s, :w, "
             ":t, :ok)",
            soci::use(scope_text), soci::use(who), soci::use(when), soci::use(ok);
    });
}

int login_attempts_repository::count_failures_since(attempt_scope scope, const std::string& subject,
                                                    time_point since) {
    return db_.with_session([&](soci::session& s) {
        std::string scope_text(to_string(scope)), who = lowered(subject);
        std::tm from = to_db_time(since);
        long long n = 0;
        s << "SELECT COUNT(*) FROM LoginAttempts WHERE scope = :s AND subject = :w AND "
             "attempted_at >= :t "
             "AND succeeded = 0",
            soci::use(scope_text), soci::use(who), soci::use(from), soci::into(n);
        return static_cast<int>(n);
    });
}

int login_attempts_repository::clear_failures(attempt_scope scope, const std::string& subject) {
    return db_.in_transaction([&](soci::session& s) {
        std::string scope_text(to_string(scope)), who = lowered(subject);
        soci::statement st =
            (s.prepare
                 << "DELETE FROM LoginAttempts WHERE scope = :s AND subject = :w AND succeeded = 0",
             soci::use(scope_text), soci::use(who));
        st.execute(true);
        return static_cast<int>(st.get_affected_rows());
    });
}

int login_attempts_repository::delete_older_than(time_point before) {
    return db_.in_transaction([&](soci::session& s) {
        std::tm cutoff = to_db_time(before);
        soci::statement st =
            (s.prepare << "DELETE FROM LoginAttempts WHERE attempted_at < :t", soci::use(cutoff));
        st.execute(true);
        return static_cast<int>(st.get_affected_rows());
    });
}

}  // namespace portal::store
