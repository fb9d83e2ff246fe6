// Customer accounts in the admin area (SPEC §4 /admin/customers…, §6, §7) against the running
// binary with a demo ERP: access rules and CSRF on every route, create / edit / activate /
// deactivate / reset with their audit entries, duplicate emails, sessions ending at once, the
// one-time set-password link, the list's search, filters, sorting and paging (also over 10,000
// accounts), the ERP name list and the read-only "view as customer" preview.
#include "auth/password_hash.hpp"
#include "auth/tokens.hpp"
#include "erp/demo_erp.hpp"
#include "support/admin_fixture.hpp"
#include "support/smtp_sink.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

#include <regex>

using namespace portal;
using namespace portal::testing;
namespace json = boost::json;

namespace {

temp_dir* erp_dir = nullptr;

env_map demo_erp_env() {
    return {{"ERP_DB_DRIVER", "sqlite"}, {"ERP_DB_NAME", erp_dir->path + "/erp.db"}};
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The one-time set-password link shown on a page, or "".
std::string shown_link(const std::string& html) {
    std::smatch m;
    static const std::regex link(
        R"re(value="(https?://[^"]*/reset-password/([A-Za-z0-9_-]{43}))")re");
    return std::regex_search(html, m, link) ? m[1].str() : std::string();
}

std::string token_of(const std::string& url) {
    return url.substr(url.rfind('/') + 1);
}

using fields = std::vector<std::pair<std::string, std::string>>;

class admin_customers_test : public admin_fixture {
  protected:
    admin_customers_test() : admin_fixture(demo_erp_env()) {}

    static void SetUpTestSuite() {
        erp_dir = new temp_dir();
        erp::build_demo_erp(erp_dir->path + "/erp.db");
    }
    static void TearDownTestSuite() {
        delete erp_dir;
        erp_dir = nullptr;
    }

    struct row {
        std::string first_name, last_name, email, erp, hash;
        int active = 0, must_reset = 0;
    };
    std::optional<row> customer_row(int id) {
        row r;
        soci::indicator ind = soci::i_ok;
        bool found = false;
        db_.with_session([&](soci::session& s) {
            s << "SELECT first_name, last_name, email, erp_customer_name, password_hash, "
                 "is_active, "
                 "must_reset_password FROM Customers WHERE customer_id = :id",
                soci::use(id), soci::into(r.first_name), soci::into(r.last_name),
                soci::into(r.email), soci::into(r.erp), soci::into(r.hash),
                soci::into(r.active, ind), soci::into(r.must_reset);
            found = s.got_data();
        });
        if (!found) return std::nullopt;
        return r;
    }

    int id_by_email(const std::string& email) {
        int id = 0;
        db_.with_session([&](soci::session& s) {
            std::string e = email;
            s << "SELECT customer_id FROM Customers WHERE email = :e", soci::use(e), soci::into(id);
        });
        return id;
    }

    long long sessions_of(int customer_id) {
        return count("SELECT COUNT(*) FROM ActiveSessions WHERE customer_id = " +
                     std::to_string(customer_id));
    }

    // What the store holds of the links waiting for their admins (AdminSessions.pending_notice).
    std::vector<std::string> pending_notices() {
        std::vector<std::string> out;
        db_.with_session([&](soci::session& s) {
            std::string value;
            soci::statement st =
                (s.prepare << "SELECT pending_notice FROM AdminSessions WHERE pending_notice IS "
                              "NOT NULL",
                 soci::into(value));
            st.execute(false);
            while (st.fetch()) out.push_back(value);
        });
        return out;
    }

    http_result create(web_client& c, const std::string& email,
                       const std::vector<std::string>& erp_names,
                       const std::string& first = "Grace", const std::string& last = "Hopper") {
        fields f{{"csrf_token", c.admin_csrf()},
                 {"first_name", first},
                 {"last_name", last},
                 {"email", email}};
        for (const auto& n : erp_names) f.emplace_back("erp_customer_name", n);
        return c.post("/admin/customers", f);
    }

    fields edit_fields(web_client& c, const std::string& first, const std::string& last,
                       const std::string& email, const std::vector<std::string>& erp_names) {
        fields f{{"csrf_token", c.admin_csrf()},
                 {"first_name", first},
                 {"last_name", last},
                 {"email", email}};
        for (const auto& n : erp_names) f.emplace_back("erp_customer_name", n);
        return f;
    }
};

}  // namespace

// --- Access -------------------------------------------------------------------------------------

TEST_F(admin_customers_test, every_route_refuses_the_signed_out_and_customers) {
    const int id = add_customer("ada@example.com");
    const std::string base = "/admin/customers/" + std::to_string(id);
    const std::vector<std::string> pages{
        "/admin/customers",   "/admin/customers/new",   base,
        base + "/deactivate", base + "/reset-password", base + "/inventory"};
    const std::vector<std::string> json_routes{"/admin/erp-customers", base + "/api/inventory"};
    const std::vector<std::string> posts{"/admin/customers", base, base + "/activate",
                                         base + "/deactivate", base + "/reset-password"};

    web_client anonymous(portal_.port());
    for (const auto& p : pages) {
        auto r = anonymous.get(p);
        EXPECT_EQ(r.status, 303) << p;
        EXPECT_TRUE(r.header("location").starts_with("/admin-login?next="))
            << p << " → " << r.header("location");
    }
    for (const auto& p : json_routes) {
        auto r = anonymous.get(p, {{"Accept", "application/json"}});
        EXPECT_EQ(r.status, 401) << p;
        EXPECT_TRUE(json::parse(r.body).as_object().contains("error")) << p;
    }
    for (const auto& p : posts) {
        auto token = anonymous.csrf_from("/admin-login");
        auto r = anonymous.post(p, {{"csrf_token", token}, {"first_name", "X"}});
        EXPECT_EQ(r.status, 303) << p;
        EXPECT_EQ(r.header("location"), "/admin-login") << p;
    }

    auto customer = signed_in_customer("ada@example.com");
    auto customer_token = find_csrf(customer.get("/inventory").body);
    ASSERT_FALSE(customer_token.empty());
    for (const auto& p : pages) EXPECT_EQ(customer.get(p).status, 403) << p;
    for (const auto& p : json_routes)
        EXPECT_EQ(customer.get(p, {{"Accept", "application/json"}}).status, 403) << p;
    for (const auto& p : posts)
        EXPECT_EQ(customer.post(p, {{"csrf_token", customer_token}, {"first_name", "X"}}).status,
                  403)
            << p;

    // Nothing changed and nothing was audited.
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 1);
    EXPECT_TRUE(audit("CUSTOMER_DEACTIVATE").empty());
    EXPECT_TRUE(audit("ADMIN_PW_RESET_EMAIL").empty());
    EXPECT_TRUE(audit("CUSTOMER_VIEW_AS").empty());
    EXPECT_EQ(customer_row(id)->active, 1);
}

TEST_F(admin_customers_test, every_post_needs_the_csrf_token) {
    const int id = add_customer("ada@example.com");
    const std::string base = "/admin/customers/" + std::to_string(id);
    auto admin = signed_in_admin();
    const fields create{{"first_name", "Grace"},
                        {"last_name", "Hopper"},
                        {"email", "grace@example.com"},
                        {"erp_customer_name", "Acme Foods"}};
    const std::vector<std::pair<std::string, fields>> posts{
        {"/admin/customers", create},
        {base,
         {{"first_name", "Changed"},
          {"last_name", "Lovelace"},
          {"email", "ada@example.com"},
          {"erp_customer_name", "Acme Foods"}}},
        {base + "/deactivate", {}},
        {base + "/reset-password", {}},
        {base + "/activate", {}},
    };
    for (const auto& [path, body] : posts) {
        EXPECT_EQ(admin.post(path, body).status, 403) << path << " without a token";
        auto forged = body;
        forged.emplace_back("csrf_token", "A" + std::string(42, 'b'));
        EXPECT_EQ(admin.post(path, forged).status, 403) << path << " with a forged token";
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 1);
    const auto row = customer_row(id);
    EXPECT_EQ(row->first_name, "Ada");
    EXPECT_EQ(row->active, 1);
    EXPECT_EQ(row->must_reset, 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type LIKE 'CUSTOMER_%' OR "
                    "action_type LIKE 'ADMIN_PW%'"),
              0);
}

// --- Create -------------------------------------------------------------------------------------

TEST_F(admin_customers_test, create_stores_the_account_audits_it_and_shows_the_link_once) {
    auto admin = signed_in_admin();
    EXPECT_EQ(admin.get("/admin/customers/new").status, 200);
    auto r = create(admin, "grace@example.com", {"Acme Foods", "Café Ñandú"});
    ASSERT_EQ(r.status, 303) << r.body;
    const int id = id_by_email("grace@example.com");
    ASSERT_GT(id, 0);
    EXPECT_EQ(r.header("location"), "/admin/customers/" + std::to_string(id));
    // No token travels in the address or a cookie.
    EXPECT_FALSE(contains(r.header("location"), "reset-password"));
    for (const auto& cookie : r.all("set-cookie"))
        EXPECT_FALSE(contains(cookie, "reset")) << cookie;

    const auto row = customer_row(id);
    EXPECT_EQ(row->first_name, "Grace");
    EXPECT_EQ(row->last_name, "Hopper");
    EXPECT_EQ(row->erp, "Acme Foods|Café Ñandú");
    EXPECT_EQ(row->active, 1);
    EXPECT_EQ(row->must_reset, 1);
    // An Argon2id hash of a password nobody was told: not empty, not guessable from the form.
    EXPECT_TRUE(row->hash.starts_with("$argon2id$")) << row->hash;
    EXPECT_FALSE(auth::verify_password(row->hash, ""));

    const auto entries = audit("CUSTOMER_CREATE");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, admin_user);
    EXPECT_EQ(entries[0].target_customer_id, id);
    EXPECT_EQ(entries[0].target_customer_email, "grace@example.com");
    const auto details = json::parse(entries[0].details.value_or("{}")).as_object();
    EXPECT_EQ(details.at("first_name").as_string(), "Grace");
    EXPECT_EQ(details.at("last_name").as_string(), "Hopper");
    EXPECT_EQ(details.at("email").as_string(), "grace@example.com");
    EXPECT_EQ(details.at("erp_customer_name").as_string(), "Acme Foods|Café Ñandú");
    EXPECT_EQ(details.at("must_reset_password").as_bool(), true);
    EXPECT_FALSE(details.contains("password_hash"));
    EXPECT_FALSE(contains(entries[0].details.value_or(""), "argon2"));

