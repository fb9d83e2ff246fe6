#include "export/neutralise.hpp"

namespace portal::exports {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "-" then digits with at most one decimal point inside them: "-12", "-0.5", "-1.25".
bool is_negative_decimal(std::string_view text) {
    if (text.size() < 2 || text[0] != '-') return false;
    bool digits = false, point = false;
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (is_digit(text[i])) {
            digits = true;
        } else if (text[i] == '.' && !point && digits && i + 1 < text.size()) {
            point = true;
        } else {
            return false;
        }
    }
    return digits;
}

// Length of the valid UTF-8 sequence starting at s[i] (s[i] >= 0x80), or 0 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
        if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
        if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

bool needs_neutralising(std::string_view text) {
    if (text.empty()) return false;
    switch (text[0]) {
        case '=':
        case '+':
        case '@':
        case '\t':
        case '\r':
            return true;
        case '-':
            return !is_negative_decimal(text);
        default:
            return false;
    }
}

void append_valid_utf8(std::string& out, std::string_view text) {
    std::size_t clean = 0;  // start of the run not yet copied
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        if (const std::size_t len = utf8_sequence(text, i)) {
            i += len;
            continue;
        }
        out.append(text, clean, i - clean);
        out += "\xEF\xBF\xBD";
        clean = ++i;
    }
    out.append(text, clean, text.size() - clean);
}

void append_neutralised(std::string& out, std::string_view text) {
    if (needs_neutralising(text)) out += '\'';
    append_valid_utf8(out, text);
}

std::string neutralised(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 1);
    append_neutralised(out, text);
    return out;
}

}  // namespace portal::exports
