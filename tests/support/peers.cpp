#include "peers.hpp"

#include "key_exchange.hpp"
#include "keylog.hpp"
#include "testing.hpp"

#include <cstdio>

namespace tlstest {

namespace {

const tls::SuiteInfo& aes128() { return *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256); }

tls::Random random_field() {
    tls::Random random{};
    auto bytes = tls::random_bytes(random.size());
    std::copy(bytes.begin(), bytes.end(), random.begin());
    return random;
}

std::string describe(tls::AlertDescription d) {
    return fmt::format("{}({})", tls::alert_name(d), static_cast<int>(d));
}

// A trace that prints nothing: the chapter programs' traces are what the tests read.
std::FILE* devnull() {
    static std::FILE* f = std::fopen("/dev/null", "w");
    return f;
}

}  // namespace

// ---- The in-test client ---------------------------------------------------------------

tls::Bytes ClientSession::finished_message() const {
    return tls::encode_handshake(tls::Finished{
        tls::finished_verify_data(suite.hash, client_handshake_traffic_secret, transcript_through_server_finished)});
}

tls::Bytes ClientSession::sealed_finished() const {
    return seal_record(suite, client_handshake_traffic_secret, 0, tls::ContentType::handshake, finished_message());
}

tls::Bytes seal_record(const tls::SuiteInfo& suite, tls::BytesView traffic_secret, std::uint64_t sequence_number,
                       tls::ContentType type, tls::BytesView content, std::size_t padding) {
    tls::RecordProtection protection(suite.aead, tls::traffic_keys(suite, traffic_secret));
    for (std::uint64_t i = 0; i < sequence_number; ++i) protection.seal(tls::ContentType::application_data, {});
    return protection.seal(type, content, padding);
}

asio::awaitable<ClientSession> client_handshake(tls::Connection& conn, const ClientTweaks& tweaks, bool finish) {
    auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ClientHello hello;
    hello.random = random_field();
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.extensions = {tls::make_supported_groups({tls::NamedGroup::x25519}),
                        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256,
                                                        tls::SignatureScheme::rsa_pss_rsae_sha256,
                                                        tls::SignatureScheme::ed25519}),
                        tls::make_supported_versions_client({tls::TLS1_3}),
                        tls::make_key_share_client({{tls::NamedGroup::x25519, our_share.public_key}})};
    if (tweaks.edit_hello) tweaks.edit_hello(hello);
    if (!tweaks.psks.empty()) {  // §4.2.9, §4.2.11: the modes, then pre_shared_key last
        auto modes = tweaks.psk_modes;
        if (modes.empty()) modes.push_back(tls::PskKeyExchangeMode::psk_dhe_ke);
        hello.extensions.push_back(tls::make_psk_key_exchange_modes(modes));
        tls::add_pre_shared_key(hello, tweaks.psks);
    }
    auto hello_raw = co_await conn.write(hello);
    conn.records().allow_compatibility_ccs(true);
    if (!tweaks.after_hello.empty()) co_await conn.records().write_raw(tweaks.after_hello);

    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    const auto* suite = tls::suite_info(server_hello.cipher_suite);
    const auto selected = server_hello.pre_shared_key();
    if (!suite || (!server_hello.key_share() && !selected) || (selected && *selected >= tweaks.psks.size()))
        throw std::runtime_error("in-test client: unusable ServerHello");
    tls::TranscriptHash transcript(suite->hash);
    transcript.update(hello_raw);
    transcript.update(server_hello_raw);
    tls::Secret shared(tls::hash_length(suite->hash), 0);  // psk_ke: zeros in place of the (EC)DHE (§7.1)
    if (server_hello.key_share())
        shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, server_hello.key_share()->key_exchange);
    tls::KeyLog no_keylog("/dev/null");
    const tls::EarlySecret early(suite->hash, selected ? tweaks.psks[*selected].psk : tls::BytesView{});
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, no_keylog, hello.random);
    conn.install(*suite, keys.server_handshake_traffic_secret);
    conn.install(*suite, keys.client_handshake_traffic_secret);
    std::vector<tls::HandshakeType> flight = {tls::HandshakeType::encrypted_extensions};
    if (!selected)  // §2.2: a server authenticating with a PSK sends no Certificate
        flight.insert(flight.end(), {tls::HandshakeType::certificate, tls::HandshakeType::certificate_verify});
    for (auto type : flight) {
        auto message = co_await conn.read_handshake();
        tls::Connection::expect_type(message, type);
        transcript.update(message.raw);
    }
    co_await tls::read_finished(conn, keys.server_handshake_traffic_secret, transcript);
    auto app = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, no_keylog, hello.random);
    ClientSession session{*suite,
                          tls::Bytes(hello.random.begin(), hello.random.end()),
                          keys.client_handshake_traffic_secret,
                          transcript.current(),
                          app.client_application_traffic_secret_0,
                          app.server_application_traffic_secret_0,
                          selected};
    conn.install(*suite, app.server_application_traffic_secret_0);
    if (finish) {
        co_await tls::send_finished(conn, keys.client_handshake_traffic_secret, transcript);
        conn.install(*suite, app.client_application_traffic_secret_0);
        conn.records().allow_compatibility_ccs(false);
    }
    co_return session;
}

