#include "export/file_name.hpp"

#include "export/neutralise.hpp"

#include <ctime>

namespace portal::exports {
namespace {

constexpr std::size_t max_customer_chars = 60;

// ASCII for the Latin-1 letters U+00C0..U+00FF ("" for × and ÷).
constexpr std::string_view latin1[64] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
    "D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

bool ascii_alnum(char32_t cp) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
}

// Decodes one code point of valid UTF-8 at s[i]; advances i.
char32_t decode(std::string_view s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    return cp;
}

void separator(std::string& out) {
    if (!out.empty() && out.back() != '_') out += '_';
}

void trim_separators(std::string& s) {
    while (!s.empty() && s.back() == '_') s.pop_back();
    const auto first = s.find_first_not_of('_');
    s.erase(0, first == std::string::npos ? s.size() : first);
}

}  // namespace

file_names export_file_names(std::string_view customer, std::string_view extension,
                             std::chrono::system_clock::time_point when) {
    std::string valid;
    append_valid_utf8(valid, customer);
    std::string utf8, ascii;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < valid.size() && chars < max_customer_chars; ++chars) {
        const std::size_t start = i;
        const char32_t cp = decode(valid, i);
        if (ascii_alnum(cp)) {
            utf8 += static_cast<char>(cp);
            ascii += static_cast<char>(cp);
        } else if (cp < 0x80 || cp == 0xFFFD || (cp >= 0x80 && cp < 0xA0) || cp == 0xA0 ||
                   cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) ||
                   (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF0F)) {
            // punctuation, spaces and controls of the common blocks
            separator(utf8);
            separator(ascii);
        } else {
            utf8.append(valid, start, i - start);
            if (cp >= 0xC0 && cp <= 0xFF)
                ascii += latin1[cp - 0xC0];
            else
                separator(ascii);
        }
    }
    trim_separators(utf8);
    trim_separators(ascii);

    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm local{};
    localtime_r(&t, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &local);

    const auto name = [&](const std::string& middle) {
        return "Inventory_" + (middle.empty() ? std::string() : middle + "_") + stamp + "." +
               std::string(extension);
    };
    return {name(utf8), name(ascii)};
}

std::string content_disposition(const file_names& names) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "attachment; filename=\"" + names.ascii + "\"; filename*=UTF-8''";
    for (const char ch : names.utf8) {
        const auto c = static_cast<unsigned char>(ch);
        // RFC 8187 attr-char
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace portal::exports
