#include "web/password_links.hpp"

#include "auth/tokens.hpp"
#include "store/reset_tokens_repository.hpp"

namespace portal::web {

password_link send_password_link(const app::services& s, const store::customer_record& customer, link_kind kind) {
    const auto now = std::chrono::system_clock::now();
    const auto lifetime = kind == link_kind::welcome ? std::chrono::hours(72) : std::chrono::hours(1);
    const auto token = auth::random_token();
    store::reset_tokens_repository tokens(s.db);
    tokens.delete_for_customer(customer.customer_id);
    tokens.create(customer.customer_id, auth::keyed_hash(s.cfg.secret_key, token), now + lifetime,
                  kind == link_kind::welcome ? "welcome" : "reset", now);
    std::string base = s.cfg.app_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return {base + "/reset-password/" + token, false};
}

}  // namespace portal::web
