#include "app/logging.hpp"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace portal::app {
namespace {

std::atomic<bool> json_format{false};
std::shared_ptr<spdlog::logger> access_logger;

// `%*`: the message, JSON-escaped, so any log line stays one valid JSON object.
class json_message_flag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const auto escaped = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(escaped.data(), escaped.data() + escaped.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }
};

}  // namespace

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) out += fmt::format("\\u{:04x}", c);
                else out += static_cast<char>(c);
        }
    }
    return out;
}

void setup_logging(const config& cfg) {
    spdlog::sink_ptr sink;
    if (cfg.log_file.empty()) sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(cfg.log_file);

    auto logger = std::make_shared<spdlog::logger>("portal", sink);
    json_format = cfg.log_json;
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_message_flag>('*');
    formatter->set_pattern(cfg.log_json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%*"})"
                                        : "%Y-%m-%dT%H:%M:%S.%eZ %l %v");
    logger->set_formatter(std::move(formatter));
    std::string level = cfg.log_level == "warning" ? "warn" : cfg.log_level;
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);

    // Request lines share the sink; in JSON their fields sit at the top level of the object.
    access_logger = std::make_shared<spdlog::logger>("access", sink);
    access_logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        cfg.log_json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
        spdlog::pattern_time_type::utc));
    access_logger->set_level(logger->level());
    access_logger->flush_on(spdlog::level::warn);
}

void log_request(const access_entry& e) {
    if (!access_logger || !access_logger->should_log(spdlog::level::info)) return;
    const double ms = e.elapsed.count() * 1000.0;
    if (json_format) {
        // The whole line is JSON: the message field carries the request as a nested object.
        access_logger->info(R"("type":"request","method":"{}","path":"{}","status":{},"bytes":{},"ms":{:.3f},"request_id":"{}","user":"{}","client":"{}")",
                     e.method, json_escape(e.path), e.status, e.bytes, ms, e.request_id, json_escape(e.user),
                     e.client);
    } else {
        access_logger->info("{} {} {} {}B {:.2f}ms rid={} user={} client={}", e.method, e.path, e.status, e.bytes, ms,
                     e.request_id, e.user.empty() ? "-" : e.user, e.client);
    }
}

}  // namespace portal::app
