#include "erp/query_file.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace portal::erp {
namespace {

bool is_word_char(char c) {
    auto u = static_cast<unsigned char>(c);
    // Bytes >= 0x80 are parts of UTF-8 identifiers; '$', '#' and '@' occur inside T-SQL and
    // PostgreSQL names, so `x@update` is one word, not the keyword UPDATE.
    return std::isalnum(u) || c == '_' || c == '$' || c == '#' || c == '@' || u >= 0x80;
}

std::string upper(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return r;
}

// Keywords no read-only SELECT needs. REPLACE is absent on purpose: it is also a string function
// in all three dialects. Most of these are reserved words, so they cannot be bare column names.
constexpr std::string_view refused_keywords[] = {
    "INSERT",   "UPDATE",      "DELETE",     "MERGE",     "DROP",           "ALTER",
    "CREATE",   "RENAME",      "TRUNCATE",   "EXEC",      "EXECUTE",        "CALL",
    "DO",       "GRANT",       "REVOKE",     "DENY",      "INTO",           "DECLARE",
    "SET",      "SETUSER",     "USE",        "BEGIN",     "COMMIT",         "ROLLBACK",
    "LOCK",     "COPY",        "ATTACH",     "DETACH",    "PRAGMA",         "VACUUM",
    "REINDEX",  "BACKUP",      "RESTORE",    "SHUTDOWN",  "KILL",           "DBCC",
    "BULK",     "OPENROWSET",  "OPENQUERY",  "OPENDATASOURCE", "WAITFOR",   "RECONFIGURE",
    "CHECKPOINT", "UPDATETEXT", "WRITETEXT",
};

[[noreturn]] void refuse(const std::string& origin, const std::string& why) {
    throw std::runtime_error(origin + ": refused ERP query: " + why);
}

// Skips a PostgreSQL dollar-quoted string starting at `i` ("$$" or "$tag$"); returns the index
// just after it, or npos when `i` does not start one.
std::size_t dollar_quote_end(std::string_view sql, std::size_t i) {
    std::size_t j = i + 1;
    while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_'))
        ++j;
    if (j >= sql.size() || sql[j] != '$') return std::string_view::npos;
    // A tag cannot start with a digit ($1 is a positional parameter).
    if (j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))
        return std::string_view::npos;
    std::string_view tag = sql.substr(i, j - i + 1);
    std::size_t close = sql.find(tag, j + 1);
    if (close == std::string_view::npos) throw std::runtime_error("unterminated $-quoted string");
    return close + tag.size();
}

