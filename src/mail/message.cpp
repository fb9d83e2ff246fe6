#include "mail/message.hpp"

#include <algorithm>
#include <array>
#include <ctime>

namespace portal::mail {

namespace {

constexpr std::string_view crlf = "\r\n";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_blank(s.front()) || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// Header text without controls: a CR or LF in a name or subject must not end the header.
std::string without_controls(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c == '\t' || c == '\r' || c == '\n') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        }
    }
    return std::string(trim(out));
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

bool plausible_addr_spec(std::string_view s) {
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
    if (s.find('@', at + 1) != std::string_view::npos) return false;
    if (s.size() > 254) return false;
    for (unsigned char c : s) {
        if (c <= 0x20 || c >= 0x7f) return false;
        if (std::string_view("<>()[]\\,;:\"").find(static_cast<char>(c)) != std::string_view::npos)
            return false;
    }
    const auto domain = s.substr(at + 1);
    return domain.front() != '.' && domain.back() != '.' &&
           domain.find("..") == std::string_view::npos;
}

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += base64_alphabet[v >> 18 & 63];
        out += base64_alphabet[v >> 12 & 63];
        out += base64_alphabet[v >> 6 & 63];
        out += base64_alphabet[v & 63];
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += base64_alphabet[v >> 18 & 63];
        out += base64_alphabet[v >> 12 & 63];
        out += i + 1 < bytes.size() ? base64_alphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

// The length of the UTF-8 sequence starting with `lead` (1 for stray bytes, so nothing loops).
std::size_t utf8_length(unsigned char lead) {
    if (lead >= 0xf0 && lead < 0xf8) return 4;
    if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
    if (lead >= 0xc0) return 2;
    return 1;
}

// RFC 2047 encoded-words of at most 68 characters (42 bytes of UTF-8 each, never splitting a
// character), joined by folding white space, which decoders drop between encoded-words.
std::string encoded_words(std::string_view utf8) {
    constexpr std::size_t max_bytes = 42;
    std::string out;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        std::size_t end = pos;
        while (end < utf8.size()) {
            const std::size_t n =
                std::min(utf8_length(static_cast<unsigned char>(utf8[end])), utf8.size() - end);
            if (end + n - pos > max_bytes) break;
            end += n;
        }
        if (end == pos) end = pos + 1;
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64(utf8.substr(pos, end - pos)) + "?=";
        pos = end;
    }
    return out;
}

// Folds plain ASCII text at spaces so no line passes 78 characters where a space allows it.
std::string fold_ascii(std::string_view text, std::size_t first_line_used) {
    std::string out;
    std::size_t line = first_line_used;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t next = text.find(' ', pos + 1);
        if (next == std::string_view::npos) next = text.size();
        const auto word = text.substr(pos, next - pos);  // starts with its space, except the first
        if (pos != 0 && line + word.size() > 78) {
            out += "\r\n";
            line = 0;
        }
        out += word;
        line += word.size();
        pos = next;
    }
    return out;
}

bool needs_quoting(std::string_view phrase) {
    return std::any_of(phrase.begin(), phrase.end(), [](char c) {
        return std::string_view("()<>[]:;@\\,.\"").find(c) != std::string_view::npos;
    });
}

std::string two_digits(int v) {
    return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<address> parse_address(std::string_view text) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    address a;
    const auto open = text.rfind('<');
    if (open != std::string_view::npos) {
        const auto close = text.find('>', open);
        if (close == std::string_view::npos || trim(text.substr(close + 1)).size() != 0)
            return std::nullopt;
        a.email = std::string(trim(text.substr(open + 1, close - open - 1)));
        auto name = trim(text.substr(0, open));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            std::string unquoted;
            for (std::size_t i = 1; i + 1 < name.size(); ++i) {
                if (name[i] == '\\' && i + 2 < name.size()) ++i;
                unquoted += name[i];
            }
            a.name = unquoted;
        } else {
            a.name = std::string(name);
        }
        a.name = without_controls(a.name);
    } else {
        a.email = std::string(text);
    }
    if (!plausible_addr_spec(a.email)) return std::nullopt;
    return a;
}

std::vector<address> parse_address_list(std::string_view text) {
    std::vector<address> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find_first_of(",;", pos);
        if (end == std::string_view::npos) end = text.size();
        if (auto a = parse_address(text.substr(pos, end - pos))) out.push_back(std::move(*a));
        pos = end + 1;
    }
    return out;
}

std::string encode_header_text(std::string_view utf8, std::size_t name_length) {
    const std::string clean = without_controls(utf8);
    // "=?" in plain text would read as the start of an encoded-word; encode such text too.
    if (printable_ascii(clean) && clean.find("=?") == std::string::npos)
        return fold_ascii(clean, name_length + 2);
    return encoded_words(clean);
}