    // The next page shows the link (mail is not set up here) and says to pass it on securely.
    auto page = admin.get(r.header("location"));
    ASSERT_EQ(page.status, 200);
    EXPECT_TRUE(contains(page.body, "The account has been created."));
    const auto url = shown_link(page.body);
    ASSERT_FALSE(url.empty()) << page.body;
    EXPECT_TRUE(url.starts_with("http://localhost:5001/reset-password/")) << url;
    EXPECT_TRUE(contains(page.body, "only they can read"));
    // The token works as a token: its keyed hash is the stored one, unused, for 72 hours.
    const auto hash = auth::keyed_hash(test_secret_key(), token_of(url));
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens WHERE customer_id = " +
                    std::to_string(id) + " AND is_used = 0 AND token_hash = '" + hash + "'"),
              1);
    EXPECT_FALSE(contains(entries[0].details.value_or(""), token_of(url)));

    // Shown once: a reload no longer has it.
    auto again = admin.get(r.header("location"));
    EXPECT_EQ(again.status, 200);
    EXPECT_TRUE(shown_link(again.body).empty());
    EXPECT_FALSE(contains(again.body, token_of(url)));
}

TEST_F(admin_customers_test, all_customers_is_stored_as_all_and_must_be_chosen_alone) {
    auto admin = signed_in_admin();
    ASSERT_EQ(create(admin, "staff@example.com", {"All"}).status, 303);
    EXPECT_EQ(customer_row(id_by_email("staff@example.com"))->erp, "All");

    auto mixed = create(admin, "mixed@example.com", {"All", "Acme Foods"});
    EXPECT_EQ(mixed.status, 400);
    EXPECT_TRUE(contains(mixed.body, "already includes every customer"));
    EXPECT_EQ(id_by_email("mixed@example.com"), 0);
}

