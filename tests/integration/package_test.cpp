// The Debian package: built by CPack from this build folder (or taken from PORTAL_DEB), inspected,
// then, when the test runs as root, installed for real, started the way systemd starts
// customer-portal.service (no systemd runs in the test container), and purged.
#include "support/portal_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PORTAL_BUILD_DIR
#error "PORTAL_BUILD_DIR comes from the packaging block at the end of CMakeLists.txt"
#endif

using namespace portal::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* package_name = "customer-portal";
constexpr const char* service_user = "customer-portal";
constexpr const char* config_path = "/etc/customer-portal/portal.env";
constexpr const char* unit_path = "/lib/systemd/system/customer-portal.service";
constexpr const char* state_dir = "/var/lib/customer-portal";

// Paths in these commands come from mkdtemp and constants: nothing needs quoting.
command_result shell(const std::string& command) {
    command_result r;
    FILE* p = popen((command + " </dev/null 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (const std::size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

bool have(const std::string& program) {
    return shell("command -v " + program + " >/dev/null").exit_code == 0;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Keys set in a .env file (`KEY=value` lines), in file order.
std::vector<std::string> env_keys(const std::string& text) {
    std::vector<std::string> keys;
    static const std::regex line(R"(^\s*([A-Z_][A-Z0-9_]*)\s*=)");
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (std::regex_search(l, m, line)) keys.push_back(m[1]);
    }
    return keys;
}

// The value of `key` in a .env file, as the portal reads an unquoted one (up to " #").
std::optional<std::string> env_value(const std::string& text, const std::string& key) {
    const std::regex line("(^|\n)[ \t]*" + key + "[ \t]*=([^\n]*)");
    std::smatch m;
    if (!std::regex_search(text, m, line)) return std::nullopt;
    std::string v = m[2];
    if (auto hash = v.find(" #"); hash != std::string::npos) v.erase(hash);
    v.erase(v.find_last_not_of(" \t\r") + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
}

struct package_file {
    std::string path;  // ./usr/bin/customer-portal
    std::string mode;  // -rwxr-xr-x
};

// The package under test, made once for the whole file: cpack takes seconds, not milliseconds.
struct built_package {
    temp_dir dir;
    std::string deb;
    std::string error;  // why there is none
};

void build_package(built_package& b) {
    if (const char* given = std::getenv("PORTAL_DEB"); given && *given) {
        b.deb = given;
        if (!fs::exists(b.deb)) b.error = "PORTAL_DEB=" + b.deb + " does not exist";
        return;
    }
    if (!have("dpkg-shlibdeps") || !have("dpkg-deb")) {
        b.error = "dpkg-dev is not installed (scripts/install-deps.sh installs it)";
        return;
    }
    // -B keeps cpack's staging folder and output out of the shared build folder, so this runs
    // beside anyone's `make package`; the binary is current because this test depends on it.
    const auto r =
        shell(std::string(PORTAL_CPACK_COMMAND) +
              " -G DEB --config " PORTAL_BUILD_DIR "/CPackConfig.cmake -B " + b.dir.path);
    for (const auto& entry : fs::directory_iterator(b.dir.path))
        if (entry.path().extension() == ".deb") b.deb = entry.path().string();
    if (r.exit_code != 0 || b.deb.empty()) b.error = "cpack failed:\n" + r.output;
}

built_package& package() {
    static built_package p;
    static bool built = false;
    if (!built) build_package(p);
    built = true;
    return p;
}

#define REQUIRE_PACKAGE()                                        \
    do {                                                         \
        if (!package().error.empty()) FAIL() << package().error; \
    } while (0)

std::vector<package_file> package_contents(const std::string& deb) {
    std::vector<package_file> files;
    std::istringstream in(shell("dpkg-deb -c " + deb).output);
    for (std::string l; std::getline(in, l);) {
        std::istringstream fields(l);
        std::string mode, owner, size, date, time, path;
        fields >> mode >> owner >> size >> date >> time >> path;
        if (!path.empty()) files.push_back({path, mode});
    }
    return files;
}

std::optional<std::string> mode_of(const std::vector<package_file>& files,
                                   const std::string& path) {
    for (const auto& f : files)
        if (f.path == path) return f.mode;
    return std::nullopt;
}

TEST(package, holds_binary_assets_unit_and_configuration) {
    REQUIRE_PACKAGE();
    const auto files = package_contents(package().deb);
    ASSERT_FALSE(files.empty());
    EXPECT_EQ(mode_of(files, "./usr/bin/customer-portal"), "-rwxr-xr-x");
    EXPECT_EQ(mode_of(files, "./usr/lib/customer-portal/customer-portal"), "-rwxr-xr-x");
    EXPECT_EQ(mode_of(files, "./lib/systemd/system/customer-portal.service"), "-rw-r--r--");
    // Secrets go in here: not readable by others even before postinst hands the group over.
    EXPECT_EQ(mode_of(files, "./etc/customer-portal/portal.env"), "-rw-r-----");

    // Every template, static file and query of the source tree is installed, none forgotten.
    int assets = 0;
    for (const char* folder : {"templates", "static", "queries"}) {
        for (const auto& entry :
             fs::recursive_directory_iterator(fs::path(PORTAL_SOURCE_DIR) / folder)) {
            if (!entry.is_regular_file()) continue;
            const auto rel = fs::relative(entry.path(), PORTAL_SOURCE_DIR).string();
            EXPECT_TRUE(mode_of(files, "./usr/share/customer-portal/" + rel).has_value())
                << rel << " is not in the package";
            ++assets;
        }
    }
    EXPECT_GT(assets, 20);
    EXPECT_EQ(std::count_if(files.begin(), files.end(),
                            [](const package_file& f) {
                                return f.path.find("/usr/local") != std::string::npos;
                            }),
              0);
}

TEST(package, control_has_version_depends_and_the_conffile) {
    REQUIRE_PACKAGE();
    const auto& deb = package().deb;
    EXPECT_EQ(shell("dpkg-deb -f " + deb + " Package").output, "customer-portal\n");
    EXPECT_EQ(
        shell("dpkg-deb -f " + deb + " Version").output.rfind(std::string(PORTAL_VERSION) + "-", 0),
        0u);
    const std::string depends = shell("dpkg-deb -f " + deb + " Depends").output;
    // From dpkg-shlibdeps: the libraries the binary links, with versions; adduser for postinst.
    for (const char* dep :
         {"adduser", "libc6 (>=", "libsodium23", "libsoci-core4.0", "libsoci-odbc4.0", "libodbc2",
          "libssl3", "libxlsxwriter4", "libldap-2.5-0", "libcurl4"})
        EXPECT_NE(depends.find(dep), std::string::npos)
            << dep << " missing from Depends: " << depends;
    EXPECT_EQ(shell("dpkg-deb -I " + deb + " conffiles").output,
              "/etc/customer-portal/portal.env\n");

    temp_dir control;
    ASSERT_EQ(shell("dpkg-deb -e " + deb + " " + control.path).exit_code, 0);
    for (const char* script : {"postinst", "prerm", "postrm"}) {
        const auto path = control.path + "/" + script;
        ASSERT_TRUE(fs::exists(path)) << script;
        EXPECT_EQ(access(path.c_str(), X_OK), 0) << script << " is not executable";
        EXPECT_EQ(shell("sh -n " + path).exit_code, 0) << script << " is not valid sh";
    }
}

TEST(package, configuration_is_the_env_template_with_production_defaults) {
    REQUIRE_PACKAGE();
    temp_dir root;
    ASSERT_EQ(shell("dpkg-deb -x " + package().deb + " " + root.path).exit_code, 0);
    const std::string shipped = read_text(root.path + config_path);
    const std::string source = read_text(std::string(PORTAL_SOURCE_DIR) + "/.env.template");
    // Same keys in the same order: a key added to .env.template reaches the package.
    EXPECT_EQ(env_keys(shipped), env_keys(source));
    // No example secret an attacker could know: serve refuses to start until the admin sets one.
    EXPECT_EQ(env_value(shipped, "SECRET_KEY"), "");
    EXPECT_EQ(env_value(shipped, "DB_DRIVER"), "sqlite");
    EXPECT_EQ(env_value(shipped, "DB_NAME"), "/var/lib/customer-portal/portal.db");
    EXPECT_EQ(env_value(shipped, "HOST"), "127.0.0.1");
    EXPECT_EQ(env_value(shipped, "PORT"), "5001");

    // Stripped: the build's binary carries debug information, the installed one does not.
    const auto binary = root.path + "/usr/lib/customer-portal/customer-portal";
    EXPECT_EQ(shell("readelf -S " + binary + " | grep -c debug_info").output, "0\n");
}

// ---- Installed for real ----

struct service_unit {
    std::vector<std::string> exec_start;
    std::string user, working_directory;
    std::vector<std::string> environment;
};

service_unit parse_unit(const std::string& text) {
    service_unit u;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        const auto eq = l.find('=');
        if (l.empty() || l[0] == '#' || eq == std::string::npos) continue;
        const std::string key = l.substr(0, eq), value = l.substr(eq + 1);
        if (key == "ExecStart") {
            std::istringstream words(value);
            for (std::string w; words >> w;) u.exec_start.push_back(w);
        } else if (key == "User") {
            u.user = value;
        } else if (key == "WorkingDirectory") {
            u.working_directory = value;
        } else if (key == "Environment") {
            u.environment.push_back(value);
        }
    }
    return u;
}

bool package_installed() {
    const auto r = shell(std::string("dpkg-query -W -f='${db:Status-Status}' ") + package_name);
    return r.exit_code == 0 && !r.output.empty() && r.output != "not-installed";
}

bool user_exists(const char* name) {
    return getpwnam(name) != nullptr;
}

// Leaves the machine as the test found it, whichever assertion stopped the test.
struct install_cleanup {
    bool user_existed = user_exists(service_user);
    pid_t service = -1;

    ~install_cleanup() {
        if (service > 0) {
            ::kill(service, SIGKILL);
            waitpid(service, nullptr, 0);
        }
        if (package_installed()) shell(std::string("dpkg --purge ") + package_name);
        // postrm keeps the system user (Debian's advice); the test removes the one it caused.
        if (!user_existed && user_exists(service_user)) {
            shell(std::string("userdel ") + service_user);
            shell(std::string("groupdel ") + service_user + " 2>/dev/null");
        }
    }
};

// Starts the unit's ExecStart as systemd would: as User=, in WorkingDirectory=, with a clean
// environment holding only Environment= and what systemd sets for a service with a User=.
pid_t start_like_systemd(const service_unit& unit, const std::string& log_path) {
    const passwd* pw = getpwnam(unit.user.c_str());
    if (!pw) throw std::runtime_error("no user " + unit.user);
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    std::vector<std::string> env_storage{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=" + std::string(pw->pw_dir), "USER=" + unit.user, "LOGNAME=" + unit.user};
    env_storage.insert(env_storage.end(), unit.environment.begin(), unit.environment.end());
    std::vector<char*> envp, argv;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = unit.exec_start;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY);

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Only async-signal-safe calls from here on.
        dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
        if (chdir(unit.working_directory.c_str()) != 0) _exit(126);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    return pid;
}

std::optional<int> exit_code_within(pid_t pid, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

// Rewrites `KEY=...` lines in place, as an admin's editor would (owner and mode stay).
void set_config(const std::map<std::string, std::string>& values) {
    std::string text = read_text(config_path);
    for (const auto& [key, value] : values) {
        const std::regex line("(^|\n)" + key + "=[^\n]*");
        ASSERT_TRUE(std::regex_search(text, line)) << key << " not in " << config_path;
        text = std::regex_replace(text, line, "$1" + key + "=" + value);
    }
    std::ofstream(config_path, std::ios::trunc) << text;
}

TEST(package, installs_runs_as_its_service_and_purges_cleanly) {
    if (geteuid() != 0)
        GTEST_SKIP()
            << "installing the .deb needs root (dpkg -i, a system user); CI runs the tests as root";
    if (package_installed())
        GTEST_SKIP() << "customer-portal is installed on this machine; the test will not replace "
                        "or purge it";
    REQUIRE_PACKAGE();
    const auto& deb = package().deb;
    install_cleanup cleanup;

    auto r = shell("dpkg -i " + deb);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // First install without a SECRET_KEY: postinst says what to do instead of starting a service
    // that would refuse to start.
    EXPECT_NE(r.output.find("set SECRET_KEY"), std::string::npos) << r.output;

    const passwd* pw = getpwnam(service_user);
    ASSERT_NE(pw, nullptr) << "postinst did not create the customer-portal user";
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    EXPECT_LT(uid, 1000u) << "not a system user";
    EXPECT_STREQ(pw->pw_dir, state_dir);
    EXPECT_STREQ(pw->pw_shell, "/usr/sbin/nologin");
    const group* gr = getgrgid(gid);
    ASSERT_NE(gr, nullptr);
    EXPECT_STREQ(gr->gr_name, service_user);

    struct stat st {};
    ASSERT_EQ(stat(state_dir, &st), 0);
    EXPECT_EQ(st.st_uid, uid);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    ASSERT_EQ(stat(config_path, &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, gid);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_TRUE(fs::exists("/usr/share/customer-portal/templates/login.mustache"));
    if (have("deb-systemd-helper")) {
        EXPECT_TRUE(
            fs::is_symlink("/etc/systemd/system/multi-user.target.wants/customer-portal.service"))
            << "the unit is not enabled";
    }

    if (have("systemd-analyze")) {
        r = shell(std::string("systemd-analyze verify ") + unit_path);
        EXPECT_EQ(r.exit_code, 0) << r.output;
        EXPECT_EQ(r.output.find("customer-portal.service:"), std::string::npos) << r.output;
    }

    // The admin's edits, then a reinstall: postinst runs again and the edited conffile is kept.
    const int port = free_port();
    set_config(
        {{"SECRET_KEY", test_secret_key()}, {"PORT", std::to_string(port)}, {"THREADS", "2"}});
    r = shell("dpkg -i " + deb);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string config = read_text(config_path);
    EXPECT_EQ(env_value(config, "SECRET_KEY"), test_secret_key())
        << "reinstalling lost the admin's edits";
    ASSERT_EQ(stat(config_path, &st), 0);
    EXPECT_EQ(st.st_gid, gid);
    EXPECT_EQ(st.st_mode & 07777, 0640u);

    // check-config as the README tells admins to run it: the store is reached, the bundled
    // queries are found (the ERP itself is not configured here).
    r = shell(std::string("cd / && runuser -u ") + service_user +
              " -- customer-portal --env-file " + config_path + " check-config");
    EXPECT_NE(r.output.find("local store: ok, sqlite /var/lib/customer-portal/portal.db"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("ERP: FAILED"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("query file"), std::string::npos) << r.output;

    const service_unit unit = parse_unit(read_text(unit_path));
    ASSERT_FALSE(unit.exec_start.empty());
    EXPECT_EQ(unit.user, service_user);
    EXPECT_EQ(unit.working_directory, state_dir);
    temp_dir logs;
    const std::string log_path = logs.path + "/service.log";
    cleanup.service = start_like_systemd(unit, log_path);

    bool healthy = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!healthy && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(cleanup.service, &status, WNOHANG) == cleanup.service) {
            cleanup.service = -1;
            FAIL() << "the service exited early:\n" << read_text(log_path);
        }
        try {
            healthy = http_get(port, "/healthz").status == 200;
        } catch (const std::exception&) {
        }
        if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(healthy) << "no answer on /healthz in 30 s:\n" << read_text(log_path);

    // Runs as the service user, from the installed binary, with the installed assets.
    const std::string proc_status =
        read_text("/proc/" + std::to_string(cleanup.service) + "/status");
    EXPECT_NE(proc_status.find("\nUid:\t" + std::to_string(uid) + "\t"), std::string::npos)
        << proc_status;
    EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(cleanup.service) + "/exe").string(),
              "/usr/lib/customer-portal/customer-portal");
    const auto login = http_get(port, "/login");
    EXPECT_EQ(login.status, 200);
    EXPECT_NE(login.body.find("name=\"csrf_token\""), std::string::npos);
    const auto css = http_get(port, "/static/css/app.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.body, read_text("/usr/share/customer-portal/static/css/app.css"));
    ASSERT_EQ(stat("/var/lib/customer-portal/portal.db", &st), 0)
        << "the SQLite store is not in the state folder";
    EXPECT_EQ(st.st_uid, uid);

    // systemctl stop sends SIGTERM: the portal drains and exits 0.
    ::kill(cleanup.service, SIGTERM);
    const auto code = exit_code_within(cleanup.service, std::chrono::seconds(20));
    ASSERT_TRUE(code) << "still running 20 s after SIGTERM";
    cleanup.service = -1;
    EXPECT_EQ(*code, 0) << read_text(log_path);

    r = shell(std::string("dpkg --purge ") + package_name);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_FALSE(package_installed());
    for (const char* gone :
         {"/usr/bin/customer-portal", "/usr/lib/customer-portal", "/usr/share/customer-portal",
          "/usr/share/doc/customer-portal", "/etc/customer-portal", unit_path, state_dir,
          "/var/log/customer-portal",
          "/etc/systemd/system/multi-user.target.wants/customer-portal.service"})
        EXPECT_FALSE(fs::exists(fs::symlink_status(gone))) << gone << " is still there after purge";
}

}  // namespace
