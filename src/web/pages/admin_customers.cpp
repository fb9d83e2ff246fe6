// Customer accounts (SPEC §4 /admin/customers…): the list, create and edit, activate / deactivate,
// reset password, the ERP name picker's JSON and the read-only "view as customer" preview.
#include "auth/password_hash.hpp"
#include "auth/sessions.hpp"
#include "auth/tokens.hpp"
#include "erp/erp_source.hpp"
#include "erp/inventory_json.hpp"
#include "erp/inventory_query.hpp"
#include "erp/snapshot_cache.hpp"
#include "http/compression.hpp"
#include "mail/mailer.hpp"
#include "store/customers_repository.hpp"
#include "web/admin_support.hpp"
#include "web/audit.hpp"
#include "web/customer_form.hpp"
#include "web/link_notices.hpp"
#include "web/page.hpp"
#include "web/password_links.hpp"
#include "web/routes.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <memory>
#include <set>

namespace portal::web {
namespace {

namespace json = boost::json;

constexpr std::size_t max_search_length = 200;
constexpr int default_per_page = 50;
constexpr int max_per_page = 200;
constexpr int per_page_choices[] = {25, 50, 100, 200};

constexpr std::string_view erp_names_down_message =
    "The list of ERP customers cannot be loaded right now: the warehouse system is not answering. "
    "Please try again in a few minutes.";
constexpr std::string_view preview_down_message =
    "Live stock cannot be shown right now: the warehouse system is not answering. Please try again "
    "in a few minutes.";

std::string encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::string full_name(const store::customer_record& c) {
    std::string name = c.first_name;
    if (!c.last_name.empty()) name += (name.empty() ? "" : " ") + c.last_name;
    return name.empty() ? c.email : name;
}

std::string customer_href(int id) {
    return "/admin/customers/" + std::to_string(id);
}

// "A, B and 3 more" for a list cell; "All customers" for All.
mustache_data erp_summary(const std::string& stored) {
    mustache_data d;
    if (erp::is_all(stored)) {
        d.set("all", true);
        return d;
    }
    const auto names = erp::split_erp_names(stored);
    mustache_data list{mustache_data::type::list};
    const std::size_t shown = std::min<std::size_t>(names.size(), 3);
    for (std::size_t i = 0; i < shown; ++i) {
        mustache_data item;
        item.set("name", names[i]);
        item.set("last", i + 1 == shown);
        list.push_back(item);
    }
    d.set("names", list);
    if (names.size() > shown)
        d.set("more", "and " + std::to_string(names.size() - shown) + " more");
    if (names.empty()) d.set("none", true);
    return d;
}

void set_time(mustache_data& d, const std::string& key, const std::optional<store::time_point>& t) {
    if (t) d.set(key, time_data(*t));
}

// ------------------------------------------------------------------------------------------------
// The list

struct list_state {
    std::string q;
    std::string status = "all";
    std::string sort = "last_name";
    std::string order = "asc";
    int page = 1;
    int per_page = default_per_page;

