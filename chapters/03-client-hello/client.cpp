// Chapter 03 — ClientHello (RFC 8446 §4.1.1, §4.1.2, §4.2), client side.
// The first message of every TLS 1.3 handshake: the client says which versions,
// cipher suites, groups and signature schemes it supports, and already sends its
// (EC)DHE key share so the handshake can finish in one round trip (§2).
#include "connection.hpp"
#include "key_exchange.hpp"
#include "rfc8448.hpp"

namespace {

struct Options : tls::ClientOptions {
    std::string server_name = "localhost";
};

// ANCHOR: build_client_hello
// §4.1.2: everything the server needs to choose the connection's parameters.
tls::ClientHello build_client_hello(const Options& options, const tls::KeyShareEntry& share) {
    tls::ClientHello hello;
    hello.legacy_version = tls::TLS1_2;  // §4.1.2: always 0x0303; the real version is in supported_versions
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    // Appendix D.4: a non-empty session id makes middleboxes see a familiar TLS 1.2 resumption.
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256, tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                           tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};
    hello.legacy_compression_methods = {0};  // §4.1.2: exactly one byte, "null"
    hello.extensions = {
        tls::make_server_name(options.server_name),  // RFC 6066 §3: which host we want
        tls::make_supported_groups({tls::NamedGroup::x25519, tls::NamedGroup::secp256r1}),  // §4.2.7
        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256,  // §4.2.3
                                        tls::SignatureScheme::rsa_pss_rsae_sha256, tls::SignatureScheme::ed25519,
                                        tls::SignatureScheme::rsa_pss_rsae_sha384,
                                        tls::SignatureScheme::rsa_pss_rsae_sha512}),
        tls::make_supported_versions_client({tls::TLS1_3}),  // §4.2.1: TLS 1.3 only
        tls::make_key_share_client({share}),                 // §4.2.8: our X25519 public key
    };
    return hello;
}
// ANCHOR_END: build_client_hello

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const tls::Inputs& inputs) {
    auto share = inputs.key_share(tls::NamedGroup::x25519);  // a fresh key, or the RFC's (--rfc8448)
    // --rfc8448 sends the RFC's ClientHello, with its fields and extensions, not ours.
    auto client_hello = inputs.rfc8448() ? inputs.rfc8448()->client_hello
                                         : build_client_hello(options, {tls::NamedGroup::x25519, share.public_key});
    co_await conn.write(client_hello);

    // This chapter stops here: it only reports what the server answered with.
    try {
        auto record = co_await conn.records().read_record();
        if (!record) {
            conn.trace().result("the server closed the connection without answering");
        } else if (record->type == tls::ContentType::handshake && !record->fragment.empty()) {
            auto type = static_cast<tls::HandshakeType>(record->fragment[0]);
            conn.trace().result(fmt::format("the server answered with a handshake record holding {}",
                                            tls::message_name(type)));
        } else {
            conn.trace().result(fmt::format("the server answered with a {} record", name(record->type)));
        }
    } catch (const tls::PeerAlert& alert) {
        conn.trace().result(fmt::format("the server answered with the alert {}", alert_name(alert.alert.description)));
    }
}
// ANCHOR_END: handshake

asio::awaitable<int> run(const Options& options, const tls::Inputs& inputs) {
    tls::Trace trace(options.trace);
    auto socket = co_await tls::connect(options.host, options.port, trace);
    tls::Connection conn(socket, trace, tls::Role::client);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    co_return co_await tls::guarded(conn.records(), handshake(conn, options, inputs)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 03 client: sends a TLS 1.3 ClientHello and reports what the server answers."};
    tls::add_options(app, options);
    app.add_option("--server-name", options.server_name, "Host name to send in server_name")
        ->check(tls::host_name_check())
        ->capture_default_str();
    tls::Inputs inputs(tls::Role::client);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--server-name"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's client: its server name
        options.server_name = rfc->server_name;
    }
    return tls::run_client([&] { return run(options, inputs); });
}
