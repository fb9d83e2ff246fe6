#include "mail/smtp_client.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace portal::mail {

namespace {

struct upload_state {
    const std::string* data = nullptr;
    std::size_t offset = 0;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* state = static_cast<upload_state*>(user);
    const std::size_t room = size * count;
    const std::size_t left = state->data->size() - state->offset;
    const std::size_t n = left < room ? left : room;
    std::memcpy(buffer, state->data->data() + state->offset, n);
    state->offset += n;
    return n;
}

std::size_t discard(char*, std::size_t size, std::size_t count, void*) {
    return size * count;
}

int check_abort(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* abort = static_cast<const std::atomic<bool>*>(user);
    return abort && abort->load() ? 1 : 0;
}

struct easy_deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Everything but the transfer itself: server, TLS, login, timeouts, abort.
void common_options(CURL* c, const app::smtp_settings& smtp, char* error_buffer,
                    const std::atomic<bool>* abort, smtp_timeouts timeouts) {
    const std::string url = smtp_url(smtp);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // we run on our own thread; no SIGALRM
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(timeouts.connect.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeouts.total.count()));
    curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     static_cast<long>(timeouts.connect.count()));
    if (smtp.use_tls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    // A private CA for an internal relay, as with the curl tool; the system's CAs otherwise.
    if (const char* ca = std::getenv("CURL_CA_BUNDLE"); ca && *ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (!smtp.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, smtp.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, smtp.password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_abort);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

smtp_outcome outcome_of(CURL* c, CURLcode code, const char* error_buffer) {
    smtp_outcome out;
    if (code == CURLE_OK) {
        out.ok = true;
        return out;
    }
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    out.aborted = code == CURLE_ABORTED_BY_CALLBACK;
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_USE_SSL_FAILED:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_LOGIN_DENIED:
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_ABORTED_BY_CALLBACK:
            out.server_unreachable = true;
            break;
        case CURLE_SEND_ERROR:
            out.server_unreachable = reply == 0;  // no reply at all: the connection broke
            break;
        default:
            break;
    }
    out.error = curl_easy_strerror(code);
    if (error_buffer[0] != '\0' && out.error != error_buffer)
        out.error += std::string(": ") + error_buffer;
    if (reply != 0) out.error += " (last reply " + std::to_string(reply) + ")";
    return out;
}

}  // namespace

void init_curl() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw std::runtime_error("libcurl could not be initialised");
    });
}

std::string smtp_url(const app::smtp_settings& smtp) {
    const bool implicit_tls = smtp.use_tls && smtp.port == 465;
    std::string host = smtp.server;
    if (host.find(':') != std::string::npos && host.front() != '[')
        host = "[" + host + "]";  // IPv6
    return std::string(implicit_tls ? "smtps://" : "smtp://") + host + ":" +
           std::to_string(smtp.port);
}

std::string smtp_description(const app::smtp_settings& smtp) {
    std::string d = smtp.server + ":" + std::to_string(smtp.port);
    if (smtp.use_tls) d += smtp.port == 465 ? ", TLS" : ", STARTTLS";
    if (!smtp.username.empty()) d += ", login as " + smtp.username;
    return d;
}

smtp_outcome smtp_send(const app::smtp_settings& smtp, const std::string& envelope_from,
                       const std::vector<std::string>& recipients, const std::string& message,
                       const std::atomic<bool>* abort, smtp_timeouts timeouts) {
    init_curl();
    std::unique_ptr<CURL, easy_deleter> c(curl_easy_init());
    if (!c) return {false, false, false, "libcurl could not start a transfer"};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    common_options(c.get(), smtp, error_buffer, abort, timeouts);

    const std::string from = "<" + envelope_from + ">";
    curl_easy_setopt(c.get(), CURLOPT_MAIL_FROM, from.c_str());
    std::unique_ptr<curl_slist, slist_deleter> rcpt;
    for (const auto& r : recipients) {
        curl_slist* grown = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
        if (!grown) return {false, false, false, "out of memory"};
        rcpt.release();
        rcpt.reset(grown);
    }
    curl_easy_setopt(c.get(), CURLOPT_MAIL_RCPT, rcpt.get());
    upload_state state{&message, 0};
    curl_easy_setopt(c.get(), CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c.get(), CURLOPT_READDATA, &state);
    curl_easy_setopt(c.get(), CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

    const CURLcode code = curl_easy_perform(c.get());
    return outcome_of(c.get(), code, error_buffer);
}

smtp_outcome smtp_check(const app::smtp_settings& smtp, smtp_timeouts timeouts) {
    init_curl();
    std::unique_ptr<CURL, easy_deleter> c(curl_easy_init());
    if (!c) return {false, false, false, "libcurl could not start a transfer"};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    common_options(c.get(), smtp, error_buffer, nullptr, timeouts);
    // No recipients and no upload: libcurl connects (EHLO, STARTTLS, AUTH) and sends this command.
    curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, "NOOP");
    const CURLcode code = curl_easy_perform(c.get());
    return outcome_of(c.get(), code, error_buffer);
}

}  // namespace portal::mail