    // This list's address with some parameters changed; defaults are left out to keep it short.
    std::string href(std::optional<std::string> new_sort = {},
                     std::optional<std::string> new_order = {},
                     std::optional<int> new_page = {}) const {
        const std::string s = new_sort.value_or(sort), o = new_order.value_or(order);
        const int p = new_page.value_or(page);
        std::string qs;
        const auto add = [&qs](std::string_view k, const std::string& v) {
            qs += (qs.empty() ? "?" : "&") + std::string(k) + "=" + encode(v);
        };
        if (!q.empty()) add("q", q);
        if (status != "all") add("status", status);
        if (s != "last_name" || o != "asc") {
            add("sort", s);
            add("order", o);
        }
        if (per_page != default_per_page) add("per_page", std::to_string(per_page));
        if (p != 1) add("page", std::to_string(p));
        return "/admin/customers" + qs;
    }
};

struct column_def {
    const char* key;
    const char* label;
    bool newest_first;  // dates: the first click shows the most recent first
};
constexpr column_def list_columns[] = {
    {"last_name", "Name", false},
    {"email", "Email", false},
    {"erp_customer_name", "ERP customers", false},
    {"is_active", "Status", false},
    {"last_login_date", "Last login", true},
    {"created_date", "Created", true},
};

std::string trim_copy(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

list_state read_list_state(const http::request_context& ctx) {
    list_state st;
    st.q = trim_copy(ctx.query_param("q").value_or(""));
    if (text_length(st.q) > max_search_length)
        throw http::http_error(
            http::status::bad_request,
            "The search can be at most " + std::to_string(max_search_length) + " characters long.");
    if (auto v = ctx.query_param("status"); v && !v->empty()) {
        if (!store::parse_status_filter(*v))
            throw http::http_error(http::status::bad_request,
                                   "The status must be active, inactive or all.");
        st.status = *v;
    }
    if (auto v = ctx.query_param("sort"); v && !v->empty()) {
        if (!store::parse_customer_sort(*v))
            throw http::http_error(
                http::status::bad_request,
                "The list cannot be sorted that way. Sort by one of: last_name, first_name, "
                "email, erp_customer_name, is_active, last_login_date, created_date, customer_id.");
        st.sort = *v;
    }
    if (auto v = ctx.query_param("order"); v && !v->empty()) {
        if (*v != "asc" && *v != "desc")
            throw http::http_error(http::status::bad_request, "The order must be asc or desc.");
        st.order = *v;
    }
    st.page = int_query_param(ctx, "page", 1, 1, 1'000'000);
    st.per_page = int_query_param(ctx, "per_page", default_per_page, 1, max_per_page);
    return st;
}

mustache_data pagination_data(const list_state& st, long long total) {
    return pager_data(st.page, st.per_page, total, [&st](int p) { return st.href({}, {}, p); });
}

http::response list_page(app::services& s, http::request_context& ctx) {
    const auto st = read_list_state(ctx);
    store::customer_query query;
    query.search = st.q;
    query.status = *store::parse_status_filter(st.status);
    query.sort = *store::parse_customer_sort(st.sort);
    query.descending = st.order == "desc";
    query.page = st.page;
    query.per_page = st.per_page;
    const auto result = store::customers_repository(s.db).list(query);

    mustache_data data;
    data.set("nav", "customers");
    data.set("q", st.q);
    if (!st.q.empty()) data.set("search_text", st.q);
    for (const char* status : {"all", "active", "inactive"})
        if (st.status == status) data.set(std::string("status_") + status, true);
    mustache_data sizes{mustache_data::type::list};
    for (int n : per_page_choices) {
        mustache_data item;
        item.set("value", std::to_string(n));
        if (n == st.per_page) item.set("selected", true);
        sizes.push_back(item);
    }
    if (std::find(std::begin(per_page_choices), std::end(per_page_choices), st.per_page) ==
        std::end(per_page_choices)) {
        mustache_data item;
        item.set("value", std::to_string(st.per_page));
        item.set("selected", true);
        sizes.push_back(item);
    }
    data.set("per_page_choices", sizes);
    const bool filtered = !st.q.empty() || st.status != "all";
    data.set("filtered", filtered);
    data.set("clear_href", "/admin/customers");

    mustache_data headers{mustache_data::type::list};
    std::string sorted_by;
    for (const auto& c : list_columns) {
        mustache_data h;
        h.set("key", c.key);
        h.set("label", c.label);
        const bool current = st.sort == c.key;
        std::string next_order = c.newest_first ? "desc" : "asc";
        if (current) next_order = st.order == "asc" ? "desc" : "asc";
        h.set("href", st.href(std::string(c.key), next_order, 1));
        if (current) {
            h.set("aria_sort", st.order == "asc" ? "ascending" : "descending");
            sorted_by = std::string(c.label) + (st.order == "asc" ? ", ascending" : ", descending");
        }
        headers.push_back(h);
    }
    data.set("columns", headers);
    data.set("caption", "Customer accounts" +
                            (sorted_by.empty() ? std::string() : ", sorted by " + sorted_by));

    mustache_data rows{mustache_data::type::list};
    for (const auto& c : result.rows) {
        mustache_data r;
        r.set("href", customer_href(c.customer_id));
        r.set("name", full_name(c));
        r.set("email", c.email);
        r.set("erp", erp_summary(c.erp_customer_name));
        r.set("active", c.is_active);
        r.set("must_reset", c.must_reset_password);
        set_time(r, "last_login", c.last_login_date);
        set_time(r, "created", c.created_date);
        rows.push_back(r);
    }
    data.set("rows", rows);
    data.set("has_rows", !result.rows.empty());
    data.set("total", format_thousands(result.total));
    if (!result.rows.empty()) {
        const long long first = static_cast<long long>(st.page - 1) * st.per_page + 1;
        const long long last = first + static_cast<long long>(result.rows.size()) - 1;
        const std::string noun = result.total == 1 ? " customer" : " customers";
        data.set("summary", first == last ? "Showing " + format_thousands(first) + " of " +
                                                format_thousands(result.total) + noun
                                          : "Showing " + format_thousands(first) + "–" +
                                                format_thousands(last) + " of " +
                                                format_thousands(result.total) + noun);
    } else if (result.total > 0) {
        // A page past the end (accounts went away since the link was made).
        data.set("past_end", true);
        data.set("first_page_href", st.href({}, {}, 1));
    } else if (filtered) {
        data.set("no_matches", true);
    } else {
        data.set("no_accounts", true);
    }
    data.set("pagination", pagination_data(st, result.total));
    data.set("scripts",
             script_list({"/static/js/local-time.js", "/static/js/admin-customers-list.js"}));
    return render_page(s, ctx, "admin_customers", data, "Customers");
}

// ------------------------------------------------------------------------------------------------
// The form (create and edit)

struct erp_choices {
    std::vector<std::string> names;
    bool available = false;
};

erp_choices load_erp_names(app::services& s) {
    try {
        return {s.snapshots.customer_names(), true};
    } catch (const std::exception& e) {
        spdlog::warn("ERP customer names for the customer form: {}", e.what());
        return {{}, false};
    }
}

void set_error(mustache_data& d, const customer_form& f, const std::string& field) {
    if (auto it = f.errors.find(field); it != f.errors.end()) d.set(field + "_error", it->second);
}

mustache_data form_data(app::services& s, http::request_context& ctx, const customer_form& f,
                        std::optional<int> customer_id) {
    mustache_data d;
    d.set("nav", "customers");
    d.set("csrf_token", csrf_for(s, ctx));
    d.set("first_name", f.first_name);
    d.set("last_name", f.last_name);
    d.set("email", f.email);
    for (const char* field : {"first_name", "last_name", "email", "erp_customer_name"})
        set_error(d, f, field);
    if (!f.errors.empty()) {
        d.set("has_errors", true);
        mustache_data list{mustache_data::type::list};
        for (const char* field : {"first_name", "last_name", "email", "erp_customer_name"}) {
            if (auto it = f.errors.find(field); it != f.errors.end()) {
                mustache_data item;
                item.set("message", it->second);
                item.set("anchor", std::string(field) == "erp_customer_name" ? "erp-all"
                                                                             : std::string(field));
                list.push_back(item);
            }
        }
        d.set("error_list", list);
    }
    d.set("form_action",
          customer_id ? customer_href(*customer_id) : std::string("/admin/customers"));
    d.set("submit_label", customer_id ? "Save changes" : "Create account");
    d.set("cancel_href",
          customer_id ? customer_href(*customer_id) : std::string("/admin/customers"));

    // The picker: "All", then names chosen but not (or no longer) in the ERP's list, then the list.
    const auto erp = load_erp_names(s);
    const std::set<std::string> listed(erp.names.begin(), erp.names.end());
    const std::set<std::string> chosen(f.erp_names.begin(), f.erp_names.end());
    d.set("erp_all", f.all);
    d.set("erp_available", erp.available);
    if (!erp.available) d.set("erp_down_message", std::string(erp_names_down_message));
    mustache_data options{mustache_data::type::list};
    std::size_t index = 0;
    const auto add = [&](const std::string& name, bool checked, bool missing) {
        mustache_data o;
        o.set("id", "erp-name-" + std::to_string(index++));
        o.set("name", name);
        if (checked) o.set("checked", true);
        if (missing) o.set("missing", true);
        options.push_back(o);
    };
    for (const auto& name : f.erp_names)
        if (!listed.count(name)) add(name, true, erp.available);
    for (const auto& name : erp.names) add(name, chosen.count(name) != 0, false);
    d.set("erp_options", options);
    d.set("scripts", script_list({"/static/js/admin-erp-picker.js", "/static/js/admin-customer.js",
                                  "/static/js/local-time.js"}));
    return d;
}

http::response new_customer_page(app::services& s, http::request_context& ctx,
                                 const customer_form& f, http::status code = http::status::ok,
                                 std::optional<int> existing = {}) {
    auto d = form_data(s, ctx, f, std::nullopt);
    d.set("is_new", true);
    if (existing) d.set("duplicate_href", customer_href(*existing));
    return render_page(s, ctx, "admin_customer", d, "New customer", code);
}

// ------------------------------------------------------------------------------------------------
// One account

store::customer_record find_customer(app::services& s, int id) {
    auto c = store::customers_repository(s.db).find_by_id(id);
    if (!c)
        throw http::http_error(http::status::not_found,
                               "There is no customer account with this number.");
    return std::move(*c);
}

http::response customer_page(app::services& s, http::request_context& ctx, link_notices& notices,
                             const store::customer_record& c, const customer_form& f,
                             http::status code = http::status::ok,
                             std::optional<int> duplicate = {}) {
    auto d = form_data(s, ctx, f, c.customer_id);
    d.set("id", std::to_string(c.customer_id));
    d.set("href", customer_href(c.customer_id));
    d.set("name", full_name(c));
    d.set("stored_email", c.email);
    d.set("active", c.is_active);
    d.set("must_reset", c.must_reset_password);
    d.set("erp", erp_summary(c.erp_customer_name));
    set_time(d, "created", c.created_date);
    set_time(d, "last_login", c.last_login_date);
    d.set("audit_href", "/admin/audit?customer=" + encode(c.email));
    if (duplicate) d.set("duplicate_href", customer_href(*duplicate));
    if (code == http::status::ok) {
        // A link that could not be emailed: shown here once, then forgotten.
        if (auto notice = notices.take(caller(ctx)->session_id, c.customer_id)) {
            mustache_data n;
            n.set("url", notice->url);
            n.set("welcome", notice->welcome);
            n.set("expires", notice->welcome ? "72 hours" : "1 hour");
            d.set("link_notice", n);
        }
    }
    return render_page(s, ctx, "admin_customer", d, full_name(c), code);
}

http::response confirm_page(app::services& s, http::request_context& ctx,
                            const store::customer_record& c, std::string_view action) {
    mustache_data d;
    d.set("nav", "customers");
    d.set("csrf_token", csrf_for(s, ctx));
    d.set("href", customer_href(c.customer_id));
    d.set("name", full_name(c));
    d.set("email", c.email);
    d.set("action", customer_href(c.customer_id) + "/" + std::string(action));
    if (action == "deactivate") {
        d.set("deactivate", true);
        return render_page(s, ctx, "admin_customer_confirm", d, "Deactivate " + full_name(c));
    }
    d.set("reset", true);
    return render_page(s, ctx, "admin_customer_confirm", d,
                       "Reset the password of " + full_name(c));
}

// ------------------------------------------------------------------------------------------------
// Actions
//
// Each action stores everything it does in one transaction: the change, the set-password token
// and its email (the outbox row), the ended sessions, the admin's link notice and the audit entry
// are all kept or none is, whatever stops the process in between. Repository calls and
// send_password_link / record_audit made inside join that transaction. The function may run
// again (the store retries conflicts), so it does nothing but store work; the flash and the
// mailer's wake-up come after the commit.

constexpr std::string_view not_saved_message =
    "The change was not saved: the local store refused it, so nothing was changed. Please try "
    "again in a moment; if it keeps failing, ask whoever runs the portal to look at its log.";

template <class F>
auto in_one_transaction(app::services& s, std::string_view action, F&& fn) {
    try {
        return s.db.in_transaction(std::forward<F>(fn));
    } catch (const soci::soci_error& e) {
        // Not a lost connection (that is store_unavailable, answered 503 centrally): a statement
        // was refused, and the whole transaction is rolled back.
        throw http::http_error(http::status::service_unavailable, std::string(not_saved_message),
                               std::string(action) + " rolled back: " + e.what());
    }
}

// Thrown inside a transaction to roll it back when the email belongs to another account.
struct duplicate_email_refused {};

// The email was queued inside the transaction, where the sender could not see it yet.
void wake_mailer(app::services& s, const password_link& link) {
    if (link.emailed && s.mail) s.mail->wake();
}

http::response create_customer(app::services& s, http::request_context& ctx,
                               link_notices& notices) {
    const auto* who = caller(ctx);
    auto f = read_customer_form(ctx.form);
    if (!f.ok()) return new_customer_page(s, ctx, f, http::status::bad_request);

    store::new_customer c;
    c.first_name = f.first_name;
    c.last_name = f.last_name;
    c.email = f.email;
    // Nobody knows this password, so the account cannot be used until the customer sets one
    // through the welcome link. Admins never choose or see customers' passwords. (Hashed before
    // the transaction: it takes a while and touches nothing.)
    c.password_hash = auth::hash_password(auth::random_token());
    c.erp_customer_name = f.stored_erp_names();
    c.is_active = true;
    c.must_reset_password = true;

    struct created_account {
        int customer_id = 0;
        password_link link;
    };
    std::optional<created_account> done;
    try {
        done = in_one_transaction(s, "create customer", [&](soci::session&) {
            store::customers_repository customers(s.db);
            const auto created = customers.create(c, std::chrono::system_clock::now());
            if (created.status == store::save_status::duplicate_email)
                throw duplicate_email_refused{};
            const auto record = customers.find_by_id(created.customer_id);
            if (!record)
                throw std::runtime_error("customer " + std::to_string(created.customer_id) +
                                         " vanished after create");
            auto link = send_password_link(s, *record, link_kind::welcome);
            record_audit(s, ctx, who->actor(), "CUSTOMER_CREATE",
                         {record->customer_id, record->email}, created_details(c, link.emailed));
            if (!link.emailed) notices.put(who->session_id, {record->customer_id, link.url, true});
            return created_account{record->customer_id, std::move(link)};
        });
    } catch (const duplicate_email_refused&) {
        f.errors["email"] =
            "An account with this email address already exists (addresses are compared ignoring "
            "upper and lower case).";
        const auto existing = store::customers_repository(s.db).find_by_email(f.email);
        return new_customer_page(
            s, ctx, f, http::status::conflict,
            existing ? std::optional<int>(existing->customer_id) : std::nullopt);
    }
    wake_mailer(s, done->link);
    set_flash(ctx, done->link.emailed ? "customer_created_emailed" : "customer_created");
    return http::redirect(customer_href(done->customer_id));
}

http::response update_customer(app::services& s, http::request_context& ctx,
                               link_notices& notices) {
    const auto* who = caller(ctx);
    const int id = id_route_param(ctx);
    const auto before = find_customer(s, id);
    auto f = read_customer_form(ctx.form);
    if (!f.ok()) return customer_page(s, ctx, notices, before, f, http::status::bad_request);

    bool changed = false;
    try {
        changed = in_one_transaction(s, "update customer", [&](soci::session&) {
            // Read again in the transaction: the audit's "from" values are the ones replaced.
            const auto current = find_customer(s, id);
            store::customer_update fields{f.first_name, f.last_name, f.email, f.stored_erp_names()};
            // The same names in another order are no change (the Flask portal may have stored
            // "B|A").
            if (same_erp_names(current.erp_customer_name, fields.erp_customer_name))
                fields.erp_customer_name = current.erp_customer_name;
            const auto details = update_details(current, fields);
            if (details.empty()) return false;
            switch (store::customers_repository(s.db).update(id, fields)) {
                case store::save_status::not_found:
                    throw http::http_error(http::status::not_found,
                                           "There is no customer account with this number.");
                case store::save_status::duplicate_email:
                    throw duplicate_email_refused{};
                case store::save_status::saved:
                    break;
            }
            record_audit(s, ctx, who->actor(), "CUSTOMER_UPDATE", {id, fields.email}, details);
            return true;
        });
    } catch (const duplicate_email_refused&) {
        f.errors["email"] =
            "Another account already uses this email address (addresses are compared ignoring "
            "upper and lower case).";
        const auto other = store::customers_repository(s.db).find_by_email(f.email);
        return customer_page(s, ctx, notices, before, f, http::status::conflict,
                             other ? std::optional<int>(other->customer_id) : std::nullopt);
    }
    set_flash(ctx, changed ? "customer_saved" : "customer_unchanged");
    return http::redirect(customer_href(id));
}

http::response set_active(app::services& s, http::request_context& ctx, bool active) {
    const auto* who = caller(ctx);
    const int id = id_route_param(ctx);
    const bool changed = in_one_transaction(
        s, active ? "activate customer" : "deactivate customer", [&](soci::session&) {
            const auto c = find_customer(s, id);
            const bool change = c.is_active != active;
            if (change && !store::customers_repository(s.db).set_active(id, active))
                throw http::http_error(http::status::not_found,
                                       "There is no customer account with this number.");
            // Sessions end even when the flag was already off: nothing of an inactive account
            // stays open.
            if (!active) s.sessions.end_all_for_customer(id);
            if (change)
                record_audit(s, ctx, who->actor(),
                             active ? "CUSTOMER_ACTIVATE" : "CUSTOMER_DEACTIVATE", {id, c.email},
                             active_details(c.is_active, active));
            return change;
        });
    if (!changed)
        set_flash(ctx, "customer_unchanged");
    else
        set_flash(ctx, active ? "customer_activated" : "customer_deactivated");
    return http::redirect(customer_href(id));
}

http::response reset_password(app::services& s, http::request_context& ctx, link_notices& notices) {
    const auto* who = caller(ctx);
    const int id = id_route_param(ctx);
    const auto link = in_one_transaction(s, "reset customer password", [&](soci::session&) {
        const auto c = find_customer(s, id);
        store::customers_repository(s.db).set_must_reset_password(id, true);
        const int ended = s.sessions.end_all_for_customer(id);
        auto link = send_password_link(s, c, link_kind::reset);
        json::object details;
        if (!c.must_reset_password)
            details["must_reset_password"] = json::object{{"from", false}, {"to", true}};
        details["emailed"] = link.emailed;
        details["sessions_ended"] = ended;
        record_audit(s, ctx, who->actor(), "ADMIN_PW_RESET_EMAIL", {id, c.email},
                     json::serialize(details));
        if (!link.emailed) notices.put(who->session_id, {id, link.url, false});
        return link;
    });
    wake_mailer(s, link);
    set_flash(ctx, link.emailed ? "reset_emailed" : "reset_link_ready");
    return http::redirect(customer_href(id));
}

// ------------------------------------------------------------------------------------------------
// JSON: the picker's names and the preview's rows

http::response json_error(http::status code, std::string_view message) {
    return http::json_response(code, json::serialize(json::object{{"error", message}}));
}

http::response erp_customers_json(app::services& s) {
    std::vector<std::string> names;
    try {
        names = s.snapshots.customer_names();
    } catch (const std::exception& e) {
        spdlog::warn("GET /admin/erp-customers: {}", e.what());
        return json_error(http::status::service_unavailable, erp_names_down_message);
    }
    json::array list;
    list.reserve(names.size());
    for (const auto& n : names) list.emplace_back(n);
    return http::json_response(http::status::ok,
                               json::serialize(json::object{{"customers", std::move(list)}}));
}

// The same parameters and answer as GET /api/v1/inventory, for the account being previewed.
http::response preview_inventory_json(app::services& s, http::request_context& ctx) {
    try {
        const int id = id_route_param(ctx);
        const auto c = store::customers_repository(s.db).find_by_id(id);
        if (!c)
            return json_error(http::status::not_found,
                              "There is no customer account with this number.");
        auto query = erp::parse_inventory_query(ctx.query);
        if (!query) return json_error(http::status::bad_request, query.error());
        erp::snapshot_view view;
        try {
            view = s.snapshots.for_account(c->erp_customer_name);
        } catch (const erp::erp_unavailable& e) {
            spdlog::warn("preview inventory for customer {}: {}", id, e.what());
            return json_error(http::status::service_unavailable, preview_down_message);
        }
        const auto result = erp::run_query(*view.snapshot, *query);
        auto r = http::json_response(
            http::status::ok, erp::inventory_json(*view.snapshot, result, *query, view.stale));
        http::maybe_gzip(ctx.req, r);
        return r;
    } catch (const http::http_error& e) {
        return json_error(e.code, e.public_message);
    }
}

http::response preview_page(app::services& s, http::request_context& ctx) {
    const int id = id_route_param(ctx);
    const auto c = find_customer(s, id);
    record_audit(s, ctx, caller(ctx)->actor(), "CUSTOMER_VIEW_AS", {id, c.email},
                 json::serialize(json::object{{"erp_customer_name", c.erp_customer_name}}));
    const bool all = erp::is_all(c.erp_customer_name);
    mustache_data data;
    data.set("nav", "customers");
    data.set("customer_label", all ? std::string("All customers") : c.erp_customer_name);
    data.set("multi_customer", all || erp::split_erp_names(c.erp_customer_name).size() > 1);
    data.set("preview", true);
    data.set("preview_name", full_name(c));
    data.set("preview_email", c.email);
    data.set("preview_href", customer_href(id));
    data.set("preview_inactive", !c.is_active);
    data.set("api_url", customer_href(id) + "/api/inventory");
    data.set("sign_in_url", "/admin-login");
    data.set("scripts", script_list({"/static/js/inventory.js"}));
    return render_page(s, ctx, "inventory", data, "Viewing as " + full_name(c));
}

}  // namespace

void add_admin_customer_routes(http::router& r, app::services& s) {
    using http::access;
    using http::verb;
    auto notices = std::make_shared<link_notices>(s.db, s.cfg.secret_key);

    r.add(verb::get, "/admin/customers", access::admin,
          [&s](http::request_context& ctx) { return list_page(s, ctx); });
    r.add(verb::get, "/admin/customers/new", access::admin,
          [&s](http::request_context& ctx) { return new_customer_page(s, ctx, customer_form{}); });
    r.add(verb::post, "/admin/customers", access::admin,
          [&s, notices](http::request_context& ctx) { return create_customer(s, ctx, *notices); });
    r.add(verb::get, "/admin/erp-customers", access::admin,
          [&s](http::request_context&) { return erp_customers_json(s); });

    r.add(verb::get, "/admin/customers/{id}", access::admin,
          [&s, notices](http::request_context& ctx) {
              const auto c = find_customer(s, id_route_param(ctx));
              return customer_page(s, ctx, *notices, c, form_from_record(c));
          });
    r.add(verb::post, "/admin/customers/{id}", access::admin,
          [&s, notices](http::request_context& ctx) { return update_customer(s, ctx, *notices); });
    r.add(verb::post, "/admin/customers/{id}/activate", access::admin,
          [&s](http::request_context& ctx) { return set_active(s, ctx, true); });
    r.add(verb::post, "/admin/customers/{id}/deactivate", access::admin,
          [&s](http::request_context& ctx) { return set_active(s, ctx, false); });
    r.add(verb::post, "/admin/customers/{id}/reset-password", access::admin,
          [&s, notices](http::request_context& ctx) { return reset_password(s, ctx, *notices); });
    // Without JavaScript the confirmation dialogs are these pages (the POST routes do the work).
    r.add(verb::get, "/admin/customers/{id}/deactivate", access::admin,
          [&s](http::request_context& ctx) {
              return confirm_page(s, ctx, find_customer(s, id_route_param(ctx)), "deactivate");
          });
    r.add(verb::get, "/admin/customers/{id}/reset-password", access::admin,
          [&s](http::request_context& ctx) {
              return confirm_page(s, ctx, find_customer(s, id_route_param(ctx)), "reset-password");
          });

    r.add(verb::get, "/admin/customers/{id}/inventory", access::admin,
          [&s](http::request_context& ctx) { return preview_page(s, ctx); });
    r.add(verb::get, "/admin/customers/{id}/api/inventory", access::admin,
          [&s](http::request_context& ctx) { return preview_inventory_json(s, ctx); });
}

}  // namespace portal::web
