// Interop: chapter 14's client certificates against real TLS 1.3 stacks, both directions:
// openssl s_client, with and without -cert, against the ch14 server --client-ca; the ch14
// client, with and without --cert, against openssl s_server -Verify and gnutls-serv
// --verify-client-cert (with and without --require-client-cert).
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

namespace {

const std::string authenticated = "client authenticated: subject CN=tls-by-hand test client, issuer CN=tls-by-hand test CA";
const std::string anonymous = "client anonymous: the client sent an empty Certificate, and we go on without it";

std::vector<std::string> with_cert(const std::string& kind) {
    return {"--cert", cert(kind + ".pem"), "--key", cert(kind + ".key")};
}

// openssl s_client against `port`, with `extra` arguments (-cert, -key).
Process s_client(unsigned short port, const std::vector<std::string>& extra) {
    std::vector<std::string> argv{"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port),
                                  "-CAfile", cert("ca.pem"), "-servername", "localhost", "-verify_return_error"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process(argv);
}

// One line through the echo server, then the end of standard input: s_client closes.
void exchange_line(Process& client, const std::string& line) {
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    client.write_stdin(line + "\n");
    REQUIRE_MESSAGE(client.wait_for(line + "\n", 5s), client.all());
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
}

Process ch14_client(unsigned short port, const std::string& message, std::vector<std::string> args = {}) {
    std::vector<std::string> argv{bin("ch14-client"), "--port", std::to_string(port), "--message", message, "--repeat", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process(argv);
}

// gnutls-serv on a free port, echoing, with the bundled ECDSA identity and `extra`.
struct GnutlsServer {
    Process process;
    unsigned short port;
};
GnutlsServer start_gnutls_server(const std::vector<std::string>& extra) {
    auto port = free_port();
    std::vector<std::string> argv{"gnutls-serv", "-p", std::to_string(port), "--echo", "--x509certfile",
                                  cert("server-ecdsa.pem"), "--x509keyfile", cert("server-ecdsa.key"), "--x509cafile",
                                  cert("ca.pem"), "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Process server(argv);
    REQUIRE_MESSAGE(server.wait_for("listening", 10s), server.all());
    return GnutlsServer{std::move(server), port};
}

}  // namespace

TEST_CASE("openssl s_client -cert client-rsa.pem against the ch14 server --client-ca: the client is authenticated") {
    require_tool("openssl");
    auto server = start_server("ch14-server", {"--client-ca", cert("ca.pem")});
    auto client = s_client(server.port, {"-cert", cert("client-rsa.pem"), "-key", cert("client-rsa.key")});
    exchange_line(client, "with a certificate");
    // What s_client says of our CertificateRequest: no CA names, our signature schemes.
    CHECK_CONTAINS(client.all(), "No client certificate CA names sent");
    CHECK_CONTAINS(client.all(), "Requested Signature Algorithms: ECDSA+SHA256:RSA-PSS+SHA256:ed25519");
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK(has_line(trace, "^client authenticated: .*key RSA-2048$"));
    CHECK_CONTAINS(trace, authenticated);
    CHECK_CONTAINS(trace, "algorithm  rsa_pss_rsae_sha256");  // OpenSSL's CertificateVerify, RSA-PSS
    CHECK_CONTAINS(trace, "connection closed cleanly after echoing 19 bytes");
}

TEST_CASE("openssl s_client without -cert against the ch14 server --client-ca: an empty Certificate, the client anonymous") {
    require_tool("openssl");
    auto server = start_server("ch14-server", {"--client-ca", cert("ca.pem")});
    auto client = s_client(server.port, {});
    exchange_line(client, "without a certificate");
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "-> CertificateRequest");
    CHECK_CONTAINS(trace, anonymous);
    CHECK(trace.find("client authenticated") == std::string::npos);
}

TEST_CASE("ch14 client --cert against openssl s_server -Verify 1 -verify_return_error: s_server checks it, and answers") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev", "-Verify", "1", "-verify_return_error", "-CAfile", cert("ca.pem")});
    auto client = ch14_client(server.port, "hi\n", with_cert("client-ecdsa"));
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "<- CertificateRequest");
    CHECK_CONTAINS(out, "-> CertificateVerify");
    CHECK_CONTAINS(out, "received message: ih\n");  // -rev reverses each line
    REQUIRE_MESSAGE(server.process.wait_for("Verification: OK", 5s), server.process.all());
    CHECK_CONTAINS(server.process.all(), "Peer certificate: CN = tls-by-hand test client");
    CHECK_CONTAINS(server.process.all(), "Signature type: ECDSA");
}

TEST_CASE("ch14 client without --cert against openssl s_server -Verify 1 -verify_return_error: certificate_required") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev", "-Verify", "1", "-verify_return_error", "-CAfile", cert("ca.pem")});
    auto client = ch14_client(server.port, "hi\n");
    CHECK(client.wait() == 1);
    auto out = client.out();
    CHECK_CONTAINS(out, "we have no certificate for this server: an empty Certificate (§4.4.2)");
    CHECK_CONTAINS(out, "<- Alert certificate_required(116)");
    CHECK(out.find("received message") == std::string::npos);
    CHECK(server.process.wait_for("peer did not return a certificate", 5s));
}

TEST_CASE("ch14 client --cert against gnutls-serv --require-client-cert --verify-client-cert: the echo") {
    require_tool("gnutls-serv");
    auto server = start_gnutls_server({"--require-client-cert", "--verify-client-cert"});
    auto client = ch14_client(server.port, "gnutls\n", with_cert("client-ed25519"));
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "-> CertificateVerify");
    CHECK_CONTAINS(client.out(), "algorithm  ed25519");
    CHECK_CONTAINS(client.out(), "received message: gnutls\n");
    CHECK_MESSAGE(server.process.wait_for("Client Signature: EdDSA-Ed25519", 5s), server.process.all());
}

TEST_CASE("ch14 client without --cert against gnutls-serv --verify-client-cert (not required): the echo") {
    require_tool("gnutls-serv");
    auto server = start_gnutls_server({"--verify-client-cert"});
    auto client = ch14_client(server.port, "gnutls\n");
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "we have no certificate for this server: an empty Certificate (§4.4.2)");
    CHECK_CONTAINS(client.out(), "received message: gnutls\n");
}

TEST_CASE("ch14 client without --cert against gnutls-serv --require-client-cert: refused") {
    require_tool("gnutls-serv");
    auto server = start_gnutls_server({"--require-client-cert", "--verify-client-cert"});
    auto client = ch14_client(server.port, "gnutls\n");
    CHECK(client.wait() == 1);
    auto out = client.out();
    CHECK(out.find("received message") == std::string::npos);
    // gnutls-serv sends certificate_required and closes at once, while our client writes its
    // Finished and data: the write fails (broken pipe), and guarded() then reads the alert.
    CHECK_MESSAGE(contains(out, "<- Alert certificate_required(116)"), out);
    CHECK(server.process.wait_for("Certificate is required", 5s));
}
