// Test support: in-test TLS 1.3 peers built from common/, for the cases a real peer will
// not produce. Each does the ordinary handshake of chapter 09 compressed into one function,
// with hooks to change one step, and then runs a test's script on the connection: send a
// forged record, a crafted message, anything. They run on their own io_context (the server
// in its own thread), so a test drives a real chapter program against them.
#pragma once

#include "connection.hpp"
#include "handshake_steps.hpp"
#include "key_schedule.hpp"
#include "psk.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>

namespace tlstest {

using namespace std::chrono_literals;

// ---- The in-test client ---------------------------------------------------------------

// How the in-test client's first flight differs from a plain one: x25519 only,
// TLS_AES_128_GCM_SHA256 only, ecdsa_secp256r1_sha256, a random session id.
struct ClientTweaks {
    std::function<void(tls::ClientHello&)> edit_hello;  // called before the ClientHello is sent
    tls::Bytes after_hello;  // raw bytes sent right after the ClientHello (early data, a CCS...)
    // PSKs to offer (chapter 12): psk_key_exchange_modes `psk_modes` (empty: psk_dhe_ke) and
    // pre_shared_key with correct binders are added after edit_hello, as the last extensions.
    // If the server selects one, the handshake goes on without Certificate and
    // CertificateVerify, keyed from that PSK (and without (EC)DHE if its ServerHello has no
    // key_share: psk_ke). The offers view their PSKs: keep those alive during the handshake.
    // (No default member initializers here: g++ 12 miscompiles the `= {}` default argument of
    // client_handshake in a co_await when they hold a braced list.)
    std::vector<tls::PskOffer> psks;
    std::vector<tls::PskKeyExchangeMode> psk_modes;
};

// What the in-test client knows once the handshake is done.
struct ClientSession {
    tls::SuiteInfo suite;
    tls::Bytes client_random;
    tls::ClientTrafficSecret client_handshake_traffic_secret;
    tls::Bytes transcript_through_server_finished;
    tls::ClientTrafficSecret client_application_traffic_secret_0;
    tls::ServerTrafficSecret server_application_traffic_secret_0;
    std::optional<std::uint16_t> selected_identity;  // the server's pre_shared_key, if it resumed
    // The client Finished a correct client sends, and it sealed as the next record would be.
    tls::Bytes finished_message() const;
    tls::Bytes sealed_finished() const;
};

// Sends the ClientHello, reads ServerHello and the server's encrypted flight (the certificate
// is not checked: these tests are about the server; a resumed handshake has none), installs
// the server's application keys for reading. With `finish`, sends the client Finished and
// installs our application keys: the connection is then ready for application data both ways.
// Without, the test sends its own bytes where the Finished belongs (sealed_finished() makes
// the right one).
asio::awaitable<ClientSession> client_handshake(tls::Connection& conn, const ClientTweaks& tweaks = {},
                                                bool finish = true);

// Connects to 127.0.0.1:port and runs `script` on a fresh io_context for at most `timeout`.
// Returns "" when the script ran to the end, else what went wrong.
using ClientScript = std::function<asio::awaitable<void>(tls::tcp::socket&, tls::Connection&)>;
std::string run_client_script(unsigned short port, const ClientScript& script, std::chrono::milliseconds timeout = 10s);

// Reads records until the peer's alert or the end of the stream, decrypting as the record
// layer does: "unexpected_message(10)", "close_notify(0)", or "(closed without an alert)".
// Application data read on the way is appended to `data`, if given.
asio::awaitable<std::string> read_until_alert(tls::Connection& conn, std::string* data = nullptr);

// A record as the wire carries it, sealed with the given keys and sequence number.
tls::Bytes seal_record(const tls::SuiteInfo& suite, tls::BytesView traffic_secret, std::uint64_t sequence_number,
                       tls::ContentType type, tls::BytesView content, std::size_t padding = 0);

// ---- The in-test server ---------------------------------------------------------------

// How the in-test server's handshake differs from chapter 09's (ECDSA P-256 certificate,
// x25519, TLS_AES_128_GCM_SHA256).
struct ServerTweaks {
    std::function<void(tls::ServerHello&)> edit_server_hello;
    // Chapter 14: sent after EncryptedExtensions; the client's answer is read before its Finished.
    std::optional<tls::CertificateRequest> certificate_request;
};

struct ServerSession {
    tls::SuiteInfo suite;
    tls::ClientHello client_hello;
    tls::ServerTrafficSecret server_application_traffic_secret_0;
    tls::ClientTrafficSecret client_application_traffic_secret_0;
    // With ServerTweaks::certificate_request: the client's Certificate, its CertificateVerify
    // (after a non-empty one) and whether that signature verifies (client context, §4.4.3).
    tls::Certificate client_certificate;
    std::optional<tls::CertificateVerify> client_certificate_verify;
    bool client_signature_verifies = false;
};

// The server flow of chapter 09 compressed: reads the ClientHello, answers with the whole
// flight, reads the client Finished; application keys are installed both ways.
asio::awaitable<ServerSession> server_handshake(tls::Connection& conn, const ServerTweaks& tweaks = {});

// Listens on a free loopback port, serves one connection with `script` in a thread of its
// own, and reports how the script ended.
class ScriptedServer {
public:
    using Script = std::function<asio::awaitable<void>(tls::tcp::socket&, tls::Connection&)>;
    explicit ScriptedServer(Script script);
    ~ScriptedServer();
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    unsigned short port() const { return port_; }
    // "" when the script ran to the end, "peer alert <name>(<n>)" when the client sent an
    // alert, else the error; "(not finished within the timeout)".
    std::string outcome(std::chrono::milliseconds timeout = 10s);

private:
    asio::awaitable<void> serve(Script script);

