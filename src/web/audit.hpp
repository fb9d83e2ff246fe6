// Writing audit entries from handlers: the actor, the action, the target and the caller's address.
#pragma once

#include "app/services.hpp"
#include "http/request_context.hpp"

#include <optional>
#include <string>

namespace portal::web {

struct audit_target {
    std::optional<int> customer_id;
    std::optional<std::string> customer_email;
};

// `details` is a JSON object (or empty). Never put a password or a hash in it.
void record_audit(const app::services& s, const http::request_context& ctx, const std::string& actor,
                  const std::string& action, const audit_target& target = {}, const std::string& details = {});

}  // namespace portal::web
