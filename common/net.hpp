// common/net.hpp — introduced in chapter 01 (TCP echo), grown in chapter 09 (Watchdog).
// The networking every chapter shares: command-line options, an accept loop that
// serves each connection in its own coroutine and stops on SIGINT/SIGTERM, and
// connecting. Asio with C++20 coroutines (asio::awaitable) throughout.
#pragma once

#include "trace.hpp"

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tls {

using tcp = asio::ip::tcp;

// Completion token for "give me (error_code, result) instead of throwing":
//   auto [ec, n] = co_await socket.async_read_some(buffer, tls::use_tuple);
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4433;
    TraceOptions trace;
};

struct ClientOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4433;
    TraceOptions trace;
};

// --host, --port, --hex, --quiet (and --help, which CLI11 gives every program).
void add_options(CLI::App& app, ServerOptions& options);
void add_options(CLI::App& app, ClientOptions& options);

// For a client's --server-name (chapter 03 on). RFC 6066 §3: "Literal IPv4 and IPv6 addresses
// are not permitted in "HostName"": a client that connects to an address still sends the DNS
// name it expects the certificate to carry, so an address given as the name is refused.
CLI::Validator host_name_check();

// Called once per accepted connection, in a coroutine of its own, with the
// connection's own trace. When it returns, the socket closes.
using ConnectionHandler = std::function<asio::awaitable<void>(tcp::socket, Trace&)>;

// Listens on host:port (port 0 picks a free one), prints "listening on HOST:PORT",
// serves every connection concurrently and returns 0 after SIGINT or SIGTERM.
int serve(const ServerOptions& options, ConnectionHandler handler);

// Runs one client coroutine to completion on a fresh io_context; its result is
// the exit code. Exceptions that escape are printed and give exit code 1.
int run_client(const std::function<asio::awaitable<int>()>& client);

// Resolves and connects; throws asio::system_error with the reason on failure.
asio::awaitable<tcp::socket> connect(const std::string& host, std::uint16_t port, Trace& trace);

// Chapter 09: closes `socket` if it is still open after `timeout`, unless disarmed
// first: a peer that stalls mid-handshake then fails its pending read instead of
// holding the connection forever. Other connections are not affected. Chapter 15 rearms
// one after each HTTP response: a client has `timeout` for its next whole request.
// `what` names the deadline in the error it prints ("handshake timed out after 10 s").
class Watchdog {
public:
    Watchdog(tcp::socket& socket, std::chrono::steady_clock::duration timeout, Trace& trace,
             std::string what = "handshake timed out");
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    void disarm();
    void rearm();  // `timeout` from now again

private:
    // Shared with the pending wait, so that a wait already due when we disarm, rearm or go
    // away sees it and does nothing: cancel() cannot recall a completion already queued.
    struct State {
        tcp::socket* socket;
        Trace* trace;
        std::string what;
        std::uint64_t generation = 0;  // of the one wait that may fire; each arm and disarm counts
    };
    void arm();

    std::chrono::steady_clock::duration timeout_;
    std::shared_ptr<State> state_;
    asio::steady_timer timer_;
};

}  // namespace tls