TEST_F(admin_customers_test, invalid_forms_are_400_with_field_errors_and_change_nothing) {
    auto admin = signed_in_admin();
    struct bad_case {
        std::string first, last, email;
        std::vector<std::string> erp;
        std::string field, message;
    };
    const std::vector<bad_case> cases{
        {"", "Hopper", "g1@example.com", {"Acme Foods"}, "first_name", "Enter a first name."},
        {"Grace", "  ", "g2@example.com", {"Acme Foods"}, "last_name", "Enter a last name."},
        {std::string(101, 'x'),
         "Hopper",
         "g3@example.com",
         {"Acme Foods"},
         "first_name",
         "at most 100 characters"},
        {"Grace", "Hopper", "not-an-email", {"Acme Foods"}, "email", "Enter a valid email address"},
        {"Grace",
         "Hopper",
         "grace@localhost",
         {"Acme Foods"},
         "email",
         "Enter a valid email address"},
        {"Grace",
         "Hopper",
         "gr ace@example.com",
         {"Acme Foods"},
         "email",
         "Enter a valid email address"},
        {"Grace",
         "Hopper",
         std::string(250, 'g') + "@example.com",
         {"Acme Foods"},
         "email",
         "at most 255"},
        {"Grace",
         "Hopper",
         "g4@example.com",
         {},
         "erp_customer_name",
         "Choose at least one ERP customer"},
        {"Grace",
         "Hopper",
         "g5@example.com",
         {"", " "},
         "erp_customer_name",
         "Choose at least one ERP customer"},
        {"Grace",
         "Hopper",
         "g6@example.com",
         {"Acme Foods|Globex Corporation"},
         "erp_customer_name",
         "cannot contain"},
        {"Gr\x01"
         "ace",
         "Hopper",
         "g7@example.com",
         {"Acme Foods"},
         "first_name",
         "cannot be used"},
    };
    for (const auto& c : cases) {
        auto r = create(admin, c.email, c.erp, c.first, c.last);
        EXPECT_EQ(r.status, 400) << c.field << ": " << c.message;
        EXPECT_TRUE(contains(r.body, c.message)) << c.message;
        // The field is marked for assistive technology and keeps what was typed.
        if (c.field == "erp_customer_name") {
            EXPECT_TRUE(contains(r.body, "aria-describedby=\"erp-hint erp-error\"")) << c.message;
        } else {
            EXPECT_TRUE(
                contains(r.body,
                         "aria-invalid=\"true\" aria-describedby=\"" + c.field + "-error\"") ||
                contains(r.body,
                         "aria-describedby=\"email-hint email-error\" aria-invalid=\"true\""))
                << c.message;
        }
        EXPECT_TRUE(contains(
            r.body, "id=\"" + (c.field == "erp_customer_name" ? std::string("erp") : c.field) +
                        "-error\""));
    }
    auto kept = create(admin, "kept@", {"Café Ñandú"}, "Grace", "Höpper");
    EXPECT_TRUE(contains(kept.body, "value=\"Höpper\""));
    EXPECT_TRUE(contains(kept.body, "value=\"kept@\""));
    EXPECT_TRUE(std::regex_search(kept.body, std::regex(R"(value="Café Ñandú"\s+checked)")));
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 0);
    EXPECT_TRUE(audit("CUSTOMER_CREATE").empty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);
}

TEST_F(admin_customers_test, duplicate_email_in_another_case_is_409_and_changes_nothing) {
    const int ada = add_customer("ada@example.com");
    auto admin = signed_in_admin();
    auto r = create(admin, "ADA@Example.COM", {"Acme Foods"}, "Another", "Person");
    EXPECT_EQ(r.status, 409);
    EXPECT_TRUE(contains(r.body, "An account with this email address already exists"));
    EXPECT_TRUE(contains(r.body, "href=\"/admin/customers/" + std::to_string(ada) + "\""));
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 1);
    EXPECT_EQ(customer_row(ada)->first_name, "Ada");
    EXPECT_TRUE(audit("CUSTOMER_CREATE").empty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);

    // Editing another account onto that address is refused the same way.
    const int bob = add_customer("bob@example.com", "Acme Foods", true, "Bob", "Builder");
    auto e = admin.post("/admin/customers/" + std::to_string(bob),
                        edit_fields(admin, "Robert", "Builder", "Ada@EXAMPLE.com", {"Acme Foods"}));
    EXPECT_EQ(e.status, 409);
    EXPECT_TRUE(contains(e.body, "Another account already uses this email address"));
    const auto row = customer_row(bob);
    EXPECT_EQ(row->email, "bob@example.com");
    EXPECT_EQ(row->first_name, "Bob");
    EXPECT_TRUE(audit("CUSTOMER_UPDATE").empty());
}

// --- Edit ---------------------------------------------------------------------------------------

