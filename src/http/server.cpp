#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

namespace portal::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class connection;

struct server::impl {
    server_options options;
    request_handler on_request;
    error_handler on_error;
    lane_picker is_quick;
    net::io_context ioc;
    net::thread_pool workers;
    std::optional<net::thread_pool> quick;
    tcp::acceptor acceptor{ioc};
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    std::mutex registry_mutex;
    std::unordered_set<std::shared_ptr<connection>> registry;

    impl(server_options o, request_handler r, error_handler e, lane_picker q)
        : options(std::move(o)),
          on_request(std::move(r)),
          on_error(std::move(e)),
          is_quick(std::move(q)),
          ioc(options.io_threads),
          workers(static_cast<std::size_t>(options.worker_threads)) {
        if (options.quick_threads > 0 && is_quick) quick.emplace(static_cast<std::size_t>(options.quick_threads));
    }

    void do_accept();
    void begin_shutdown();
    void watch_drain(std::shared_ptr<net::steady_timer> timer,
                     std::chrono::steady_clock::time_point deadline);
};

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tcp::socket&& socket, server::impl& owner)
        : stream_(std::move(socket)), owner_(owner) {
        beast::error_code ec;
        auto endpoint = stream_.socket().remote_endpoint(ec);
        if (!ec) {
            auto address = endpoint.address();
            if (address.is_v6() && address.to_v6().is_v4_mapped())
                address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
            info_.remote_address = address.to_string();
        }
    }

    void start() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&connection::do_read, shared_from_this()));
    }

    // Called at shutdown: an idle connection closes now, a busy one after its response.
    void shutdown() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            if (!self->busy_) self->close();
        });
    }

private:
    void do_read() {
        if (owner_.stopping) return close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(owner_.options.header_limit));
        parser_->body_limit(owner_.options.body_limit);
        stream_.expires_after(first_ ? owner_.options.header_timeout : owner_.options.idle_timeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 beast::bind_front_handler(&connection::on_read_header, shared_from_this()));
    }

    void on_read_header(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        first_ = false;
        busy_ = true;
        if (parser_->is_done()) return dispatch_request();
        stream_.expires_after(owner_.options.body_timeout);
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&connection::on_read_body, shared_from_this()));
    }

    void on_read_body(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        dispatch_request();
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit)
            return send_error(status::payload_too_large);
        // A malformed request gets a 400; timeouts, resets and a closed peer just end the connection.
        if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() && ec != bhttp::error::end_of_stream &&
            ec != bhttp::error::partial_message)
            return send_error(status::bad_request);
        close();
    }

    void send_error(status code) {
        busy_ = true;
        auto self = shared_from_this();
        net::post(owner_.workers, [self, code, guard = net::make_work_guard(stream_.get_executor())] {
            response r = self->owner_.on_error(code, self->info_);
            net::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
                self->write(std::move(r), false, false);
            });
        });
    }

    void dispatch_request() {
        stream_.expires_never();
        request_ = parser_->release();
        const bool quick = owner_.quick && owner_.is_quick(request_);
        run_handler(quick ? *owner_.quick : owner_.workers, !quick);
    }

    void run_handler(net::thread_pool& pool, bool may_wait) {
        auto self = shared_from_this();
        net::post(pool, [self, may_wait, guard = net::make_work_guard(stream_.get_executor())] {
            self->info_.may_wait = may_wait;
            response r = self->owner_.on_request(self->request_, self->info_);
            if (r.run_where_waiting_is_allowed) return self->run_handler(self->owner_.workers, true);
            net::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
                self->write(std::move(r), self->request_.keep_alive(),
                            self->request_.method() == verb::head);
            });
        });
    }

    void write(response r, bool keep_alive, bool head) {
        keep_alive = keep_alive && !owner_.stopping;
        if (r.stream) return write_stream(std::move(r), keep_alive);
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(r.result, 11);
        for (const auto& f : r.headers) res->insert(f.name_string(), f.value());
        res->keep_alive(keep_alive);
        if (head) {
            res->content_length(r.body.size());
        } else {
            res->body() = std::move(r.body);
            res->prepare_payload();
        }
        stream_.expires_after(owner_.options.body_timeout);
        bhttp::async_write(stream_, *res,
                           [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
                               self->on_write(ec, keep_alive);
                           });
    }

    // Streams a large body with chunked encoding; the next chunk is produced on a worker thread
    // while the socket is not written, so memory stays at one chunk per connection.
    void write_stream(response r, bool keep_alive) {
        auto header = std::make_shared<bhttp::response<bhttp::empty_body>>(r.result, 11);
        for (const auto& f : r.headers) header->insert(f.name_string(), f.value());
        header->keep_alive(keep_alive);
        header->chunked(true);
        auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
        stream_.expires_after(owner_.options.body_timeout);
        bhttp::async_write_header(
            stream_, *serializer,
            [self = shared_from_this(), header, serializer, keep_alive,
             source = std::make_shared<std::function<bool(std::string&)>>(std::move(r.stream))](
                beast::error_code ec, std::size_t) {
                if (ec) return self->close();
                self->next_chunk(source, keep_alive);
            });
    }

    void next_chunk(std::shared_ptr<std::function<bool(std::string&)>> source, bool keep_alive) {
        auto self = shared_from_this();
        net::post(owner_.workers, [self, source, keep_alive, guard = net::make_work_guard(stream_.get_executor())] {
            auto chunk = std::make_shared<std::string>();
            bool more = true;
            try {
                while (more && chunk->size() < 64 * 1024) more = (*source)(*chunk);
            } catch (const std::exception& e) {
                spdlog::error("streamed response failed: {}", e.what());
                net::dispatch(self->stream_.get_executor(), [self] { self->close(); });
                return;
            }
            net::dispatch(self->stream_.get_executor(), [self, source, keep_alive, chunk, more] {
                self->stream_.expires_after(self->owner_.options.body_timeout);
                auto done = [self, source, keep_alive, chunk, more](beast::error_code ec, std::size_t) {
                    if (ec) return self->close();  // the client went away: `source` is released here
                    if (more) return self->next_chunk(source, keep_alive);
                    self->stream_.expires_after(self->owner_.options.body_timeout);
                    net::async_write(self->stream_, bhttp::make_chunk_last(),
                                     [self, keep_alive](beast::error_code ec2, std::size_t) {
                                         self->on_write(ec2, keep_alive);
                                     });
                };
                if (chunk->empty()) return done({}, 0);
                net::async_write(self->stream_, bhttp::make_chunk(net::buffer(*chunk)), done);
            });
        });
    }

    void on_write(beast::error_code ec, bool keep_alive) {
        busy_ = false;
        request_ = {};
        if (ec || !keep_alive) return close();
        do_read();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
        std::lock_guard lock(owner_.registry_mutex);
        owner_.registry.erase(shared_from_this());
        --owner_.connections;
    }

    beast::tcp_stream stream_;
    server::impl& owner_;
    connection_info info_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    request request_;
    bool first_ = true;
    bool busy_ = false;
    bool closed_ = false;
};

