// Chapter 14: client certificates (RFC 8446 §4.3.2, §4.4.2, §4.4.2.4, §4.4.3). The chapter's own
// server and client end to end — ECDSA, RSA and Ed25519 client certificates, an empty
// Certificate, --require-client-cert, an untrusted CA, a certificate not for client
// authentication, resumption and a server that does not ask — then each rule a hostile client
// can break against the server (a scripted client that answers the CertificateRequest itself),
// and the client against a scripted server that asks in ways the client must refuse or cannot
// satisfy.
#include "key_exchange.hpp"
#include "peers.hpp"
#include "session.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace tlstest;

namespace {

const std::string reconnecting = "connecting again, with a ticket from the first connection";
const std::string authenticated = "client authenticated: subject CN=tls-by-hand test client, issuer CN=tls-by-hand test CA";
const std::string anonymous = "client anonymous: the client sent an empty Certificate, and we go on without it";
const std::string empty_certificate = "we have no certificate for this server: an empty Certificate (§4.4.2)";

// What follows the first occurrence of `marker` ("" if it is missing).
std::string after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    return at == std::string::npos ? std::string() : text.substr(at);
}
// What precedes it (all of `text` if it is missing).
std::string before(const std::string& text, const std::string& marker) { return text.substr(0, text.find(marker)); }

// True if `first` occurs in `text`, and `second` after it.
bool in_order(const std::string& text, const std::string& first, const std::string& second) {
    auto a = text.find(first);
    return a != std::string::npos && text.find(second, a + first.size()) != std::string::npos;
}

std::vector<std::string> with_cert(const std::string& kind, std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"--cert", cert(kind + ".pem"), "--key", cert(kind + ".key")};
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

Process ch14_client(unsigned short port, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {bin("ch14-client"), "--port", std::to_string(port), "--message", "hi", "--repeat", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process(argv);
}

// A ch14 server that asks every client for a certificate, trusting certs/ca.pem.
Server asking_server(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--client-ca", cert("ca.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return start_server("ch14-server", args);
}

// The server refused the client with `alert`: its trace says so, and the client fails with it.
// The client reads the alert even when it was still writing as the server closed: the server
// drains before it closes (Transport::close_after_alert), and guarded() reads what is left
// after a failed write.
void check_refused(Server& server, Process& client, const std::string& alert, int connection) {
    CHECK(client.wait() == 1);
    auto out = client.all();
    CHECK_MESSAGE(contains(out, "<- Alert " + alert), out);
    CHECK(out.find("received message") == std::string::npos);
    REQUIRE(server.process.wait_for("== connection #" + std::to_string(connection) + " closed", 5s));
    CHECK_CONTAINS(server.process.all(), "-> Alert " + alert);
}

// After a refused client: a good one is still served, and authenticated.
void check_still_serving(Server& server) {
    auto client = ch14_client(server.port, with_cert("client-ecdsa"));
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "received message: hi");
}

// ---- The scripted client ----------------------------------------------------------------

// A bundled client identity: its chain (the leaf) and its key.
struct ClientIdentity {
    std::vector<tls::Bytes> chain;
    tls::PrivateKey key;
    explicit ClientIdentity(const std::string& kind)
        : chain(tls::load_certificate_chain_pem_file(cert(kind + ".pem"))),
          key(tls::PrivateKey::load_pem_file(cert(kind + ".key"))) {}
    tls::Certificate certificate(const tls::Bytes& context = {}) const {
        tls::Certificate message;
        message.certificate_request_context = context;
        for (const auto& der : chain) message.certificate_list.push_back({der, {}});
        return message;
    }
};

// A CertificateVerify: `key` signs the content for `transcript_hash` in `scheme`, with the
// client's context string unless `server_context`.
tls::CertificateVerify certificate_verify(const tls::PrivateKey& key, tls::SignatureScheme scheme,
                                          const tls::Bytes& transcript_hash, bool server_context = false) {
    return tls::CertificateVerify{scheme, key.sign(scheme, tls::certificate_verify_content(server_context, transcript_hash))};
}

using Answer = std::function<asio::awaitable<void>(tls::Connection&, CertificateRequestedSession&)>;

