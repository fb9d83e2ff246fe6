#include "support/haproxy.hpp"

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace portal::testing {

namespace {

std::string read_whole_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string make_config(const std::vector<haproxy_server>& servers, int port,
                        const std::string& socket_path) {
    std::ostringstream c;
    c << "global\n"
         "    stats socket "
      << socket_path
      << " mode 600 level admin\n"
         "    log stdout format raw local0 info\n"
         "\n"
         "defaults\n"
         "    mode http\n"
         "    log global\n"
         "    option httplog\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "    timeout check 1s\n"
         // A refused connection is tried again, each time on the next server.
         "    retries 3\n"
         "    option redispatch 1\n"
         // A server that dies after it got the request but before it answered: the request is sent
         // again elsewhere, but only when that is safe (see disable-l7-retry below).
         "    retry-on conn-failure empty-response\n"
         "\n"
         "frontend portal_front\n"
         "    bind 127.0.0.1:"
      << port
      << "\n"
         "    default_backend portal_instances\n"
         "\n"
         "backend portal_instances\n"
         "    balance roundrobin\n"
         "    option forwardfor\n"
         "    option httpchk GET /healthz\n"
         "    http-check expect status 200\n"
         // A POST may have been committed by the server that died: never replay it.
         "    http-request disable-l7-retry unless METH_GET\n"
         "    http-response set-header X-Served-By %s\n"
         "    default-server check inter 200ms fastinter 100ms downinter 200ms rise 2 fall 2\n";
    for (const auto& s : servers) c << "    server " << s.name << " 127.0.0.1:" << s.port << "\n";
    return c.str();
}

// The value of column `column` for the row of `backend`/`server` in `show stat` CSV output.
std::string stat_field(const std::string& csv, const std::string& backend,
                       const std::string& server, const std::string& column) {
    std::istringstream lines(csv);
    std::string line;
    int index = -1;
    while (std::getline(lines, line)) {
        std::vector<std::string> fields;
        std::string field;
        std::istringstream cells(line.rfind("# ", 0) == 0 ? line.substr(2) : line);
        while (std::getline(cells, field, ',')) fields.push_back(field);
        if (line.rfind("# ", 0) == 0) {
            for (std::size_t i = 0; i < fields.size(); ++i)
                if (fields[i] == column) index = static_cast<int>(i);
            continue;
        }
        if (index >= 0 && fields.size() > static_cast<std::size_t>(index) && fields.size() > 1 &&
            fields[0] == backend && fields[1] == server)
            return fields[static_cast<std::size_t>(index)];
    }
    return {};
}

}  // namespace

std::string haproxy_admin_command(const std::string& socket_path, const std::string& command) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("haproxy: socket() failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        ::close(fd);
        throw std::runtime_error("haproxy: admin socket path too long: " + socket_path);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    const std::string line = command + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::close(fd);
        return {};
    }
    // Without "prompt" mode haproxy answers one command and closes the connection.
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        out.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

haproxy::haproxy(std::vector<haproxy_server> servers, std::string binary)
    : servers_(std::move(servers)) {
    config_path_ = dir_.path + "/haproxy.cfg";
    socket_path_ = dir_.path + "/admin.sock";
    log_path_ = dir_.path + "/haproxy-output.txt";

    // The port is picked before haproxy binds it: another process may take it in between, so a
    // failed bind is tried again on another port.
    std::string failure;
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        config_ = make_config(servers_, port_, socket_path_);
        std::ofstream(config_path_) << config_;

        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("haproxy: fork failed");
        if (pid_ == 0) {
            const int out = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out, 1);
            ::dup2(out, 2);
            const int null_fd = ::open("/dev/null", O_RDONLY);
            ::dup2(null_fd, 0);
            // -db: stay in the foreground, so this process is haproxy and a signal reaches it.
            ::execl(binary.c_str(), binary.c_str(), "-db", "-f", config_path_.c_str(),
                    static_cast<char*>(nullptr));
            _exit(127);
        }

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        bool exited = false;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exited = true;
                pid_ = -1;
                break;
            }
            // Ready once the admin socket answers and the frontend accepts connections.
            if (!admin_command("show info").empty()) {
                try {
                    http_get(port_, "/healthz");
                    return;
                } catch (const std::exception&) {
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        failure = output();
        if (!exited) {
            stop();
            break;
        }
        if (failure.find("cannot bind") == std::string::npos) break;
    }
    throw std::runtime_error("haproxy did not start:\n" + failure + "\nconfiguration:\n" + config_);
}

haproxy::~haproxy() {
    stop();
}

void haproxy::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string haproxy::output() const {
    return read_whole_file(log_path_);
}

std::string haproxy::admin_command(const std::string& command) const {
    return haproxy_admin_command(socket_path_, command);
}

std::string haproxy::server_status(const std::string& name) const {
    return stat_field(admin_command("show stat"), "portal_instances", name, "status");
}

void haproxy::wait_for_status(const std::string& name, const std::string& status,
                              std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        last = server_status(name);
        if (last == status) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("haproxy: server " + name + " is \"" + last + "\", not \"" + status +
                             "\", after " + std::to_string(timeout.count()) + " ms\n" + output());
}

}  // namespace portal::testing
