// Chapter 02 — the record layer (RFC 8446 §5.1), server side.
// The echo now travels inside TLSPlaintext records. Nothing is encrypted yet:
// real TLS never sends application_data unprotected (§5.1); chapter 06 adds that.
#include "record_layer.hpp"

namespace {

// ANCHOR: echo
// Reads one whole record at a time, however TCP splits or merges the bytes, and
// sends each application_data fragment back as records of its own.
asio::awaitable<void> echo_records(tls::RecordLayer& records) {
    while (auto record = co_await records.read_record()) {
        if (record->type != tls::ContentType::application_data)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("this chapter carries only application_data, got {}", name(record->type)));
        records.trace().value("echo", fmt::format("{:?}", tls::to_string(record->fragment)));
        co_await records.write_records(tls::ContentType::application_data, record->fragment);
    }
}
// ANCHOR_END: echo

asio::awaitable<void> serve_connection(tls::tcp::socket socket, tls::Trace& trace) {
    tls::RecordLayer records(socket, trace, tls::Role::server);
    co_await tls::guarded(records, echo_records(records));
}

}  // namespace

int main(int argc, char** argv) {
    tls::ServerOptions options;
    CLI::App app{"Chapter 02 server: echoes the data of every TLSPlaintext record each client sends."};
    tls::add_options(app, options);
    CLI11_PARSE(app, argc, argv);
    return tls::serve(options, serve_connection);
}