// The scripted client against `port`: the ClientHello and the server's flight, which must ask
// for a certificate; then `answer` sends what it likes. Returns the alert the server ended with.
std::string server_alert(unsigned short port, const Answer& answer) {
    std::string alert;
    bool asked = false;
    auto outcome = run_client_script(port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        const ClientTweaks tweaks;
        auto handshake = co_await client_handshake_to_certificate(conn, tweaks);
        asked = handshake.certificate_request.has_value();
        co_await answer(conn, handshake);
        alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    CHECK(asked);
    return alert;
}

// Application data until `size` bytes or the end (NewSessionTickets on the way are skipped).
asio::awaitable<std::string> read_data(tls::Connection& conn, std::size_t size) {
    std::string data;
    while (data.size() < size) {
        auto record = co_await conn.records().read_record();
        if (!record) break;
        if (record->type == tls::ContentType::application_data) data += tls::to_string(record->fragment);
    }
    co_return data;
}

// After the scripted client's Finished: a line to the echo server, its echo, close_notify both ways.
asio::awaitable<std::string> exchange_line(tls::Connection& conn, const std::string& line) {
    co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(line));
    auto echoed = co_await read_data(conn, line.size());
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    CHECK(co_await read_until_alert(conn) == "close_notify(0)");
    co_return echoed;
}

// ---- The scripted server ----------------------------------------------------------------

tls::CertificateRequest certificate_request(const std::vector<tls::SignatureScheme>& schemes, const tls::Bytes& context = {}) {
    tls::CertificateRequest request;
    request.certificate_request_context = context;
    request.extensions = {tls::make_signature_algorithms(schemes)};
    return request;
}

// After the handshake: the client's line, echoed; then its close_notify, answered.
asio::awaitable<std::string> echo_line(tls::Connection& conn) {
    std::string line;
    while (line.empty()) {
        auto record = co_await conn.records().read_record();
        if (!record) co_return line;
        if (record->type == tls::ContentType::application_data) line = tls::to_string(record->fragment);
    }
    co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(line));
    CHECK(co_await read_until_alert(conn) == "close_notify(0)");
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    co_return line;
}

// A session file of one made-up ticket for localhost (no early data). The scripted server
// never opens the ticket; it knows the PSK, 32 bytes of 0x42.
const tls::Secret made_up_psk(32, 0x42);
void write_made_up_session(const std::string& path) {
    tls::SessionTicket ticket;
    ticket.ticket = tls::random_bytes(64);
    ticket.resumption_psk = made_up_psk;
    ticket.ticket_nonce = {0};
    ticket.receipt_time_ms = tls::unix_time_ms();
    ticket.ticket_lifetime = 7200;
    ticket.ticket_age_add = 12345;
    tls::Session session{"localhost", tls::CipherSuite::TLS_AES_128_GCM_SHA256, {ticket}};
    session.save(path);
}

}  // namespace

// ---- End to end: the chapter's own programs -----------------------------------------------

// RFC8446 4.3.2-1, 4.4.2-2, 4.4.3-2, 4.4.3-3, 4.4.3-5, 4.4.3-9
TEST_CASE("ch14 client --cert with ECDSA, RSA and Ed25519 keys: the ch14 server asks, checks and authenticates the client") {
    auto server = asking_server();
    struct Kind {
        std::string name, scheme, key;
    };
    const std::vector<Kind> kinds = {{"client-ecdsa", "ecdsa_secp256r1_sha256", "ECDSA P-256"},
                                     {"client-rsa", "rsa_pss_rsae_sha256", "RSA-2048"},
                                     {"client-ed25519", "ed25519", "Ed25519"}};
    int connection = 0;
    for (const auto& kind : kinds) {
        INFO(kind.name);
        auto client = ch14_client(server.port, with_cert(kind.name));
        CHECK(client.wait() == 0);
        auto out = client.out();
        // §4.3.2: the request comes right after EncryptedExtensions, with an empty context.
        CHECK(in_order(out, "<- EncryptedExtensions", "<- CertificateRequest (23 bytes)\n"
                                                      "     certificate_request_context  (empty)"));
        CHECK(in_order(out, "<- CertificateRequest", "<- Certificate ("));
        // §4.4.2, §4.4.3: our Certificate, then CertificateVerify, after the server's Finished
        // and right before ours.
        auto ours = after(out, "-> Certificate (");
        REQUIRE_MESSAGE(!ours.empty(), out);
        CHECK(in_order(out, "<- Finished", "-> Certificate ("));
        CHECK_CONTAINS(ours, "certificate_request_context  (empty)");
        CHECK_CONTAINS(ours, "certificate_list             1 certificate");
        CHECK_CONTAINS(before(ours, "-> Finished"), "-> CertificateVerify");
        CHECK_CONTAINS(after(ours, "-> CertificateVerify"), "algorithm  " + kind.scheme);
        auto verify_block = before(after(ours, "-> CertificateVerify"), "-> Finished");
        CHECK(count_of(verify_block, "\n-> ") == count_of(verify_block, "\n-> record"));  // no message between
        CHECK_CONTAINS(out, "received message: hi");

        REQUIRE(server.process.wait_for("== connection #" + std::to_string(++connection) + " closed", 5s));
        auto trace = server.process.all();
        CHECK(count_of(trace, "-> CertificateRequest") == connection);
        CHECK(count_of(trace, authenticated) == connection);
        CHECK(has_line(trace, "^client authenticated: .*key " + kind.key + "$"));
        CHECK_CONTAINS(trace, "certificate chain  trusted as a client (anchors from " + cert("ca.pem") + ")");
    }
    CHECK(count_of(server.process.all(), "connection closed cleanly after echoing 2 bytes") == 3);
}

