#include "erp/query_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

using portal::erp::check_query_text;
using portal::erp::code_only;
using portal::erp::load_query_file;
using portal::erp::query_kind;
using portal::erp::without_comments;

// The error message of a refusal, or "" when the text is accepted.
std::string refusal(const std::string& sql, query_kind kind = query_kind::customers) {
    try {
        check_query_text(sql, kind, "test.sql");
        return "";
    } catch (const std::runtime_error& e) {
        return e.what();
    }
}

TEST(query_file, accepts_a_plain_select_and_a_with_query) {
    EXPECT_EQ(refusal("SELECT name FROM dmpr1"), "");
    EXPECT_EQ(refusal("  select name from dmpr1;  \n"), "");
    EXPECT_EQ(refusal("WITH c AS (SELECT 1 AS name) SELECT name FROM c"), "");
    EXPECT_EQ(refusal("(SELECT 'a' AS name) UNION (SELECT 'b')"), "");
    EXPECT_EQ(refusal("SELECT REPLACE(p1_name, 'x', 'y') AS name FROM dmpr1"), "");
}

TEST(query_file, refuses_writes_and_schema_changes) {
    for (const char* sql : {
             "INSERT INTO t VALUES (1)",
             "UPDATE t SET a = 1",
             "DELETE FROM t",
             "DROP TABLE dtfifo",
             "CREATE TABLE x (a int)",
             "ALTER TABLE t ADD b int",
             "TRUNCATE TABLE t",
             "MERGE INTO t USING s ON 1 = 1 WHEN MATCHED THEN DELETE",
             "EXEC sp_who",
             "EXECUTE xp_cmdshell 'dir'",
             "GRANT SELECT ON t TO public",
         }) {
        SCOPED_TRACE(sql);
        EXPECT_NE(refusal(sql), "");
    }
}

TEST(query_file, refuses_a_second_statement) {
    std::string message = refusal("SELECT 1 AS name; DROP TABLE x");
    EXPECT_NE(message.find("more than one statement"), std::string::npos) << message;
    EXPECT_NE(refusal("SELECT 1 AS name; SELECT 2"), "");
    // T-SQL runs statements that are not separated by ';' too.
    EXPECT_NE(refusal("SELECT 1 AS name DROP TABLE x"), "");
}

TEST(query_file, refuses_write_keywords_inside_a_select) {
    EXPECT_NE(refusal("SELECT * INTO backup_copy FROM dtfifo"), "");
    EXPECT_NE(refusal("SELECT * FROM dtfifo FOR UPDATE"), "");
    EXPECT_NE(refusal("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"), "");
    EXPECT_NE(refusal("SELECT * FROM OPENROWSET('SQLNCLI', 'x', 'SELECT 1')"), "");
    EXPECT_NE(refusal("SELECT 1 AS name; WAITFOR DELAY '00:10'"), "");
    EXPECT_NE(refusal("select 1 as name exec('drop table t')"), "");
}

TEST(query_file, keywords_in_comments_literals_and_quoted_names_are_not_refused) {
    EXPECT_EQ(refusal("SELECT name -- delete the old ones? no\nFROM dmpr1"), "");
    EXPECT_EQ(refusal("SELECT name /* INSERT, UPDATE; DROP */ FROM dmpr1"), "");
    EXPECT_EQ(refusal("SELECT name /* nested /* DROP */ still comment; */ FROM dmpr1"), "");
    EXPECT_EQ(refusal("SELECT 'DELETE' AS name"), "");
    EXPECT_EQ(refusal("SELECT 'it''s; DROP TABLE x' AS name"), "");
    EXPECT_EQ(refusal("SELECT N'Update; Insert' AS name"), "");
    EXPECT_EQ(refusal("SELECT [Delete Flag] AS name FROM t"), "");
    EXPECT_EQ(refusal("SELECT \"update\" AS name FROM t"), "");
    EXPECT_EQ(refusal("SELECT t.delete AS name FROM t"), "");
    EXPECT_EQ(refusal("SELECT pr_updated, created_by, into_bin AS name FROM t"), "");
    EXPECT_EQ(refusal("SELECT $$drop table$$ AS name"), "");
}

