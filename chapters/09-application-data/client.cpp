// Chapter 09 — application data (RFC 8446 §5, §6.1, §4.6.1), client side.
// A complete TLS 1.3 client. With --message it sends that, prints the echo and
// closes; without, it works like `openssl s_client -quiet`: lines from standard
// input go to the server, what the server sends goes to standard output, and the
// trace goes to standard error.
#include "connection.hpp"
#include "handshake_steps.hpp"
#include "console.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "rfc8448.hpp"

#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>

namespace {

struct Options : tls::ClientOptions {
    std::string server_name = "localhost";
    std::vector<std::string> groups = {"x25519", "secp256r1"};
    std::string keylog;
    std::string ca = tls::repo_path("certs/ca.pem");
    std::optional<std::string> message;
};

// The schemes we offer in signature_algorithms, and so the only ones we accept.
const std::vector<tls::SignatureScheme> our_signature_schemes = {
    tls::SignatureScheme::ecdsa_secp256r1_sha256, tls::SignatureScheme::rsa_pss_rsae_sha256, tls::SignatureScheme::ed25519,
    tls::SignatureScheme::rsa_pss_rsae_sha384, tls::SignatureScheme::rsa_pss_rsae_sha512};

// Our key shares, one per offered group in --groups order, kept until the server picks one.
using KeyShares = std::vector<std::pair<tls::NamedGroup, tls::KeyPair>>;

const tls::KeyPair* find_share(const KeyShares& shares, tls::NamedGroup group) {
    for (auto& [g, pair] : shares)
        if (g == group) return &pair;
    return nullptr;
}

tls::NamedGroup parse_group(const std::string& text) {
    if (text == "x25519") return tls::NamedGroup::x25519;
    if (text == "secp256r1" || text == "P-256") return tls::NamedGroup::secp256r1;
    throw CLI::ValidationError("--groups", "unknown group " + text + " (x25519, secp256r1)");
}

// §4.1.2: everything the server needs to choose the connection's parameters.
tls::ClientHello build_client_hello(const Options& options, const KeyShares& shares) {
    tls::ClientHello hello;
    hello.legacy_version = tls::TLS1_2;  // §4.1.2: always 0x0303; the real version is in supported_versions
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    // Appendix D.4: a non-empty session id makes middleboxes see a familiar TLS 1.2 resumption.
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256, tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                           tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};
    hello.legacy_compression_methods = {0};  // §4.1.2: exactly one byte, "null"
    std::vector<tls::NamedGroup> groups;
    std::vector<tls::KeyShareEntry> entries;
    for (auto& [group, pair] : shares) {
        groups.push_back(group);
        entries.push_back({group, pair.public_key});
    }
    hello.extensions = {
        tls::make_server_name(options.server_name),  // RFC 6066 §3: which host we want
        tls::make_supported_groups(groups),          // §4.2.7
        tls::make_signature_algorithms(our_signature_schemes),  // §4.2.3
        tls::make_supported_versions_client({tls::TLS1_3}),  // §4.2.1: TLS 1.3 only
        tls::make_key_share_client(entries),                 // §4.2.8: a share per group
    };
    return hello;
}

