// bench/loadgen.cpp — the load generator of scripts/bench (see bench/README.md).
// It drives a TLS 1.3 server on the loopback interface — our chapter 09 server or
// `openssl s_server` — with the chapter 09 client itself: the chapter's source is
// compiled into this file (its main() renamed), so every handshake below is
// chapters/09-application-data/client.cpp's handshake(), message for message, with a
// --quiet trace that formats nothing and writes to /dev/null.
//
//   loadgen [--port P] handshakes --count N --concurrency C [--pattern s_time|wait]
//       N full handshakes (x25519 only); C connections in flight at a time. Each is
//       followed by our close_notify, then (s_time, the default) the socket is closed at
//       once, as `openssl s_time -new` closes it (which sends no close_notify at all), or
//       (wait) the server's close_notify and the end of its stream are awaited first.
//   loadgen [--port P] echo --bytes B --record-size S
//       One connection: B bytes of application data, one record per S bytes, while the
//       echo is read back concurrently and compared byte for byte.
//   loadgen [--port P] idle --connections N
//       N connections, handshake completed on each, then held open and idle; prints
//       "ready ..." and waits for the end of standard input (or SIGINT/SIGTERM).
//
// Every mode prints one line of key=value pairs for scripts/bench to read.
#include "connection.hpp"
#include "console.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "rfc8448.hpp"

#include <asio/experimental/awaitable_operators.hpp>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>

// The chapter 09 client: Options, handshake() and its steps (in an unnamed namespace).
// Its headers are included above, so the rename touches nothing but its main(). GCC
// treats an included file as a header and would warn that its coroutine lambdas (in an
// unnamed namespace) have no linkage, which is only true of a header shared by several files.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#define main ch09_client_main
#include "09-application-data/client.cpp"
#undef main
#pragma GCC diagnostic pop

namespace bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Where to connect, and the chapter 09 client's options for every connection.
struct Target {
    tls::tcp::endpoint endpoint;
    Options client;
};

// One client connection. Connection keeps a reference to the socket, so a Session
// never moves once made (it lives behind a unique_ptr).
struct Session {
    Session(tls::tcp::socket s, tls::Trace& trace) : socket(std::move(s)), conn(socket, trace, tls::Role::client) {}
    tls::tcp::socket socket;
    tls::Connection conn;
};

// Failures are counted, and the first one kept to be shown.
struct Failures {
    std::size_t count = 0;
    std::string first;
    void add(const std::exception& e) {
        if (count++ == 0) first = e.what();
    }
    void report(std::string_view what) const {
        if (count) fmt::print(stderr, "loadgen: {} {} failed; the first: {}\n", count, what, first);
    }
};

// TCP connect, then the chapter 09 client's full handshake (RFC 8446 §2, Figure 1).
asio::awaitable<std::unique_ptr<Session>> open_session(const Target& target, tls::Trace& trace) {
    tls::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(target.endpoint, asio::use_awaitable);
    socket.set_option(tls::tcp::no_delay(true));  // as tls::connect does: a handshake is small writes
    auto session = std::make_unique<Session>(std::move(socket), trace);
    const tls::Inputs inputs(tls::Role::client);  // fresh randomness, never --rfc8448's
    co_await handshake(session->conn, target.client, inputs);
    co_return session;
}

// How a handshake run ends each connection.
enum class Pattern {
    s_time,  // close_notify, then close at once (openssl s_time -new closes without even that)
    wait,    // close_notify, then read until the server's close_notify and the end of its stream
};

// §6.1: our close_notify; then, unless `pattern` is s_time, whatever the server still sends
// (a NewSessionTicket, its close_notify) until the stream ends: the server has then
// finished with the connection.
asio::awaitable<void> close_session(Session& session, Pattern pattern = Pattern::wait) {
    co_await session.conn.records().send_alert(tls::AlertDescription::close_notify);
    if (pattern == Pattern::wait) {
        try {
            while (co_await session.conn.records().read_record()) {
            }
        } catch (const std::exception&) {
            // A server may reset instead of closing after close_notify: the connection is over all the same.
        }
    }
    std::error_code ignored;
    session.socket.close(ignored);
}

// ---- handshakes ------------------------------------------------------------------------

struct HandshakeRun {
    Pattern pattern = Pattern::s_time;
    std::size_t count = 0;
    std::size_t started = 0;
    std::size_t completed = 0;
    Failures failures;
};

asio::awaitable<void> handshake_worker(const Target& target, tls::Trace& trace, HandshakeRun& run) {
    while (run.started < run.count) {
        ++run.started;
        try {
            auto session = co_await open_session(target, trace);
            ++run.completed;
            co_await close_session(*session, run.pattern);
        } catch (const std::exception& e) {
            run.failures.add(e);
        }
    }
}