// RFC8446 4.4.2-3, 4.4.2-4
TEST_CASE("ch14 client without --cert answers with an empty Certificate and no CertificateVerify: the server goes on anonymously") {
    auto server = asking_server();
    auto client = ch14_client(server.port);
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "<- CertificateRequest");
    CHECK_CONTAINS(out, empty_certificate);
    auto ours = after(out, empty_certificate);
    CHECK_CONTAINS(ours, "-> Certificate (8 bytes)\n     certificate_request_context  (empty)\n"
                         "     certificate_list             0 certificates");
    CHECK(ours.find("-> CertificateVerify") == std::string::npos);
    CHECK(in_order(ours, "-> Certificate (", "-> Finished"));  // §4.4.2: a Finished all the same
    CHECK_CONTAINS(out, "received message: hi");
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, anonymous);
    CHECK(trace.find("client authenticated") == std::string::npos);
    CHECK_CONTAINS(trace, "connection closed cleanly after echoing 2 bytes");
}

// RFC8446 4.4.2-3
TEST_CASE("ch14 server --require-client-cert answers an empty Certificate with certificate_required, and keeps serving") {
    auto server = asking_server({"--require-client-cert"});
    auto client = ch14_client(server.port);
    check_refused(server, client, "certificate_required(116)", 1);
    CHECK_CONTAINS(client.out(), empty_certificate);
    CHECK_CONTAINS(server.process.all(), "-> Alert certificate_required(116): the client sent no certificate");
    check_still_serving(server);
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    CHECK(count_of(server.process.all(), authenticated) == 1);
    // --require-client-cert needs --client-ca.
    Process alone({bin("ch14-server"), "--port", "0", "--require-client-cert"});
    CHECK(alone.wait(5s) != 0);
}

TEST_CASE("ch14 server refuses a client certificate from another CA (unknown_ca) and one without clientAuth (bad_certificate)") {
    auto server = asking_server();
    {
        INFO("client-untrusted-ecdsa: signed by other-ca.pem");
        auto client = ch14_client(server.port, with_cert("client-untrusted-ecdsa"));
        check_refused(server, client, "unknown_ca(48)", 1);
        CHECK_CONTAINS(server.process.all(), "-> Alert unknown_ca(48): no path to a trust anchor in " + cert("ca.pem"));
    }
    {
        INFO("client-serverauth-ecdsa: extendedKeyUsage serverAuth only");
        auto client = ch14_client(server.port, with_cert("client-serverauth-ecdsa"));
        check_refused(server, client, "bad_certificate(42)", 2);
        CHECK_CONTAINS(server.process.all(), "-> Alert bad_certificate(42): certificate rejected: Certificate does not "
                                             "allow the requested usage");
    }
    {
        INFO("a server certificate (serverAuth, for localhost) is no client certificate either");
        Process client({bin("ch14-client"), "--port", std::to_string(server.port), "--message", "hi", "--repeat", "1",
                        "--cert", cert("server-ecdsa.pem"), "--key", cert("server-ecdsa.key")});
        check_refused(server, client, "bad_certificate(42)", 3);
    }
    CHECK(server.process.all().find("client authenticated") == std::string::npos);
    check_still_serving(server);
}

