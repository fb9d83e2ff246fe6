#include "support/portal_process.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace portal::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "portal-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

int free_port() {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

std::string test_secret_key() {
    return "test-secret-key-0123456789-abcdefghijklmnopqrstuv";
}

namespace {

std::vector<char*> make_envp(const env_map& env, std::vector<std::string>& storage) {
    storage.clear();
    for (const auto& [k, v] : env) storage.push_back(k + "=" + v);
    if (!env.count("PATH"))
        storage.push_back(std::string("PATH=") +
                          (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
    std::vector<char*> out;
    for (auto& s : storage) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

pid_t spawn(const std::vector<std::string>& args, const env_map& env, const std::string& cwd,
            const std::string& log_path, int stdin_fd) {
    std::vector<std::string> argv_storage{PORTAL_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    auto envp = make_envp(env, env_storage);

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (chdir(cwd.c_str()) != 0) _exit(127);
        const int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out, 1);
        dup2(out, 2);
        if (stdin_fd >= 0)
            dup2(stdin_fd, 0);
        else {
            const int null_fd = open("/dev/null", O_RDONLY);
            dup2(null_fd, 0);
        }
        // Sockets other threads of the test hold open (a free_port() probe, a client) must not
        // live on in the portal: one that kept another instance's port would make it fail.
        close_range(3, ~0U, 0);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int decode_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

command_result run_portal(const std::vector<std::string>& args, const env_map& env,
                          const std::string& cwd, const std::string& input) {
    const std::string log_path = cwd + "/command-output.txt";
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = spawn(args, env, cwd, log_path, pipe_fds[0]);
    close(pipe_fds[0]);
    if (!input.empty()) {
        [[maybe_unused]] auto n = write(pipe_fds[1], input.data(), input.size());
    }
    close(pipe_fds[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {decode_status(status), read_file(log_path)};
}

portal_process::portal_process(env_map env, std::vector<std::string> args, std::string cwd)
    : cwd_(cwd.empty() ? own_dir_.path : std::move(cwd)) {
    log_path_ = own_dir_.path + "/portal-output.txt";
    if (!env.count("PORT")) env["PORT"] = std::to_string(free_port());
    env.emplace("HOST", "127.0.0.1");
    env.emplace("SECRET_KEY", test_secret_key());
    env.emplace("DB_NAME", cwd_ + "/portal.db");
    env.emplace("PORTAL_ASSETS_DIR", PORTAL_SOURCE_DIR);
    env.emplace("THREADS", "2");
    port_ = std::stoi(env["PORT"]);
    pid_ = spawn(args, env, cwd_, log_path_, -1);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!running()) throw std::runtime_error("customer-portal exited early:\n" + output());
        try {
            if (http_get(port_, "/healthz").status == 200) return;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_hard();
    throw std::runtime_error("customer-portal did not answer /healthz in 30 s:\n" + output());
}

portal_process::~portal_process() {
    if (pid_ > 0 && running()) terminate(std::chrono::seconds(10));
    if (pid_ > 0 && running()) kill_hard();
}

std::string portal_process::output() const {
    return read_file(log_path_);
}

bool portal_process::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_code_ = decode_status(status);
        pid_ = -pid_;  // remember it ended
        return false;
    }
    return r == 0;
}

int portal_process::terminate(std::chrono::seconds timeout) {
    if (!running()) return exit_code_;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!running()) return exit_code_;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_hard();
    return -1;
}

void portal_process::kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = -1;
    pid_ = -pid_;
}

std::string http_result::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

std::vector<std::string> http_result::all(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [a, b] = headers.equal_range(name); a != b; ++a) out.push_back(a->second);
    return out;
}

http_result http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body, const env_map& headers) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(bhttp::field::user_agent, "portal-tests");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
        req.body() = body;
        req.prepare_payload();
    }
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(512 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    bhttp::read(stream, buffer, parser);
    auto res = parser.release();
    http_result out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers.emplace(name, std::string(f.value()));
    }
    out.body = std::move(res.body());
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return out;
}

http_result http_post_form(int port, const std::string& target, const std::string& body,
                           const env_map& headers) {
    env_map h = headers;
    h.emplace("Content-Type", "application/x-www-form-urlencoded");
    return http_request(port, "POST", target, body, h);
}

std::string url_encode(const std::string& s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace portal::testing
