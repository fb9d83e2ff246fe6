#include "store/migrations.hpp"

#include <algorithm>

namespace portal::store {

namespace {

// Version 1 is the Flask portal's schema (SPEC §6). Version 2 only adds: new tables, new nullable
// columns and indexes. Booleans are integers 0/1 (SMALLINT on PostgreSQL, BIT on SQL Server) so
// they read and bind as int through every SOCI back end; PostgreSQL's BOOLEAN comes back as the
// text 't'/'f', which SOCI cannot read into an int. Times are UTC without a zone, whole seconds.

dialect_schema make_sqlite() {
    dialect_schema s;
    s.create_version_table =
        "CREATE TABLE IF NOT EXISTS SchemaVersion (version INTEGER PRIMARY KEY, description TEXT, "
        "applied_at DATETIME NOT NULL)";
    s.version_table_exists =
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'SchemaVersion'";
    s.migrations.push_back(
        {1,
         "the Flask portal's tables",
         {
             // IF NOT EXISTS: a database that already holds these tables keeps them and their rows.
             "CREATE TABLE IF NOT EXISTS Customers ("
             "customer_id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "first_name TEXT NOT NULL, "
             "last_name TEXT NOT NULL, "
             "email TEXT NOT NULL UNIQUE, "
             "password_hash TEXT NOT NULL, "
             "erp_customer_name TEXT NOT NULL, "
             "is_active INTEGER DEFAULT 1, "
             "created_date DATETIME DEFAULT CURRENT_TIMESTAMP, "
             "last_login_date DATETIME NULL, "
             "must_reset_password INTEGER DEFAULT 0)",
             "CREATE UNIQUE INDEX IF NOT EXISTS UX_Customers_email_lower ON Customers "
             "(lower(email))",
             "CREATE TABLE IF NOT EXISTS ActiveSessions ("
             "session_id TEXT PRIMARY KEY, "
             "customer_id INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE, "
             "last_seen DATETIME, "
             "ip_address TEXT, "
             "user_agent TEXT, "
             "created_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
             "CREATE TABLE IF NOT EXISTS AuditLog ("
             "log_id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "\"timestamp\" DATETIME DEFAULT CURRENT_TIMESTAMP, "
             "admin_username TEXT NOT NULL, "
             "action_type TEXT NOT NULL, "
             "target_customer_id INTEGER NULL, "
             "target_customer_email TEXT NULL, "
             "details TEXT NULL)",
             "CREATE TABLE IF NOT EXISTS PasswordResetTokens ("
             "token_id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "customer_id INTEGER NOT NULL REFERENCES Customers (customer_id), "
             "token_hash TEXT NOT NULL UNIQUE, "
             "expiry_date DATETIME NOT NULL, "
             "is_used INTEGER DEFAULT 0)",
         }});
    s.migrations.push_back(
        {2,
         "login throttling, admin sessions, CSRF secrets, mail outbox, audit addresses",
         {
             "CREATE TABLE LoginAttempts ("
             "id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "scope TEXT NOT NULL, "
             "subject TEXT NOT NULL, "
             "attempted_at DATETIME NOT NULL, "
             "succeeded INTEGER NOT NULL DEFAULT 0)",
             "CREATE INDEX IX_LoginAttempts_subject ON LoginAttempts (scope, subject, "
             "attempted_at)",
             "CREATE TABLE AdminSessions ("
             "session_id TEXT PRIMARY KEY, "
             "admin_username TEXT NOT NULL, "
             "auth_method TEXT NOT NULL, "
             "created_at DATETIME NOT NULL, "
             "last_seen DATETIME NOT NULL, "
             "ip_address TEXT NULL, "
             "user_agent TEXT NULL, "
             "csrf_secret TEXT NULL)",
             "ALTER TABLE ActiveSessions ADD COLUMN csrf_secret TEXT NULL",
             "ALTER TABLE ActiveSessions ADD COLUMN expires_at DATETIME NULL",
             "ALTER TABLE AuditLog ADD COLUMN ip_address TEXT NULL",
             "ALTER TABLE AuditLog ADD COLUMN user_agent TEXT NULL",
             "CREATE TABLE MailOutbox ("
             "id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "recipient TEXT NOT NULL, "
             "bcc TEXT NULL, "
             "subject TEXT NOT NULL, "
             "text_body TEXT NOT NULL, "
             "html_body TEXT NULL, "
             "created_at DATETIME NOT NULL, "
             "attempts INTEGER NOT NULL DEFAULT 0, "
             "next_attempt_at DATETIME NOT NULL, "
             "sent_at DATETIME NULL, "
             "last_error TEXT NULL)",
             "CREATE INDEX IX_MailOutbox_due ON MailOutbox (sent_at, next_attempt_at)",
             "ALTER TABLE PasswordResetTokens ADD COLUMN purpose TEXT NULL",
             "ALTER TABLE PasswordResetTokens ADD COLUMN created_at DATETIME NULL",
             "CREATE INDEX IF NOT EXISTS IX_ActiveSessions_customer ON ActiveSessions "
             "(customer_id)",
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_timestamp ON AuditLog (\"timestamp\")",
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_customer ON AuditLog (target_customer_id)",
             "CREATE INDEX IF NOT EXISTS IX_PasswordResetTokens_customer ON PasswordResetTokens "
             "(customer_id)",
         }});
    s.migrations.push_back(
        {3,
         "portal settings (automatic sign-out of idle sessions), audit action index",
         {
             // Like version 2, only additions. One row per setting, shared by every instance
             // using this store.
             "CREATE TABLE PortalSettings ("
             "name TEXT PRIMARY KEY, "
             "value TEXT NULL, "
             "updated_at DATETIME NULL, "
             "updated_by TEXT NULL)",
             // The audit page filters by action and reads newest first.
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_action ON AuditLog (action_type, "
             "\"timestamp\")",
         }});
    s.migrations.push_back(
        {4,
         "admin sessions: a set-password link waiting to be shown to its admin",
         {
             // Only an addition, like versions 2 and 3. Sealed (AES-256-GCM, key from SECRET_KEY)
             // by web/link_notices.cpp: a waiting link is as good as a password. On the session's
             // row, so every instance sees it and it goes when the session ends. At most 4000
             // characters on every dialect (store::admin_notice_width), NVARCHAR's widest bound.
             "ALTER TABLE AdminSessions ADD COLUMN pending_notice TEXT NULL",
         }});
    return s;
}

dialect_schema make_postgresql() {
    dialect_schema s;
    // Transaction-scoped, so a crashed migrator cannot leave it held. The key is arbitrary but
    // fixed.
    s.lock = "SELECT pg_advisory_xact_lock(7265314001)";
    s.create_version_table =
        "CREATE TABLE IF NOT EXISTS SchemaVersion (version INTEGER PRIMARY KEY, description "
        "VARCHAR(200), "
        "applied_at TIMESTAMP(0) NOT NULL)";
    // Unquoted names fold to lower case in PostgreSQL.
    s.version_table_exists =
        "SELECT COUNT(*) FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = 'schemaversion'";
    const std::string utc_now = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')";
    s.migrations.push_back(
        {1,
         "the Flask portal's tables",
         {
             "CREATE TABLE IF NOT EXISTS Customers ("
             "customer_id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
             "first_name VARCHAR(100) NOT NULL, "
             "last_name VARCHAR(100) NOT NULL, "
             "email VARCHAR(255) NOT NULL UNIQUE, "
             "password_hash VARCHAR(255) NOT NULL, "
             "erp_customer_name VARCHAR(4000) NOT NULL, "
             "is_active SMALLINT DEFAULT 1, "
             "created_date TIMESTAMP(0) DEFAULT " +
                 utc_now +
                 ", "
                 "last_login_date TIMESTAMP(0) NULL, "
                 "must_reset_password SMALLINT DEFAULT 0)",
             "CREATE UNIQUE INDEX IF NOT EXISTS UX_Customers_email_lower ON Customers "
             "(lower(email))",
             "CREATE TABLE IF NOT EXISTS ActiveSessions ("
             "session_id VARCHAR(255) PRIMARY KEY, "
             "customer_id INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE, "
             "last_seen TIMESTAMP(0), "
             "ip_address VARCHAR(100), "
             "user_agent VARCHAR(500), "
             "created_at TIMESTAMP(0) DEFAULT " +
                 utc_now + ")",
             "CREATE TABLE IF NOT EXISTS AuditLog ("
             "log_id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
             "\"timestamp\" TIMESTAMP(0) DEFAULT " +
                 utc_now +
                 ", "
                 "admin_username VARCHAR(100) NOT NULL, "
                 "action_type VARCHAR(50) NOT NULL, "
                 "target_customer_id INTEGER NULL, "
                 "target_customer_email VARCHAR(255) NULL, "
                 "details TEXT NULL)",
             "CREATE TABLE IF NOT EXISTS PasswordResetTokens ("
             "token_id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
             "customer_id INTEGER NOT NULL REFERENCES Customers (customer_id), "
             "token_hash VARCHAR(255) NOT NULL UNIQUE, "
             "expiry_date TIMESTAMP(0) NOT NULL, "
             "is_used SMALLINT DEFAULT 0)",
         }});
    s.migrations.push_back(
        {2,
         "login throttling, admin sessions, CSRF secrets, mail outbox, audit addresses",
         {
             "CREATE TABLE LoginAttempts ("
             "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
             "scope VARCHAR(16) NOT NULL, "
             "subject VARCHAR(255) NOT NULL, "
             "attempted_at TIMESTAMP(0) NOT NULL, "
             "succeeded SMALLINT NOT NULL DEFAULT 0)",
             "CREATE INDEX IX_LoginAttempts_subject ON LoginAttempts (scope, subject, "
             "attempted_at)",
             "CREATE TABLE AdminSessions ("
             "session_id VARCHAR(255) PRIMARY KEY, "
             "admin_username VARCHAR(255) NOT NULL, "
             "auth_method VARCHAR(20) NOT NULL, "
             "created_at TIMESTAMP(0) NOT NULL, "
             "last_seen TIMESTAMP(0) NOT NULL, "
             "ip_address VARCHAR(100) NULL, "
             "user_agent VARCHAR(500) NULL, "
             "csrf_secret VARCHAR(255) NULL)",
             "ALTER TABLE ActiveSessions ADD COLUMN csrf_secret VARCHAR(255) NULL",
             "ALTER TABLE ActiveSessions ADD COLUMN expires_at TIMESTAMP(0) NULL",
             "ALTER TABLE AuditLog ADD COLUMN ip_address VARCHAR(100) NULL",
             "ALTER TABLE AuditLog ADD COLUMN user_agent VARCHAR(500) NULL",
             "CREATE TABLE MailOutbox ("
             "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
             "recipient VARCHAR(255) NOT NULL, "
             "bcc VARCHAR(1000) NULL, "
             "subject VARCHAR(500) NOT NULL, "
             "text_body TEXT NOT NULL, "
             "html_body TEXT NULL, "
             "created_at TIMESTAMP(0) NOT NULL, "
             "attempts INTEGER NOT NULL DEFAULT 0, "
             "next_attempt_at TIMESTAMP(0) NOT NULL, "
             "sent_at TIMESTAMP(0) NULL, "
             "last_error VARCHAR(1000) NULL)",
             "CREATE INDEX IX_MailOutbox_due ON MailOutbox (sent_at, next_attempt_at)",
             "ALTER TABLE PasswordResetTokens ADD COLUMN purpose VARCHAR(20) NULL",
             "ALTER TABLE PasswordResetTokens ADD COLUMN created_at TIMESTAMP(0) NULL",
             "CREATE INDEX IF NOT EXISTS IX_ActiveSessions_customer ON ActiveSessions "
             "(customer_id)",
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_timestamp ON AuditLog (\"timestamp\")",
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_customer ON AuditLog (target_customer_id)",
             "CREATE INDEX IF NOT EXISTS IX_PasswordResetTokens_customer ON PasswordResetTokens "
             "(customer_id)",
         }});
    s.migrations.push_back(
        {3,
         "portal settings (automatic sign-out of idle sessions), audit action index",
         {
             "CREATE TABLE PortalSettings ("
             "name VARCHAR(100) PRIMARY KEY, "
             "value VARCHAR(1000) NULL, "
             "updated_at TIMESTAMP(0) NULL, "
             "updated_by VARCHAR(255) NULL)",
             "CREATE INDEX IF NOT EXISTS IX_AuditLog_action ON AuditLog (action_type, "
             "\"timestamp\")",
         }});
    s.migrations.push_back(
        {4,
         "admin sessions: a set-password link waiting to be shown to its admin",
         {
             "ALTER TABLE AdminSessions ADD COLUMN pending_notice VARCHAR(4000) NULL",
         }});
    return s;
}

// SQL Server: the site's existing CustomerPortalDB, made by the Flask portal. Every statement is
// guarded so it is a no-op for what already exists (tables, columns, indexes), and version 1 keeps
// the Flask portal's exact definitions (GETDATE() defaults included; we always write times
// ourselves, in UTC). Emails are unique case-insensitively through the database's default
// case-insensitive collation, as they were under the Flask portal: T-SQL cannot index lower(email).
std::string if_no_table(const std::string& table) {
    return "IF OBJECT_ID(N'" + table + "', N'U') IS NULL ";
}
std::string if_no_column(const std::string& table, const std::string& column) {
    return "IF COL_LENGTH(N'" + table + "', N'" + column + "') IS NULL ";
}
std::string if_no_index(const std::string& table, const std::string& index) {
    return "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'" + index +
           "' AND object_id = OBJECT_ID(N'" + table + "')) ";
}

dialect_schema make_mssql() {
    dialect_schema s;
    // Owned by the transaction, so it is released at commit or when the connection dies. A lock
    // not granted (timeout, deadlock) must stop the migration rather than let it run unserialised.
    s.lock =
        "DECLARE @granted INT; "
        "EXEC @granted = sp_getapplock @Resource = N'customer-portal schema migration', "
        "@LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 120000; "
        "IF @granted < 0 RAISERROR(N'schema migration lock not granted', 16, 1);";
    s.create_version_table = if_no_table("SchemaVersion") +
                             "CREATE TABLE SchemaVersion (version INT PRIMARY KEY, "
                             "description NVARCHAR(200) NULL, applied_at DATETIME NOT NULL)";
    s.version_table_exists =
        "SELECT CASE WHEN OBJECT_ID(N'SchemaVersion', N'U') IS NULL THEN 0 ELSE 1 END";
    s.migrations.push_back(
        {1,
         "the Flask portal's tables",
         {
             if_no_table("Customers") + "CREATE TABLE Customers ("
                                        "customer_id INT IDENTITY(1,1) PRIMARY KEY, "
                                        "first_name NVARCHAR(100) NOT NULL, "
                                        "last_name NVARCHAR(100) NOT NULL, "
                                        "email NVARCHAR(255) NOT NULL UNIQUE, "
                                        "password_hash NVARCHAR(255) NOT NULL, "
                                        "erp_customer_name NVARCHAR(4000) NOT NULL, "
                                        "is_active BIT DEFAULT 1, "
                                        "created_date DATETIME DEFAULT GETDATE(), "
                                        "last_login_date DATETIME NULL, "
                                        "must_reset_password BIT DEFAULT 0)",
             if_no_table("ActiveSessions") + "CREATE TABLE ActiveSessions ("
                                             "session_id NVARCHAR(255) PRIMARY KEY, "
                                             "customer_id INT NOT NULL FOREIGN KEY REFERENCES "
                                             "Customers (customer_id) ON DELETE CASCADE, "
                                             "last_seen DATETIME, "
                                             "ip_address NVARCHAR(100), "
                                             "user_agent NVARCHAR(500), "
                                             "created_at DATETIME DEFAULT GETUTCDATE())",
             if_no_table("AuditLog") + "CREATE TABLE AuditLog ("
                                       "log_id INT IDENTITY(1,1) PRIMARY KEY, "
                                       "[timestamp] DATETIME DEFAULT GETDATE(), "
                                       "admin_username NVARCHAR(100) NOT NULL, "
                                       "action_type NVARCHAR(50) NOT NULL, "
                                       "target_customer_id INT NULL, "
                                       "target_customer_email NVARCHAR(255) NULL, "
                                       "details NVARCHAR(MAX) NULL)",
             if_no_table("PasswordResetTokens") +
                 "CREATE TABLE PasswordResetTokens ("
                 "token_id INT IDENTITY(1,1) PRIMARY KEY, "
                 "customer_id INT NOT NULL FOREIGN KEY REFERENCES Customers (customer_id), "
                 "token_hash NVARCHAR(255) NOT NULL UNIQUE, "
                 "expiry_date DATETIME NOT NULL, "
                 "is_used BIT DEFAULT 0)",
         }});
    s.migrations.push_back(
        {2,
         "login throttling, admin sessions, CSRF secrets, mail outbox, audit addresses",
         {
             if_no_table("LoginAttempts") + "CREATE TABLE LoginAttempts ("
                                            "id BIGINT IDENTITY(1,1) PRIMARY KEY, "
                                            "scope NVARCHAR(16) NOT NULL, "
                                            "subject NVARCHAR(255) NOT NULL, "
                                            "attempted_at DATETIME NOT NULL, "
                                            "succeeded BIT NOT NULL DEFAULT 0)",
             if_no_index("LoginAttempts", "IX_LoginAttempts_subject") +
                 "CREATE INDEX IX_LoginAttempts_subject ON LoginAttempts (scope, subject, "
                 "attempted_at)",
             if_no_table("AdminSessions") + "CREATE TABLE AdminSessions ("
                                            "session_id NVARCHAR(255) NOT NULL PRIMARY KEY, "
                                            "admin_username NVARCHAR(255) NOT NULL, "
                                            "auth_method NVARCHAR(20) NOT NULL, "
                                            "created_at DATETIME NOT NULL, "
                                            "last_seen DATETIME NOT NULL, "
                                            "ip_address NVARCHAR(100) NULL, "
                                            "user_agent NVARCHAR(500) NULL, "
                                            "csrf_secret NVARCHAR(255) NULL)",
             if_no_column("ActiveSessions", "csrf_secret") +
                 "ALTER TABLE ActiveSessions ADD csrf_secret NVARCHAR(255) NULL",
             if_no_column("ActiveSessions", "expires_at") +
                 "ALTER TABLE ActiveSessions ADD expires_at DATETIME NULL",
             if_no_column("AuditLog", "ip_address") +
                 "ALTER TABLE AuditLog ADD ip_address NVARCHAR(100) NULL",
             if_no_column("AuditLog", "user_agent") +
                 "ALTER TABLE AuditLog ADD user_agent NVARCHAR(500) NULL",
             if_no_table("MailOutbox") + "CREATE TABLE MailOutbox ("
                                         "id BIGINT IDENTITY(1,1) PRIMARY KEY, "
                                         "recipient NVARCHAR(255) NOT NULL, "
                                         "bcc NVARCHAR(1000) NULL, "
                                         "subject NVARCHAR(500) NOT NULL, "
                                         "text_body NVARCHAR(MAX) NOT NULL, "
                                         "html_body NVARCHAR(MAX) NULL, "
                                         "created_at DATETIME NOT NULL, "
                                         "attempts INT NOT NULL DEFAULT 0, "
                                         "next_attempt_at DATETIME NOT NULL, "
                                         "sent_at DATETIME NULL, "
                                         "last_error NVARCHAR(1000) NULL)",
             if_no_index("MailOutbox", "IX_MailOutbox_due") +
                 "CREATE INDEX IX_MailOutbox_due ON MailOutbox (sent_at, next_attempt_at)",
             if_no_column("PasswordResetTokens", "purpose") +
                 "ALTER TABLE PasswordResetTokens ADD purpose NVARCHAR(20) NULL",
             if_no_column("PasswordResetTokens", "created_at") +
                 "ALTER TABLE PasswordResetTokens ADD created_at DATETIME NULL",
             if_no_index("ActiveSessions", "IX_ActiveSessions_customer") +
                 "CREATE INDEX IX_ActiveSessions_customer ON ActiveSessions (customer_id)",
             if_no_index("AuditLog", "IX_AuditLog_timestamp") +
                 "CREATE INDEX IX_AuditLog_timestamp ON AuditLog ([timestamp])",
             if_no_index("AuditLog", "IX_AuditLog_customer") +
                 "CREATE INDEX IX_AuditLog_customer ON AuditLog (target_customer_id)",
             if_no_index("PasswordResetTokens", "IX_PasswordResetTokens_customer") +
                 "CREATE INDEX IX_PasswordResetTokens_customer ON PasswordResetTokens "
                 "(customer_id)",
         }});
    s.migrations.push_back(
        {3,
         "portal settings (automatic sign-out of idle sessions), audit action index",
         {
             if_no_table("PortalSettings") + "CREATE TABLE PortalSettings ("
                                             "name NVARCHAR(100) NOT NULL PRIMARY KEY, "
                                             "value NVARCHAR(1000) NULL, "
                                             "updated_at DATETIME NULL, "
                                             "updated_by NVARCHAR(255) NULL)",
             if_no_index("AuditLog", "IX_AuditLog_action") +
                 "CREATE INDEX IX_AuditLog_action ON AuditLog (action_type, [timestamp])",
         }});
    s.migrations.push_back(
        {4,
         "admin sessions: a set-password link waiting to be shown to its admin",
         {
             // Bounded, not NVARCHAR(MAX): SOCI's ODBC back end reads it into a fixed buffer.
             if_no_column("AdminSessions", "pending_notice") +
                 "ALTER TABLE AdminSessions ADD pending_notice NVARCHAR(4000) NULL",
         }});
    return s;
}

bool version_table_exists(soci::session& s, const dialect_schema& schema) {
    long long exists = 0;
    s << schema.version_table_exists, soci::into(exists);
    return exists != 0;
}

int applied_version(soci::session& s) {
    int version = 0;
    soci::indicator ind = soci::i_null;
    s << "SELECT MAX(version) FROM SchemaVersion", soci::into(version, ind);
    return ind == soci::i_ok ? version : 0;
}

}  // namespace

const dialect_schema& schema_for(dialect d) {
    static const dialect_schema sqlite = make_sqlite();
    static const dialect_schema postgresql = make_postgresql();
    static const dialect_schema mssql = make_mssql();
    switch (d) {
        case dialect::sqlite:
            return sqlite;
        case dialect::postgresql:
            return postgresql;
        case dialect::mssql:
            return mssql;
    }
    return sqlite;
}

int latest_schema_version() {
    return schema_for(dialect::sqlite).migrations.back().version;
}

void migrate(database& db) {
    const dialect_schema& schema = schema_for(db.sql_dialect());
    for (;;) {
        // One version per transaction: a failure leaves the database at the last whole version.
        const bool applied = db.in_transaction([&](soci::session& s) {
            if (!schema.lock.empty()) s << schema.lock;
            // Under the lock: a second process waits here, then sees the first one's work.
            s << schema.create_version_table;
            const int current = applied_version(s);
            auto next = std::find_if(schema.migrations.begin(), schema.migrations.end(),
                                     [current](const migration& m) { return m.version > current; });
            if (next == schema.migrations.end()) return false;
            for (const std::string& statement : next->statements) s << statement;
            std::tm now = to_db_time(std::chrono::system_clock::now());
            int version = next->version;
            std::string description = next->description;
            s << "INSERT INTO SchemaVersion (version, description, applied_at) VALUES (:v, :d, :a)",
                soci::use(version), soci::use(description), soci::use(now);
            return true;
        });
        if (!applied) return;
    }
}

int schema_version(database& db) {
    const dialect_schema& schema = schema_for(db.sql_dialect());
    return db.with_session(
        [&](soci::session& s) { return version_table_exists(s, schema) ? applied_version(s) : 0; });
}

}  // namespace portal::store
