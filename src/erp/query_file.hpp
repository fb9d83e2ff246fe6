// ERP query files (SPEC §5): loading them and refusing anything but one read-only SELECT/WITH.
#pragma once

#include <string>
#include <string_view>

namespace portal::erp {

enum class query_kind { inventory, customers };

// The named parameter the inventory query must use for the ERP customer name.
inline constexpr std::string_view customer_parameter = ":erp_customer";

// Reads `path` (a UTF-8 byte-order mark is dropped) and checks it with check_query_text.
// Throws std::runtime_error naming the file when it cannot be read or is refused.
std::string load_query_file(const std::string& path, query_kind kind);

// Refuses (std::runtime_error whose message starts with `origin`) anything but exactly one SELECT
// or WITH statement: comments and string literals are set aside first, then a second statement
// after `;`, and keywords that write, change the schema or run code (INSERT, UPDATE, DELETE,
// MERGE, DROP, ALTER, CREATE, EXEC, GRANT, TRUNCATE, INTO, ...) are refused. An inventory query
// must use the :erp_customer parameter outside comments and literals.
void check_query_text(std::string_view sql, query_kind kind, const std::string& origin);

// The query with comments removed and the contents of string literals and quoted identifiers
// blanked (their quotes kept), so keywords can be searched for. Throws std::runtime_error on an
// unterminated comment, literal or quoted identifier. Exposed for tests.
std::string code_only(std::string_view sql);

// The query as it is sent to the database: comments removed (SOCI's rewriting of :name
// parameters for PostgreSQL and ODBC does not know about comments, so a ":word" in a comment
// would become a parameter), literals untouched, surrounding blanks and a trailing ';' dropped.
// Throws like code_only.
std::string without_comments(std::string_view sql);

}  // namespace portal::erp