TEST_F(admin_customers_test, edit_saves_and_audits_only_the_changed_fields) {
    const int id = add_customer("a@x.example", "Acme Foods");
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/customers/" + std::to_string(id));
    ASSERT_EQ(page.status, 200);
    EXPECT_TRUE(contains(page.body, "value=\"a@x.example\""));

    auto r = admin.post(
        "/admin/customers/" + std::to_string(id),
        edit_fields(admin, "Ada", "Lovelace", "b@x.example", {"Acme Foods", "Café Ñandú"}));
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.header("location"), "/admin/customers/" + std::to_string(id));
    const auto row = customer_row(id);
    EXPECT_EQ(row->email, "b@x.example");
    EXPECT_EQ(row->erp, "Acme Foods|Café Ñandú");
    auto entries = audit("CUSTOMER_UPDATE");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, admin_user);
    EXPECT_EQ(entries[0].target_customer_id, id);
    EXPECT_EQ(json::parse(entries[0].details.value_or("")),
              json::parse(R"({"email":{"from":"a@x.example","to":"b@x.example"},
                             "erp_customer_name":{"from":"Acme Foods","to":"Acme Foods|Café Ñandú"}})"));

    // The same values again (names in another order): nothing to save, nothing audited.
    auto same = admin.post(
        "/admin/customers/" + std::to_string(id),
        edit_fields(admin, "Ada", "Lovelace", "b@x.example", {"Café Ñandú", "Acme Foods"}));
    EXPECT_EQ(same.status, 303);
    EXPECT_EQ(audit("CUSTOMER_UPDATE").size(), 1u);
    EXPECT_EQ(customer_row(id)->erp, "Acme Foods|Café Ñandú");

    // A refused edit re-renders the form with the error and keeps the stored account.
    auto bad = admin.post("/admin/customers/" + std::to_string(id),
                          edit_fields(admin, "", "Lovelace", "b@x.example", {"Acme Foods"}));
    EXPECT_EQ(bad.status, 400);
    EXPECT_TRUE(contains(bad.body, "Enter a first name."));
    EXPECT_EQ(customer_row(id)->first_name, "Ada");

    auto first_only = admin.post(
        "/admin/customers/" + std::to_string(id),
        edit_fields(admin, "Augusta Ada", "Lovelace", "b@x.example", {"Café Ñandú", "Acme Foods"}));
    EXPECT_EQ(first_only.status, 303);
    entries = audit("CUSTOMER_UPDATE");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(json::parse(entries[0].details.value_or("")),
              json::parse(R"({"first_name":{"from":"Ada","to":"Augusta Ada"}})"));
}

TEST_F(admin_customers_test, unknown_or_malformed_ids_are_404) {
    auto admin = signed_in_admin();
    const auto token = admin.admin_csrf();
    for (const std::string id : {"999", "0", "-1", "abc", "99999999999", "1e3"}) {
        const std::string base = "/admin/customers/" + id;
        EXPECT_EQ(admin.get(base).status, 404) << id;
        EXPECT_EQ(admin.get(base + "/inventory").status, 404) << id;
        EXPECT_EQ(admin.get(base + "/deactivate").status, 404) << id;
        auto api = admin.get(base + "/api/inventory");
        EXPECT_EQ(api.status, 404) << id;
        EXPECT_TRUE(json::parse(api.body).as_object().contains("error")) << id;
        EXPECT_EQ(
            admin.post(base, edit_fields(admin, "A", "B", "a@b.example", {"Acme Foods"})).status,
            404)
            << id;
        for (const char* action : {"/activate", "/deactivate", "/reset-password"})
            EXPECT_EQ(admin.post(base + action, {{"csrf_token", token}}).status, 404)
                << id << action;
    }
}

// --- Activate, deactivate, reset ----------------------------------------------------------------

TEST_F(admin_customers_test,
       deactivation_ends_the_customers_sessions_at_once_and_activation_restores_sign_in) {
    const int id = add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    auto other_device = signed_in_customer("ada@example.com");
    ASSERT_EQ(customer.get("/inventory").status, 200);
    ASSERT_EQ(sessions_of(id), 2);

    auto admin = signed_in_admin();
    // Without JavaScript the confirmation is a page of its own holding the POST form.
    auto confirm = admin.get("/admin/customers/" + std::to_string(id) + "/deactivate");
    EXPECT_EQ(confirm.status, 200);
    EXPECT_TRUE(contains(confirm.body,
                         "action=\"/admin/customers/" + std::to_string(id) + "/deactivate\""));
    EXPECT_EQ(customer_row(id)->active, 1);

    auto r = admin.post("/admin/customers/" + std::to_string(id) + "/deactivate",
                        {{"csrf_token", admin.admin_csrf()}});
    ASSERT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/admin/customers/" + std::to_string(id));
    EXPECT_EQ(customer_row(id)->active, 0);
    EXPECT_EQ(sessions_of(id), 0);
    // The customer's very next request is signed out.
    auto next = customer.get("/inventory");
    EXPECT_EQ(next.status, 303);
    EXPECT_TRUE(next.header("location").starts_with("/login"));
    EXPECT_EQ(other_device.get("/api/v1/inventory").status, 401);
    auto entries = audit("CUSTOMER_DEACTIVATE");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, admin_user);
    EXPECT_EQ(entries[0].target_customer_id, id);
    EXPECT_EQ(entries[0].target_customer_email, "ada@example.com");
    EXPECT_EQ(entries[0].details.value_or(""), R"({"is_active":{"from":true,"to":false}})");
    // Signing in again is refused while inactive.
    web_client again(portal_.port());
    EXPECT_EQ(again.login("ada@example.com", customer_password).status, 200);

    // Deactivating again changes nothing and audits nothing.
    EXPECT_EQ(admin
                  .post("/admin/customers/" + std::to_string(id) + "/deactivate",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              303);
    EXPECT_EQ(audit("CUSTOMER_DEACTIVATE").size(), 1u);

    ASSERT_EQ(admin
                  .post("/admin/customers/" + std::to_string(id) + "/activate",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              303);
    EXPECT_EQ(customer_row(id)->active, 1);
    entries = audit("CUSTOMER_ACTIVATE");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].details.value_or(""), R"({"is_active":{"from":false,"to":true}})");
    EXPECT_EQ(again.login("ada@example.com", customer_password).status, 303);
}

