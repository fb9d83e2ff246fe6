#include "web/password_links.hpp"

#include "auth/tokens.hpp"
#include "mail/mailer.hpp"
#include "store/reset_tokens_repository.hpp"
#include "web/admin_support.hpp"

namespace portal::web {

namespace {

std::string base_url(const app::services& s) {
    std::string base = s.cfg.app_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
}

// "24 Nov 2026, 10:00 UTC": emails cannot run the pages' local-time script.
std::string utc_text(std::chrono::system_clock::time_point t) {
    return format_utc(t, "%d %b %Y, %H:%M UTC");
}

std::string full_name(const store::customer_record& c) {
    std::string name = c.first_name;
    if (!c.last_name.empty()) name += (name.empty() ? "" : " ") + c.last_name;
    return name;
}

bool mail_enabled(const app::services& s) {
    return s.mail && s.mail->enabled();
}

void wake_unless_in_transaction(const app::services& s) {
    // Inside a transaction the row is not visible to the sender until the caller commits.
    if (!s.db.in_ambient_transaction()) s.mail->wake();
}

}  // namespace

std::chrono::hours link_lifetime(link_kind kind) {
    return kind == link_kind::welcome ? std::chrono::hours(72) : std::chrono::hours(1);
}

password_link send_password_link(const app::services& s, const store::customer_record& customer,
                                 link_kind kind) {
    const auto now = std::chrono::system_clock::now();
    const auto lifetime = link_lifetime(kind);
    const auto token = auth::random_token();
    const std::string url = base_url(s) + "/reset-password/" + token;
    const bool emailing = mail_enabled(s);

    s.db.in_transaction([&](soci::session&) {
        store::reset_tokens_repository tokens(s.db);
        tokens.delete_for_customer(customer.customer_id);
        tokens.create(customer.customer_id, auth::keyed_hash(s.cfg.secret_key, token),
                      now + lifetime, kind == link_kind::welcome ? "welcome" : "reset", now);
        if (!emailing) return;
        mail::email_data data;
        data.set("first_name",
                 customer.first_name.empty() ? full_name(customer) : customer.first_name);
        data.set("email", customer.email);
        data.set("link", url);
        data.set("lifetime", kind == link_kind::welcome ? "72 hours" : "1 hour");
        data.set("expires_at", utc_text(now + lifetime));
        data.set("login_url", base_url(s) + "/login");
        data.set("forgot_url", base_url(s) + "/forgot-password");
        const std::string product(mail::product_name);
        switch (kind) {
            case link_kind::welcome:
                s.mail->queue(
                    {full_name(customer), customer.email},
                    "Welcome to " + product + ", " +
                        (customer.first_name.empty() ? full_name(customer) : customer.first_name),
                    "welcome", data);
                break;
            case link_kind::reset:
                s.mail->queue({full_name(customer), customer.email},
                              "Set a new password for " + product, "admin_reset", data);
                break;
            case link_kind::forgot:
                s.mail->queue({full_name(customer), customer.email},
                              "Reset your " + product + " password", "forgot_password", data);
                break;
        }
    });
    if (emailing) wake_unless_in_transaction(s);
    return {url, emailing};
}

bool send_password_changed_notice(const app::services& s, const store::customer_record& customer,
                                  const std::string& client_address) {
    if (!mail_enabled(s)) return false;
    mail::email_data data;
    data.set("first_name", customer.first_name.empty() ? full_name(customer) : customer.first_name);
    data.set("email", customer.email);
    data.set("changed_at", utc_text(std::chrono::system_clock::now()));
    if (!client_address.empty()) data.set("client_address", client_address);
    data.set("forgot_url", base_url(s) + "/forgot-password");
    s.mail->queue({full_name(customer), customer.email},
                  "Your " + std::string(mail::product_name) + " password was changed",
                  "password_changed", data);
    wake_unless_in_transaction(s);
    return true;
}

}  // namespace portal::web
