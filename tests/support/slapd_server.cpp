#include "support/slapd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace portal::testing {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("slapd_server: cannot write " + path);
}

std::string find_program(const std::string& name, const char* env_override) {
    if (const char* v = std::getenv(env_override); v && *v) return v;
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
        const auto candidate = fs::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    throw std::runtime_error("slapd_server: " + name +
                             " not found (install slapd and ldap-utils, or set " + env_override +
                             ")");
}

std::string random_password() {
    std::random_device rd;
    const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string s;
    for (int i = 0; i < 24; ++i) s += alphabet[rd() % (sizeof alphabet - 1)];
    return s;
}

// fork/exec without a shell; stdout and stderr go to `output_path`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& output_path) {
    const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) throw std::runtime_error("slapd_server: cannot open " + output_path);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out);
        throw std::runtime_error("slapd_server: fork failed");
    }
    if (pid == 0) {
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        const std::string message = "exec " + argv[0] + " failed: " + std::strerror(errno) + "\n";
        (void)!::write(2, message.data(), message.size());
        ::_exit(127);
    }
    ::close(out);
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string base64(const std::string& in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += table[(n >> 6) & 63];
        out += table[n & 63];
    }
    if (i < in.size()) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += i + 1 < in.size() ? table[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// Two attribute types with Active Directory's OIDs; entries carry them through extensibleObject.
constexpr const char* ad_schema = R"(attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
)";

}  // namespace

std::string ldif_line(const std::string& name, const std::string& value) {
    bool safe = value.empty() || (value.front() != ' ' && value.front() != ':' &&
                                  value.front() != '<' && value.back() != ' ');
    for (unsigned char c : value)
        if (c == 0 || c == '\n' || c == '\r' || c >= 0x80) safe = false;
    return safe ? name + ": " + value + "\n" : name + ":: " + base64(value) + "\n";
}

void slapd_server::make_certificates() {
    const std::string openssl = find_program("openssl", "OPENSSL");
    const std::string d = dir_.path + "/";
    write_text(d + "server.ext", "subjectAltName = IP:127.0.0.1, IP:0.0.0.0, DNS:localhost\n");
    const std::vector<std::vector<std::string>> steps{
        {openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", d + "ca.key", "-out", d + "ca.pem", "-days", "2", "-subj", "/CN=Portal Test CA"},
        {openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", d + "other-ca.key", "-out", d + "other-ca.pem", "-days", "2", "-subj", "/CN=Another CA"},
        {openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         d + "server.key", "-out", d + "server.csr", "-subj", "/CN=127.0.0.1"},
        {openssl, "x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.pem", "-CAkey", d + "ca.key",
         "-CAcreateserial", "-out", d + "server.pem", "-days", "2", "-extfile", d + "server.ext"},
    };
    for (const auto& argv : steps)
        if (wait_exit(spawn(argv, d + "openssl.out")) != 0)
            throw std::runtime_error("slapd_server: openssl failed:\n" + read_text(d + "openssl.out"));
}

slapd_server::slapd_server(security s) : root_password_(random_password()), tls_(s == security::tls) {
    log_path_ = dir_.path + "/slapd.log";
    fs::create_directories(dir_.path + "/data");
    write_text(dir_.path + "/ad.schema", ad_schema);
    if (tls_) make_certificates();
    const std::string schema_dir = "/etc/ldap/schema/";
    std::string conf;
    for (const char* schema : {"core", "cosine", "inetorgperson", "nis"})
        conf += "include " + schema_dir + schema + ".schema\n";
    conf += "include " + dir_.path + "/ad.schema\n";
    conf += "pidfile " + dir_.path + "/slapd.pid\n";
    conf += "argsfile " + dir_.path + "/slapd.args\n";
    conf += "modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload memberof\n";
    // Like Active Directory: a DN with an empty password binds anonymously instead of failing.
    conf += "allow bind_anon_dn\n";
    if (tls_) {
        conf += "TLSCACertificateFile " + ca_file() + "\n";
        conf += "TLSCertificateFile " + dir_.path + "/server.pem\n";
        conf += "TLSCertificateKeyFile " + dir_.path + "/server.key\n";
    }
    conf += "database mdb\n";
    conf += std::string("suffix \"") + suffix + "\"\n";
    conf += std::string("rootdn \"") + root_dn + "\"\n";
    conf += "rootpw " + root_password_ + "\n";
    conf += "directory " + dir_.path + "/data\n";
    conf += "maxsize 16777216\n";
    conf += "overlay memberof\n";
    conf += "access to attrs=userPassword by anonymous auth by self read by * none\n";
    conf += "access to * by users read by * none\n";
    write_text(dir_.path + "/slapd.conf", conf);

    try {
        start();
        add(std::string("dn: ") + suffix +
            "\nobjectClass: dcObject\nobjectClass: organization\n"
            "o: Example\ndc: example\n");
    } catch (...) {
        stop();
        throw;
    }
}

slapd_server::~slapd_server() {
    stop();
}

void slapd_server::start() {
    const std::string slapd = find_program("slapd", "SLAPD");
    std::string last_failure;
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        std::string listeners = uri() + "/";
        if (tls_) {
            ldaps_port_ = free_port();
            listeners += " ldaps://127.0.0.1:" + std::to_string(ldaps_port_) + "/";
        }
        // -d keeps slapd in the foreground as our child; `stats` logs connections and operations.
        pid_ = spawn({slapd, "-f", dir_.path + "/slapd.conf", "-h", listeners, "-d", "stats"}, log_path_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!running()) break;
            if (accepts_connections(port_) && (!tls_ || accepts_connections(ldaps_port_))) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        const bool exited = !running();
        if (!exited) stop();
        last_failure = log();
        // Someone took the port between our probe and slapd's bind: try another one.
        if (!exited || last_failure.find("bind(") == std::string::npos) break;
    }
    throw std::runtime_error("slapd_server: slapd did not start:\n" + last_failure);
}

bool slapd_server::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

void slapd_server::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            wait_exit(pid_);
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void slapd_server::add(const std::string& ldif) {
    static int counter = 0;
    const std::string file = dir_.path + "/add-" + std::to_string(++counter) + ".ldif";
    const std::string output = file + ".out";
    write_text(file, ldif);
    const std::string password_file = dir_.path + "/root.pw";
    write_text(password_file, root_password_);  // -y: the password never appears on a command line
    const pid_t pid = spawn({find_program("ldapadd", "LDAPADD"), "-x", "-H", uri(), "-D", root_dn,
                             "-y", password_file, "-f", file},
                            output);
    if (wait_exit(pid) != 0)
        throw std::runtime_error("slapd_server: ldapadd failed:\n" + read_text(output) +
                                 "\nslapd log:\n" + log());
}

std::string slapd_server::log() const {
    return read_text(log_path_);
}

}  // namespace portal::testing