TEST_F(admin_customers_test,
       reset_password_ends_sessions_flags_the_account_and_issues_a_working_link) {
    const int id = add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    ASSERT_EQ(sessions_of(id), 1);
    auto admin = signed_in_admin();
    EXPECT_EQ(admin.get("/admin/customers/" + std::to_string(id) + "/reset-password").status, 200);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);

    auto r = admin.post("/admin/customers/" + std::to_string(id) + "/reset-password",
                        {{"csrf_token", admin.admin_csrf()}});
    ASSERT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/admin/customers/" + std::to_string(id));
    for (const auto& cookie : r.all("set-cookie"))
        EXPECT_FALSE(contains(cookie, "reset-password")) << cookie;
    EXPECT_EQ(sessions_of(id), 0);
    EXPECT_EQ(customer_row(id)->must_reset, 1);
    auto next = customer.get("/inventory");
    EXPECT_EQ(next.status, 303);
    EXPECT_TRUE(next.header("location").starts_with("/login"));

    auto entries = audit("ADMIN_PW_RESET_EMAIL");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, admin_user);
    EXPECT_EQ(entries[0].target_customer_id, id);
    EXPECT_EQ(
        json::parse(entries[0].details.value_or("")),
        json::parse(
            R"({"must_reset_password":{"from":false,"to":true},"emailed":false,"sessions_ended":1})"));

    auto page = admin.get("/admin/customers/" + std::to_string(id));
    const auto url = shown_link(page.body);
    ASSERT_FALSE(url.empty());
    EXPECT_TRUE(contains(page.body, "for 1 hour"));
    const auto hash = auth::keyed_hash(test_secret_key(), token_of(url));
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens WHERE customer_id = " +
                    std::to_string(id) + " AND is_used = 0 AND token_hash = '" + hash + "'"),
              1);
    EXPECT_FALSE(contains(entries[0].details.value_or(""), token_of(url)));
    EXPECT_TRUE(shown_link(admin.get("/admin/customers/" + std::to_string(id)).body).empty());

    // Only the admin who asked sees the link.
    auto second_admin = signed_in_admin();
    ASSERT_EQ(second_admin
                  .post("/admin/customers/" + std::to_string(id) + "/reset-password",
                        {{"csrf_token", second_admin.admin_csrf()}})
                  .status,
              303);
    EXPECT_TRUE(shown_link(admin.get("/admin/customers/" + std::to_string(id)).body).empty());
    const auto second_url =
        shown_link(second_admin.get("/admin/customers/" + std::to_string(id)).body);
    ASSERT_FALSE(second_url.empty());
    // A new link replaces the earlier one.
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens WHERE customer_id = " +
                    std::to_string(id) + " AND token_hash = '" + hash + "'"),
              0);
}

// --- The waiting link in the store --------------------------------------------------------------

// The link waits on the admin's session row, so whichever instance renders the next page shows it
// (tests/integration/scale_out_test.cpp), and the store holds it sealed, never in the clear.
// Another account's page leaves it; its own page takes it; signing out drops what still waits.
TEST_F(admin_customers_test, the_waiting_link_is_sealed_in_the_store_and_ends_with_the_session) {
    const int other = add_customer("ada@example.com");
    auto admin = signed_in_admin();
    auto r = create(admin, "grace@example.com", {"Acme Foods"});
    ASSERT_EQ(r.status, 303) << r.body;
    const auto stored = pending_notices();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_TRUE(stored[0].starts_with("enc1:")) << stored[0];
    EXPECT_FALSE(contains(stored[0], "reset-password")) << stored[0];
    EXPECT_FALSE(contains(stored[0], "localhost")) << stored[0];

    auto elsewhere = admin.get("/admin/customers/" + std::to_string(other));
    EXPECT_EQ(elsewhere.status, 200);
    EXPECT_TRUE(shown_link(elsewhere.body).empty());
    EXPECT_EQ(pending_notices().size(), 1u);

    auto page = admin.get(r.header("location"));
    const auto url = shown_link(page.body);
    ASSERT_FALSE(url.empty()) << page.body;
    EXPECT_FALSE(contains(stored[0], token_of(url)));
    EXPECT_TRUE(pending_notices().empty());

    ASSERT_EQ(admin
                  .post("/admin/customers/" + std::to_string(other) + "/reset-password",
                        {{"csrf_token", admin.admin_csrf()}})
                  .status,
              303);
    EXPECT_EQ(pending_notices().size(), 1u);
    ASSERT_EQ(admin.post("/logout", {{"csrf_token", admin.admin_csrf()}}).status, 303);
    EXPECT_TRUE(pending_notices().empty());
    auto again = signed_in_admin();
    EXPECT_TRUE(shown_link(again.get("/admin/customers/" + std::to_string(other)).body).empty());
}

// --- Each action is one transaction -------------------------------------------------------------

