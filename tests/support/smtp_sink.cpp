#include "support/smtp_sink.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace portal::testing {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string lf(std::string s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
        if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
    return out;
}

std::string text_of(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

}  // namespace

std::string received_mail::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

smtp_sink::smtp_sink(int port, smtp_sink_options options) : options_(std::move(options)) {
    port_ = port != 0 ? port : free_port();
    log_path_ = dir_.path + "/sink.log";
    std::vector<std::string> args{"/usr/bin/python3",
                                  std::string(PORTAL_SOURCE_DIR) + "/tests/support/smtp_sink.py",
                                  "--port",
                                  std::to_string(port_),
                                  "--dir",
                                  dir_.path};
    if (!options_.auth.empty()) args.insert(args.end(), {"--auth", options_.auth});
    if (!options_.tls_cert.empty())
        args.insert(args.end(), {"--tls", options_.tls_cert, options_.tls_key});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int out = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out, 1);
        dup2(out, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::filesystem::exists(dir_.path + "/ready")) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("smtp_sink.py exited early:\n" + slurp(log_path_));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("smtp_sink.py did not start in 20 s:\n" + slurp(log_path_));
}

smtp_sink::~smtp_sink() {
    stop();
}

void smtp_sink::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::vector<received_mail> smtp_sink::messages() const {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path))
        if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    std::vector<received_mail> out;
    for (const auto& f : files) {
        const auto doc = boost::json::parse(slurp(f)).as_object();
        received_mail m;
        m.mail_from = text_of(doc.at("mail_from"));
        for (const auto& r : doc.at("rcpt_tos").as_array()) m.rcpt_tos.push_back(text_of(r));
        m.auth_login = text_of(doc.at("auth_login"));
        m.tls = doc.at("tls").as_bool();
        for (const auto& [k, v] : doc.at("headers").as_object())
            m.headers[std::string(k)] = text_of(v);
        for (const auto& [k, v] : doc.at("raw_headers").as_object())
            m.raw_headers[std::string(k)] = text_of(v);
        m.content_type = text_of(doc.at("content_type"));
        m.text = lf(text_of(doc.at("text")));
        m.html = lf(text_of(doc.at("html")));
        for (const auto& i : doc.at("inline").as_array())
            m.inline_types.push_back(text_of(i.as_object().at("type")));
        m.max_line_length = static_cast<int>(doc.at("max_line_length").to_number<double>());
        m.eight_bit = doc.at("eight_bit").as_bool();
        m.raw = slurp(f.substr(0, f.size() - 5) + ".eml");
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<received_mail> smtp_sink::wait_for(std::size_t count,
                                               std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto all = messages();
        if (all.size() >= count || std::chrono::steady_clock::now() >= deadline) return all;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
}

env_map smtp_sink::portal_env(const std::string& bcc) const {
    return portal_env_for(port_, bcc);
}

env_map smtp_sink::portal_env_for(int port, const std::string& bcc) {
    env_map env{{"SMTP_SERVER", "127.0.0.1"},
                {"SMTP_PORT", std::to_string(port)},
                {"SMTP_USE_TLS", "False"},
                {"EMAIL_FROM", "Acme Warehouse <portal@warehouse.example>"},
                {"MAIL_RETRY_SECONDS", "1"}};
    if (!bcc.empty()) env["EMAIL_BCC"] = bcc;
    return env;
}

std::string find_reset_link(const std::string& text) {
    static const std::regex link(R"(https?://[^\s"'<>]+/reset-password/[A-Za-z0-9_-]+)");
    std::smatch m;
    return std::regex_search(text, m, link) ? m.str() : std::string();
}

}  // namespace portal::testing
