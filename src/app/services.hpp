// What handlers may use: built once by the application from the configuration.
#pragma once

#include "app/config.hpp"

namespace portal::store { class database; }
namespace portal::web { class template_set; }
namespace portal::http { class metrics_registry; class static_files; }
namespace portal::auth { class session_service; class login_throttle; }
namespace portal::erp { class erp_source; class snapshot_cache; }
namespace portal::mail { class mailer; }

namespace portal::app {

struct services {
    const config& cfg;
    store::database& db;
    const web::template_set& templates;
    const http::static_files& assets;
    http::metrics_registry& metrics;
    auth::session_service& sessions;
    auth::login_throttle& throttle;
    erp::erp_source& erp;
    erp::snapshot_cache& snapshots;
    mail::mailer* mail = nullptr;  // set by the application; mail->enabled() when SMTP_SERVER is set
};

}  // namespace portal::app
