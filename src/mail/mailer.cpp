#include "mail/mailer.hpp"

#include "app/logging.hpp"
#include "auth/tokens.hpp"
#include "mail/sealed_text.hpp"
#include "mail/smtp_client.hpp"
#include "store/audit_repository.hpp"
#include "store/customers_repository.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace portal::mail {

namespace {

std::string read_binary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// The recipient column holds `"Name" <email>` (or the bare email when that would not fit).
std::string stored_recipient(const address& to) {
    std::string quoted = "\"";
    for (char c : to.name) {
        if (c == '"' || c == '\\') quoted += '\\';
        if (c != '\r' && c != '\n') quoted += c;
    }
    quoted += "\" <" + to.email + ">";
    return to.name.empty() || quoted.size() > 255 ? to.email : quoted;
}

constexpr std::string_view logo_content_id = "logo@customer-portal";

}  // namespace

sender_options sender_options::from_environment() {
    sender_options o;
    if (const char* v = std::getenv("MAIL_RETRY_SECONDS"); v && *v) {
        char* end = nullptr;
        const long seconds = std::strtol(v, &end, 10);
        if (end && *end == '\0' && seconds >= 1 && seconds <= 3600) {
            o.first_retry = std::chrono::seconds(seconds);
            o.poll_interval = std::min(o.poll_interval, o.first_retry);
        } else {
            spdlog::warn("MAIL_RETRY_SECONDS={} ignored: expected whole seconds from 1 to 3600", v);
        }
    }
    return o;
}

mailer::mailer(const app::config& cfg, store::database& db, sender_options options)
    : cfg_(cfg), db_(db), options_(options) {
    templates_.emplace(cfg_.assets_dir + "/templates/email");
    if (!enabled()) return;
    from_ = parse_address(cfg_.smtp.from);
    if (!from_)
        throw app::config_error("EMAIL_FROM", "is not an email address: '" + cfg_.smtp.from + "'");
    if (from_->name.empty()) from_->name = std::string(product_name);
    if (!cfg_.smtp.bcc.empty() && parse_address_list(cfg_.smtp.bcc).empty())
        throw app::config_error("EMAIL_BCC", "holds no email address: '" + cfg_.smtp.bcc + "'");
    message_id_domain_ = from_->email.substr(from_->email.find('@') + 1);
    logo_png_ = read_binary(cfg_.assets_dir + "/static/img/logo-email.png");
    if (logo_png_.empty())
        spdlog::warn("mail: static/img/logo-email.png not found; emails go without the logo");
    init_curl();
}

mailer::~mailer() {
    stop();
}

long long mailer::queue(const address& to, const std::string& subject,
                        const std::string& template_name, email_data data) {
    if (!enabled()) throw std::logic_error("mail is not configured (SMTP_SERVER)");
    data.set("product_name", std::string(product_name));
    data.set("base_url", cfg_.app_base_url);
    data.set("recipient_name", to.name.empty() ? to.email : to.name);
    data.set("recipient_email", to.email);
    data.set("has_logo", !logo_png_.empty());
    data.set("logo_src", "cid:" + std::string(logo_content_id));
    data.set("subject", subject);
    const auto body = templates_->render(template_name, data);
    store::outbound_mail mail;
    mail.recipient = stored_recipient(to);
    mail.bcc = cfg_.smtp.bcc;
    mail.subject = subject;
    // Sealed at rest: the bodies carry set-password links (the subject and recipient stay legible
    // for admins and logs).
    mail.text_body = seal_text(cfg_.secret_key, body.text);
    mail.html_body = body.html.empty() ? std::string() : seal_text(cfg_.secret_key, body.html);
    return store::outbox_repository(db_).enqueue(mail, std::chrono::system_clock::now());
}

void mailer::start() {
    if (!enabled()) return;
    std::lock_guard lock(mutex_);
    if (running_) return;
    stopping_ = false;
    running_ = true;
    thread_ = std::thread([this] { run(); });
    spdlog::info("mail: sending through {} (retry after {} s, poll every {} s)",
                 smtp_description(cfg_.smtp), options_.first_retry.count(),
                 options_.poll_interval.count());
}

void mailer::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    running_ = false;
}

void mailer::wake() {
    {
        std::lock_guard lock(mutex_);
        wake_ = true;
    }
    cv_.notify_all();
}

void mailer::defer(std::function<void()> job) {
    {
        std::unique_lock lock(mutex_);
        if (running_ && !stopping_) {
            jobs_.push_back(std::move(job));
            lock.unlock();
            cv_.notify_all();
            return;
        }
    }
    try {
        job();
    } catch (const std::exception& e) {
        spdlog::error("mail: deferred work failed: {}", e.what());
    }
}

