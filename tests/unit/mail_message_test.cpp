// Message building (src/mail/message.hpp): addresses, RFC 2047 headers, quoted-printable bodies
// with safe line starts and lengths, the MIME structure, and the Date format.
#include "mail/message.hpp"
#include "mail/sealed_text.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace portal::mail;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        auto end = s.find("\r\n", pos);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(pos, end - pos));
        pos = end + 2;
    }
    return out;
}

// Decodes quoted-printable (soft breaks and =XX), enough to check round trips.
std::string qp_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '=' && i + 2 < s.size() + 1 && s.compare(i, 3, "=\r\n") == 0) {
            i += 2;
        } else if (s[i] == '=' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string base64_decode(const std::string& in) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        const auto v = alphabet.find(c);
        if (v == std::string::npos) continue;
        buffer = buffer << 6 | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(buffer >> bits & 0xff);
        }
    }
    return out;
}

// Joins the encoded-words of a header value back into UTF-8.
std::string decode_words(const std::string& value) {
    std::string out;
    std::size_t pos = 0;
    while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
        const auto end = value.find("?=", pos + 10);
        out += base64_decode(value.substr(pos + 10, end - pos - 10));
        pos = end + 2;
    }
    return out;
}

}  // namespace

TEST(mail_address, parses_the_forms_email_from_takes) {
    auto a = parse_address("Acme Warehouse <portal@warehouse.example>");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->name, "Acme Warehouse");
    EXPECT_EQ(a->email, "portal@warehouse.example");
    a = parse_address("  portal@warehouse.example ");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->name, "");
    EXPECT_EQ(a->email, "portal@warehouse.example");
    a = parse_address(R"("Lovelace, Ada \"A\"" <ada@x.example>)");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->name, R"(Lovelace, Ada "A")");
    EXPECT_FALSE(parse_address("not an address"));
    EXPECT_FALSE(parse_address("a@b@c"));
    EXPECT_FALSE(parse_address("Name <a b@c.example>"));
    EXPECT_FALSE(parse_address("x@y.example\r\nBcc: evil@z.example"));
    EXPECT_FALSE(parse_address(""));
    const auto list = parse_address_list("one@x.example, Two <two@x.example>; junk");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].email, "two@x.example");
}

TEST(mail_headers, ascii_stays_plain_and_non_ascii_becomes_utf8_encoded_words) {
    EXPECT_EQ(encode_header_text("Reset your password", 7), "Reset your password");
    const std::string subject = "Willkommen, Zoë Ñúñez — 倉庫 portal";
    const auto encoded = encode_header_text(subject, 7);
    EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
    EXPECT_EQ(decode_words(encoded), subject);
    for (const auto& line : lines_of(encoded)) {
        EXPECT_LE(line.size() + 9, 78u) << line;
        for (unsigned char c : line) EXPECT_LT(c, 128);
    }
    // A long subject of multi-byte characters is cut on character boundaries only.
    std::string long_subject;
    for (int i = 0; i < 40; ++i) long_subject += "é倉";
    EXPECT_EQ(decode_words(encode_header_text(long_subject, 7)), long_subject);
}

TEST(mail_headers, line_breaks_cannot_inject_a_header) {
    const auto encoded = encode_header_text("Hello\r\nBcc: victim@x.example", 7);
    EXPECT_EQ(encoded.find('\r'), std::string::npos);
    EXPECT_EQ(encoded.find('\n'), std::string::npos);
    const auto to = format_address({"Eve\r\nBcc: victim@x.example", "eve@x.example"});
    EXPECT_EQ(to.find("\r\nBcc"), std::string::npos);
}

TEST(mail_headers, addresses_quote_or_encode_the_display_name) {
    EXPECT_EQ(format_address({"", "a@x.example"}), "<a@x.example>");
    EXPECT_EQ(format_address({"Ada Lovelace", "a@x.example"}), "Ada Lovelace <a@x.example>");
    EXPECT_EQ(format_address({"Lovelace, Ada", "a@x.example"}), "\"Lovelace, Ada\" <a@x.example>");
    const auto encoded = format_address({"Zoë Ñúñez", "zoe@x.example"});
    EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
    EXPECT_NE(encoded.find("<zoe@x.example>"), std::string::npos);
    EXPECT_EQ(decode_words(encoded), "Zoë Ñúñez");
}