// ANCHOR: check_server_hello
// §4.1.3 and §4.2: what a client MUST check before trusting a ServerHello.
void check_server_hello(const tls::ServerHello& hello, const tls::ClientHello& sent, const KeyShares& shares) {
    using tls::AlertDescription;
    using tls::AlertError;
    // Appendix D.5: a Hello with legacy_version 0x0300 (SSL 3.0) or lower is a protocol_version.
    if (hello.legacy_version <= 0x0300)
        throw AlertError(AlertDescription::protocol_version,
                         fmt::format("legacy_version {:04x}: SSL 3.0 or older (Appendix D.5)", hello.legacy_version));
    // §4.1.4: a HelloRetryRequest asks for a second ClientHello, with a key share for
    // another group we offered (selected_group), a cookie to echo, or both. §4.2.8: a
    // selected_group we did not offer, or one we already sent a share for, is an
    // illegal_parameter — and we send a share for every group we offer. A HelloRetryRequest
    // with only a cookie is legal, but answering it is chapter 10's step, not this one's.
    if (hello.is_hello_retry_request()) {
        if (auto group = hello.hrr_selected_group())
            throw AlertError(AlertDescription::illegal_parameter,
                             fmt::format("HelloRetryRequest for {}, but we already sent a key share for every group "
                                         "we offered (§4.2.8)", name(*group)));
        throw AlertError(AlertDescription::handshake_failure,
                         "HelloRetryRequest with a cookie: this client does not send a second ClientHello (chapter 10 does)");
    }
    // §4.2.1: without supported_versions the server chose TLS 1.2 or older.
    auto version = hello.selected_version();
    if (!version) throw AlertError(AlertDescription::protocol_version, "the server did not select TLS 1.3");
    if (*version != tls::TLS1_3)
        throw AlertError(AlertDescription::illegal_parameter, "supported_versions selects " + tls::version_name(*version));
    // §4.1.3: the last 8 bytes of random say "DOWNGRD" if a TLS 1.3 server was pushed to 1.2.
    auto tail = std::span(hello.random).last<8>();
    if (std::equal(tail.begin(), tail.end(), tls::downgrade_tls12.begin()) ||
        std::equal(tail.begin(), tail.end(), tls::downgrade_tls11.begin()))
        throw AlertError(AlertDescription::illegal_parameter, "downgrade sentinel in ServerHello.random");
    if (hello.legacy_session_id_echo != sent.legacy_session_id)
        throw AlertError(AlertDescription::illegal_parameter, "legacy_session_id_echo differs from our legacy_session_id");
    if (std::find(sent.cipher_suites.begin(), sent.cipher_suites.end(), hello.cipher_suite) == sent.cipher_suites.end())
        throw AlertError(AlertDescription::illegal_parameter, "the server chose a cipher suite we did not offer");
    if (hello.legacy_compression_method != 0)
        throw AlertError(AlertDescription::illegal_parameter, "legacy_compression_method must be 0");
    // §4.2: a ServerHello may only answer extensions we sent; we offer no PSK, so just these two.
    for (auto& ext : hello.extensions)
        if (ext.extension_type != tls::ExtensionType::supported_versions && ext.extension_type != tls::ExtensionType::key_share)
            throw AlertError(AlertDescription::unsupported_extension, "unexpected extension " + name(ext.extension_type));
    auto share = hello.key_share();
    if (!share) throw AlertError(AlertDescription::missing_extension, "ServerHello has no key_share");
    if (!find_share(shares, share->group))
        throw AlertError(AlertDescription::illegal_parameter, "key_share for a group we sent no share for: " + name(share->group));
}
// ANCHOR_END: check_server_hello

// ANCHOR: read_certificate
// §4.4.2 and §4.4.2.4: the server's chain, validated against our trust anchors.
asio::awaitable<tls::Bytes> read_certificate(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                             tls::TranscriptHash& transcript) {
    auto [certificate, raw] = co_await conn.read<tls::Certificate>();
    transcript.update(raw);
    // §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
    // abort the handshake with a "decode_error" alert."
    if (certificate.certificate_list.empty())
        throw tls::AlertError(tls::AlertDescription::decode_error, "the server sent no certificate");
    std::vector<tls::Bytes> chain;
    for (auto& entry : certificate.certificate_list) {
        conn.trace().value("certificate", [&] { return tls::describe_certificate(entry.cert_data); });  // parsed only if printed
        chain.push_back(entry.cert_data);
    }
    // Chain to a trust anchor, validity period, host name: each failure names its alert (§6.2).
    // (--rfc8448 pins the RFC's certificate instead, which could pass none of these.)
    conn.trace().value("certificate chain", inputs.trust_server_certificate(chain, options.ca, options.server_name));
    co_return chain.front();
}
// ANCHOR_END: read_certificate

// ANCHOR: read_certificate_verify
// §4.4.3: the signature must use a scheme we offered and verify with the leaf's key
// over Transcript-Hash(ClientHello ... Certificate).
asio::awaitable<void> read_certificate_verify(tls::Connection& conn, tls::BytesView leaf, tls::TranscriptHash& transcript) {
    auto content = tls::certificate_verify_content(/*server=*/true, transcript.current());
    auto [verify, raw] = co_await conn.read<tls::CertificateVerify>();
    if (std::find(our_signature_schemes.begin(), our_signature_schemes.end(), verify.algorithm) == our_signature_schemes.end())
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "CertificateVerify uses a scheme we did not offer: " +
                                                                          name(verify.algorithm));
    if (!tls::verify_signature(leaf, verify.algorithm, content, verify.signature))
        throw tls::AlertError(tls::AlertDescription::decrypt_error, "the CertificateVerify signature does not verify");
    conn.trace().value("CertificateVerify", fmt::format("{} signature verified", name(verify.algorithm)));
    transcript.update(raw);
}
// ANCHOR_END: read_certificate_verify