// An action's audit entry is its last write. When the store refuses it, nothing of the action
// stays — no change, no token, no ended session, no waiting link — and the admin is told that
// nothing was changed (503, the store's detail only in the log).
TEST_F(admin_customers_test, an_action_whose_audit_entry_is_refused_changes_nothing) {
    const int id = add_customer("ada@example.com");
    auto customer = signed_in_customer("ada@example.com");
    ASSERT_EQ(sessions_of(id), 1);
    auto admin = signed_in_admin();
    const auto token = admin.admin_csrf();
    const std::string base = "/admin/customers/" + std::to_string(id);
    db_.with_session([](soci::session& s) {
        s << "CREATE TRIGGER refuse_customer_audit BEFORE INSERT ON AuditLog "
             "WHEN NEW.action_type IN ('CUSTOMER_CREATE', 'CUSTOMER_UPDATE', "
             "'CUSTOMER_DEACTIVATE', 'ADMIN_PW_RESET_EMAIL') "
             "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END";
    });
    const auto expect_refused = [&](const http_result& r, const std::string& what) {
        EXPECT_EQ(r.status, 503) << what << ": " << r.body;
        EXPECT_TRUE(contains(r.body, "nothing was changed")) << what << ": " << r.body;
        EXPECT_FALSE(contains(r.body, "audit refused by the test")) << what;
    };

    expect_refused(admin.post(base + "/deactivate", {{"csrf_token", token}}), "deactivate");
    EXPECT_EQ(customer_row(id)->active, 1);
    EXPECT_EQ(sessions_of(id), 1);
    EXPECT_EQ(customer.get("/inventory").status, 200);

    expect_refused(admin.post(base + "/reset-password", {{"csrf_token", token}}), "reset");
    EXPECT_EQ(customer_row(id)->must_reset, 0);
    EXPECT_EQ(sessions_of(id), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);

    expect_refused(
        admin.post(base, edit_fields(admin, "Augusta", "King", "ada@example.com", {"Acme Foods"})),
        "update");
    EXPECT_EQ(customer_row(id)->first_name, "Ada");
    EXPECT_EQ(customer_row(id)->last_name, "Lovelace");

    expect_refused(create(admin, "grace@example.com", {"Acme Foods"}), "create");
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);
    EXPECT_TRUE(pending_notices().empty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM AuditLog WHERE action_type IN ('CUSTOMER_CREATE', "
                    "'CUSTOMER_UPDATE', 'CUSTOMER_DEACTIVATE', 'ADMIN_PW_RESET_EMAIL')"),
              0);
    EXPECT_EQ(customer.get("/inventory").status, 200);

    // With the store taking audit entries again, the same action goes through, whole.
    db_.with_session([](soci::session& s) { s << "DROP TRIGGER refuse_customer_audit"; });
    EXPECT_EQ(admin.post(base + "/deactivate", {{"csrf_token", token}}).status, 303);
    EXPECT_EQ(customer_row(id)->active, 0);
    EXPECT_EQ(sessions_of(id), 0);
    EXPECT_EQ(audit("CUSTOMER_DEACTIVATE").size(), 1u);
}

// --- The list -----------------------------------------------------------------------------------