// RFC8446 4.3.2-7
TEST_CASE("ch14 client --reconnect: the resumed handshake has no CertificateRequest, and the client sends no certificate") {
    auto server = asking_server();
    auto client = ch14_client(server.port, with_cert("client-ecdsa", {"--reconnect"}));
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto first = before(out, reconnecting), second = after(out, reconnecting);
    REQUIRE_MESSAGE(!second.empty(), out);
    CHECK_CONTAINS(first, "<- CertificateRequest");
    CHECK_CONTAINS(first, "-> CertificateVerify");
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, resumed with the PSK and (EC)DHE");
    CHECK(second.find("CertificateRequest") == std::string::npos);
    CHECK(second.find("-> Certificate") == std::string::npos);
    CHECK_CONTAINS(second, "received message: hi");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "-> CertificateRequest") == 1);
    CHECK(count_of(trace, authenticated) == 1);
    CHECK(count_of(trace, "resumed with a PSK and (EC)DHE (psk_dhe_ke)") == 2);  // "negotiated" and "handshake complete"
}

// RFC8446 4.4.2-2
TEST_CASE("ch14 server without --client-ca sends no CertificateRequest, and a client with --cert sends no Certificate") {
    auto server = start_server("ch14-server");
    auto client = ch14_client(server.port, with_cert("client-rsa"));
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(out.find("CertificateRequest") == std::string::npos);
    CHECK(out.find("-> Certificate") == std::string::npos);
    CHECK(out.find(empty_certificate) == std::string::npos);
    CHECK_CONTAINS(out, "received message: hi");
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK(trace.find("CertificateRequest") == std::string::npos);
    CHECK(trace.find("<- Certificate") == std::string::npos);
    CHECK(trace.find("client authenticated") == std::string::npos);
}

// ---- The server against a hostile client ---------------------------------------------------

// RFC8446 4.3.2-1, 4.3.2-3, 4.3.2-5, 4.4.2-4, 4.4.3-9
TEST_CASE("ch14 server's CertificateRequest, read by a scripted client: after EncryptedExtensions, empty context, signature_algorithms") {
    auto server = asking_server();
    const ClientIdentity ecdsa("client-ecdsa");
    std::optional<tls::CertificateRequest> seen;
    std::string echoed;
    {
        INFO("a Certificate and CertificateVerify made by hand");
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            const ClientTweaks tweaks;
            auto handshake = co_await client_handshake_to_certificate(conn, tweaks);
            seen = handshake.certificate_request;
            const auto certificate = ecdsa.certificate();
            handshake.transcript.update(co_await conn.write(certificate));
            const auto verify = certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256,
                                                   handshake.transcript.current());
            handshake.transcript.update(co_await conn.write(verify));
            co_await finish_client_handshake(conn, handshake);
            echoed = co_await exchange_line(conn, "scripted");
        });
        CHECK(outcome == "");
        CHECK(echoed == "scripted");
        REQUIRE(seen);
        CHECK(seen->certificate_request_context.empty());
        auto schemes = seen->signature_algorithms();
        REQUIRE(schemes);
        for (auto scheme : {tls::SignatureScheme::ecdsa_secp256r1_sha256, tls::SignatureScheme::rsa_pss_rsae_sha256,
                            tls::SignatureScheme::ed25519})
            CHECK(std::find(schemes->begin(), schemes->end(), scheme) != schemes->end());
        for (auto scheme : *schemes) CHECK(tls::name(scheme).find("pkcs1") == std::string::npos);  // §4.4.3: PSS only
        REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
        CHECK(has_line(server.process.all(), "^client authenticated: .*key ECDSA P-256$"));
    }
    {
        INFO("an empty Certificate, then Finished (§4.4.2)");
        echoed.clear();
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            const ClientTweaks tweaks;
            auto handshake = co_await client_handshake_to_certificate(conn, tweaks);
            const tls::Certificate none;
            handshake.transcript.update(co_await conn.write(none));
            co_await finish_client_handshake(conn, handshake);
            echoed = co_await exchange_line(conn, "anonymous");
        });
        CHECK(outcome == "");
        CHECK(echoed == "anonymous");
        REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
        CHECK_CONTAINS(server.process.all(), anonymous);
    }
}

