// Chapter 03 — ClientHello (RFC 8446 §4.1.2, §4.2), server side.
// Decodes every field and extension of the ClientHello into the RFC's structs and
// prints the whole tree. It checks that the hello is one a TLS 1.3 server could
// answer, then cancels politely: ServerHello is chapter 04.
#include "connection.hpp"
#include "rfc8448.hpp"

namespace {

// ANCHOR: check_client_hello
// The checks a TLS 1.3 server makes before it negotiates anything.
void check_client_hello(const tls::ClientHello& hello) {
    // Appendix D.5: "Any endpoint receiving a Hello message with ClientHello.legacy_version
    // or ServerHello.legacy_version set to 0x0300 MUST abort the handshake with a
    // "protocol_version" alert" — whatever supported_versions says. (Lower values are SSL 2.)
    if (hello.legacy_version <= 0x0300)
        throw tls::AlertError(tls::AlertDescription::protocol_version,
                              fmt::format("legacy_version {:04x}: SSL 3.0 or older (Appendix D.5)", hello.legacy_version));
    // §4.2.1: a TLS 1.3 ClientHello MUST carry supported_versions; without 0x0304
    // in it, the client is not offering TLS 1.3 and we offer nothing older.
    auto versions = hello.supported_versions();
    if (!versions || std::find(versions->begin(), versions->end(), tls::TLS1_3) == versions->end())
        throw tls::AlertError(tls::AlertDescription::protocol_version, "the client does not offer TLS 1.3");
    // ANCHOR: mandatory_extensions
    // §9.2: "If not containing a "pre_shared_key" extension, it MUST contain both a
    // "signature_algorithms" extension and a "supported_groups" extension. If containing a
    // "supported_groups" extension, it MUST also contain a "key_share" extension, and vice
    // versa. [...] Servers receiving a ClientHello which does not conform to these
    // requirements MUST abort the handshake with a "missing_extension" alert."
    using tls::ExtensionType;
    if (!hello.has_extension(ExtensionType::pre_shared_key) &&
        (!hello.has_extension(ExtensionType::signature_algorithms) || !hello.has_extension(ExtensionType::supported_groups)))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "no pre_shared_key, so signature_algorithms and supported_groups are required (§9.2)");
    if (hello.has_extension(ExtensionType::supported_groups) != hello.has_extension(ExtensionType::key_share))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "supported_groups and key_share must come together (§9.2)");
    // ANCHOR_END: mandatory_extensions
    // §4.1.2: "legacy_compression_methods ... MUST contain exactly one byte, set to zero".
    if (hello.legacy_compression_methods != tls::Bytes{0})
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "legacy_compression_methods must be [0]");
    // §4.2.8: every KeyShareEntry must be for a group offered in supported_groups.
    tls::check_key_shares_match_supported_groups(hello);
}
// ANCHOR_END: check_client_hello

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const tls::Inputs& inputs) {
    auto [client_hello, raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(client_hello);
    inputs.check_client_hello(conn.trace(), raw);  // --rfc8448 answers only the RFC's
    conn.trace().result(fmt::format("ClientHello decoded: {} cipher suites, {} extensions", client_hello.cipher_suites.size(),
                                    client_hello.extensions.size()));
    // §6.1 user_canceled: "the sender is canceling the handshake for some reason
    // unrelated to a protocol failure" — here, that the next step is chapter 04.
    co_await conn.records().send_alert(tls::AlertDescription::user_canceled, "ServerHello comes in chapter 04");
}
// ANCHOR_END: handshake

asio::awaitable<void> serve_connection(const tls::Inputs& inputs, tls::tcp::socket socket, tls::Trace& trace) {
    tls::Connection conn(socket, trace, tls::Role::server);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    co_await tls::guarded(conn.records(), handshake(conn, inputs));
}

}  // namespace

int main(int argc, char** argv) {
    tls::ServerOptions options;
    CLI::App app{"Chapter 03 server: decodes and prints each client's ClientHello."};
    tls::add_options(app, options);
    tls::Inputs inputs(tls::Role::server);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {});
    CLI11_PARSE(app, argc, argv);
    return tls::serve(options, [&](tls::tcp::socket socket, tls::Trace& trace) {
        return serve_connection(inputs, std::move(socket), trace);
    });
}
