// End to end: the real chapter 06–09 programs on free ports, plus two in-test peers
// built from common/ that misbehave on purpose: a server whose CertificateVerify or
// Finished is wrong (the real client must refuse it), and a client that puts a
// crafted record where its Finished belongs (the real server must refuse that).
#include "connection.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <regex>
#include <thread>

using namespace tlstest;

namespace {

void check_ch09_still_serves(unsigned short port, const std::string& message = "still serving") {
    Process client({bin("ch09-client"), "--port", std::to_string(port), "--message", message});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "received message: " + message);
}

}  // namespace

// ---- Chapter 06: encrypted records ----------------------------------------------------

TEST_CASE("ch06 client decrypts EncryptedExtensions from the ch06 server and drops its change_cipher_spec") {
    auto server = start_server("ch06-server");
    Process client({bin("ch06-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "<- record change_cipher_spec(20) legacy_record_version 0303 length 1");
    CHECK_CONTAINS(out, "== change_cipher_spec dropped (middlebox compatibility, Appendix D.4)");
    // EncryptedExtensions arrives as an application_data record and decrypts to a handshake message.
    CHECK_CONTAINS(out, "<- record application_data(23) legacy_record_version 0303 length 23");
    CHECK_CONTAINS(out, "decrypted  handshake(22) 6 bytes, sequence number 0");
    CHECK_CONTAINS(out, "<- EncryptedExtensions (6 bytes)");
    CHECK_CONTAINS(out, "EncryptedExtensions decrypted: TLS_AES_128_GCM_SHA256 with x25519");
    // The change_cipher_spec was dropped, not handed to the handshake as a message.
    CHECK(out.find("<- Alert") == std::string::npos);
    CHECK(server.process.wait_for("== connection #1 closed", 5s));
    CHECK_CONTAINS(server.process.all(), "-> record change_cipher_spec(20) legacy_record_version 0303 length 1");
    CHECK_CONTAINS(server.process.all(), "encrypting  handshake(22) 6 bytes, sequence number 0");
}

// ---- Chapter 07: Certificate and CertificateVerify -------------------------------------

TEST_CASE("ch07 client authenticates the ch07 server with each of the three certificate types") {
    const std::pair<std::string, std::string> cases[] = {{"server-ecdsa", "ecdsa_secp256r1_sha256"},
                                                         {"server-rsa", "rsa_pss_rsae_sha256"},
                                                         {"server-ed25519", "ed25519"}};
    for (auto& [kind, scheme] : cases) {
        INFO("certificate " << kind);
        auto server = start_server("ch07-server", identity(kind));
        Process client({bin("ch07-client"), "--port", std::to_string(server.port)});
        CHECK(client.wait() == 0);
        auto out = client.out();
        CHECK_CONTAINS(out, "certificate chain  trusted for localhost");
        CHECK_CONTAINS(out, "CertificateVerify  " + scheme + " signature verified");
        CHECK_CONTAINS(out, "server authenticated as localhost: TLS_AES_128_GCM_SHA256 with x25519");
        CHECK(server.process.wait_for("== connection #1 closed", 5s));
        CHECK_CONTAINS(server.process.all(), "negotiated  TLS_AES_128_GCM_SHA256, x25519, " + scheme);
    }
}

// ---- Chapter 08: Finished ------------------------------------------------------------------

TEST_CASE("ch08 client and server both complete the handshake") {
    auto server = start_server("ch08-server");
    Process client({bin("ch08-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "Finished  verify_data matches the transcript");
    CHECK_CONTAINS(client.out(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519");
    CHECK(server.process.wait_for("handshake complete: TLS_AES_128_GCM_SHA256, x25519, ecdsa_secp256r1_sha256", 5s));
    CHECK_CONTAINS(server.process.all(), "Finished  verify_data matches the transcript");
}

TEST_CASE("ch08 client and server write identical application secrets to their key logs") {
    TempDir temp;
    const auto& dir = temp.path;
    auto server = start_server("ch08-server", {"--keylog", dir + "/server.keys"});
    Process client({bin("ch08-client"), "--port", std::to_string(server.port), "--keylog", dir + "/client.keys"});
    CHECK(client.wait() == 0);
    REQUIRE(server.process.wait_for("handshake complete", 5s));
    auto c = keylog_lines(dir + "/client.keys");
    auto s = keylog_lines(dir + "/server.keys");
    for (auto label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                       "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
        INFO(label);
        REQUIRE(c.count(label) == 1);
        CHECK(c[label].size() == 64 + 1 + 64);  // client random, space, SHA-256-sized secret
        CHECK(c[label] == s[label]);
    }
}

// ---- Chapter 09: application data --------------------------------------------------------

// RFC8446 2-2, 5.1-15, 6-1, 6.2-5
TEST_CASE("ch09 client gets its message echoed and both sides close cleanly") {
    auto server = start_server("ch09-server");
    Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", "hello, encrypted world"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "received message: hello, encrypted world");
    CHECK_CONTAINS(out, "-> Alert close_notify(0)");
    CHECK_CONTAINS(out, "<- Alert close_notify(0)");
    CHECK(server.process.wait_for("connection closed cleanly after echoing 22 bytes", 5s));
}

TEST_CASE("ch09 splits a message longer than 2^14 bytes into protected records and reassembles the echo") {
    auto server = start_server("ch09-server");
    std::string big(40000, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
    Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", big});
    CHECK(client.wait() == 0);
    auto out = client.out();
    // 40000 = 16384 + 16384 + 7232; each chunk is sealed with its content type and a 16-byte tag.
    // Sequence numbers start again at 0 under the application traffic keys (§5.3).
    CHECK_CONTAINS(out, "encrypting  application_data(23) 16384 bytes, sequence number 0");
    CHECK_CONTAINS(out, "encrypting  application_data(23) 16384 bytes, sequence number 1");
    CHECK_CONTAINS(out, "encrypting  application_data(23) 7232 bytes, sequence number 2");
    CHECK_CONTAINS(out, "-> record application_data(23) legacy_record_version 0303 length 16401");
    CHECK_CONTAINS(out, "-> record application_data(23) legacy_record_version 0303 length 7249");
    CHECK_CONTAINS(out, "received message: " + big + "\n");
    CHECK(server.process.wait_for("connection closed cleanly after echoing 40000 bytes", 5s));
}

TEST_CASE("ch09 client without --message sends standard input and prints exactly the echo") {
    auto server = start_server("ch09-server");
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    const std::string lines = "first line\nsecond line\nthe third, with more words\n";
    client.write_stdin(lines);
    client.close_stdin();
    CHECK(client.wait() == 0);
    CHECK(client.out() == lines);  // the trace goes to stderr
    CHECK_CONTAINS(client.err(), "handshake complete with localhost");
    CHECK_CONTAINS(client.err(), "connection closed");
    CHECK(server.process.wait_for("connection closed cleanly after echoing " + std::to_string(lines.size()) + " bytes", 5s));
}

TEST_CASE("ch09 client in stdin mode exits when the server goes away while standard input stays open") {
    auto server = start_server("ch09-server");
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    client.write_stdin("before the server goes\n");
    REQUIRE(client.wait_for("before the server goes", 10s));  // handshake done, echo back
    server.process.kill();  // no close_notify: the stream just ends
    // Standard input is still open: the client must not wait for it (nor touch the
    // connection it has already closed once it does end).
    auto code = client.wait(5s);
    REQUIRE_MESSAGE(code.has_value(), "the client still runs after the server went away:\n" << client.all());
    CHECK(*code == 1);
    CHECK_CONTAINS(client.err(), "error: the server closed without close_notify: the data may be truncated");
    CHECK(client.out() == "before the server goes\n");
    // Under -DTLS_SANITIZE=ON: the standard-input reader must not resume after the
    // connection is gone (it once sent close_notify through a freed RecordLayer).
    CHECK(client.err().find("AddressSanitizer") == std::string::npos);
}

TEST_CASE("ch09 server serves ten clients at once") {
    auto server = start_server("ch09-server", {"--quiet"});
    std::vector<Process> clients;
    for (int i = 0; i < 10; ++i)
        clients.emplace_back(std::vector<std::string>{bin("ch09-client"), "--port", std::to_string(server.port),
                                                      "--message", "client number " + std::to_string(i)});
    for (int i = 0; i < 10; ++i) {
        INFO("client " << i);
        CHECK(clients[i].wait() == 0);
        CHECK_CONTAINS(clients[i].out(), "received message: client number " + std::to_string(i) + "\n");
    }
    // Each connection's result line, even with --quiet.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (count_of(server.process.all(), "connection closed cleanly") < 10 && std::chrono::steady_clock::now() < deadline)
        usleep(20000);
    CHECK(count_of(server.process.all(), "connection closed cleanly") == 10);
}

namespace {
// A client that connects and then stalls: the server must cut it off after
// --handshake-timeout 1 and serve another client in the meantime.
void check_stalled_client_is_dropped(tls::BytesView first_bytes) {
    auto server = start_server("ch09-server", {"--handshake-timeout", "1"});
    RawClient stalled(server.port);
    stalled.send(first_bytes);
    auto start = std::chrono::steady_clock::now();
    check_ch09_still_serves(server.port, "served while another client stalls");
    // Served meanwhile: its connection ended before the stalled one was cut off.
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    CHECK(server.process.all().find("handshake timed out") == std::string::npos);
    auto reply = stalled.read_all(10s);
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(stalled.peer_closed());
    CHECK(reply.empty());  // no alert: the watchdog just closes the socket
    CHECK(waited < 10s);  // cut off, not left waiting: the read above gives up after 10 s
    CHECK(server.process.wait_for("error: handshake timed out after 1 s", 2s));
    check_ch09_still_serves(server.port);
}
}  // namespace

TEST_CASE("ch09 server drops a client that connects and sends nothing after --handshake-timeout") {
    check_stalled_client_is_dropped({});
}

TEST_CASE("ch09 server drops a client that stalls halfway through its ClientHello after --handshake-timeout") {
    // A record header promising 200 bytes of ClientHello, then only 14 of them.
    check_stalled_client_is_dropped(tls::from_hex("16030100c8 010000c4 0303 0102030405060708"));
}

TEST_CASE("ch09 client and server honour SSLKEYLOGFILE") {
    TempDir temp;
    const auto& dir = temp.path;
    auto server = start_server("ch09-server", {}, {"SSLKEYLOGFILE=" + dir + "/server.keys"});
    Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", "logged"},
                   {"SSLKEYLOGFILE=" + dir + "/client.keys"});
    CHECK(client.wait() == 0);
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    auto c = keylog_lines(dir + "/client.keys");
    auto s = keylog_lines(dir + "/server.keys");
    CHECK(c.size() == 5);
    for (auto label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                       "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
        INFO(label);
        REQUIRE(c.count(label) == 1);
        CHECK(c[label] == s[label]);
    }
}

// ---- Bad input: the client refuses a certificate -----------------------------------------
// The ch09 server reads the client's answer to its flight, so its trace shows the alert arrive.

namespace {
void check_client_refuses(const std::string& client_program, const std::vector<std::string>& server_args,
                          const std::vector<std::string>& client_args, const std::string& alert) {
    auto server = start_server("ch09-server", server_args);
    std::vector<std::string> argv{bin(client_program), "--port", std::to_string(server.port)};
    argv.insert(argv.end(), client_args.begin(), client_args.end());
    if (client_program == "ch09-client") argv.insert(argv.end(), {"--message", "never sent"});
    Process client(argv);
    auto code = client.wait();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK_CONTAINS(client.out(), "-> Alert " + alert);
    CHECK(client.out().find("received message") == std::string::npos);
    CHECK_MESSAGE(server.process.wait_for("<- Alert " + alert, 5s), "server output:\n" << server.process.all());
    // Appendix A.1: sent under the client's handshake keys, not in the clear.
    CHECK(server.process.all().find("in plaintext") == std::string::npos);
}
}  // namespace

TEST_CASE("ch07 client refuses a certificate for another host name with bad_certificate") {
    check_client_refuses("ch07-client", {}, {"--server-name", "other.example"}, "bad_certificate(42)");
}

// RFC8446 4.4.2.2-8
// RFC8446 A.1-1
TEST_CASE("ch09 client refuses the wronghost certificate with bad_certificate") {
    check_client_refuses("ch09-client", identity("wronghost-ecdsa"), {}, "bad_certificate(42)");
}

// RFC8446 4.4.2.2-8
TEST_CASE("ch09 client refuses a certificate from an untrusted CA with unknown_ca") {
    check_client_refuses("ch09-client", identity("untrusted-ecdsa"), {}, "unknown_ca(48)");
}

// RFC8446 4.4.2.2-8
TEST_CASE("ch09 client refuses an expired certificate with certificate_expired") {
    check_client_refuses("ch09-client", identity("expired-ecdsa"), {}, "certificate_expired(45)");
}

// ---- Bad input: an in-test server that gets one step of chapter 08 wrong ----------------

namespace {

enum class Misstep { none, tampered_signature, scheme_not_offered, wrong_finished };

// The server flow of chapters/08-finished/server.cpp, compressed to one function, with
// one step changed. It runs on its own io_context in its own thread, serves one
// connection, and reports the alert the client answered with (decrypted under the
// client's handshake keys by the record layer).
class MisbehavingServer {
public:
    explicit MisbehavingServer(Misstep misstep)
        : misstep_(misstep), acceptor_(io_, tls::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, serve(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~MisbehavingServer() {
        io_.stop();
        thread_.join();
        if (devnull_) std::fclose(devnull_);
    }
    unsigned short port() const { return port_; }
    // "decrypt_error(51)", or what went wrong instead.
    std::string received_alert(std::chrono::seconds timeout) {
        if (result_.wait_for(timeout) != std::future_status::ready) return "(nothing within the timeout)";
        return result_.get();
    }

private:
    asio::awaitable<void> serve() {
        std::string outcome;
        try {
            auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
            tls::Trace trace({.hex = false, .quiet = true}, devnull_);
            tls::Connection conn(socket, trace, tls::Role::server);
            try {
                auto answer = co_await handshake(conn);
                outcome = "(no alert: the client answered with " + tls::message_name(answer.msg_type) + ")";
            } catch (const tls::PeerAlert& alert) {
                outcome = fmt::format("{}({})", tls::alert_name(alert.alert.description),
                                      static_cast<int>(alert.alert.description));
            }
        } catch (const std::exception& e) {
            outcome = std::string("(error: ") + e.what() + ")";
        }
        promise_.set_value(outcome);
    }

    asio::awaitable<tls::HandshakeMessage> handshake(tls::Connection& conn) {
        auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
        const auto& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
        tls::KeyShareEntry client_share;
        for (auto& share : client_hello.key_share().value_or(std::vector<tls::KeyShareEntry>{}))
            if (share.group == tls::NamedGroup::x25519) client_share = share;
        tls::TranscriptHash transcript(suite.hash);
        transcript.update(client_hello_raw);

        auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
        tls::ServerHello server_hello;
        auto random = tls::random_bytes(32);
        std::copy(random.begin(), random.end(), server_hello.random.begin());
        server_hello.legacy_session_id_echo = client_hello.legacy_session_id;
        server_hello.cipher_suite = suite.suite;
        server_hello.extensions = {tls::make_supported_versions_server(tls::TLS1_3),
                                   tls::make_key_share_server({tls::NamedGroup::x25519, our_share.public_key})};
        transcript.update(co_await conn.write(server_hello));

        auto shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, client_share.key_exchange);
        auto handshake_secret = tls::EarlySecret(suite.hash).mix_shared_secret(shared);
        auto s_hs = handshake_secret.server_handshake_traffic_secret(transcript.current());
        auto c_hs = handshake_secret.client_handshake_traffic_secret(transcript.current());
        conn.records().allow_compatibility_ccs(true);  // the client's, before its Finished
        conn.install(suite, s_hs);
        conn.install(suite, c_hs);

        tls::EncryptedExtensions encrypted_extensions;  // named: see tests/support/peers.cpp
        transcript.update(co_await conn.write(encrypted_extensions));
        tls::Certificate certificate;
        certificate.certificate_list.push_back({chain_.front(), {}});
        transcript.update(co_await conn.write(certificate));

        auto scheme = tls::SignatureScheme::ecdsa_secp256r1_sha256;
        tls::CertificateVerify verify{scheme, key_.sign(scheme, tls::certificate_verify_content(true, transcript.current()))};
        if (misstep_ == Misstep::tampered_signature) verify.signature[verify.signature.size() / 2] ^= 0x01;
        // A scheme the chapter clients never offer (they offer only P-256 for ECDSA).
        if (misstep_ == Misstep::scheme_not_offered) verify.algorithm = tls::SignatureScheme::ecdsa_secp384r1_sha384;
        transcript.update(co_await conn.write(verify));

        tls::Finished finished{tls::finished_verify_data(suite.hash, s_hs, transcript.current())};
        if (misstep_ == Misstep::wrong_finished) finished.verify_data[0] ^= 0x01;
        transcript.update(co_await conn.write(finished));

        // A good client answers with its Finished; these clients must answer with an alert.
        co_return co_await conn.read_handshake();
    }

    Misstep misstep_;
    asio::io_context io_;
    tls::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;
    std::promise<std::string> promise_;
    std::future<std::string> result_ = promise_.get_future();
    std::FILE* devnull_ = std::fopen("/dev/null", "w");
    std::vector<tls::Bytes> chain_ = tls::load_certificate_chain_pem_file(cert("server-ecdsa.pem"));
    tls::PrivateKey key_ = tls::PrivateKey::load_pem_file(cert("server-ecdsa.key"));
};

void check_client_refuses_server(Misstep misstep, const std::string& alert, const std::string& why) {
    MisbehavingServer server(misstep);
    Process client({bin("ch08-client"), "--port", std::to_string(server.port())});
    auto code = client.wait();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK_CONTAINS(client.out(), "-> Alert " + alert + ": " + why);
    CHECK(client.out().find("handshake complete") == std::string::npos);
    // The alert really went out, encrypted under the client's handshake keys.
    CHECK(server.received_alert(5s) == alert);
}

}  // namespace

TEST_CASE("ch08 client completes the handshake with the in-test server when no step is changed") {
    // The control for the cases below: the in-test server itself is right.
    MisbehavingServer server(Misstep::none);
    Process client({bin("ch08-client"), "--port", std::to_string(server.port())});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519");
    CHECK(server.received_alert(5s) == "(no alert: the client answered with Finished)");
}

// RFC8446 4.4.3-9, 4.4.3-10
TEST_CASE("ch08 client answers a tampered CertificateVerify signature with decrypt_error") {
    check_client_refuses_server(Misstep::tampered_signature, "decrypt_error(51)",
                                "the CertificateVerify signature does not verify");
}

// RFC8446 4.4.3-4
TEST_CASE("ch08 client answers a CertificateVerify with a scheme it did not offer with illegal_parameter") {
    check_client_refuses_server(Misstep::scheme_not_offered, "illegal_parameter(47)",
                                "CertificateVerify uses a scheme we did not offer: ecdsa_secp384r1_sha384");
}

// RFC8446 4.4.4-1
TEST_CASE("ch08 client answers a wrong server Finished with decrypt_error") {
    check_client_refuses_server(Misstep::wrong_finished, "decrypt_error(51)",
                                "the peer's Finished does not match the transcript");
}

// ---- Bad input: an in-test client that puts a crafted record where its Finished belongs ----

namespace {

// What the in-test client knows once it has read the server's whole first flight.
struct ClientKeys {
    tls::SuiteInfo suite;
    tls::Secret client_handshake_traffic_secret;
    tls::Bytes transcript_hash;  // ClientHello ... server Finished
    tls::TrafficKeys server_application_keys;
    tls::TrafficKeys client_application_keys;
    // Protects what the client sends next, sequence number 0: where its Finished belongs.
    tls::RecordProtection client_handshake_protection() const {
        return {suite.aead, tls::traffic_keys(suite, client_handshake_traffic_secret)};
    }
    // The client Finished a correct client would send.
    tls::Bytes finished_message() const {
        return tls::encode_handshake(
            tls::Finished{tls::finished_verify_data(suite.hash, client_handshake_traffic_secret, transcript_hash)});
    }
};

// The client side of chapter 08 up to the server's Finished: ClientHello with one x25519
// share, then ServerHello, the key schedule and the server's encrypted flight.
asio::awaitable<ClientKeys> read_server_flight(tls::Connection& conn) {
    auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ClientHello hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.extensions = {tls::make_supported_groups({tls::NamedGroup::x25519}),
                        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256}),
                        tls::make_supported_versions_client({tls::TLS1_3}),
                        tls::make_key_share_client({{tls::NamedGroup::x25519, our_share.public_key}})};
    auto hello_raw = co_await conn.write(hello);
    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    const auto& suite = *tls::suite_info(server_hello.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(hello_raw);
    transcript.update(server_hello_raw);

    auto shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, server_hello.key_share()->key_exchange);
    auto handshake_secret = tls::EarlySecret(suite.hash).mix_shared_secret(shared);
    auto c_hs = handshake_secret.client_handshake_traffic_secret(transcript.current());
    auto s_hs = handshake_secret.server_handshake_traffic_secret(transcript.current());
    conn.records().allow_compatibility_ccs(true);
    conn.install(suite, s_hs);
    for (auto type : {tls::HandshakeType::encrypted_extensions, tls::HandshakeType::certificate,
                      tls::HandshakeType::certificate_verify, tls::HandshakeType::finished}) {
        auto message = co_await conn.read_handshake();
        tls::Connection::expect_type(message, type);
        transcript.update(message.raw);
    }
    auto master = handshake_secret.derive_master_secret();
    auto hash = transcript.current();
    co_return ClientKeys{suite, c_hs, hash, tls::traffic_keys(suite, master.server_application_traffic_secret_0(hash)),
                         tls::traffic_keys(suite, master.client_application_traffic_secret_0(hash))};
}

// What the server did with the crafted bytes: the alert it sent (decrypted with its
// application keys, under which it writes once its Finished is out) and whether it
// then closed the connection.
struct ServerAnswer {
    std::string alert;  // "bad_record_mac(20)"
    bool closed = false;
};

ServerAnswer answer_to(unsigned short port, const std::function<tls::Bytes(const ClientKeys&)>& craft) {
    asio::io_context io;
    std::FILE* devnull = std::fopen("/dev/null", "w");
    tls::Trace trace({.hex = false, .quiet = true}, devnull);
    ServerAnswer answer{"(no answer)", false};
    std::exception_ptr failure;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await tls::connect("127.0.0.1", port, trace);
            tls::Connection conn(socket, trace, tls::Role::client);
            auto keys = co_await read_server_flight(conn);
            auto crafted = craft(keys);
            co_await asio::async_write(socket, asio::buffer(crafted), asio::use_awaitable);
            // Everything the server sends until it closes.
            tls::Bytes received;
            for (;;) {
                std::array<std::uint8_t, 4096> buffer;
                auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), tls::use_tuple);
                received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
                if (ec) {
                    answer.closed = ec == asio::error::eof || ec == asio::error::connection_reset;
                    break;
                }
            }
            tls::RecordReader reader;
            reader.set_max_length(tls::max_encrypted_fragment_length);
            reader.feed(received);
            auto record = reader.next();
            if (!record) {
                answer.alert = fmt::format("(no whole record in {} bytes)", received.size());
                co_return;
            }
            if (record->type != tls::ContentType::application_data) {
                answer.alert = "(an unprotected " + tls::name(record->type) + " record)";
                co_return;
            }
            tls::RecordProtection server_writes(keys.suite.aead, keys.server_application_keys);
            auto inner = server_writes.open(record->header, record->fragment);
            if (inner.type != tls::ContentType::alert) {
                answer.alert = "(a protected " + tls::name(inner.type) + " record)";
                co_return;
            }
            auto alert = tls::Alert::decode(inner.content);
            answer.alert = fmt::format("{}{}({})", alert.level == tls::AlertLevel::fatal ? "" : "(warning) ",
                                       tls::alert_name(alert.description), static_cast<int>(alert.description));
        },
        [&](std::exception_ptr e) {
            failure = e;
            done = true;
        });
    io.run_for(10s);
    std::fclose(devnull);
    if (!done) return {"(the server neither answered nor closed within 10 s)", false};
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            return {std::string("(in-test client failed: ") + e.what() + ")", false};
        }
    }
    return answer;
}

void check_server_refuses(const std::function<tls::Bytes(const ClientKeys&)>& craft, const std::string& alert) {
    auto server = start_server("ch09-server");
    auto answer = answer_to(server.port, craft);
    CHECK(answer.alert == alert);
    CHECK(answer.closed);
    CHECK_MESSAGE(server.process.wait_for("-> Alert " + alert, 5s), "server output:\n" << server.process.all());
    CHECK(server.process.all().find("handshake complete") == std::string::npos);
    check_ch09_still_serves(server.port);
}

}  // namespace

// RFC8446 5.2-3
TEST_CASE("ch09 server answers a record that fails to decrypt with bad_record_mac") {
    check_server_refuses(
        [](const ClientKeys& keys) {
            auto record = keys.client_handshake_protection().seal(tls::ContentType::handshake, keys.finished_message());
            record.back() ^= 0x01;  // one bit of the tag
            return record;
        },
        "bad_record_mac(20)");
}

// RFC8446 5.2-2, 5.2-5
TEST_CASE("ch09 server answers a ciphertext longer than 2^14 + 256 with record_overflow") {
    check_server_refuses(
        [](const ClientKeys&) {
            tls::Bytes record = tls::from_hex("1703034101");  // 16641 = 2^14 + 257 bytes follow
            record.resize(5 + (1 << 14) + 257, 0x42);
            return record;
        },
        "record_overflow(22)");
}

// RFC8446 5.4-4
TEST_CASE("ch09 server answers a protected record whose inner plaintext is only zeros with unexpected_message") {
    check_server_refuses(
        [](const ClientKeys& keys) {
            // Content type invalid(0), no content, 8 bytes of padding: 9 zero bytes, no type.
            return keys.client_handshake_protection().seal(tls::ContentType::invalid, {}, 8);
        },
        "unexpected_message(10)");
}

// RFC8446 5-2
TEST_CASE("ch09 server answers a change_cipher_spec of value 0x02 with unexpected_message") {
    check_server_refuses(
        [](const ClientKeys&) { return tls::encode_record(tls::ContentType::change_cipher_spec, tls::Bytes{0x02}); },
        "unexpected_message(10)");
}

// RFC8446 4.4.4-1
TEST_CASE("ch09 server answers a wrong client Finished with decrypt_error") {
    check_server_refuses(
        [](const ClientKeys& keys) {
            auto finished = keys.finished_message();
            finished.back() ^= 0x01;
            return keys.client_handshake_protection().seal(tls::ContentType::handshake, finished);
        },
        "decrypt_error(51)");
}

TEST_CASE("ch09 server completes the handshake with the in-test client when nothing is crafted wrong") {
    // The control for the cases above: the same in-test client sends CCS, a correct
    // Finished and close_notify; the server answers with its own close_notify.
    auto server = start_server("ch09-server");
    auto answer = answer_to(server.port, [](const ClientKeys& keys) {
        auto bytes = tls::encode_record(tls::ContentType::change_cipher_spec, tls::Bytes{0x01});
        auto finished = keys.client_handshake_protection().seal(tls::ContentType::handshake, keys.finished_message());
        tls::RecordProtection application(keys.suite.aead, keys.client_application_keys);
        auto close_notify = application.seal(tls::ContentType::alert, tls::Alert{tls::AlertLevel::warning,
                                                                                 tls::AlertDescription::close_notify}.encode());
        bytes.insert(bytes.end(), finished.begin(), finished.end());
        bytes.insert(bytes.end(), close_notify.begin(), close_notify.end());
        return bytes;
    });
    CHECK(answer.alert == "(warning) close_notify(0)");
    CHECK(answer.closed);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 0 bytes", 5s));
    CHECK_CONTAINS(server.process.all(), "handshake complete: TLS_AES_128_GCM_SHA256, x25519, ecdsa_secp256r1_sha256");
}