// RFC8446 4.4.3-5, 4.4.3-7
TEST_CASE("ch14 server answers a client CertificateVerify in a scheme it did not offer with illegal_parameter") {
    auto server = asking_server();
    const ClientIdentity ecdsa("client-ecdsa"), rsa("client-rsa");
    {
        INFO("a good ECDSA P-256 signature, labelled ecdsa_secp384r1_sha384");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const auto certificate = ecdsa.certificate();
            h.transcript.update(co_await conn.write(certificate));
            auto verify = certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, h.transcript.current());
            verify.algorithm = tls::SignatureScheme::ecdsa_secp384r1_sha384;
            co_await conn.write(verify);
        });
        CHECK(alert == "illegal_parameter(47)");
        CHECK_CONTAINS(server.process.all(), "CertificateVerify uses a scheme we did not offer: ecdsa_secp384r1_sha384");
    }
    {
        INFO("an RSA key with rsa_pkcs1_sha256 (§4.4.3: RSA signatures MUST use RSASSA-PSS)");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const auto certificate = rsa.certificate();
            h.transcript.update(co_await conn.write(certificate));
            auto verify = certificate_verify(rsa.key, tls::SignatureScheme::rsa_pss_rsae_sha256, h.transcript.current());
            verify.algorithm = tls::SignatureScheme::rsa_pkcs1_sha256;
            co_await conn.write(verify);
        });
        CHECK(alert == "illegal_parameter(47)");
        CHECK_CONTAINS(server.process.all(), "CertificateVerify uses a scheme we did not offer: rsa_pkcs1_sha256");
    }
    CHECK(server.process.all().find("client authenticated") == std::string::npos);
    check_still_serving(server);
}

// RFC8446 4.4.3-9, 4.4.3-10
TEST_CASE("ch14 server answers a client CertificateVerify that does not verify with decrypt_error") {
    auto server = asking_server();
    const ClientIdentity ecdsa("client-ecdsa"), ed25519("client-ed25519");
    struct Case {
        std::string what;
        std::function<tls::CertificateVerify(const tls::Bytes& transcript_hash, const tls::Bytes& before_certificate)> make;
    };
    const std::vector<Case> cases = {
        {"signed with the server's context string (\"TLS 1.3, server CertificateVerify\")",
         [&](const tls::Bytes& hash, const tls::Bytes&) {
             return certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, hash, /*server_context=*/true);
         }},
        {"signed over the transcript without the client's Certificate",
         [&](const tls::Bytes&, const tls::Bytes& before_certificate) {
             return certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, before_certificate);
         }},
        {"a good signature with one bit changed",
         [&](const tls::Bytes& hash, const tls::Bytes&) {
             auto verify = certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, hash);
             verify.signature[verify.signature.size() / 2] ^= 0x01;
             return verify;
         }},
        {"signed by another key: Ed25519 (offered) for the ECDSA certificate",
         [&](const tls::Bytes& hash, const tls::Bytes&) {
             return certificate_verify(ed25519.key, tls::SignatureScheme::ed25519, hash);
         }},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const auto before_certificate = h.transcript.current();
            const auto certificate = ecdsa.certificate();
            h.transcript.update(co_await conn.write(certificate));
            const auto verify = c.make(h.transcript.current(), before_certificate);
            co_await conn.write(verify);
        });
        CHECK(alert == "decrypt_error(51)");
    }
    CHECK(count_of(server.process.all(), "-> Alert decrypt_error(51): the client's CertificateVerify does not verify") == 4);
    CHECK(server.process.all().find("client authenticated") == std::string::npos);
    check_still_serving(server);
}

TEST_CASE("ch14 server answers a client Certificate with a non-empty certificate_request_context with illegal_parameter") {
    auto server = asking_server();
    const ClientIdentity ecdsa("client-ecdsa");
    for (const bool empty_list : {false, true}) {
        INFO((empty_list ? "an empty certificate_list" : "the client's certificate"));
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession&) -> asio::awaitable<void> {
            const tls::Bytes context = {0x01, 0x02, 0x03, 0x04};
            auto certificate = ecdsa.certificate(context);
            if (empty_list) certificate.certificate_list.clear();
            co_await conn.write(certificate);
        });
        CHECK(alert == "illegal_parameter(47)");
    }
    CHECK(count_of(server.process.all(), "certificate_request_context differs from our CertificateRequest's") == 2);
    check_still_serving(server);
}

