// Chapter 01 — TCP echo server.
// No TLS yet: this is the transport that TLS runs over (RFC 8446 §1: "the only
// requirement from the underlying transport is a reliable, in-order data stream").
// Every connection gets its own coroutine; whatever a client sends comes back.
#include "net.hpp"

namespace {

// ANCHOR: echo
// Reads whatever arrives and writes it straight back, until the client closes.
asio::awaitable<void> echo(tls::tcp::socket socket, tls::Trace& trace) {
    std::array<char, 4096> buffer;
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), tls::use_tuple);
        if (ec) co_return;  // end of stream, or the client reset the connection
        trace.value("<- received", fmt::format("{} bytes: {:?}", n, std::string_view(buffer.data(), n)));
        co_await asio::async_write(socket, asio::buffer(buffer.data(), n), asio::use_awaitable);
        trace.value("-> echoed", fmt::format("{} bytes", n));
    }
}
// ANCHOR_END: echo

}  // namespace

int main(int argc, char** argv) {
    tls::ServerOptions options;
    CLI::App app{"Chapter 01 server: echoes every byte each client sends (plain TCP)."};
    tls::add_options(app, options);
    CLI11_PARSE(app, argc, argv);
    return tls::serve(options, echo);
}