std::string format_address(const address& a) {
    const std::string name = without_controls(a.name);
    if (name.empty()) return "<" + a.email + ">";
    std::string phrase;
    if (!printable_ascii(name) || name.find("=?") != std::string::npos) {
        phrase = encoded_words(name);
    } else if (needs_quoting(name)) {
        phrase = "\"";
        for (char c : name) {
            if (c == '"' || c == '\\') phrase += '\\';
            phrase += c;
        }
        phrase += '"';
    } else {
        phrase = name;
    }
    const auto last_line =
        phrase.size() - (phrase.rfind('\n') == std::string::npos ? 0 : phrase.rfind('\n') + 1);
    return phrase + (last_line + a.email.size() + 3 > 76 ? "\r\n <" : " <") + a.email + ">";
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
    static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return std::string(days[static_cast<std::size_t>(tm.tm_wday)]) + ", " +
           std::to_string(tm.tm_mday) + " " + months[static_cast<std::size_t>(tm.tm_mon)] + " " +
           std::to_string(tm.tm_year + 1900) + " " + two_digits(tm.tm_hour) + ":" +
           two_digits(tm.tm_min) + ":" + two_digits(tm.tm_sec) + " +0000";
}

std::string quoted_printable(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        const bool last = end == std::string_view::npos;
        if (last) end = text.size();
        auto line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (last && line.empty() && pos != 0) break;  // text ended with a line break

        std::string encoded_line;
        std::size_t width = 0;
        const auto put = [&](std::string_view piece) {
            // Soft line break before the piece when it would pass 75 characters (+ "=").
            if (width + piece.size() > 75) {
                out += encoded_line;
                out += "=\r\n";
                encoded_line.clear();
                width = 0;
            }
            encoded_line += piece;
            width += piece.size();
        };
        for (std::size_t i = 0; i < line.size(); ++i) {
            const unsigned char c = static_cast<unsigned char>(line[i]);
            const bool at_line_end = i + 1 == line.size();
            // Where this character lands: at the start of an output line when nothing is on the
            // line yet or a soft break will come first (the widest piece is 3 characters).
            const bool starts_line = width == 0 || width + 1 > 75;
            const bool literal =
                (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
            const bool risky_start =
                starts_line && (c == '.' || (c == 'F' && line.substr(i).starts_with("From ")));
            if (literal && !risky_start) {
                put(std::string_view(reinterpret_cast<const char*>(&line[i]), 1));
            } else {
                const char escaped[3] = {'=', hex[c >> 4], hex[c & 15]};
                put(std::string_view(escaped, 3));
            }
        }
        out += encoded_line;
        if (last) break;
        out += crlf;
        pos = end + 1;
    }
    return out;
}

std::string base64_lines(std::string_view bytes) {
    const std::string encoded = base64(bytes);
    std::string out;
    out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
    for (std::size_t pos = 0; pos < encoded.size(); pos += 76) {
        out += encoded.substr(pos, 76);
        out += crlf;
    }
    return out;
}

std::string build_message(const message_spec& spec) {
    // "=_" never occurs in quoted-printable or base64 output, so the boundaries cannot collide.
    const std::string tag =
        spec.message_id.substr(0, std::min<std::size_t>(24, spec.message_id.find('@')));
    const std::string outer = "=_alt_" + tag;
    const std::string inner = "=_rel_" + tag;

    std::string m;
    m += "From: " + format_address(spec.from) + "\r\n";
    m += "To: " + format_address(spec.to) + "\r\n";
    m += "Subject: " + encode_header_text(spec.subject, 7) + "\r\n";
    m += "Date: " + rfc5322_date(spec.date) + "\r\n";
    m += "Message-ID: <" + spec.message_id + ">\r\n";
    m += "MIME-Version: 1.0\r\n";
    // Tells mail servers this is an automatic message: no vacation replies to it.
    m += "Auto-Submitted: auto-generated\r\n";

    const auto text_part = [&] {
        return "Content-Type: text/plain; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
               quoted_printable(spec.text_body) + "\r\n";
    };
    if (spec.html_body.empty()) {
        m += text_part();
        return m;
    }
    const std::string html_part =
        "Content-Type: text/html; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
        quoted_printable(spec.html_body) + "\r\n";

    m += "Content-Type: multipart/alternative;\r\n boundary=\"" + outer + "\"\r\n\r\n";
    m += "This is a multi-part message in MIME format.\r\n";
    m += "--" + outer + "\r\n" + text_part();
    m += "--" + outer + "\r\n";
    if (spec.images.empty()) {
        m += html_part;
    } else {
        m += "Content-Type: multipart/related; type=\"text/html\";\r\n boundary=\"" + inner +
             "\"\r\n\r\n";
        m += "--" + inner + "\r\n" + html_part;
        for (const auto& image : spec.images) {
            m += "--" + inner + "\r\n";
            m += "Content-Type: " + image.mime_type + "\r\n";
            m += "Content-Transfer-Encoding: base64\r\n";
            m += "Content-ID: <" + image.content_id + ">\r\n";
            m += "Content-Disposition: inline; filename=\"" + image.file_name + "\"\r\n\r\n";
            m += base64_lines(image.bytes);
        }
        m += "--" + inner + "--\r\n";
    }
    m += "--" + outer + "--\r\n";
    return m;
}

}  // namespace portal::mail