TEST(mail_body, quoted_printable_keeps_lines_short_and_line_starts_safe) {
    const std::string text = "Hello Zoë,\n.\n.hidden\nFrom here on\n" + std::string(200, 'x') +
                             "\ntrailing space \n= sign\n";
    const auto qp = quoted_printable(text);
    for (const auto& line : lines_of(qp)) {
        EXPECT_LE(line.size(), 76u) << line;
        EXPECT_FALSE(line.starts_with(".")) << line;
        EXPECT_FALSE(line.starts_with("From ")) << line;
        EXPECT_FALSE(line.ends_with(" ")) << line;
        for (unsigned char c : line) EXPECT_LT(c, 128);
    }
    std::string expected = text;
    std::string crlf;
    for (char c : expected) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    EXPECT_EQ(qp_decode(qp), crlf);
}

TEST(mail_body, date_is_rfc5322_in_utc) {
    // 2026-11-24 10:00:05 UTC was a Tuesday.
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795514405));
    EXPECT_EQ(rfc5322_date(t), "Tue, 24 Nov 2026 10:00:05 +0000");
}

TEST(mail_message, multipart_alternative_with_the_logo_related_to_the_html) {
    message_spec spec;
    spec.from = {"Acme Warehouse", "portal@warehouse.example"};
    spec.to = {"Zoë Ñúñez", "zoe@x.example"};
    spec.subject = "Welcome, Zoë";
    spec.text_body = "Open https://portal.example/reset-password/abc\n";
    spec.html_body = "<p><img src=\"cid:logo@p\"> Hello</p>\n";
    spec.date = std::chrono::system_clock::time_point(std::chrono::seconds(1795514405));
    spec.message_id = "1795514405.7.abcdef@warehouse.example";
    spec.images.push_back({"logo@p", "image/png", "logo.png", std::string(3000, '\x89')});
    const auto m = build_message(spec);

    EXPECT_NE(m.find("\r\nDate: Tue, 24 Nov 2026 10:00:05 +0000\r\n"), std::string::npos);
    EXPECT_NE(m.find("\r\nMessage-ID: <1795514405.7.abcdef@warehouse.example>\r\n"),
              std::string::npos);
    EXPECT_NE(m.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);
    EXPECT_NE(m.find("Content-Type: multipart/alternative;"), std::string::npos);
    EXPECT_NE(m.find("Content-Type: multipart/related;"), std::string::npos);
    EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
    EXPECT_NE(m.find("Content-Type: text/html; charset=UTF-8"), std::string::npos);
    EXPECT_NE(m.find("Content-ID: <logo@p>"), std::string::npos);
    EXPECT_LT(m.find("text/plain"), m.find("text/html"));  // the preferred part comes last
    EXPECT_EQ(m.find("Bcc"), std::string::npos);
    for (const auto& line : lines_of(m)) {
        EXPECT_LE(line.size(), 78u) << line;
        for (unsigned char c : line) EXPECT_LT(c, 128);
    }
    // Bare LF never appears: every line ends in CRLF.
    for (std::size_t i = 1; i < m.size(); ++i) {
        EXPECT_TRUE(m[i] != '\n' || m[i - 1] == '\r') << "bare LF at " << i;
    }
}

TEST(mail_sealed_text, round_trips_and_refuses_another_key_or_tampering) {
    const std::string key = "a-secret-key-of-at-least-32-bytes-long";
    const std::string body = "Open https://portal.example/reset-password/abc\nZoë ✓";
    const auto sealed = seal_text(key, body);
    EXPECT_TRUE(sealed.starts_with("enc1:"));
    EXPECT_EQ(sealed.find("reset-password"), std::string::npos);
    EXPECT_NE(seal_text(key, body), sealed) << "a fresh nonce each time";
    EXPECT_EQ(open_text(key, sealed), body);
    EXPECT_EQ(open_text(key, seal_text(key, "")), "");
    EXPECT_FALSE(open_text("another-secret-key-of-at-least-32-bytes", sealed));
    std::string tampered = sealed;
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(open_text(key, tampered));
    EXPECT_FALSE(open_text(key, "enc1:not base64!"));
    EXPECT_EQ(open_text(key, "plain text from elsewhere"), "plain text from elsewhere");
}
