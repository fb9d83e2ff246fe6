// What a text cell becomes in an export: valid UTF-8, and never something a spreadsheet would run
// as a formula (SPEC §7, OWASP "CSV Injection").
#pragma once

#include <string>
#include <string_view>

namespace portal::exports {

// True when a spreadsheet could read `text` as a formula or a command: it begins with '=', '+',
// '-', '@', a tab or a carriage return. A plain negative decimal ("-12", "-0.5") is not: it reads
// back as the number it is, which is harmless, and an apostrophe would only make it look wrong.
bool needs_neutralising(std::string_view text);

// Appends `text` to `out` with invalid UTF-8 bytes replaced by U+FFFD and, when
// needs_neutralising(text), a leading apostrophe: spreadsheets show it as text, never run it.
void append_neutralised(std::string& out, std::string_view text);
std::string neutralised(std::string_view text);

// Appends `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
void append_valid_utf8(std::string& out, std::string_view text);

}  // namespace portal::exports