int run_handshakes(const Target& target, tls::Trace& trace, std::size_t count, std::size_t concurrency,
                   Pattern pattern) {
    asio::io_context io;
    HandshakeRun run;
    run.count = count;
    run.pattern = pattern;
    auto start = Clock::now();
    for (std::size_t i = 0; i < std::min(concurrency, count); ++i)
        asio::co_spawn(io, handshake_worker(target, trace, run), asio::detached);
    io.run();
    double seconds = seconds_since(start);
    fmt::print("mode=handshakes pattern={} handshakes={} failed={} concurrency={} seconds={:.3f} per_second={:.1f}\n",
               pattern == Pattern::s_time ? "s_time" : "wait", run.completed, run.failures.count, concurrency, seconds,
               static_cast<double>(run.completed) / seconds);
    run.failures.report("handshakes");
    return run.failures.count ? 1 : 0;
}

// ---- echo ------------------------------------------------------------------------------

// `n` bytes that one record carries: a palindrome, then "\n". `openssl s_server -rev`
// answers each line with the line reversed, so it sends back exactly these bytes, as
// an echo server does: both servers then do the same work per byte.
tls::Bytes echo_line(std::size_t n) {
    tls::Bytes line(n, '\n');
    for (std::size_t i = 0; i + 1 < n; ++i) line[i] = static_cast<std::uint8_t>('a' + std::min(i, n - 2 - i) % 26);
    return line;
}

struct EchoPlan {
    std::size_t total;
    std::size_t record_size;
    tls::Bytes full = echo_line(record_size);
    tls::Bytes last = echo_line(total % record_size ? total % record_size : record_size);
    std::size_t chunks() const { return (total + record_size - 1) / record_size; }
    const tls::Bytes& chunk(std::size_t i) const { return i + 1 == chunks() ? last : full; }
};

asio::awaitable<void> send_all(Session& session, const EchoPlan& plan) {
    for (std::size_t i = 0; i < plan.chunks(); ++i)
        co_await session.conn.records().write_records(tls::ContentType::application_data, plan.chunk(i));
}

asio::awaitable<void> receive_all(Session& session, const EchoPlan& plan) {
    std::size_t received = 0;
    while (received < plan.total) {
        auto record = co_await session.conn.records().read_record();
        if (!record)
            throw std::runtime_error(fmt::format("the server ended the stream after {} of {} bytes", received, plan.total));
        if (record->type != tls::ContentType::application_data) continue;  // e.g. a NewSessionTicket (§4.6.1)
        tls::BytesView data(record->fragment);
        if (received + data.size() > plan.total)
            throw std::runtime_error(fmt::format("the server sent back more than the {} bytes sent", plan.total));
        while (!data.empty()) {
            const auto& expected = plan.chunk(received / plan.record_size);
            auto offset = received % plan.record_size;
            auto n = std::min(data.size(), expected.size() - offset);
            if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n),
                            expected.begin() + static_cast<std::ptrdiff_t>(offset)))
                throw std::runtime_error(fmt::format("the echo differs from what was sent within bytes {}..{}",
                                                     received, received + n));
            received += n;
            data = data.subspan(n);
        }
    }
}

asio::awaitable<void> echo(const Target& target, tls::Trace& trace, const EchoPlan& plan) {
    using namespace asio::experimental::awaitable_operators;
    auto session = co_await open_session(target, trace);
    auto start = Clock::now();
    // Sending and reading at once: a server that answers each record before reading the
    // next (as s_server -rev does) would otherwise block on a full socket buffer.
    co_await (send_all(*session, plan) && receive_all(*session, plan));
    double seconds = seconds_since(start);
    co_await close_session(*session);
    fmt::print("mode=echo bytes={} record_size={} seconds={:.3f} megabytes_per_second={:.1f}\n", plan.total,
               plan.record_size, seconds, static_cast<double>(plan.total) / seconds / 1e6);
}

// ---- idle ------------------------------------------------------------------------------

// Until standard input ends or SIGINT/SIGTERM arrives.
asio::awaitable<void> wait_for_end() {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    asio::signal_set signals(executor, SIGINT, SIGTERM);
    asio::posix::stream_descriptor input(executor, ::dup(STDIN_FILENO));
    auto read_to_end = [&input]() -> asio::awaitable<void> {
        std::array<char, 256> buffer;
        for (;;) {
            auto [ec, n] = co_await input.async_read_some(asio::buffer(buffer), tls::use_tuple);
            if (ec) co_return;
        }
    };
    co_await (read_to_end() || signals.async_wait(asio::use_awaitable));
}