std::string run_client_script(unsigned short port, const ClientScript& script, std::chrono::milliseconds timeout) {
    asio::io_context io;
    tls::Trace trace({.hex = false, .quiet = true}, devnull());
    std::string outcome = "(the script did not finish within the timeout)";
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await tls::connect("127.0.0.1", port, trace);
            tls::Connection conn(socket, trace, tls::Role::client);
            co_await script(socket, conn);
        },
        [&](std::exception_ptr e) {
            outcome = "";
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const tls::PeerAlert& alert) {
                outcome = "peer alert " + describe(alert.alert.description);
            } catch (const std::exception& ex) {
                outcome = std::string("(in-test client failed: ") + ex.what() + ")";
            }
        });
    io.run_for(timeout);
    return outcome;
}

asio::awaitable<std::string> read_until_alert(tls::Connection& conn, std::string* data) {
    try {
        while (auto record = co_await conn.records().read_record()) {
            if (record->type == tls::ContentType::application_data && data) *data += tls::to_string(record->fragment);
        }
        co_return conn.records().received_close_notify() ? describe(tls::AlertDescription::close_notify)
                                                        : "(closed without an alert)";
    } catch (const tls::PeerAlert& alert) {
        co_return describe(alert.alert.description);
    } catch (const tls::AlertError& e) {
        co_return fmt::format("(the in-test peer's own {}: {})", tls::alert_name(e.description), e.what());
    } catch (const asio::system_error& e) {
        co_return "(connection lost: " + e.code().message() + ")";
    }
}

// ---- The in-test server ---------------------------------------------------------------