    asio::io_context io_;
    tls::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::promise<std::string> promise_;
    std::future<std::string> result_ = promise_.get_future();
    std::thread thread_;
};

}  // namespace tlstest

namespace tlstest {

// ---- Chapter 14: client certificates (§4.3.2, §4.4.2, §4.4.3) -----------------------------

// The in-test client up to the server's Finished, for a server that may ask for a certificate:
// client_handshake(conn, tweaks, false), except that a CertificateRequest right after
// EncryptedExtensions is taken (and returned) rather than refused. The client's handshake keys
// are installed for writing and the server's application keys for reading. What the client
// sends next (Certificate, CertificateVerify, Finished) is the test's: each message goes into
// `transcript` (through the server's Finished so far), and finish_client_handshake() ends it.
struct CertificateRequestedSession {
    ClientSession session;  // its finished_message() is the one for a client that sends nothing else
    std::optional<tls::CertificateRequest> certificate_request;
    tls::TranscriptHash transcript;
};
asio::awaitable<CertificateRequestedSession> client_handshake_to_certificate(tls::Connection& conn,
                                                                            const ClientTweaks& tweaks);

// The client Finished over the transcript so far, then the client's application keys.
asio::awaitable<void> finish_client_handshake(tls::Connection& conn, CertificateRequestedSession& handshake);

// What the in-test server got from a client it asked for a certificate.
struct ClientAuthentication {
    ServerSession session;
    tls::Certificate certificate;                              // the client's answer
    std::optional<tls::CertificateVerify> certificate_verify;  // after a non-empty Certificate
    // The CertificateVerify's signature over Transcript-Hash(ClientHello ... client Certificate)
    // with the client's context string (§4.4.3), checked against the leaf's key.
    bool signature_verifies = false;
};

// server_handshake with `request` sent after EncryptedExtensions: then it reads the client's
// Certificate, its CertificateVerify if the Certificate is not empty, and its Finished (which
// must verify over them). Anything else is an unexpected_message, as for a real server.
asio::awaitable<ClientAuthentication> server_handshake_requesting_certificate(tls::Connection& conn,
                                                                              const tls::CertificateRequest& request);

}  // namespace tlstest