void server::impl::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || stopping) return;
            spdlog::warn("accept failed: {}", ec.message());
            return do_accept();
        }
        if (connections >= options.max_connections) {
            // Over the cap: a short, honest answer rather than an unbounded queue.
            static const std::string busy =
                "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
                "Content-Length: 0\r\n\r\n";
            beast::error_code ignored;
            net::write(socket, net::buffer(busy), ignored);
            socket.close(ignored);
        } else {
            ++connections;
            auto c = std::make_shared<connection>(std::move(socket), *this);
            {
                std::lock_guard lock(registry_mutex);
                registry.insert(c);
            }
            c->start();
        }
        do_accept();
    });
}

void server::impl::begin_shutdown() {
    if (stopping.exchange(true)) return;
    spdlog::info("shutting down: finishing {} open connection(s)", connections.load());
    beast::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    std::vector<std::shared_ptr<connection>> open;
    {
        std::lock_guard lock(registry_mutex);
        open.assign(registry.begin(), registry.end());
    }
    for (auto& c : open) c->shutdown();
    auto timer = std::make_shared<net::steady_timer>(ioc);
    watch_drain(timer, std::chrono::steady_clock::now() + options.drain_timeout);
}

void server::impl::watch_drain(std::shared_ptr<net::steady_timer> timer,
                               std::chrono::steady_clock::time_point deadline) {
    if (connections == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (connections != 0) spdlog::warn("shutdown: {} connection(s) cut off", connections.load());
        ioc.stop();
        return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([this, timer, deadline](beast::error_code) { watch_drain(timer, deadline); });
}

server::server(server_options options, request_handler on_request, error_handler on_error, lane_picker is_quick)
    : impl_(std::make_unique<impl>(std::move(options), std::move(on_request), std::move(on_error),
                                   std::move(is_quick))) {}

server::~server() = default;

void server::run(const std::function<void(unsigned short)>& on_listening) {
    auto& s = *impl_;
    const auto address = net::ip::make_address(s.options.host);
    tcp::endpoint endpoint(address, s.options.port);
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(net::socket_base::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(net::socket_base::max_listen_connections);
    if (on_listening) on_listening(s.acceptor.local_endpoint().port());

    s.signals.async_wait([&s](beast::error_code ec, int) {
        if (!ec) s.begin_shutdown();
    });
    s.do_accept();

    std::vector<std::thread> threads;
    for (int i = 1; i < s.options.io_threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
    s.ioc.run();
    for (auto& t : threads) t.join();
    if (s.quick) s.quick->join();  // first: a quick handler may hand its request to the workers
    s.workers.join();
}

void server::stop() {
    net::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

std::size_t server::active_connections() const { return impl_->connections; }

}  // namespace portal::http