// RFC8446 4.4.2-2, 4.4.3-2, 4.4.3-3
TEST_CASE("ch14 server answers a client that leaves out Certificate or CertificateVerify with unexpected_message") {
    auto server = asking_server();
    const ClientIdentity ecdsa("client-ecdsa");
    {
        INFO("no Certificate: Finished right after the server's Finished");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            co_await finish_client_handshake(conn, h);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.process.all(), "expected Certificate, got Finished");
    }
    {
        INFO("a Certificate, then Finished without CertificateVerify");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const auto certificate = ecdsa.certificate();
            h.transcript.update(co_await conn.write(certificate));
            co_await finish_client_handshake(conn, h);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.process.all(), "expected CertificateVerify, got Finished");
    }
    {
        INFO("an empty Certificate, then a CertificateVerify");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const tls::Certificate none;
            h.transcript.update(co_await conn.write(none));
            const auto verify = certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, h.transcript.current());
            co_await conn.write(verify);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.process.all(), "expected Finished, got CertificateVerify");
    }
    {
        INFO("a CertificateVerify first");
        auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession& h) -> asio::awaitable<void> {
            const auto verify = certificate_verify(ecdsa.key, tls::SignatureScheme::ecdsa_secp256r1_sha256, h.transcript.current());
            co_await conn.write(verify);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.process.all(), "expected Certificate, got CertificateVerify");
    }
    CHECK(server.process.all().find("client authenticated") == std::string::npos);
    check_still_serving(server);
}

TEST_CASE("ch14 server answers a client Certificate that is not a certificate with bad_certificate") {
    auto server = asking_server();
    auto alert = server_alert(server.port, [&](tls::Connection& conn, CertificateRequestedSession&) -> asio::awaitable<void> {
        tls::Certificate certificate;
        certificate.certificate_list.push_back({tls::to_bytes("not DER at all"), {}});
        co_await conn.write(certificate);
    });
    CHECK(alert == "bad_certificate(42)");
    check_still_serving(server);
}

// ---- The client against a hostile server -----------------------------------------------------

// RFC8446 4.4.2-2, 4.4.3-2, 4.4.3-5
TEST_CASE("ch14 client signs its CertificateVerify in a scheme from the CertificateRequest, with the client's context string") {
    const ClientIdentity rsa("client-rsa");
    std::optional<ClientAuthentication> got;
    std::string line;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        // rsa_pss_rsae_sha384 only: not the first of the client key's schemes.
        const auto request = certificate_request({tls::SignatureScheme::rsa_pss_rsae_sha384});
        got = co_await server_handshake_requesting_certificate(conn, request);
        line = co_await echo_line(conn);
    });
    auto client = ch14_client(server.port(), with_cert("client-rsa"));
    CHECK(client.wait() == 0);
    CHECK(server.outcome() == "");
    REQUIRE(got);
    CHECK(got->certificate.certificate_request_context.empty());
    REQUIRE(got->certificate.certificate_list.size() == 1);
    CHECK(got->certificate.certificate_list.front().cert_data == rsa.chain.front());
    REQUIRE(got->certificate_verify);
    CHECK(got->certificate_verify->algorithm == tls::SignatureScheme::rsa_pss_rsae_sha384);
    CHECK(got->signature_verifies);  // over the client's context string and the transcript
    CHECK(line == "hi");
    CHECK_CONTAINS(client.out(), "algorithm  rsa_pss_rsae_sha384");
    CHECK_CONTAINS(client.out(), "received message: hi");
}

// RFC8446 4.4.2-3, 4.4.2-4
TEST_CASE("ch14 client whose key fits no scheme of the CertificateRequest sends an empty Certificate") {
    std::optional<ClientAuthentication> got;
    std::string line;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        const auto request = certificate_request({tls::SignatureScheme::ecdsa_secp256r1_sha256});
        got = co_await server_handshake_requesting_certificate(conn, request);
        line = co_await echo_line(conn);
    });
    auto client = ch14_client(server.port(), with_cert("client-ed25519"));
    CHECK(client.wait() == 0);
    CHECK(server.outcome() == "");
    REQUIRE(got);
    CHECK(got->certificate.certificate_list.empty());
    CHECK(!got->certificate_verify);
    CHECK(line == "hi");  // the Finished after the empty Certificate verified
    auto out = client.out();
    CHECK_CONTAINS(out, "the server accepts no signature scheme for our key: we send no certificate");
    CHECK_CONTAINS(out, empty_certificate);
    CHECK(out.find("-> CertificateVerify") == std::string::npos);
}

