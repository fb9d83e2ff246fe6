// The local store's schema, one ordered list of versions per SQL dialect, and the code applying it.
#pragma once

#include "store/database.hpp"

#include <string>
#include <vector>

namespace portal::store {

struct migration {
    int version;
    std::string description;
    std::vector<std::string> statements;  // run in order, in one transaction
};

// Everything dialect-specific the migrator runs. All T-SQL lives here.
struct dialect_schema {
    std::string lock;                   // serialises migrators (empty: BEGIN IMMEDIATE does it)
    std::string create_version_table;   // idempotent
    std::string version_table_exists;   // SELECT yielding one integer, 0 or 1
    std::vector<migration> migrations;  // ascending versions
};

const dialect_schema& schema_for(dialect d);

// The highest version this build knows.
int latest_schema_version();

// Applies every missing version, each in its own transaction together with its SchemaVersion row.
// Safe when several processes start at once: they queue on a lock and re-read the version.
void migrate(database& db);

// The highest applied version; 0 for a database without a SchemaVersion table.
int schema_version(database& db);

}  // namespace portal::store