// ANCHOR: post_handshake
// §4.6: after the handshake the server may still send handshake messages. We decode
// NewSessionTicket (resumption is a later chapter); anything else we cannot handle
// is an unexpected_message, never a crash.
void handle_post_handshake(tls::Connection& conn, const tls::TLSPlaintext& record, tls::HandshakeReader& reader) {
    reader.feed(record.fragment);
    while (auto message = reader.next()) {
        if (message->msg_type != tls::HandshakeType::new_session_ticket)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "post-handshake " + tls::message_name(message->msg_type) + " is not handled");
        auto ticket = tls::NewSessionTicket::decode(message->body);
        conn.trace().message(tls::Direction::receive, "NewSessionTicket", ticket.describe(), message->raw);
    }
}
// ANCHOR_END: post_handshake

// ANCHOR: receive
// Reads records until the server's close_notify, handing application data to
// `on_data`. Returns false if the stream ended without close_notify (§6.1: truncation).
template <class OnData>
asio::awaitable<bool> receive(tls::Connection& conn, OnData on_data) {
    tls::HandshakeReader post_handshake;
    while (auto record = co_await conn.records().read_record()) {
        if (record->type == tls::ContentType::application_data) {
            if (!on_data(record->fragment)) co_return true;
        } else if (record->type == tls::ContentType::handshake) {
            handle_post_handshake(conn, *record, post_handshake);
        } else {
            throw tls::AlertError(tls::AlertDescription::unexpected_message, "unexpected " + name(record->type) + " record");
        }
    }
    co_return conn.records().received_close_notify();
}
// ANCHOR_END: receive

// ANCHOR: exchange_message
// --message: send it, read the echo back, then close with close_notify (§6.1).
asio::awaitable<void> exchange_message(tls::Connection& conn, const std::string& message) {
    co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(message));
    std::string reply;
    bool clean = co_await receive(conn, [&](tls::BytesView data) {
        reply += tls::to_string(data);
        return reply.size() < message.size();  // keep reading until the whole echo is back
    });
    if (!clean) throw tls::Truncated("the server closed without close_notify: the data may be truncated");
    if (reply.size() < message.size())
        throw tls::Truncated(fmt::format("the server closed after echoing {} of {} bytes", reply.size(), message.size()));
    conn.trace().result(fmt::format("received message: {}", tls::text_or_hex(tls::to_bytes(reply))));
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    if (!co_await receive(conn, [](tls::BytesView) { return true; }))
        throw tls::Truncated("the server closed without close_notify: the data may be truncated");
}
// ANCHOR_END: exchange_message

// ANCHOR: interactive
// No --message: standard input to the server, the server's data to standard output, both
// at once. Whichever side finishes first, each sends one close_notify (§6.1): at the end of
// standard input we send ours and wait for the server's; if the server's comes first, we
// stop reading standard input and answer it.
asio::awaitable<void> send_stdin(tls::Connection& conn, tls::StdinLines& lines, const bool& server_finished,
                                 bool& sent_close_notify) {
    while (auto line = co_await lines.next())
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(*line));
    if (server_finished) co_return;  // lines.close(): the answer to the server's close_notify follows
    sent_close_notify = true;
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
}

