// common/net.cpp — introduced in chapter 01, grown in chapter 09 (Watchdog).
#include "net.hpp"

#include <csignal>

namespace tls {

void add_options(CLI::App& app, ServerOptions& o) {
    app.add_option("--host", o.host, "Address to listen on")->capture_default_str();
    app.add_option("--port", o.port, "Port to listen on (0 picks a free one)")->capture_default_str();
    app.add_flag("--hex", o.trace.hex, "Show the bytes of every record and message");
    app.add_flag("--quiet", o.trace.quiet, "Show only results and errors");
}

void add_options(CLI::App& app, ClientOptions& o) {
    app.add_option("--host", o.host, "Server to connect to")->capture_default_str();
    app.add_option("--port", o.port, "Port to connect to")->capture_default_str();
    app.add_flag("--hex", o.trace.hex, "Show the bytes of every record and message");
    app.add_flag("--quiet", o.trace.quiet, "Show only results and errors");
}

CLI::Validator host_name_check() {
    return CLI::Validator(
        [](std::string& name) -> std::string {
            std::error_code ec;
            asio::ip::make_address(name, ec);
            if (!ec)
                return "RFC 6066 §3: a literal IP address is not permitted in HostName; give the server's "
                       "DNS name (the name its certificate is for)";
            if (name.empty()) return "an empty HostName (RFC 6066 §3: HostName<1..2^16-1>)";
            return {};
        },
        "HOSTNAME", "host_name_check");
}

namespace {

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const ServerOptions& options,
                                  const ConnectionHandler& handler) {
    std::uint64_t count = 0;
    for (;;) {
        tcp::socket socket(acceptor.get_executor());
        auto [ec] = co_await acceptor.async_accept(socket, use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;  // e.g. the peer reset before we accepted: keep serving others
        ++count;
        // Each connection has its own coroutine and trace; one that fails or stalls
        // never holds up the others.
        auto executor = acceptor.get_executor();
        asio::co_spawn(
            executor,
            [socket = std::move(socket), options, &handler, count]() mutable -> asio::awaitable<void> {
                Trace trace(options.trace);
                socket.set_option(tcp::no_delay(true));
                std::error_code peer_ec;
                auto peer = socket.remote_endpoint(peer_ec);
                trace.step(fmt::format("connection #{} from {}:{}", count, peer.address().to_string(), peer.port()));
                try {
                    co_await handler(std::move(socket), trace);
                } catch (const std::exception& e) {
                    trace.error(fmt::format("connection #{}: {}", count, e.what()));
                }
                trace.step(fmt::format("connection #{} closed", count));
            },
            asio::detached);
    }
}

}  // namespace

int serve(const ServerOptions& options, ConnectionHandler handler) {
    asio::io_context io;
    tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
    tcp::acceptor acceptor(io, endpoint);  // sets SO_REUSEADDR
    auto local = acceptor.local_endpoint();
    Trace trace(options.trace);
    // Before the "listening" line: whoever waits for it may send SIGTERM right away.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& ec, int signal) {
        if (ec) return;
        trace.result(fmt::format("signal {} received: shutting down", signal));
        io.stop();
    });
    // Printed even with --quiet: scripts and tests wait for this line.
    trace.result(fmt::format("listening on {}:{}", local.address().to_string(), local.port()));
    asio::co_spawn(io, accept_loop(acceptor, options, handler), asio::detached);
    io.run();
    return 0;
}

int run_client(const std::function<asio::awaitable<int>()>& client) {
    asio::io_context io;
    int code = 1;
    asio::co_spawn(io, client(), [&](std::exception_ptr error, int result) {
        // The client is done, and so is its connection: work it left behind (the chapter 09
        // client's standard-input reader) must not run on and use the connection.
        io.stop();
        if (!error) {
            code = result;
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            fmt::print(stderr, "error: {}\n", e.what());
        }
    });
    io.run();
    return code;
}

asio::awaitable<tcp::socket> connect(const std::string& host, std::uint16_t port, Trace& trace) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(host, std::to_string(port), asio::use_awaitable);
    tcp::socket socket(executor);
    auto endpoint = co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    // Small records must not wait for Nagle's algorithm (a handshake is many small writes).
    socket.set_option(tcp::no_delay(true));
    trace.step(fmt::format("connected to {}:{}", endpoint.address().to_string(), endpoint.port()));
    co_return socket;
}

Watchdog::Watchdog(tcp::socket& socket, std::chrono::steady_clock::duration timeout, Trace& trace, std::string what)
    : timeout_(timeout),
      state_(std::make_shared<State>(State{&socket, &trace, std::move(what)})),
      timer_(socket.get_executor()) {
    arm();
}

Watchdog::~Watchdog() { disarm(); }

void Watchdog::disarm() {
    ++state_->generation;  // no wait armed before this one may fire
    timer_.cancel();
}

void Watchdog::rearm() {
    timer_.cancel();
    arm();
}

void Watchdog::arm() {
    const auto generation = ++state_->generation;
    timer_.expires_after(timeout_);
    timer_.async_wait([state = state_, generation, seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout_)](
                          std::error_code ec) {
        if (ec || state->generation != generation) return;  // disarmed, rearmed or gone
        state->trace->error(fmt::format("{} after {} s", state->what, seconds.count()));
        std::error_code ignored;
        state->socket->close(ignored);
    });
}

}  // namespace tls