TEST_F(admin_customers_test, list_searches_filters_sorts_and_pages) {
    add_customer("ada@example.com", "Acme Foods", true, "Ada", "Lovelace");
    add_customer("grace@navy.example", "Café Ñandú", true, "Grace", "Hopper");
    add_customer("alan@example.com", "Globex Corporation", false, "Alan", "Turing");
    add_customer("edsger@example.com", "All", true, "Edsger", "Dijkstra");
    add_customer("barbara@example.com", "Acme Foods|Globex Corporation", false, "Barbara",
                 "Liskov");
    auto admin = signed_in_admin();

    // The order of the names on a page tells which rows it holds and in what order.
    auto order = [&](const std::string& query) {
        auto r = admin.get("/admin/customers" + query);
        EXPECT_EQ(r.status, 200) << query;
        std::vector<std::string> names;
        static const std::regex name(
            R"re(<a class="table__primary" href="/admin/customers/\d+">([^<]*)</a>)re");
        for (std::sregex_iterator it(r.body.begin(), r.body.end(), name), end; it != end; ++it)
            names.push_back((*it)[1].str());
        return names;
    };
    using names = std::vector<std::string>;
    EXPECT_EQ(order(""), (names{"Edsger Dijkstra", "Grace Hopper", "Barbara Liskov", "Ada Lovelace",
                                "Alan Turing"}));
    EXPECT_EQ(order("?q=GRACE"), (names{"Grace Hopper"}));
    EXPECT_EQ(order("?q=navy.example"), (names{"Grace Hopper"}));
    EXPECT_EQ(order("?q=globex"), (names{"Barbara Liskov", "Alan Turing"}));
    EXPECT_EQ(order("?q=ada%20love"), (names{"Ada Lovelace"}));
    EXPECT_EQ(order("?q=%25"), (names{}));
    EXPECT_EQ(order("?status=active"), (names{"Edsger Dijkstra", "Grace Hopper", "Ada Lovelace"}));
    EXPECT_EQ(order("?status=inactive"), (names{"Barbara Liskov", "Alan Turing"}));
    EXPECT_EQ(order("?status=inactive&q=turing"), (names{"Alan Turing"}));
    EXPECT_EQ(order("?sort=email&order=desc"),
              (names{"Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Alan Turing",
                     "Ada Lovelace"}));
    EXPECT_EQ(order("?sort=last_name&order=desc&per_page=2"),
              (names{"Alan Turing", "Ada Lovelace"}));
    EXPECT_EQ(order("?sort=last_name&order=desc&per_page=2&page=3"), (names{"Edsger Dijkstra"}));
    EXPECT_EQ(order("?per_page=2&page=9"), (names{}));

    auto page = admin.get("/admin/customers?per_page=2&page=2");
    EXPECT_TRUE(contains(page.body, "Showing 3–4 of 5 customers"));
    EXPECT_TRUE(contains(page.body, "aria-sort=\"ascending\""));
    EXPECT_TRUE(contains(page.body, "aria-current=\"page\""));
    EXPECT_TRUE(contains(page.body, "href=\"/admin/customers?per_page=2&amp;page=3\""));
    EXPECT_TRUE(contains(page.body, "<time data-local"));
    EXPECT_TRUE(contains(page.body, "href=\"/admin/customers/new\""));
    auto sorted = admin.get("/admin/customers?sort=created_date&order=desc");
    EXPECT_TRUE(contains(sorted.body, "aria-sort=\"descending\""));

    auto none = admin.get("/admin/customers?q=nobody-at-all");
    EXPECT_EQ(none.status, 200);
    EXPECT_TRUE(contains(none.body, "No customers match"));

    const std::vector<std::string> bad_params{
        "?status=gone", "?sort=password_hash", "?order=up",      "?page=0",
        "?page=abc",    "?per_page=0",         "?per_page=1001", "?q=" + std::string(201, 'x')};
    for (const auto& bad : bad_params) {
        auto r = admin.get("/admin/customers" + bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_FALSE(contains(r.body, "SELECT")) << bad;
    }
    EXPECT_TRUE(contains(admin.get("/admin/customers?sort=nope").body,
                         "The list cannot be sorted that way."));
}

TEST_F(admin_customers_test, empty_list_invites_the_first_account) {
    auto admin = signed_in_admin();
    auto r = admin.get("/admin/customers");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(contains(r.body, "No customer accounts yet"));
}

TEST_F(admin_customers_test, list_pages_through_ten_thousand_accounts) {
    db_.in_transaction([&](soci::session& s) {
        std::string first, last, email, erp;
        int n = 0;
        soci::statement st =
            (s.prepare << "INSERT INTO Customers (first_name, last_name, email, password_hash, "
                          "erp_customer_name, is_active, must_reset_password) "
                          "VALUES (:f, :l, :e, 'x', :n, 1, 0)",
             soci::use(first), soci::use(last), soci::use(email), soci::use(erp));
        for (n = 0; n < 10'000; ++n) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%05d", n);
            first = "First";
            last = std::string("Last") + buf;
            email = std::string("user") + buf + "@bulk.example";
            erp = n % 2 ? "Acme Foods" : "Globex Corporation";
            st.execute(true);
        }
        return 0;
    });
    auto admin = signed_in_admin();
    auto last_page = admin.get("/admin/customers?page=200");
    ASSERT_EQ(last_page.status, 200);
    EXPECT_TRUE(contains(last_page.body, "Showing 9,951–10,000 of 10,000 customers"));
    EXPECT_TRUE(contains(last_page.body, ">First Last09999<"));
    EXPECT_TRUE(contains(last_page.body, "Page 200 of 200"));
    auto search = admin.get("/admin/customers?q=user01234");
    EXPECT_TRUE(contains(search.body, "Showing 1 of 1 customer"));
    auto by_erp = admin.get("/admin/customers?q=acme&per_page=200&page=25");
    EXPECT_TRUE(contains(by_erp.body, "Showing 4,801–5,000 of 5,000 customers"));
}

// --- ERP names and the preview ------------------------------------------------------------------

TEST_F(admin_customers_test, erp_customers_lists_the_erp_names_for_the_picker) {
    auto admin = signed_in_admin();
    auto r = admin.get("/admin/erp-customers");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.header("content-type").starts_with("application/json"));
    const auto list = json::parse(r.body).as_object().at("customers").as_array();
    std::vector<std::string> names;
    for (const auto& v : list) names.emplace_back(v.as_string());
    auto expected = erp::demo_customer_names();
    std::sort(names.begin(), names.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(names, expected);

    // The form offers the same names as checkboxes, so it works without JavaScript.
    auto form = admin.get("/admin/customers/new");
    EXPECT_TRUE(contains(form.body, "value=\"O&apos;Reilly &amp; Sons &lt;Wholesale&gt;\""))
        << "names are escaped";
    EXPECT_FALSE(contains(form.body, "<Wholesale>"));
    EXPECT_TRUE(contains(form.body, "value=\"All\""));
    EXPECT_TRUE(contains(form.body, "Sees every customer's stock"));
}

TEST_F(admin_customers_test,
       view_as_customer_shows_only_that_customers_rows_read_only_and_is_audited) {
    const int id = add_customer("ada@example.com", "Café Ñandú");
    auto admin = signed_in_admin();
    auto page = admin.get("/admin/customers/" + std::to_string(id) + "/inventory");
    ASSERT_EQ(page.status, 200);
    EXPECT_TRUE(contains(page.body, "Viewing as Ada Lovelace"));
    EXPECT_TRUE(contains(page.body, "read-only preview"));
    EXPECT_TRUE(contains(
        page.body, "data-api-url=\"/admin/customers/" + std::to_string(id) + "/api/inventory\""));
    EXPECT_FALSE(contains(page.body, "data-export-menu"));
    EXPECT_FALSE(contains(page.body, "/inventory/export.xlsx"));
    auto entries = audit("CUSTOMER_VIEW_AS");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].admin_username, admin_user);
    EXPECT_EQ(entries[0].target_customer_id, id);
    EXPECT_EQ(entries[0].details.value_or(""), R"({"erp_customer_name":"Café Ñandú"})");

    auto api = admin.get("/admin/customers/" + std::to_string(id) +
                         "/api/inventory?per_page=1000&customer=Acme%20Foods");
    ASSERT_EQ(api.status, 200) << api.body;
    auto body = json::parse(api.body).as_object();
    EXPECT_EQ(body.at("total").as_int64(), 0) << "customer= narrows, never widens";

    api = admin.get("/admin/customers/" + std::to_string(id) + "/api/inventory?per_page=1000");
    ASSERT_EQ(api.status, 200);
    body = json::parse(api.body).as_object();
    const auto& columns = body.at("columns").as_array();
    std::size_t customer_col = columns.size();
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].as_string() == "customer") customer_col = i;
    ASSERT_LT(customer_col, columns.size());
    const auto& rows = body.at("rows").as_array();
    EXPECT_GT(rows.size(), 0u);
    for (const auto& row : rows) EXPECT_EQ(row.as_array()[customer_col].as_string(), "Café Ñandú");

    // The same answer the customer gets from its own API.
    auto customer = signed_in_customer("ada@example.com");
    auto own = json::parse(customer.get("/api/v1/inventory?per_page=1000").body).as_object();
    EXPECT_EQ(own.at("total"), body.at("total"));
    EXPECT_EQ(own.at("rows"), body.at("rows"));
    // Viewing the API does not write an audit entry per request; only the page does.
    EXPECT_EQ(audit("CUSTOMER_VIEW_AS").size(), 1u);

    auto bad = admin.get("/admin/customers/" + std::to_string(id) + "/api/inventory?per_page=5000");
    EXPECT_EQ(bad.status, 400);
    EXPECT_TRUE(json::parse(bad.body).as_object().contains("error"));
}

