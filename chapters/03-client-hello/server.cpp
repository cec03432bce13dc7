// Chapter 03 — ClientHello (RFC 8446 §4.1.2, §4.2), server side.
// Decodes every field and extension of the ClientHello into the RFC's structs and
// prints the whole tree. It checks that the hello is one a TLS 1.3 server could
// answer, then cancels politely: ServerHello is chapter 04.
#include "connection.hpp"

namespace {

// ANCHOR: check_client_hello
// The checks a TLS 1.3 server makes before it negotiates anything.
void check_client_hello(const tls::ClientHello& hello) {
    // §4.2.1: a TLS 1.3 ClientHello MUST carry supported_versions; without 0x0304
    // in it, the client is not offering TLS 1.3 and we offer nothing older.
    auto versions = hello.supported_versions();
    if (!versions || std::find(versions->begin(), versions->end(), tls::TLS1_3) == versions->end())
        throw tls::AlertError(tls::AlertDescription::protocol_version, "the client does not offer TLS 1.3");
    // §4.1.2: "legacy_compression_methods ... MUST contain exactly one byte, set to zero".
    if (hello.legacy_compression_methods != tls::Bytes{0})
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "legacy_compression_methods must be [0]");
    // §4.2.8: every KeyShareEntry must be for a group offered in supported_groups.
    tls::check_key_shares_match_supported_groups(hello);
}
// ANCHOR_END: check_client_hello

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn) {
    auto [client_hello, raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(client_hello);
    conn.trace().result(fmt::format("ClientHello decoded: {} cipher suites, {} extensions", client_hello.cipher_suites.size(),
                                    client_hello.extensions.size()));
    // §6.1 user_canceled: "the sender is canceling the handshake for some reason
    // unrelated to a protocol failure" — here, that the next step is chapter 04.
    co_await conn.records().send_alert(tls::AlertDescription::user_canceled, "ServerHello comes in chapter 04");
}
// ANCHOR_END: handshake

asio::awaitable<void> serve_connection(tls::tcp::socket socket, tls::Trace& trace) {
    tls::Connection conn(socket, trace);
    co_await tls::guarded(conn.records(), handshake(conn));
}

}  // namespace

int main(int argc, char** argv) {
    tls::ServerOptions options;
    CLI::App app{"Chapter 03 server: decodes and prints each client's ClientHello."};
    tls::add_options(app, options);
    CLI11_PARSE(app, argc, argv);
    return tls::serve(options, serve_connection);
}