asio::awaitable<void> print_received(tls::Connection& conn, tls::StdinLines& lines, bool& server_finished) {
    bool clean = co_await receive(conn, [](tls::BytesView data) {
        std::fwrite(data.data(), 1, data.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    server_finished = true;
    lines.close();  // the server has finished: stop reading standard input
    if (!clean) throw tls::Truncated("the server closed without close_notify: the data may be truncated");
}

asio::awaitable<void> interactive(tls::Connection& conn) {
    tls::StdinLines lines(co_await asio::this_coro::executor);
    bool server_finished = false, sent_close_notify = false;
    // Both directions run together, and both have ended before `lines` and the flags go: if
    // one fails, the group cancels the other and still waits for it.
    auto executor = co_await asio::this_coro::executor;
    auto [order, stdin_error, server_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, send_stdin(conn, lines, server_finished, sent_close_notify), asio::experimental::deferred),
            asio::co_spawn(executor, print_received(conn, lines, server_finished), asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    // The first failure is the one to report; the other side's is only its cancellation.
    for (auto side : order)
        if (auto error = side == 0 ? stdin_error : server_error) std::rethrow_exception(error);
    if (!sent_close_notify) co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    conn.trace().result("connection closed");
}
// ANCHOR_END: interactive

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const tls::Inputs& inputs) {
    KeyShares shares;  // fresh keys, or the RFC's (--rfc8448)
    for (auto& g : options.groups)
        if (!find_share(shares, parse_group(g))) shares.emplace_back(parse_group(g), inputs.key_share(parse_group(g)));
    // --rfc8448 sends the RFC's ClientHello, with its fields and extensions, not ours.
    auto client_hello = inputs.rfc8448() ? inputs.rfc8448()->client_hello : build_client_hello(options, shares);
    auto client_hello_raw = co_await conn.write(client_hello);

    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    check_server_hello(server_hello, client_hello, shares);
    auto server_share = *server_hello.key_share();
    conn.trace().value("negotiated", fmt::format("{}, {}", name(server_hello.cipher_suite), name(server_share.group)));
    // §4.4.1: now that the suite is known, so is the transcript's hash function.
    const auto& suite = *tls::suite_info(server_hello.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);
    transcript.update(server_hello_raw);

    // §7.4: the same secret the server computed, from our private key and its public one.
    auto shared = tls::shared_secret(server_share.group, find_share(shares, server_share.group)->private_key, server_share.key_exchange);
    conn.trace().value("shared_secret", shared);
    tls::KeyLog keylog(options.keylog);
    // §7.1: no PSK, so the Early Secret is HKDF-Extract(0, 0).
    tls::EarlySecret early(suite.hash);
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, keylog, client_hello.random);

    // ANCHOR: protect
    // §5, Appendix D.4: until the server's Finished, every change_cipher_spec of 0x01 is dropped.
    conn.records().allow_compatibility_ccs(true);
    // §5.2: from here on, records are protected with the handshake traffic keys.
    conn.install(suite, keys.server_handshake_traffic_secret);  // what the server sends
    conn.install(suite, keys.client_handshake_traffic_secret);  // what we send
    // ANCHOR_END: protect

    // §4.3.1: the first message we can only read with the handshake keys.
    auto [encrypted_extensions, encrypted_extensions_raw] = co_await conn.read<tls::EncryptedExtensions>();
    transcript.update(encrypted_extensions_raw);

    auto leaf = co_await read_certificate(conn, options, inputs, transcript);
    co_await read_certificate_verify(conn, leaf, transcript);
    co_await tls::read_finished(conn, keys.server_handshake_traffic_secret, transcript);

    // ANCHOR: switch_to_application_keys
    // §7.1: application secrets from the transcript through the server's Finished;
    // our own Finished still goes out under the handshake keys.
    auto app_keys = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, keylog,
                                                    client_hello.random);
    conn.install(suite, app_keys.server_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);  // Appendix D.4: only before the peer's Finished
    // Appendix D.4: in compatibility mode (our non-empty legacy_session_id), our own dummy
    // change_cipher_spec before our first encrypted record. (We sent nothing encrypted before
    // Finished. RFC 8448 §3's client is not in compatibility mode: no CCS.)
    if (!client_hello.legacy_session_id.empty()) co_await conn.records().write_change_cipher_spec();
    transcript.update(co_await tls::send_finished(conn, keys.client_handshake_traffic_secret, transcript));
    conn.install(suite, app_keys.client_application_traffic_secret_0);
    // ANCHOR_END: switch_to_application_keys
    conn.trace().result(fmt::format("handshake complete with {}: {}, {}", options.server_name,
                                    name(server_hello.cipher_suite), name(server_share.group)));
}
// ANCHOR_END: handshake

asio::awaitable<int> run(const Options& options, const tls::Inputs& inputs) {
    // Without --message, standard output carries the server's data: the trace moves to stderr.
    tls::Trace trace(options.trace, options.message ? stdout : stderr);
    auto socket = co_await tls::connect(options.host, options.port, trace);
    tls::Connection conn(socket, trace, tls::Role::client);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    if (!co_await tls::guarded(conn.records(), handshake(conn, options, inputs))) co_return 1;
    if (options.message) co_return co_await tls::guarded(conn.records(), exchange_message(conn, *options.message)) ? 0 : 1;
    co_return co_await tls::guarded(conn.records(), interactive(conn)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 09 client: a TLS 1.3 client; --message sends one message, otherwise stdin/stdout."};
    tls::add_options(app, options);
    app.add_option("--server-name", options.server_name, "Host name to send in server_name and check in the certificate")
        ->check(tls::host_name_check())
        ->capture_default_str();
    app.add_option("--ca", options.ca, "PEM bundle of trust anchors")->capture_default_str();
    app.add_option("--message", options.message, "Send this, print the echo and close (default: stdin to stdout)");
    app.add_option("--groups", options.groups, "Groups to offer, a key share for each (x25519, secp256r1)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}))
        ->capture_default_str();
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    tls::Inputs inputs(tls::Role::client);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--server-name", "--ca", "--message", "--groups"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's client: its server name, key share and data
        options.server_name = rfc->server_name;
        options.groups = rfc->client_groups;
        options.message = tls::to_string(rfc->client_application_data);
    }
    return tls::run_client([&] { return run(options, inputs); });
}
