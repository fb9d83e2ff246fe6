// Outgoing mail: emails are rendered from templates and queued in the store's MailOutbox (in the
// caller's transaction), and one background thread per instance sends what is due, retrying with
// backoff. A request never waits for SMTP; a restart loses nothing (claims are leased).
#pragma once

#include "app/config.hpp"
#include "mail/email_templates.hpp"
#include "mail/message.hpp"
#include "store/database.hpp"
#include "store/outbox_repository.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace portal::mail {

struct sender_options {
    std::chrono::seconds poll_interval{5};  // how often the outbox is looked at without a wake()
    std::chrono::seconds first_retry{60};   // doubling after each failure, at most 60 × this
    std::chrono::seconds lease{300};        // a claimed message is hidden this long from others
    int batch = 20;

    // MAIL_RETRY_SECONDS=N (1–3600) shortens the retry delay to N seconds and polls at least
    // every N seconds: for tests and for trying out a mail server. Malformed values are ignored.
    static sender_options from_environment();
};

class mailer {
  public:
    // Loads templates/email and the logo from cfg.assets_dir. Sends nothing until start().
    mailer(const app::config& cfg, store::database& db,
           sender_options options = sender_options::from_environment());
    ~mailer();
    mailer(const mailer&) = delete;
    mailer& operator=(const mailer&) = delete;

    // SMTP_SERVER is set: emails can be queued and the sender runs.
    bool enabled() const { return cfg_.smtp.configured(); }
    const sender_options& options() const { return options_; }

    // Renders templates/email/<template_name>.{txt,html} with `data` plus the common fields
    // (product_name, base_url, recipient_name) and queues it for `to` with EMAIL_BCC.
    // Joins the caller's transaction when there is one; call wake() after it commits.
    // Returns the outbox id. Throws std::logic_error when mail is not enabled.
    long long queue(const address& to, const std::string& subject, const std::string& template_name,
                    email_data data);

    void start();  // the background sender; nothing when mail is not enabled
    void stop();   // prompt: a transfer in progress is aborted and its message handed back
    void wake();   // look at the outbox now rather than at the next poll

    // Runs `job` on the sender's thread (or at once when the sender is not running), so a
    // request answers in the same time whatever the job does. Exceptions are logged.
    void defer(std::function<void()> job);

    // One pass over the outbox, on the caller's thread: claims what is due and sends it.
    // Returns how many were claimed. (The thread calls this; tests may too.)
    int send_due();

    // The complete message for an outbox row, as it goes over SMTP.
    std::string render_message(const store::outbox_message& m) const;

  private:
    void run();
    void run_deferred();
    void deliver(const store::outbox_message& m, std::optional<std::string>& server_down);
    void give_up(const store::outbox_message& m, const std::string& error);

    const app::config& cfg_;
    store::database& db_;
    sender_options options_;
    std::optional<email_templates> templates_;
    std::optional<address> from_;
    std::string message_id_domain_;
    std::string logo_png_;

    std::mutex mutex_;
    std::condition_variable cv_;
    bool wake_ = false;
    bool running_ = false;
    std::deque<std::function<void()>> jobs_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace portal::mail
