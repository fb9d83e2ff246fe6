// Internet messages (RFC 5322 / MIME): addresses, encoded headers, quoted-printable bodies, and the
// multipart/alternative message the portal sends (plain text + HTML with the logo inline).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portal::mail {

// The portal's name as it appears in emails (the same as the pages' header).
inline constexpr std::string_view product_name = "Customer Portal";

struct address {
    std::string name;   // display name, UTF-8; may be empty
    std::string email;  // addr-spec, ASCII
};

// "Name <a@b.example>", "\"Last, First\" <a@b.example>", "<a@b.example>" or "a@b.example".
// nullopt when there is no plausible addr-spec (one '@', no blanks, controls or brackets).
std::optional<address> parse_address(std::string_view text);

// A comma- or semicolon-separated list (EMAIL_BCC); entries that do not parse are skipped.
std::vector<address> parse_address_list(std::string_view text);

// An unstructured header value (Subject) for "Name: value": printable ASCII as it is, anything
// else as RFC 2047 UTF-8 "B" encoded-words cut on character boundaries. CR, LF and other
// controls are dropped, so no value can start a header of its own. Long values are folded.
std::string encode_header_text(std::string_view utf8, std::size_t name_length);

// An address for From/To: the display name as a quoted string or encoded-words, then <addr>.
std::string format_address(const address& a);

// "Tue, 24 Nov 2026 10:00:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t);

// Quoted-printable (RFC 2045) of UTF-8 text with CRLF line ends and lines of at most 76
// characters. A '.' or "From " at the start of a line is encoded too, so the body needs no SMTP
// dot-stuffing and survives mbox-style mangling unchanged.
std::string quoted_printable(std::string_view text);

// Base64 in lines of 76 characters, CRLF-terminated.
std::string base64_lines(std::string_view bytes);

struct inline_image {
    std::string content_id;  // without the angle brackets; the HTML refers to "cid:<content_id>"
    std::string mime_type;   // image/png
    std::string file_name;
    std::string bytes;
};

struct message_spec {
    address from;
    address to;
    std::string subject;
    std::string text_body;  // UTF-8, LF or CRLF line ends
    std::string html_body;  // UTF-8; empty: a text-only message
    std::chrono::system_clock::time_point date{};
    std::string message_id;            // without the angle brackets
    std::vector<inline_image> images;  // shown by the HTML part (multipart/related)
};

// The whole message, headers and body, CRLF line ends, every line under 1000 octets, 7-bit.
// Bcc recipients never appear in it: they are envelope recipients only.
std::string build_message(const message_spec& spec);

}  // namespace portal::mail