void mailer::run_deferred() {
    for (;;) {
        std::function<void()> job;
        {
            std::lock_guard lock(mutex_);
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (const std::exception& e) {
            spdlog::error("mail: deferred work failed: {}", e.what());
        }
    }
}

void mailer::run() {
    for (;;) {
        run_deferred();
        if (stopping_) break;
        int claimed = 0;
        try {
            claimed = send_due();
        } catch (const std::exception& e) {
            spdlog::error("mail: outbox pass failed: {}", e.what());
        }
        std::unique_lock lock(mutex_);
        if (stopping_) break;
        if (claimed >= options_.batch) continue;  // a full batch: more may be due already
        cv_.wait_for(lock, options_.poll_interval,
                     [&] { return wake_ || stopping_ || !jobs_.empty(); });
        wake_ = false;
    }
    // Work a request handed over before the stop (a reset link to queue) still gets done; the
    // email itself waits in the outbox for the next start.
    run_deferred();
}

int mailer::send_due() {
    store::outbox_repository outbox(db_);
    const auto batch =
        outbox.claim_due(std::chrono::system_clock::now(), options_.batch, options_.lease);
    std::optional<std::string> server_down;
    for (const auto& m : batch) {
        if (stopping_) {
            outbox.release(m.id, std::chrono::system_clock::now());
        } else if (server_down) {
            // The server just failed to answer: this one would fail the same way, and trying
            // would only make the batch take connect-timeout × batch.
            outbox.mark_failed(m.id, *server_down, std::chrono::system_clock::now(),
                               options_.first_retry);
            if (m.attempts + 1 >= store::outbox_max_attempts) give_up(m, *server_down);
        } else {
            deliver(m, server_down);
        }
    }
    return static_cast<int>(batch.size());
}

std::string mailer::render_message(const store::outbox_message& m) const {
    message_spec spec;
    spec.from = from_.value_or(address{std::string(product_name), "portal@localhost"});
    spec.to = parse_address(m.recipient).value_or(address{"", m.recipient});
    spec.subject = m.subject;
    const auto text = open_text(cfg_.secret_key, m.text_body);
    const auto html = open_text(cfg_.secret_key, m.html_body);
    if (!text || !html)
        throw std::runtime_error(
            "the queued message cannot be opened (was SECRET_KEY changed since?)");
    spec.text_body = *text;
    spec.html_body = *html;
    spec.date = m.created_at;
    const auto epoch =
        std::chrono::duration_cast<std::chrono::seconds>(m.created_at.time_since_epoch()).count();
    // The same id on every attempt, so a receiver can drop a duplicate after a lost reply.
    const auto tag = auth::keyed_hash(cfg_.secret_key.empty() ? "portal" : cfg_.secret_key,
                                      fmt::format("message-id:{}:{}", m.id, epoch))
                         .substr(0, 16);
    spec.message_id = fmt::format("{}.{}.{}@{}", epoch, m.id, tag,
                                  message_id_domain_.empty() ? "localhost" : message_id_domain_);
    if (!logo_png_.empty() &&
        spec.html_body.find("cid:" + std::string(logo_content_id)) != std::string::npos)
        spec.images.push_back({std::string(logo_content_id), "image/png", "logo.png", logo_png_});
    return build_message(spec);
}

void mailer::deliver(const store::outbox_message& m, std::optional<std::string>& server_down) {
    store::outbox_repository outbox(db_);
    const auto to = parse_address(m.recipient);
    std::string error;
    if (!to) {
        error = "the recipient is not an email address";
    } else {
        std::vector<std::string> recipients{to->email};
        for (const auto& b : parse_address_list(m.bcc))
            if (b.email != to->email) recipients.push_back(b.email);
        std::string message;
        try {
            message = render_message(m);
        } catch (const std::exception& e) {
            error = e.what();
        }
        const auto outcome =
            message.empty() ? smtp_outcome{false, false, false, error}
                            : smtp_send(cfg_.smtp, from_->email, recipients, message, &stopping_);
        if (outcome.ok) {
            outbox.mark_sent(m.id, std::chrono::system_clock::now());
            spdlog::info("mail: message {} to {} sent (\"{}\")", m.id, to->email, m.subject);
            return;
        }
        if (outcome.aborted && stopping_) {
            outbox.release(m.id, std::chrono::system_clock::now());
            spdlog::info("mail: message {} handed back at shutdown", m.id);
            return;
        }
        error = outcome.error;
        if (outcome.server_unreachable) server_down = error;
    }
    outbox.mark_failed(m.id, error, std::chrono::system_clock::now(), options_.first_retry);
    if (m.attempts + 1 >= store::outbox_max_attempts) {
        give_up(m, error);
    } else {
        spdlog::warn("mail: message {} to {}: attempt {} of {} failed, will retry: {}", m.id,
                     to ? to->email : m.recipient, m.attempts + 1, store::outbox_max_attempts,
                     error);
    }
}

void mailer::give_up(const store::outbox_message& m, const std::string& error) {
    const auto to = parse_address(m.recipient);
    const std::string email = to ? to->email : m.recipient;
    spdlog::error("mail: message {} to {} given up after {} attempts: {}", m.id, email,
                  store::outbox_max_attempts, error);
    try {
        store::new_audit_entry e;
        e.timestamp = std::chrono::system_clock::now();
        e.admin_username = "SYSTEM";
        e.action_type = "MAIL_FAILED";
        e.target_customer_email = email.substr(0, 255);
        if (auto c = store::customers_repository(db_).find_by_email(email))
            e.target_customer_id = c->customer_id;
        e.details = fmt::format(R"({{"outbox_id":{},"subject":"{}","attempts":{},"error":"{}"}})",
                                m.id, app::json_escape(m.subject), store::outbox_max_attempts,
                                app::json_escape(store::truncate_text(error, 500)));
        store::audit_repository(db_).append(e);
    } catch (const std::exception& ex) {
        spdlog::error("mail: could not audit the failed message {}: {}", m.id, ex.what());
    }
}

}  // namespace portal::mail
