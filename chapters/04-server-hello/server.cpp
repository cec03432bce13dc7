// Chapter 04 — ServerHello and key exchange (RFC 8446 §4.1.1, §4.1.3, §4.2.1, §4.2.8, §7.4), server side.
// The server negotiates the version, cipher suite and group (§4.1.1), answers with
// a ServerHello carrying its own key share, and computes the (EC)DHE shared secret.
// Encryption would begin next; that is chapter 06, so the server cancels here.
#include "connection.hpp"
#include "key_exchange.hpp"
#include "rfc8448.hpp"

namespace {

// What the server has decided for this connection.
struct Negotiated {
    tls::CipherSuite cipher_suite{};
    tls::KeyShareEntry client_share;  // the client's share for the chosen group
};

// Our preference order; the first we implement that the client also offers wins.
constexpr tls::CipherSuite our_cipher_suites[] = {tls::CipherSuite::TLS_AES_128_GCM_SHA256,
                                                  tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                                                  tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};

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

// ANCHOR: negotiate
// §4.1.1: pick a cipher suite both sides have, and a group for which the client
// already sent a key share. Without either there is nothing to agree on.
Negotiated negotiate(const tls::ClientHello& hello) {
    Negotiated n;
    auto suite = std::find_first_of(std::begin(our_cipher_suites), std::end(our_cipher_suites),
                                    hello.cipher_suites.begin(), hello.cipher_suites.end());
    if (suite == std::end(our_cipher_suites))
        throw tls::AlertError(tls::AlertDescription::handshake_failure, "no cipher suite in common");
    n.cipher_suite = *suite;

    // Without a share for a group we support, the RFC's answer is a HelloRetryRequest
    // asking for one (§4.1.4) — a later chapter. Until then, §4.1.1's alert.
    auto shares = hello.key_share().value_or(std::vector<tls::KeyShareEntry>{});
    for (auto group : tls::supported_named_groups) {
        for (auto& share : shares)
            if (share.group == group) {
                n.client_share = share;
                return n;
            }
    }
    throw tls::AlertError(tls::AlertDescription::handshake_failure, "no key share for a group we support");
}
// ANCHOR_END: negotiate

// ANCHOR: send_server_hello
// §4.1.3: our random, our choices, and our own key share for the chosen group.
asio::awaitable<tls::Bytes> send_server_hello(tls::Connection& conn, const tls::ClientHello& client_hello,
                                              const Negotiated& n, const tls::Random& random,
                                              const tls::KeyPair& our_share) {
    tls::ServerHello hello;
    hello.random = random;
    hello.legacy_session_id_echo = client_hello.legacy_session_id;  // §4.1.3: echoed as sent
    hello.cipher_suite = n.cipher_suite;
    hello.extensions = {
        tls::make_key_share_server({n.client_share.group, our_share.public_key}),  // §4.2.8
        tls::make_supported_versions_server(tls::TLS1_3),  // §4.2.1: "this is TLS 1.3"
    };
    co_return co_await conn.write(hello);
}
// ANCHOR_END: send_server_hello

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const tls::Inputs& inputs) {
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(client_hello);
    inputs.check_client_hello(conn.trace(), client_hello_raw);  // --rfc8448 answers only the RFC's
    auto negotiated = negotiate(client_hello);
    conn.trace().value("negotiated", fmt::format("{}, {}", name(negotiated.cipher_suite), name(negotiated.client_share.group)));

    auto our_share = inputs.key_share(negotiated.client_share.group);  // fresh, or the RFC's (--rfc8448)
    // §7.4: both sides will hold the same secret, though it never crosses the wire.
    // Computed before answering, so a bad client share (§7.4.2) gets only an alert.
    auto shared = tls::shared_secret(negotiated.client_share.group, our_share.private_key,
                                     negotiated.client_share.key_exchange);
    conn.trace().value("shared_secret", shared);
    co_await send_server_hello(conn, client_hello, negotiated, inputs.random(), our_share);

    // Everything after ServerHello is encrypted (chapter 06): stop here.
    co_await conn.records().send_alert(tls::AlertDescription::user_canceled, "encryption begins in chapter 06");
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
    CLI::App app{"Chapter 04 server: negotiates, answers with ServerHello and computes the shared secret."};
    tls::add_options(app, options);
    tls::Inputs inputs(tls::Role::server);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {});
    CLI11_PARSE(app, argc, argv);
    return tls::serve(options, [&](tls::tcp::socket socket, tls::Trace& trace) {
        return serve_connection(inputs, std::move(socket), trace);
    });
}
