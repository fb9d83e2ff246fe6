// The admin's customer form: what it accepts, how the ERP names are stored, and the audit details.
#include "web/customer_form.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

using namespace portal;
using namespace portal::web;

namespace {

http::param_list form(std::vector<std::string> erp, std::string first = "Ada",
                      std::string last = "Lovelace", std::string email = "ada@example.com") {
    http::param_list p{{"first_name", first}, {"last_name", last}, {"email", email}};
    for (auto& n : erp) p.emplace_back("erp_customer_name", n);
    return p;
}

}  // namespace

TEST(customer_form, emails_must_look_like_one_address) {
    for (const char* ok : {"ada@example.com", "Ada.Lovelace+stock@mail.example.co.uk", "a@b.io",
                           "x_y-z@sub-domain.example", "jörg@bäckerei.example"}) {
        EXPECT_TRUE(looks_like_email(ok)) << ok;
    }
    for (const char* bad : {"",
                            "ada",
                            "ada@",
                            "@example.com",
                            "ada@example",
                            "ada@@example.com",
                            "a@b@example.com",
                            "ada @example.com",
                            "ada@exa mple.com",
                            ".ada@example.com",
                            "ada.@example.com",
                            "a..b@example.com",
                            "ada@-example.com",
                            "ada@example-.com",
                            "ada@example..com",
                            "ada@example.c",
                            "Ada <ada@example.com>",
                            "ada@example.com,bob@example.com",
                            "ada@example.com\n",
                            "ada\x01@example.com",
                            "ada@exam_ple.com"}) {
        EXPECT_FALSE(looks_like_email(bad)) << bad;
    }
    EXPECT_FALSE(looks_like_email(std::string(64, 'a') + "b@example.com")) << "local part over 64";
    EXPECT_FALSE(looks_like_email("a@" + std::string(250, 'b') + ".com")) << "over 255";
}

TEST(customer_form, names_are_trimmed_and_stored_with_bars_or_as_all) {
    auto f = read_customer_form(
        form({" Acme Foods ", "Café Ñandú", "Acme Foods", ""}, "  Ada ", "Lovelace\t"));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.first_name, "Ada");
    EXPECT_EQ(f.last_name, "Lovelace");
    EXPECT_EQ(f.stored_erp_names(), "Acme Foods|Café Ñandú");
    EXPECT_EQ(read_customer_form(form({"All"})).stored_erp_names(), "All");
    EXPECT_EQ(read_customer_form(form({"all"})).stored_erp_names(), "All");
}

TEST(customer_form, each_field_has_its_own_error) {
    EXPECT_TRUE(read_customer_form(form({"Acme Foods"}, "")).errors.count("first_name"));
    EXPECT_TRUE(read_customer_form(form({"Acme Foods"}, "Ada", " ")).errors.count("last_name"));
    EXPECT_TRUE(
        read_customer_form(form({"Acme Foods"}, std::string(101, 'a'))).errors.count("first_name"));
    // 100 characters of two bytes each are still 100 characters.
    std::string hundred;
    for (int i = 0; i < 100; ++i) hundred += "é";
    EXPECT_TRUE(read_customer_form(form({"Acme Foods"}, hundred)).ok());
    EXPECT_TRUE(read_customer_form(form({"Acme Foods"},
                                        "Ad\xff"
                                        "a"))
                    .errors.count("first_name"));
    EXPECT_TRUE(
        read_customer_form(form({"Acme Foods"}, "Ada", "Love\x7f")).errors.count("last_name"));
    EXPECT_TRUE(
        read_customer_form(form({"Acme Foods"}, "Ada", "Lovelace", "nope")).errors.count("email"));
    EXPECT_TRUE(read_customer_form(form({})).errors.count("erp_customer_name"));
    EXPECT_TRUE(read_customer_form(form({"All", "Acme Foods"})).errors.count("erp_customer_name"));
    EXPECT_TRUE(read_customer_form(form({"A|B"})).errors.count("erp_customer_name"));
    EXPECT_TRUE(
        read_customer_form(form({std::string(4001, 'n')})).errors.count("erp_customer_name"));
    auto all_wrong = read_customer_form(form({}, "", "", ""));
    EXPECT_EQ(all_wrong.errors.size(), 4u);
}

TEST(customer_form, update_details_name_only_the_changed_fields) {
    store::customer_record before;
    before.first_name = "Ada";
    before.last_name = "Lovelace";
    before.email = "a@x.example";
    before.erp_customer_name = "Acme Foods";
    EXPECT_EQ(update_details(before, {"Ada", "Lovelace", "a@x.example", "Acme Foods"}), "");
    EXPECT_EQ(boost::json::parse(
                  update_details(before, {"Ada", "Lovelace", "b@x.example", "Acme Foods"})),
              boost::json::parse(R"({"email":{"from":"a@x.example","to":"b@x.example"}})"));
    EXPECT_EQ(active_details(true, false), R"({"is_active":{"from":true,"to":false}})");
    EXPECT_TRUE(same_erp_names("A|B", "B|A"));
    EXPECT_FALSE(same_erp_names("A|B", "A"));

    store::new_customer created{"Ada", "Lovelace", "a@x.example", "$argon2id$secret",
                                "All", true,       true};
    const auto details = created_details(created, false);
    EXPECT_EQ(details.find("argon2"), std::string::npos);
    EXPECT_EQ(boost::json::parse(details).as_object().at("erp_customer_name").as_string(), "All");
}