TEST(query_file, refuses_what_is_not_a_select) {
    EXPECT_NE(refusal(""), "");
    EXPECT_NE(refusal("  -- only a comment\n"), "");
    EXPECT_NE(refusal("VALUES (1)"), "");
    EXPECT_NE(refusal("SHOW TABLES"), "");
    EXPECT_NE(refusal("SELECT 'unterminated"), "");
    EXPECT_NE(refusal("SELECT 1 /* unterminated"), "");
}

TEST(query_file, the_inventory_query_needs_the_customer_parameter) {
    EXPECT_EQ(refusal("SELECT 1 AS part WHERE c = :erp_customer", query_kind::inventory), "");
    EXPECT_NE(refusal("SELECT 1 AS part", query_kind::inventory).find(":erp_customer"),
              std::string::npos);
    // Only a use outside comments and literals counts; a longer name is another parameter.
    EXPECT_NE(refusal("SELECT 1 AS part -- :erp_customer", query_kind::inventory), "");
    EXPECT_NE(refusal("SELECT ':erp_customer' AS part", query_kind::inventory), "");
    EXPECT_NE(refusal("SELECT 1 AS part WHERE c = :erp_customer2", query_kind::inventory), "");
    // The customers query needs no parameter.
    EXPECT_EQ(refusal("SELECT name FROM dmpr1", query_kind::customers), "");
}

TEST(query_file, code_only_blanks_literals_and_drops_comments) {
    EXPECT_EQ(code_only("a 'x;y' b -- c\nd /* e */ f"), "a '' b  \nd   f");
    EXPECT_EQ(code_only("[a b] \"c\"\"d\""), "[] \"\"");
}

TEST(query_file, without_comments_keeps_literals_and_drops_the_trailing_semicolon) {
    EXPECT_EQ(without_comments("-- header :not_a_parameter\nSELECT 'a -- b' AS x /* c */ ;\n"),
              "SELECT 'a -- b' AS x");
}

TEST(query_file, a_refused_file_is_named_in_the_message) {
    auto path = std::filesystem::temp_directory_path() / "query_file_test_refused.sql";
    {
        std::ofstream out(path);
        out << "DELETE FROM dtfifo";
    }
    try {
        load_query_file(path.string(), query_kind::customers);
        ADD_FAILURE() << "a DELETE was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("DELETE"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);

    EXPECT_THROW(load_query_file("/nonexistent/dir/query.sql", query_kind::customers),
                 std::runtime_error);
}

TEST(query_file, a_byte_order_mark_is_dropped) {
    auto path = std::filesystem::temp_directory_path() / "query_file_test_bom.sql";
    {
        std::ofstream out(path, std::ios::binary);
        out << "\xEF\xBB\xBFSELECT name FROM dmpr1";
    }
    EXPECT_EQ(load_query_file(path.string(), query_kind::customers), "SELECT name FROM dmpr1");
    std::filesystem::remove(path);
}

TEST(query_file, the_bundled_queries_pass_their_own_checks) {
    const std::string dir = std::string(PORTAL_SOURCE_DIR) + "/queries/";
    for (const char* family : {"deacom", "portable"}) {
        SCOPED_TRACE(family);
        std::string inventory =
            load_query_file(dir + family + "_inventory.sql", query_kind::inventory);
        EXPECT_NE(inventory.find(":erp_customer"), std::string::npos);
        load_query_file(dir + family + "_customers.sql", query_kind::customers);
        // The aliases appear in the contract's order.
        std::size_t at = 0;
        for (const char* alias :
             {" AS customer,", " AS part,", " AS customer_part,", " AS description,",
              " AS on_hand,", " AS unit,", " AS bin,", " AS warehouse,", " AS reference,",
              " AS lot,", " AS expires,", " AS last_transaction,", " AS received,", " AS po,",
              " AS status"}) {
            std::size_t found = inventory.find(alias, at);
            EXPECT_NE(found, std::string::npos) << alias;
            if (found != std::string::npos) at = found;
        }
    }
}

}  // namespace
