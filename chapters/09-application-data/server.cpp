// Chapter 09 — application data (RFC 8446 §5, §6.1), server side.
// A complete TLS 1.3 server: after the handshake it echoes application data under
// the application traffic keys, answers close_notify with close_notify, serves many
// connections at once, and drops a peer that stalls mid-handshake.
#include "connection.hpp"
#include "handshake_steps.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "rfc8448.hpp"

namespace {

struct Options : tls::ServerOptions {
    std::string keylog;
    std::string cert = tls::repo_path("certs/server-ecdsa.pem");
    std::string key = tls::repo_path("certs/server-ecdsa.key");
    int handshake_timeout = 10;  // seconds
};

// The server's identity, loaded once at start.
struct Credentials {
    std::vector<tls::Bytes> chain;  // DER, leaf first
    tls::PrivateKey key;
};

// What the server has decided for this connection.
struct Negotiated {
    tls::CipherSuite cipher_suite{};
    tls::KeyShareEntry client_share;  // the client's share for the chosen group
    tls::SignatureScheme signature_scheme{};
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

// ANCHOR: choose_signature_scheme
// §4.2.3 / §4.4.2.2: sign with a scheme the client offered in signature_algorithms
// and that fits our key; with none in common the handshake cannot go on.
tls::SignatureScheme choose_signature_scheme(const tls::ClientHello& hello, const tls::PrivateKey& key) {
    auto offered = hello.signature_algorithms();
    if (!offered) throw tls::AlertError(tls::AlertDescription::missing_extension, "no signature_algorithms (§4.2.3)");
    for (auto scheme : key.schemes())
        if (std::find(offered->begin(), offered->end(), scheme) != offered->end()) return scheme;
    throw tls::AlertError(tls::AlertDescription::handshake_failure,
                          "the client offers no signature scheme for our " + key.algorithm() + " key");
}
// ANCHOR_END: choose_signature_scheme

// ANCHOR: negotiate
// §4.1.1: pick a cipher suite both sides have, a signature scheme for our key, and
// a group for which the client already sent a key share. Without any one of them
// there is nothing to agree on.
Negotiated negotiate(const tls::ClientHello& hello, const tls::PrivateKey& key) {
    Negotiated n;
    auto suite = std::find_first_of(std::begin(our_cipher_suites), std::end(our_cipher_suites),
                                    hello.cipher_suites.begin(), hello.cipher_suites.end());
    if (suite == std::end(our_cipher_suites))
        throw tls::AlertError(tls::AlertDescription::handshake_failure, "no cipher suite in common");
    n.cipher_suite = *suite;
    n.signature_scheme = choose_signature_scheme(hello, key);

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

// ANCHOR: send_certificate
// §4.4.2: the chain, leaf first, each certificate as a CertificateEntry.
asio::awaitable<tls::Bytes> send_certificate(tls::Connection& conn, const Credentials& credentials) {
    tls::Certificate certificate;  // certificate_request_context is empty in a server's Certificate
    for (auto& der : credentials.chain) {
        certificate.certificate_list.push_back({der, {}});
        conn.trace().value("certificate", [&] { return tls::describe_certificate(der); });  // parsed only if printed
    }
    co_return co_await conn.write(certificate);
}
// ANCHOR_END: send_certificate

// ANCHOR: send_certificate_verify
// §4.4.3: a signature over Transcript-Hash(ClientHello ... Certificate), wrapped so
// it can never be mistaken for a signature made in another context.
// RSA-PSS takes a fresh random salt; with --rfc8448 the one in the RFC's signature (rfc8448.hpp).
asio::awaitable<tls::Bytes> send_certificate_verify(tls::Connection& conn, const Credentials& credentials,
                                                    tls::SignatureScheme scheme, const tls::TranscriptHash& transcript,
                                                    const tls::Inputs& inputs) {
    auto content = tls::certificate_verify_content(/*server=*/true, transcript.current());
    tls::CertificateVerify verify{scheme, credentials.key.sign(scheme, content, inputs.pss_salt(scheme))};
    co_return co_await conn.write(verify);
}
// ANCHOR_END: send_certificate_verify

// ANCHOR: echo
// §5: application data, protected with the application traffic keys, until the
// client's close_notify, which we answer with our own (§6.1).
asio::awaitable<void> echo(tls::Connection& conn) {
    std::size_t total = 0;
    while (auto record = co_await conn.records().read_record()) {
        if (record->type != tls::ContentType::application_data)
            // The client has no post-handshake message we accept (no KeyUpdate yet).
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("unexpected {} record after the handshake", name(record->type)));
        total += record->fragment.size();
        conn.trace().value("echo", fmt::format("{} bytes", record->fragment.size()));
        co_await conn.records().write_records(tls::ContentType::application_data, record->fragment);
    }
    if (conn.records().received_close_notify()) {
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        conn.trace().result(fmt::format("connection closed cleanly after echoing {} bytes", total));
    } else {
        // §6.1: without close_notify we cannot tell an ending from an attacker's cut.
        conn.trace().error(fmt::format("the client closed without close_notify: possible truncation after {} bytes", total));
    }
}
// ANCHOR_END: echo

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const Credentials& credentials,
                                const tls::Inputs& inputs) {
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(client_hello);
    inputs.check_client_hello(conn.trace(), client_hello_raw);  // --rfc8448 answers only the RFC's
    // ANCHOR: decline_early_data
    // §4.2.10: a client resuming a session may send early data right after its ClientHello.
    // We take no pre-shared key, so we take no early data either: we "ignore the extension
    // and return a regular 1-RTT response", and skip the early data records, which will
    // not decrypt with the handshake keys.
    if (client_hello.has_extension(tls::ExtensionType::early_data)) {
        conn.trace().step("the client offers early data: declined, and skipped when it arrives (§4.2.10)");
        conn.records().skip_early_data(tls::max_skipped_early_data);
    }
    // ANCHOR_END: decline_early_data
    auto negotiated = negotiate(client_hello, credentials.key);
    conn.trace().value("negotiated", fmt::format("{}, {}, {}", name(negotiated.cipher_suite),
                                                 name(negotiated.client_share.group), name(negotiated.signature_scheme)));
    // §4.4.1: the suite's hash runs over every handshake message, in order.
    const auto& suite = *tls::suite_info(negotiated.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);

    auto our_share = inputs.key_share(negotiated.client_share.group);  // fresh, or the RFC's (--rfc8448)
    // §7.4: both sides will hold the same secret, though it never crosses the wire.
    // Computed before answering, so a bad client share (§7.4.2) gets only an alert.
    auto shared = tls::shared_secret(negotiated.client_share.group, our_share.private_key,
                                     negotiated.client_share.key_exchange);
    conn.trace().value("shared_secret", shared);
    // The whole flight, ServerHello through Finished, leaves in one TCP write.
    conn.records().hold_writes();
    transcript.update(co_await send_server_hello(conn, client_hello, negotiated, inputs.random(), our_share));
    tls::KeyLog keylog(options.keylog);
    // §7.1: no PSK, so the Early Secret is HKDF-Extract(0, 0).
    tls::EarlySecret early(suite.hash);
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, keylog, client_hello.random);

