#include "http/security_headers.hpp"

namespace portal::http {

void apply_security_headers(response& r, const security_policy& policy) {
    r.set("Content-Security-Policy", content_security_policy);
    r.set("X-Content-Type-Options", "nosniff");
    r.set("X-Frame-Options", "DENY");
    r.set("Cross-Origin-Opener-Policy", "same-origin");
    r.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    if (r.headers.find("Referrer-Policy") == r.headers.end()) r.set("Referrer-Policy", "same-origin");
    if (r.headers.find(bhttp::field::cache_control) == r.headers.end())
        r.set(bhttp::field::cache_control, "no-store");
    if (policy.https) r.set(bhttp::field::strict_transport_security, "max-age=31536000; includeSubDomains");
}

}  // namespace portal::http