asio::awaitable<ServerSession> server_handshake(tls::Connection& conn, const ServerTweaks& tweaks) {
    static const auto chain = tls::load_certificate_chain_pem_file(cert("server-ecdsa.pem"));
    static const auto key = tls::PrivateKey::load_pem_file(cert("server-ecdsa.key"));
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    conn.records().allow_compatibility_ccs(true);
    const auto& suite = aes128();
    tls::KeyShareEntry client_share;
    for (auto& share : client_hello.key_share().value_or(std::vector<tls::KeyShareEntry>{}))
        if (share.group == tls::NamedGroup::x25519) client_share = share;
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);

    auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ServerHello server_hello;
    server_hello.random = random_field();
    server_hello.legacy_session_id_echo = client_hello.legacy_session_id;
    server_hello.cipher_suite = suite.suite;
    server_hello.extensions = {tls::make_supported_versions_server(tls::TLS1_3),
                               tls::make_key_share_server({tls::NamedGroup::x25519, our_share.public_key})};
    if (tweaks.edit_server_hello) tweaks.edit_server_hello(server_hello);
    conn.records().hold_writes();  // the whole flight in one write, as chapter 09 sends it
    transcript.update(co_await conn.write(server_hello));

    auto shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, client_share.key_exchange);
    tls::KeyLog no_keylog("/dev/null");
    auto keys = tls::establish_handshake_keys(conn.trace(), tls::EarlySecret(suite.hash), shared, transcript, no_keylog,
                                              client_hello.random);
    co_await conn.records().write_change_cipher_spec();
    conn.install(suite, keys.server_handshake_traffic_secret);
    conn.install(suite, keys.client_handshake_traffic_secret);
    // (Named, not a braced temporary: g++ 12 destroys the members of an aggregate temporary
    // in a co_await expression twice.)
    tls::EncryptedExtensions encrypted_extensions;
    transcript.update(co_await conn.write(encrypted_extensions));
    if (tweaks.certificate_request) transcript.update(co_await conn.write(*tweaks.certificate_request));
    tls::Certificate certificate;
    certificate.certificate_list.push_back({chain.front(), {}});
    transcript.update(co_await conn.write(certificate));
    auto scheme = tls::SignatureScheme::ecdsa_secp256r1_sha256;
    tls::CertificateVerify verify{scheme, key.sign(scheme, tls::certificate_verify_content(true, transcript.current()))};
    transcript.update(co_await conn.write(verify));
    transcript.update(co_await tls::send_finished(conn, keys.server_handshake_traffic_secret, transcript));
    co_await conn.records().flush();
    auto app = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, no_keylog,
                                               client_hello.random);
    conn.install(suite, app.server_application_traffic_secret_0);
    ServerSession session;
    session.suite = suite;
    session.server_application_traffic_secret_0 = app.server_application_traffic_secret_0;
    session.client_application_traffic_secret_0 = app.client_application_traffic_secret_0;
    if (tweaks.certificate_request) {
        // The client's answer (§4.4.2, §4.4.3), then its Finished over it.
        auto [client_certificate, client_certificate_raw] = co_await conn.read<tls::Certificate>();
        transcript.update(client_certificate_raw);
        if (!client_certificate.certificate_list.empty()) {
            auto content = tls::certificate_verify_content(/*server=*/false, transcript.current());
            auto [cv, cv_raw] = co_await conn.read<tls::CertificateVerify>();
            transcript.update(cv_raw);
            session.client_signature_verifies = tls::verify_signature(
                client_certificate.certificate_list.front().cert_data, cv.algorithm, content, cv.signature);
            session.client_certificate_verify = std::move(cv);
        }
        session.client_certificate = std::move(client_certificate);
    }
    co_await tls::read_finished(conn, keys.client_handshake_traffic_secret, transcript);
    conn.install(suite, app.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);
    session.client_hello = std::move(client_hello);
    co_return session;
}

ScriptedServer::ScriptedServer(Script script)
    : acceptor_(io_, tls::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, serve(std::move(script)), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
}

ScriptedServer::~ScriptedServer() {
    io_.stop();
    thread_.join();
}

asio::awaitable<void> ScriptedServer::serve(Script script) {
    std::string outcome;
    try {
        auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
        tls::Trace trace({.hex = false, .quiet = true}, devnull());
        tls::Connection conn(socket, trace, tls::Role::server);
        co_await script(socket, conn);
    } catch (const tls::PeerAlert& alert) {
        outcome = "peer alert " + describe(alert.alert.description);
    } catch (const std::exception& e) {
        outcome = std::string("(in-test server failed: ") + e.what() + ")";
    }
    promise_.set_value(outcome);
}

std::string ScriptedServer::outcome(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return "(not finished within the timeout)";
    return result_.get();
}

}  // namespace tlstest

// ---- Chapter 14: client certificates ------------------------------------------------------