    // ANCHOR: protect
    // Appendix D.4: in middlebox compatibility mode, which the client asks for with a non-empty
    // legacy_session_id, a dummy change_cipher_spec right after ServerHello makes the handshake
    // look like a TLS 1.2 resumption to middleboxes. (RFC 8448 §3 is the trace without it.)
    if (!client_hello.legacy_session_id.empty()) co_await conn.records().write_change_cipher_spec();
    conn.records().allow_compatibility_ccs(true);
    // §5.2: from here on, records are protected with the handshake traffic keys.
    conn.install(suite, keys.server_handshake_traffic_secret);  // what we send
    conn.install(suite, keys.client_handshake_traffic_secret);  // what the client sends
    // ANCHOR_END: protect

    // §4.3.1: the extensions that need no key exchange, now hidden from eavesdroppers.
    tls::EncryptedExtensions encrypted_extensions{inputs.encrypted_extensions()};  // ours: none yet
    transcript.update(co_await conn.write(encrypted_extensions));

    transcript.update(co_await send_certificate(conn, credentials));
    transcript.update(co_await send_certificate_verify(conn, credentials, negotiated.signature_scheme, transcript, inputs));
    transcript.update(co_await tls::send_finished(conn, keys.server_handshake_traffic_secret, transcript));
    co_await conn.records().flush();

    // ANCHOR: switch_to_application_keys
    // §7.1: the server may send application data right after its Finished, so its
    // application keys come now; it reads the client's Finished with handshake keys.
    auto app_keys = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, keylog,
                                                    client_hello.random);
    conn.install(suite, app_keys.server_application_traffic_secret_0);
    co_await tls::read_finished(conn, keys.client_handshake_traffic_secret, transcript);
    conn.install(suite, app_keys.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);  // Appendix D.4: only before the peer's Finished
    // ANCHOR_END: switch_to_application_keys
    conn.trace().result(fmt::format("handshake complete: {}, {}, {}", name(negotiated.cipher_suite),
                                    name(negotiated.client_share.group), name(negotiated.signature_scheme)));
}
// ANCHOR_END: handshake

asio::awaitable<void> serve_connection(const Options& options, const Credentials& credentials, const tls::Inputs& inputs,
                                       tls::tcp::socket socket, tls::Trace& trace) {
    tls::Connection conn(socket, trace, tls::Role::server);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    // ANCHOR: serve
    // A client that stalls mid-handshake is cut off after --handshake-timeout seconds;
    // every connection has its own coroutine, so the others never wait for it.
    tls::Watchdog watchdog(socket, std::chrono::seconds(options.handshake_timeout), trace);
    if (!co_await tls::guarded(conn.records(), handshake(conn, options, credentials, inputs))) co_return;
    watchdog.disarm();
    co_await tls::guarded(conn.records(), echo(conn));
    // ANCHOR_END: serve
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 09 server: a TLS 1.3 echo server."};
    tls::add_options(app, options);
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    app.add_option("--cert", options.cert, "PEM file: our certificate first, then any intermediates")->capture_default_str();
    app.add_option("--key", options.key, "PKCS#8 PEM file: the certificate's private key")->capture_default_str();
    app.add_option("--handshake-timeout", options.handshake_timeout, "Seconds a client may take to finish the handshake")
        ->capture_default_str();
    tls::Inputs inputs(tls::Role::server);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--cert", "--key"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's server: its RSA certificate and key
        options.cert = rfc->certificate_file;
        options.key = rfc->key_file;
    }
    Credentials credentials{tls::load_certificate_chain_pem_file(options.cert), tls::PrivateKey::load_pem_file(options.key)};
    return tls::serve(options, [&](tls::tcp::socket socket, tls::Trace& trace) {
        return serve_connection(options, credentials, inputs, std::move(socket), trace);
    });
}
