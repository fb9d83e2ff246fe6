// Set-password links waiting for the admin who made them (web/link_notices.hpp), on a SQLite store:
// shown once, per session and customer, sealed and bound to the session in the store, dropped
// after 15 minutes, one taker under concurrency. (The column itself is tested on every back end in
// store_test.)
#include "web/link_notices.hpp"

#include "store/migrations.hpp"
#include "store/sessions_repository.hpp"
#include "support/portal_process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <memory>
#include <thread>

namespace store = portal::store;
using portal::web::link_notice;
using portal::web::link_notices;
using namespace std::chrono_literals;

namespace {

const std::string other_secret_key = "another-secret-key-of-at-least-thirty-two-characters";

class link_notices_test : public ::testing::Test {
  protected:
    link_notices_test() {
        portal::app::database_settings settings;
        settings.driver = "sqlite";
        settings.name = dir_.path + "/portal.db";
        db_ = std::make_unique<store::database>(settings, 4);
        store::migrate(*db_);
        for (const char* id : {"session-a", "session-b"}) add_session(id);
    }

    void add_session(const std::string& id) {
        store::admin_session_record rec;
        rec.session_id = id;
        rec.admin_username = "admin";
        rec.auth_method = "local";
        rec.created_at = now_;
        rec.last_seen = now_;
        rec.csrf_secret = "csrf";
        store::sessions_repository(*db_).create_admin_session(rec);
    }

    link_notices make(const std::string& secret_key = portal::testing::test_secret_key()) {
        return link_notices(*db_, secret_key, [this] { return now_.load(); });
    }

    std::optional<std::string> stored(const std::string& session_id) {
        std::optional<std::string> out;
        db_->with_session([&](soci::session& s) {
            std::string id = session_id, value;
            soci::indicator ind = soci::i_null;
            s << "SELECT pending_notice FROM AdminSessions WHERE session_id = :id", soci::use(id),
                soci::into(value, ind);
            if (s.got_data() && ind == soci::i_ok) out = value;
        });
        return out;
    }

    void store_raw(const std::string& session_id, const std::string& value) {
        db_->with_session([&](soci::session& s) {
            std::string id = session_id, v = value;
            s << "UPDATE AdminSessions SET pending_notice = :v WHERE session_id = :id",
                soci::use(v), soci::use(id);
        });
    }

    static std::string url(int n) {
        return "https://portal.example.com/reset-password/token-" + std::to_string(n);
    }

    portal::testing::temp_dir dir_;
    std::unique_ptr<store::database> db_;
    std::atomic<std::chrono::system_clock::time_point> now_{
        std::chrono::sys_days{std::chrono::year{2026} / 3 / 10} + 12h};
};

}  // namespace

TEST_F(link_notices_test, a_notice_is_shown_once_to_its_session_for_its_customer) {
    auto notices = make();
    EXPECT_FALSE(notices.take("session-a", 7));
    ASSERT_TRUE(notices.put("session-a", {7, url(1), true}));

    EXPECT_FALSE(notices.take("session-a", 8));  // another account's page
    EXPECT_FALSE(notices.take("session-b", 7));  // another admin
    const auto taken = notices.take("session-a", 7);
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->customer_id, 7);
    EXPECT_EQ(taken->url, url(1));
    EXPECT_TRUE(taken->welcome);
    EXPECT_FALSE(notices.take("session-a", 7));
    EXPECT_EQ(stored("session-a"), std::nullopt);

    // Another instance (another object, same SECRET_KEY) sees what this one stored.
    ASSERT_TRUE(notices.put("session-a", {7, url(2), false}));
    const auto elsewhere = make().take("session-a", 7);
    ASSERT_TRUE(elsewhere);
    EXPECT_EQ(elsewhere->url, url(2));
    EXPECT_FALSE(elsewhere->welcome);

    // No session, nothing held.
    EXPECT_FALSE(notices.put("signed-out", {7, url(3), true}));
}

