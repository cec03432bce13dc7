// Chapter 01 — TCP echo client.
// Connects, sends --message, reads the same number of bytes back and prints them.
#include "net.hpp"

namespace {

// ANCHOR: client
asio::awaitable<int> send_and_receive(const tls::ClientOptions& options, std::string message) {
    tls::Trace trace(options.trace);
    auto socket = co_await tls::connect(options.host, options.port, trace);

    co_await asio::async_write(socket, asio::buffer(message), asio::use_awaitable);
    trace.value("-> sent", fmt::format("{} bytes: {:?}", message.size(), message));

    // TCP is a stream: the echo may arrive in several pieces, so read until we have it all.
    std::string reply(message.size(), '\0');
    co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);
    trace.value("<- received", fmt::format("{} bytes", reply.size()));

    trace.result(fmt::format("received message: {}", reply));
    co_return reply == message ? 0 : 1;
}
// ANCHOR_END: client

}  // namespace

int main(int argc, char** argv) {
    tls::ClientOptions options;
    std::string message = "hello world!";
    CLI::App app{"Chapter 01 client: sends a message to the echo server and prints the reply."};
    tls::add_options(app, options);
    app.add_option("--message", message, "What to send")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    return tls::run_client([&] { return send_and_receive(options, message); });
}
