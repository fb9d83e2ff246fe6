// Portal-wide settings an administrator changes at run time (PortalSettings, migration 3), kept in
// the store so every instance sharing it applies the same values.
#pragma once

#include "store/database.hpp"

#include <optional>
#include <string>

namespace portal::store {

struct setting_record {
    std::optional<std::string> value;  // NULL: the setting is off / unset
    std::optional<time_point> updated_at;
    std::string updated_by;
};

class settings_repository {
  public:
    explicit settings_repository(database& db) : db_(db) {}

    // nullopt when the setting has never been saved.
    std::optional<setting_record> find(const std::string& name);
    // Creates or replaces the setting's row.
    void save(const std::string& name, const std::optional<std::string>& value,
              const std::string& updated_by, time_point at);

  private:
    database& db_;
};

}  // namespace portal::store