TEST_F(link_notices_test, a_new_link_replaces_the_customers_earlier_one_and_others_stay) {
    auto notices = make();
    ASSERT_TRUE(notices.put("session-a", {7, url(1), true}));
    ASSERT_TRUE(notices.put("session-a", {8, url(2), true}));
    ASSERT_TRUE(notices.put("session-a", {7, url(3), false}));
    EXPECT_EQ(notices.take("session-a", 7)->url, url(3));
    EXPECT_FALSE(notices.take("session-a", 7));
    EXPECT_EQ(notices.take("session-a", 8)->url, url(2));
    EXPECT_EQ(stored("session-a"), std::nullopt);

    // At most max_per_session are held: the oldest go.
    const int total = static_cast<int>(link_notices::max_per_session) + 2;
    for (int id = 1; id <= total; ++id) ASSERT_TRUE(notices.put("session-a", {id, url(id), true}));
    EXPECT_FALSE(notices.take("session-a", 1));
    EXPECT_FALSE(notices.take("session-a", 2));
    for (int id = 3; id <= total; ++id) EXPECT_EQ(notices.take("session-a", id)->url, url(id));
}

TEST_F(link_notices_test, unclaimed_notices_are_dropped_after_fifteen_minutes) {
    auto notices = make();
    const auto start = now_.load();
    ASSERT_TRUE(notices.put("session-a", {7, url(1), true}));
    now_ = start + link_notices::keep_for;
    EXPECT_EQ(notices.take("session-a", 7)->url, url(1));

    ASSERT_TRUE(notices.put("session-a", {7, url(2), true}));
    ASSERT_TRUE(notices.put("session-a", {8, url(3), true}));
    now_ = now_.load() + link_notices::keep_for + 1s;
    EXPECT_FALSE(notices.take("session-a", 7));
    // The look cleared the store of everything expired, not only the link asked for.
    EXPECT_EQ(stored("session-a"), std::nullopt);
    EXPECT_FALSE(notices.take("session-a", 8));
}

TEST_F(link_notices_test, the_store_holds_it_sealed_and_bound_to_its_session) {
    auto notices = make();
    ASSERT_TRUE(notices.put("session-a", {7, url(1), true}));
    const auto sealed = stored("session-a");
    ASSERT_TRUE(sealed);
    EXPECT_TRUE(sealed->starts_with("enc1:")) << *sealed;
    EXPECT_EQ(sealed->find("reset-password"), std::string::npos) << *sealed;
    EXPECT_EQ(sealed->find("token-1"), std::string::npos) << *sealed;

    // Under another SECRET_KEY it does not open (and is dropped rather than shown).
    EXPECT_FALSE(make(other_secret_key).take("session-a", 7));
    EXPECT_EQ(stored("session-a"), std::nullopt);

    // Copied to another admin's session it is not shown there.
    store_raw("session-b", *sealed);
    EXPECT_FALSE(notices.take("session-b", 7));
    EXPECT_EQ(stored("session-b"), std::nullopt);

    // A value in the clear did not come from us: never shown.
    store_raw("session-a",
              R"({"session":"session-a","notices":[{"customer_id":7,"url":"https://evil.example/",)"
              R"("welcome":true,"made":1773144000}]})");
    EXPECT_FALSE(notices.take("session-a", 7));
    EXPECT_EQ(stored("session-a"), std::nullopt);
}

TEST_F(link_notices_test, two_requests_at_once_show_it_once) {
    constexpr int rounds = 20;
    auto setup = make();
    std::atomic<int> shown{0};
    std::barrier sync(2);
    auto viewer = [&](bool writer) {
        auto notices = make();  // as on two instances
        for (int i = 0; i < rounds; ++i) {
            if (writer) {
                EXPECT_TRUE(setup.put("session-a", {7, url(i), true}));
            }
            sync.arrive_and_wait();
            if (const auto n = notices.take("session-a", 7)) {
                EXPECT_EQ(n->url, url(i));
                ++shown;
            }
            sync.arrive_and_wait();
        }
    };
    std::thread first(viewer, true), second(viewer, false);
    first.join();
    second.join();
    EXPECT_EQ(shown.load(), rounds);
}