// RFC8446 4.3.2-6
TEST_CASE("ch14 client ignores extensions it does not know in a CertificateRequest") {
    std::optional<ClientAuthentication> got;
    std::string line;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto request = certificate_request({tls::SignatureScheme::ecdsa_secp256r1_sha256});
        // A GREASE type (RFC 8701) before, and one after, signature_algorithms.
        const tls::Extension grease{static_cast<tls::ExtensionType>(0x0a0a), tls::to_bytes("unknown")};
        const tls::Extension empty_grease{static_cast<tls::ExtensionType>(0xfafa), {}};
        request.extensions.insert(request.extensions.begin(), grease);
        request.extensions.push_back(empty_grease);
        got = co_await server_handshake_requesting_certificate(conn, request);
        line = co_await echo_line(conn);
    });
    auto client = ch14_client(server.port(), with_cert("client-ecdsa"));
    CHECK(client.wait() == 0);
    CHECK(server.outcome() == "");
    REQUIRE(got);
    CHECK(got->certificate.certificate_list.size() == 1);
    REQUIRE(got->certificate_verify);
    CHECK(got->certificate_verify->algorithm == tls::SignatureScheme::ecdsa_secp256r1_sha256);
    CHECK(got->signature_verifies);
    CHECK(line == "hi");
}

// RFC8446 4.3.2-3
TEST_CASE("ch14 client answers a CertificateRequest with a non-empty context in the handshake with illegal_parameter") {
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        const tls::Bytes context = {0x2a};
        const auto request = certificate_request({tls::SignatureScheme::ecdsa_secp256r1_sha256}, context);
        co_await server_handshake_requesting_certificate(conn, request);
    });
    auto client = ch14_client(server.port(), with_cert("client-ecdsa"));
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "peer alert illegal_parameter(47)");
    auto out = client.out();
    CHECK_CONTAINS(out, "-> Alert illegal_parameter(47): a CertificateRequest in the handshake with a non-empty context");
    CHECK(out.find("-> Certificate (") == std::string::npos);
}

TEST_CASE("ch14 client answers a CertificateRequest in a resumed handshake with unexpected_message") {
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);
    bool offered = false;
    std::string alert;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        // A resumption with the made-up ticket and x25519 (psk_dhe_ke): no Certificate from us,
        // and (§4.3.2) no CertificateRequest either — but here is one.
        const auto& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
        auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
        conn.records().allow_compatibility_ccs(true);
        offered = client_hello.has_extension(tls::ExtensionType::pre_shared_key);
        tls::TranscriptHash transcript(suite.hash);
        transcript.update(client_hello_raw);
        tls::KeyShareEntry client_share;
        for (auto& share : client_hello.key_share().value_or(std::vector<tls::KeyShareEntry>{}))
            if (share.group == tls::NamedGroup::x25519) client_share = share;
        auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
        tls::ServerHello server_hello;
        auto random = tls::random_bytes(32);
        std::copy(random.begin(), random.end(), server_hello.random.begin());
        server_hello.legacy_session_id_echo = client_hello.legacy_session_id;
        server_hello.cipher_suite = suite.suite;
        server_hello.extensions = {tls::make_supported_versions_server(tls::TLS1_3),
                                   tls::make_key_share_server({tls::NamedGroup::x25519, our_share.public_key}),
                                   tls::make_pre_shared_key_server(0)};
        transcript.update(co_await conn.write(server_hello));
        auto shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, client_share.key_exchange);
        const tls::KeyLog no_keylog("/dev/null");
        const tls::EarlySecret early(suite.hash, made_up_psk);
        auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, no_keylog, client_hello.random);
        conn.install(suite, keys.server_handshake_traffic_secret);
        conn.install(suite, keys.client_handshake_traffic_secret);
        const tls::EncryptedExtensions encrypted_extensions;
        co_await conn.write(encrypted_extensions);
        const auto request = certificate_request({tls::SignatureScheme::ecdsa_secp256r1_sha256});
        co_await conn.write(request);
        alert = co_await read_until_alert(conn);
    });
    auto client = ch14_client(server.port(), with_cert("client-ecdsa", {"--session-in", file}));
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK(offered);
    CHECK(alert == "unexpected_message(10)");
    auto out = client.out();
    CHECK_CONTAINS(out, "resumed with the PSK and (EC)DHE");  // the ServerHello took the ticket
    CHECK_CONTAINS(out, "-> Alert unexpected_message(10): expected Finished, got CertificateRequest");
    CHECK(out.find("-> Certificate (") == std::string::npos);
}
