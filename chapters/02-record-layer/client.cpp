// Chapter 02 — the record layer (RFC 8446 §5.1), client side.
// Sends --message as application_data records and reads records until the whole
// echo is back.
#include "record_layer.hpp"

namespace {

// ANCHOR: client
asio::awaitable<void> send_and_receive(tls::RecordLayer& records, const std::string& message, std::string& reply) {
    co_await records.write_records(tls::ContentType::application_data, tls::to_bytes(message));
    // The echo may come back in several records (one per 2^14 bytes at least).
    while (reply.size() < message.size()) {
        auto record = co_await records.read_record();
        if (!record) throw tls::AlertError(tls::AlertDescription::decode_error, "server closed before echoing everything");
        if (record->type != tls::ContentType::application_data)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("expected application_data, got {}", name(record->type)));
        reply += tls::to_string(record->fragment);
    }
}
// ANCHOR_END: client

asio::awaitable<int> run(const tls::ClientOptions& options, std::string message) {
    tls::Trace trace(options.trace);
    auto socket = co_await tls::connect(options.host, options.port, trace);
    tls::RecordLayer records(socket, trace, tls::Role::client);
    std::string reply;
    if (!co_await tls::guarded(records, send_and_receive(records, message, reply))) co_return 1;
    trace.result(fmt::format("received message: {}", reply));
    co_return reply == message ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    tls::ClientOptions options;
    std::string message = "hello world!";
    CLI::App app{"Chapter 02 client: sends a message in TLSPlaintext records and prints the echo."};
    tls::add_options(app, options);
    app.add_option("--message", message, "What to send")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    return tls::run_client([&] { return run(options, message); });
}