int run_idle(const Target& target, tls::Trace& trace, std::size_t count, std::size_t concurrency) {
    asio::io_context io;
    std::vector<std::unique_ptr<Session>> sessions;
    sessions.reserve(count);
    std::size_t started = 0;
    Failures failures;
    auto opener = [&]() -> asio::awaitable<void> {
        while (started < count) {
            ++started;
            try {
                sessions.push_back(co_await open_session(target, trace));
            } catch (const std::exception& e) {
                failures.add(e);
            }
        }
    };
    auto start = Clock::now();
    for (std::size_t i = 0; i < std::min(concurrency, count); ++i) asio::co_spawn(io, opener(), asio::detached);
    io.run();
    fmt::print("ready connections={} failed={} seconds={:.3f}\n", sessions.size(), failures.count, seconds_since(start));
    std::fflush(stdout);
    failures.report("connections");

    io.restart();
    asio::co_spawn(io, wait_for_end(), asio::detached);
    io.run();

    io.restart();
    for (auto& session : sessions) asio::co_spawn(io, close_session(*session), asio::detached);
    io.run();
    return failures.count ? 1 : 0;
}

// tls::run_client wants the exit code from the coroutine itself.
asio::awaitable<int> run_echo(const Target& target, tls::Trace& trace, const EchoPlan& plan) {
    co_await echo(target, trace, plan);
    co_return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4433;
    bench::Target target;
    target.client.groups = {"x25519"};  // one key share: the server must pick x25519 (no HelloRetryRequest)
    target.client.trace.quiet = true;

    CLI::App app{"Load generator for TLS 1.3 servers on this machine, built on the chapter 09 client (bench/README.md)."};
    app.require_subcommand(1);
    app.add_option("--host", host, "Server address (a loopback address only)")->capture_default_str();
    app.add_option("--port", port, "Server port")->capture_default_str();
    app.add_option("--server-name", target.client.server_name, "server_name to send and check in the certificate")
        ->capture_default_str();
    app.add_option("--ca", target.client.ca, "PEM bundle of trust anchors")->capture_default_str();

    std::size_t count = 1000, concurrency = 4, connections = 1000, bytes = 64 << 20, record_size = 16000;
    auto* handshakes = app.add_subcommand("handshakes", "N full handshakes, each followed by close_notify");
    handshakes->add_option("--count", count, "Handshakes to make")->capture_default_str()->check(CLI::PositiveNumber);
    handshakes->add_option("--concurrency", concurrency, "Connections in flight at once")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    bench::Pattern pattern = bench::Pattern::s_time;
    handshakes
        ->add_option("--pattern", pattern,
                     "s_time: close_notify, then close at once (as openssl s_time -new, plus close_notify); "
                     "wait: close_notify, then wait for the server's and for the end of its stream")
        ->transform(CLI::CheckedTransformer(std::map<std::string, bench::Pattern>{{"s_time", bench::Pattern::s_time},
                                                                                   {"wait", bench::Pattern::wait}}))
        ->capture_default_str();
    auto* echo = app.add_subcommand("echo", "One connection: send --bytes and read the echo back");
    echo->add_option("--bytes", bytes, "Application data bytes to send")->capture_default_str()->check(CLI::PositiveNumber);
    echo->add_option("--record-size", record_size,
                     "Bytes per record (at most 16384; at most 16382 for openssl s_server -rev, whose lines are "
                     "limited to its 16 KiB buffer)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, tls::max_fragment_length));
    auto* idle = app.add_subcommand("idle", "Open N connections, handshake, hold them idle until stdin ends");
    idle->add_option("--connections", connections, "Connections to hold open")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    idle->add_option("--concurrency", concurrency, "Handshakes in flight at once while opening")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    // A load generator is for this machine only.
    std::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec || !address.is_loopback()) {
        fmt::print(stderr, "loadgen: --host must be a loopback address such as 127.0.0.1 (got {})\n", host);
        return 2;
    }
    target.endpoint = tls::tcp::endpoint(address, port);
    target.client.host = host;
    target.client.port = port;

    // --quiet formats nothing; what a quiet trace still prints (a result line per
    // handshake) goes to /dev/null.
    std::FILE* devnull = std::fopen("/dev/null", "w");
    if (!devnull) devnull = stderr;
    tls::Trace trace(target.client.trace, devnull);

    if (*handshakes) return bench::run_handshakes(target, trace, count, concurrency, pattern);
    if (*echo) {
        bench::EchoPlan plan{bytes, record_size};
        return tls::run_client([&] { return bench::run_echo(target, trace, plan); });
    }
    return bench::run_idle(target, trace, connections, concurrency);
}