// Removes comments; string literals and quoted identifiers are kept whole or, for keyword
// scanning, reduced to their quotes.
std::string scan(std::string_view sql, bool keep_quoted) {
    std::string out;
    out.reserve(sql.size());
    std::size_t i = 0;
    const std::size_t n = sql.size();
    while (i < n) {
        char c = sql[i];
        char next = i + 1 < n ? sql[i + 1] : '\0';
        if (c == '-' && next == '-') {
            while (i < n && sql[i] != '\n') ++i;
            out += ' ';
        } else if (c == '/' && next == '*') {
            // T-SQL and PostgreSQL nest block comments; counting depth is right for them and
            // harmless for SQLite (a nested "/*" inside a comment is unusual there).
            int depth = 1;
            i += 2;
            while (i < n && depth > 0) {
                if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
                    ++depth;
                    i += 2;
                } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            }
            if (depth > 0) throw std::runtime_error("unterminated /* comment");
            out += ' ';
        } else if (c == '\'') {
            // PostgreSQL E'...' strings escape with a backslash; elsewhere only '' escapes.
            bool backslash_escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                     (i < 2 || !is_word_char(sql[i - 2]));
            std::size_t begin = i;
            ++i;
            bool closed = false;
            while (i < n) {
                if (backslash_escapes && sql[i] == '\\' && i + 1 < n) {
                    i += 2;
                } else if (sql[i] == '\'') {
                    if (i + 1 < n && sql[i + 1] == '\'') {
                        i += 2;
                    } else {
                        ++i;
                        closed = true;
                        break;
                    }
                } else {
                    ++i;
                }
            }
            if (!closed) throw std::runtime_error("unterminated string literal");
            out += keep_quoted ? sql.substr(begin, i - begin) : std::string_view("''");
        } else if (c == '"' || c == '[' || c == '`') {
            // Quoted identifiers: a column called [Delete Flag] is not a DELETE.
            char close = c == '[' ? ']' : c;
            std::size_t begin = i;
            ++i;
            bool closed = false;
            while (i < n) {
                if (sql[i] == close) {
                    if (i + 1 < n && sql[i + 1] == close) {
                        i += 2;
                    } else {
                        ++i;
                        closed = true;
                        break;
                    }
                } else {
                    ++i;
                }
            }
            if (!closed) throw std::runtime_error("unterminated quoted identifier");
            if (keep_quoted) {
                out += sql.substr(begin, i - begin);
            } else {
                out += c;
                out += close;
            }
        } else if (c == '$' && (i == 0 || !is_word_char(sql[i - 1]))) {
            std::size_t end = dollar_quote_end(sql, i);
            if (end == std::string_view::npos) {
                out += c;
                ++i;
            } else {
                out += keep_quoted ? sql.substr(i, end - i) : std::string_view("''");
                i = end;
            }
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

}  // namespace

std::string code_only(std::string_view sql) { return scan(sql, false); }

std::string without_comments(std::string_view sql) {
    std::string out = scan(sql, true);
    // Drivers differ on a trailing ';' (and there is only one statement): drop it.
    auto last = out.find_last_not_of(" \t\r\n\f\v;");
    out.erase(last == std::string::npos ? 0 : last + 1);
    auto first = out.find_first_not_of(" \t\r\n\f\v");
    out.erase(0, first == std::string::npos ? out.size() : first);
    return out;
}

void check_query_text(std::string_view sql, query_kind kind, const std::string& origin) {
    std::string code;
    try {
        code = code_only(sql);
    } catch (const std::exception& e) {
        refuse(origin, e.what());
    }

    // One statement: a ';' may only be followed by blanks (and more ';').
    if (auto semi = code.find(';'); semi != std::string::npos) {
        auto rest = std::string_view(code).substr(semi);
        if (rest.find_first_not_of("; \t\r\n\f\v") != std::string_view::npos)
            refuse(origin, "more than one statement (text follows a ';')");
    }

    // The first word, after any opening parentheses, must be SELECT or WITH.
    std::size_t start = code.find_first_not_of(" \t\r\n\f\v(");
    if (start == std::string::npos) refuse(origin, "the file holds no SQL statement");
    std::size_t end = start;
    while (end < code.size() && is_word_char(code[end])) ++end;
    std::string first = upper(std::string_view(code).substr(start, end - start));
    if (first != "SELECT" && first != "WITH")
        refuse(origin, "it must be a single SELECT or WITH statement, not " +
                           (first.empty() ? std::string("this") : first));

    bool has_customer_parameter = false;
    for (std::size_t i = 0; i < code.size();) {
        if (!is_word_char(code[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < code.size() && is_word_char(code[j])) ++j;
        std::string_view word = std::string_view(code).substr(i, j - i);
        bool is_parameter = i > 0 && code[i - 1] == ':' && (i < 2 || code[i - 2] != ':');
        // "x.delete" is a column or table named delete, not the statement.
        bool is_qualified_name = i > 0 && code[i - 1] == '.';
        if (is_parameter) {
            if (word == customer_parameter.substr(1)) has_customer_parameter = true;
        } else if (!is_qualified_name) {
            std::string w = upper(word);
            if (std::find(std::begin(refused_keywords), std::end(refused_keywords), w) !=
                std::end(refused_keywords))
                refuse(origin, "the keyword " + w +
                                   " is not allowed (the portal only reads from the ERP)");
        }
        i = j;
    }

    if (kind == query_kind::inventory && !has_customer_parameter)
        refuse(origin, "the inventory query must use the " + std::string(customer_parameter) +
                           " parameter");
}

std::string load_query_file(const std::string& path, query_kind kind) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the ERP query file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw std::runtime_error(path + ": cannot read the ERP query file");
    std::string text = buffer.str();
    // Windows editors save SQL with a byte-order mark; no database wants it.
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    check_query_text(text, kind, path);
    return text;
}

}  // namespace portal::erp