// --- The ERP down -------------------------------------------------------------------------------

class admin_customers_erp_down : public admin_fixture {
  protected:
    admin_customers_erp_down()
        : admin_fixture({{"ERP_DB_DRIVER", "sqlite"}, {"ERP_DB_NAME", "/nonexistent/erp.db"}}) {}
};

TEST_F(admin_customers_erp_down, the_picker_says_so_and_the_form_still_works) {
    auto admin = signed_in_admin();
    auto r = admin.get("/admin/erp-customers");
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(
        contains(json::parse(r.body).as_object().at("error").as_string().c_str(), "not answering"));

    auto form = admin.get("/admin/customers/new");
    EXPECT_EQ(form.status, 200);
    EXPECT_TRUE(contains(form.body, "cannot be loaded right now"));
    EXPECT_TRUE(contains(form.body, "id=\"erp-typed\" name=\"erp_customer_name\""));
    // A typed name is accepted while the ERP is away.
    auto created = admin.post("/admin/customers", {{"csrf_token", admin.admin_csrf()},
                                                   {"first_name", "Grace"},
                                                   {"last_name", "Hopper"},
                                                   {"email", "grace@example.com"},
                                                   {"erp_customer_name", "  Acme Foods "}});
    EXPECT_EQ(created.status, 303);
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers WHERE erp_customer_name = 'Acme Foods'"), 1);

    const int id = add_customer("ada@example.com");
    auto api = admin.get("/admin/customers/" + std::to_string(id) + "/api/inventory");
    EXPECT_EQ(api.status, 503);
    EXPECT_TRUE(json::parse(api.body).as_object().contains("error"));
}

// --- With mail set up ---------------------------------------------------------------------------

struct sink_first {
    smtp_sink sink_;
};

// The sink is a base listed first, so it listens before the portal starts.
class admin_customers_mail : public sink_first, public admin_fixture {
  protected:
    admin_customers_mail() : admin_fixture(sink_.portal_env()) {}
};

// The email is queued in the action's transaction: a refused create leaves no message behind.
TEST_F(admin_customers_mail, a_refused_create_queues_no_email) {
    auto admin = signed_in_admin();
    db_.with_session([](soci::session& s) {
        s << "CREATE TRIGGER refuse_create_audit BEFORE INSERT ON AuditLog "
             "WHEN NEW.action_type = 'CUSTOMER_CREATE' "
             "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END";
    });
    const fields form{{"csrf_token", admin.admin_csrf()},
                      {"first_name", "Grace"},
                      {"last_name", "Hopper"},
                      {"email", "grace@example.com"},
                      {"erp_customer_name", "Acme Foods"}};
    auto refused = admin.post("/admin/customers", form);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(count("SELECT COUNT(*) FROM Customers"), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM MailOutbox"), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM PasswordResetTokens"), 0);

    db_.with_session([](soci::session& s) { s << "DROP TRIGGER refuse_create_audit"; });
    ASSERT_EQ(admin.post("/admin/customers", form).status, 303);
    EXPECT_EQ(count("SELECT COUNT(*) FROM MailOutbox"), 1);
    const auto mails = sink_.wait_for(1);
    ASSERT_GE(mails.size(), 1u);
    EXPECT_TRUE(contains(mails[0].header("to"), "grace@example.com"));
}

TEST_F(admin_customers_mail, emailed_links_are_never_shown_to_the_admin) {
    auto admin = signed_in_admin();
    auto r = admin.post("/admin/customers", {{"csrf_token", admin.admin_csrf()},
                                             {"first_name", "Grace"},
                                             {"last_name", "Hopper"},
                                             {"email", "grace@example.com"},
                                             {"erp_customer_name", "Acme Foods"}});
    ASSERT_EQ(r.status, 303) << r.body;
    auto page = admin.get(r.header("location"));
    EXPECT_TRUE(contains(page.body, "a welcome email with a set-password link is on its way"));
    EXPECT_TRUE(shown_link(page.body).empty());
    auto created = audit("CUSTOMER_CREATE");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_EQ(json::parse(created[0].details.value_or("{}")).as_object().at("welcome_link_emailed"),
              json::value(true));

    const auto mails = sink_.wait_for(1);
    ASSERT_GE(mails.size(), 1u);
    EXPECT_TRUE(contains(mails[0].header("to"), "grace@example.com"));
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(mails[0].text, m, std::regex(R"(/reset-password/([A-Za-z0-9_-]{43}))")));
    const int id = store::customers_repository(db_).find_by_email("grace@example.com")->customer_id;
    EXPECT_EQ(
        count("SELECT COUNT(*) FROM PasswordResetTokens WHERE customer_id = " + std::to_string(id) +
              " AND token_hash = '" + auth::keyed_hash(test_secret_key(), m[1].str()) + "'"),
        1);

    auto reset = admin.post("/admin/customers/" + std::to_string(id) + "/reset-password",
                            {{"csrf_token", admin.admin_csrf()}});
    ASSERT_EQ(reset.status, 303);
    page = admin.get(reset.header("location"));
    EXPECT_TRUE(contains(page.body, "A set-password link has been sent"));
    EXPECT_TRUE(shown_link(page.body).empty());
    auto resets = audit("ADMIN_PW_RESET_EMAIL");
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_EQ(json::parse(resets[0].details.value_or("{}")).as_object().at("emailed"),
              json::value(true));
    EXPECT_GE(sink_.wait_for(2).size(), 2u);
}
