#include "store/settings_repository.hpp"

namespace portal::store {

std::optional<setting_record> settings_repository::find(const std::string& name) {
    return db_.with_session([&](soci::session& s) -> std::optional<setting_record> {
        std::string key = name, value, by;
        std::tm at{};
        soci::indicator value_ind{}, at_ind{}, by_ind{};
        s << "SELECT value, updated_at, updated_by FROM PortalSettings WHERE name = :n",
            soci::use(key), soci::into(value, value_ind), soci::into(at, at_ind),
            soci::into(by, by_ind);
        if (!s.got_data()) return std::nullopt;
        setting_record r;
        if (value_ind == soci::i_ok) r.value = value;
        if (at_ind == soci::i_ok) r.updated_at = from_db_time(at);
        if (by_ind == soci::i_ok) r.updated_by = by;
        return r;
    });
}

void settings_repository::save(const std::string& name, const std::optional<std::string>& value,
                               const std::string& updated_by, time_point at) {
    const dialect d = db_.sql_dialect();
    db_.in_transaction([&](soci::session& s) {
        std::string key = truncate_text(name, 100);
        std::string text = truncate_text(value.value_or(""), 1000);
        soci::indicator value_ind = value ? soci::i_ok : soci::i_null;
        std::string by = truncate_text(updated_by, 255);
        std::tm when = to_db_time(at);
        if (d != dialect::mssql) {
            // One atomic upsert, so two instances saving a new setting at once cannot collide.
            s << "INSERT INTO PortalSettings (name, value, updated_at, updated_by) "
                 "VALUES (:n, :v, :t, :b) ON CONFLICT (name) DO UPDATE SET "
                 "value = excluded.value, updated_at = excluded.updated_at, "
                 "updated_by = excluded.updated_by",
                soci::use(key), soci::use(text, value_ind), soci::use(when), soci::use(by);
            return;
        }
        // T-SQL has no ON CONFLICT: the key-range lock the hints take on a missing row keeps a
        // concurrent insert out until this transaction ends.
        soci::statement update =
            (s.prepare << "UPDATE PortalSettings WITH (UPDLOCK, SERIALIZABLE) SET value = :v, "
                          "updated_at = :t, updated_by = :b WHERE name = :n",
             soci::use(text, value_ind), soci::use(when), soci::use(by), soci::use(key));
        update.execute(true);
        if (update.get_affected_rows() > 0) return;
        s << "INSERT INTO PortalSettings (name, value, updated_at, updated_by) "
             "VALUES (:n, :v, :t, :b)",
            soci::use(key), soci::use(text, value_ind), soci::use(when), soci::use(by);
    });
}

}  // namespace portal::store
