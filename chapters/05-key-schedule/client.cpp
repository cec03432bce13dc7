// Chapter 05 — the key schedule (RFC 8446 §7.1, §7.3, §4.4.1), client side.
// From the shared secret and the transcript hash of ClientHello and ServerHello the
// client derives the same handshake traffic secrets, keys and IVs as the server.
#include "connection.hpp"
#include "handshake_steps.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "rfc8448.hpp"

namespace {

struct Options : tls::ClientOptions {
    std::string server_name = "localhost";
    std::vector<std::string> groups = {"x25519", "secp256r1"};
    std::string keylog;
};

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
        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256,  // §4.2.3
                                        tls::SignatureScheme::rsa_pss_rsae_sha256, tls::SignatureScheme::ed25519,
                                        tls::SignatureScheme::rsa_pss_rsae_sha384,
                                        tls::SignatureScheme::rsa_pss_rsae_sha512}),
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

// ANCHOR: show_traffic_keys
// §7.3: each direction's write key and IV, from that side's traffic secret:
//   [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
//   [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
// Chapter 06 hands the secrets to the record layer, which derives these itself.
void show_traffic_keys(tls::Trace& trace, const tls::SuiteInfo& suite, const tls::HandshakeKeys& keys) {
    auto client_keys = tls::traffic_keys(suite, keys.client_handshake_traffic_secret);
    auto server_keys = tls::traffic_keys(suite, keys.server_handshake_traffic_secret);
    trace.value("client_handshake key", client_keys.key);
    trace.value("client_handshake iv", client_keys.iv);
    trace.value("server_handshake key", server_keys.key);
    trace.value("server_handshake iv", server_keys.iv);
}
// ANCHOR_END: show_traffic_keys

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
    // §7.1: no PSK, so the Early Secret is HKDF-Extract(0, 0).
    tls::EarlySecret early(suite.hash);
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, tls::KeyLog(options.keylog),
                                              client_hello.random);
    show_traffic_keys(conn.trace(), suite, keys);
    conn.trace().value("master_secret", keys.handshake_secret.derive_master_secret().secret());
    conn.trace().result(fmt::format("handshake keys derived: {} with {}", name(server_hello.cipher_suite), name(server_share.group)));

    // Everything after ServerHello is encrypted (chapter 06): stop here.
    co_await conn.records().send_alert(tls::AlertDescription::user_canceled, "encryption begins in chapter 06");
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
    CLI::App app{"Chapter 05 client: sends ClientHello, checks the ServerHello and runs the key schedule."};
    tls::add_options(app, options);
    app.add_option("--server-name", options.server_name, "Host name to send in server_name")
        ->check(tls::host_name_check())
        ->capture_default_str();
    app.add_option("--groups", options.groups, "Groups to offer, a key share for each (x25519, secp256r1)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}))
        ->capture_default_str();
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    tls::Inputs inputs(tls::Role::client);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--server-name", "--groups"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's client: its server name and key share
        options.server_name = rfc->server_name;
        options.groups = rfc->client_groups;
    }
    return tls::run_client([&] { return run(options, inputs); });
}