namespace tlstest {

asio::awaitable<CertificateRequestedSession> client_handshake_to_certificate(tls::Connection& conn,
                                                                            const ClientTweaks& tweaks) {
    auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ClientHello hello;
    hello.random = random_field();
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.extensions = {tls::make_supported_groups({tls::NamedGroup::x25519}),
                        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256,
                                                        tls::SignatureScheme::rsa_pss_rsae_sha256,
                                                        tls::SignatureScheme::ed25519}),
                        tls::make_supported_versions_client({tls::TLS1_3}),
                        tls::make_key_share_client({{tls::NamedGroup::x25519, our_share.public_key}})};
    if (tweaks.edit_hello) tweaks.edit_hello(hello);
    if (!tweaks.psks.empty()) {
        auto modes = tweaks.psk_modes;
        if (modes.empty()) modes.push_back(tls::PskKeyExchangeMode::psk_dhe_ke);
        hello.extensions.push_back(tls::make_psk_key_exchange_modes(modes));
        tls::add_pre_shared_key(hello, tweaks.psks);
    }
    auto hello_raw = co_await conn.write(hello);
    conn.records().allow_compatibility_ccs(true);
    if (!tweaks.after_hello.empty()) co_await conn.records().write_raw(tweaks.after_hello);

    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    const auto* suite = tls::suite_info(server_hello.cipher_suite);
    const auto selected = server_hello.pre_shared_key();
    if (!suite || (!server_hello.key_share() && !selected) || (selected && *selected >= tweaks.psks.size()))
        throw std::runtime_error("in-test client: unusable ServerHello");
    tls::TranscriptHash transcript(suite->hash);
    transcript.update(hello_raw);
    transcript.update(server_hello_raw);
    tls::Secret shared(tls::hash_length(suite->hash), 0);
    if (server_hello.key_share())
        shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, server_hello.key_share()->key_exchange);
    tls::KeyLog no_keylog("/dev/null");
    const tls::EarlySecret early(suite->hash, selected ? tweaks.psks[*selected].psk : tls::BytesView{});
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, no_keylog, hello.random);
    conn.install(*suite, keys.server_handshake_traffic_secret);
    conn.install(*suite, keys.client_handshake_traffic_secret);
    auto [encrypted_extensions, encrypted_extensions_raw] = co_await conn.read<tls::EncryptedExtensions>();
    transcript.update(encrypted_extensions_raw);
    // §4.3.2: "This message, if sent, MUST follow EncryptedExtensions."
    std::optional<tls::CertificateRequest> certificate_request;
    if (auto request = co_await conn.read_if<tls::CertificateRequest>()) {
        transcript.update(request->second);
        certificate_request = std::move(request->first);
    }
    std::vector<tls::HandshakeType> authentication;  // §2.2: none when the server resumed
    if (!selected) authentication = {tls::HandshakeType::certificate, tls::HandshakeType::certificate_verify};
    for (auto type : authentication) {
        auto message = co_await conn.read_handshake();
        tls::Connection::expect_type(message, type);
        transcript.update(message.raw);
    }
    co_await tls::read_finished(conn, keys.server_handshake_traffic_secret, transcript);
    auto app = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, no_keylog, hello.random);
    conn.install(*suite, app.server_application_traffic_secret_0);
    ClientSession session{*suite,
                          tls::Bytes(hello.random.begin(), hello.random.end()),
                          keys.client_handshake_traffic_secret,
                          transcript.current(),
                          app.client_application_traffic_secret_0,
                          app.server_application_traffic_secret_0,
                          selected};
    co_return CertificateRequestedSession{std::move(session), std::move(certificate_request), std::move(transcript)};
}

asio::awaitable<void> finish_client_handshake(tls::Connection& conn, CertificateRequestedSession& handshake) {
    const auto& session = handshake.session;
    handshake.transcript.update(co_await tls::send_finished(conn, session.client_handshake_traffic_secret, handshake.transcript));
    conn.install(session.suite, session.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);
}

asio::awaitable<ClientAuthentication> server_handshake_requesting_certificate(tls::Connection& conn,
                                                                              const tls::CertificateRequest& request) {
    ServerTweaks tweaks;
    tweaks.certificate_request = request;
    auto session = co_await server_handshake(conn, tweaks);
    auto certificate = std::move(session.client_certificate);
    auto verify = std::move(session.client_certificate_verify);
    const bool verifies = session.client_signature_verifies;
    co_return ClientAuthentication{std::move(session), std::move(certificate), std::move(verify), verifies};
}

}  // namespace tlstest
