// Interop: chapter 10's HelloRetryRequest against real TLS 1.3 stacks, both directions:
// openssl s_server / s_client (OpenSSL 3.0) and GnuTLS
// (gnutls-serv, gnutls-cli). A missing tool fails the test, saying how to install it.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace tlstest;

namespace {

std::string reversed(std::string s) {
    std::reverse(s.begin(), s.end());
    return s;
}

// Our client offers x25519 then secp256r1 with a share for x25519 only (its default); a
// server that takes only P-256 has to ask for a retry.
void check_client_retried(Process& client, const std::string& expected_reply) {
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "<- HelloRetryRequest");
    CHECK_CONTAINS(out, "the server asks for a key share for secp256r1 (§4.2.8)");
    CHECK(count_of(out, "-> ClientHello") == 2);
    CHECK_CONTAINS(out, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, secp256r1");
    CHECK_CONTAINS(out, "received message: " + expected_reply);
    CHECK_CONTAINS(out, "<- Alert close_notify(0)");
}

}  // namespace

TEST_CASE("ch10 and ch11 clients retry for openssl s_server -groups P-256") {
    require_tool("openssl");
    // (No real peer here completes a retry with a cookie: OpenSSL 3.0's s_server -stateless
    // ignores the option with -rev and, without it, sends a cookie and then fails its own
    // stateless accept — it does so with openssl s_client too. The client's cookie echo is
    // tested against the ch10 server's --hrr-cookie and a scripted server, test_ch10.cpp.)
    for (auto program : {"ch10-client", "ch11-client"}) {
        INFO(program);
        auto server =
            start_openssl_server("server-ecdsa", {"-groups", "P-256", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-rev"});
        Process client({bin(program), "--port", std::to_string(server.port), "--message", "retry me\n"});
        check_client_retried(client, reversed("retry me") + "\n");
        CHECK_MESSAGE(server.process.wait_for("CONNECTION CLOSED", 5s), server.process.all());
    }
}

TEST_CASE("openssl s_client gets a HelloRetryRequest from the ch10 server and its line echoed, with state and with a cookie") {
    require_tool("openssl");
    for (bool stateless : {false, true}) {
        INFO("stateless: " << stateless);
        std::vector<std::string> args = {"--groups", "secp256r1,x25519"};
        if (stateless) args.push_back("--hrr-cookie");
        auto server = start_server("ch10-server", args);
        // s_client sends one share, for the first of its -groups.
        Process client({"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(server.port),
                        "-CAfile", cert("ca.pem"), "-servername", "localhost", "-verify_return_error", "-groups",
                        "X25519:P-256"});
        REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
        CHECK_CONTAINS(client.all(), "Server Temp Key: ECDH, prime256v1");
        client.write_stdin("after one retry\n");
        CHECK_MESSAGE(client.wait_for("after one retry", 5s), client.all());
        client.close_stdin();
        CHECK(client.wait(10s) == 0);
        CHECK(server.process.wait_for("connection closed cleanly after echoing 16 bytes", 5s));
        auto trace = server.process.all();
        CHECK_CONTAINS(trace, "the client sent no key share for secp256r1: we ask for one (§4.1.4)");
        CHECK_CONTAINS(trace, "-> HelloRetryRequest");
        CHECK_CONTAINS(trace, "handshake complete: TLS_AES_128_GCM_SHA256, secp256r1");
        CHECK(trace.find("error:") == std::string::npos);
    }
}

TEST_CASE("ch10 and ch11 clients retry for gnutls-serv with only SECP256R1") {
    require_tool("gnutls-serv");
    for (auto program : {"ch10-client", "ch11-client"}) {
    INFO(program);
    auto port = free_port();
    Process server({"gnutls-serv", "-p", std::to_string(port), "--echo", "--disable-client-cert",
                    "--x509certfile", cert("server-ecdsa.pem"), "--x509keyfile", cert("server-ecdsa.key"),
                    "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1"});
    REQUIRE_MESSAGE(server.wait_for("listening", 10s), server.all());
    Process client({bin(program), "--port", std::to_string(port), "--message", "gnutls echo\n"});
    check_client_retried(client, "gnutls echo\n");
    }
}

TEST_CASE("gnutls-cli gets a HelloRetryRequest from the ch10 server and its line echoed") {
    require_tool("gnutls-cli");
    auto server = start_server("ch10-server", {"--groups", "secp256r1"});
    // GnuTLS sends a share for its first group of each kind: here SECP384R1 (which we do not
    // implement) and X25519, none for SECP256R1, the only group our server takes.
    Process client({"gnutls-cli", "-p", std::to_string(server.port), "--x509cafile", cert("ca.pem"), "localhost",
                    "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP256R1:+GROUP-X25519"});
    REQUIRE_MESSAGE(client.wait_for("Handshake was completed", 10s), client.all());
    client.write_stdin("gnutls after a retry\n");
    CHECK_MESSAGE(client.wait_for("gnutls after a retry", 5s), client.all());
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 21 bytes", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "the client sent no key share for secp256r1: we ask for one (§4.1.4)");
    CHECK_CONTAINS(trace, "-> HelloRetryRequest");
    CHECK_CONTAINS(trace, "handshake complete: TLS_AES_128_GCM_SHA256, secp256r1, ecdsa_secp256r1_sha256");
}

TEST_CASE("openssl s_client -groups P-384:X25519, a share only for a group we lack, gets a HelloRetryRequest from ch10 and ch11") {
    require_tool("openssl");
    for (auto program : {"ch10-server", "ch11-server"}) {
    INFO(program);
    auto server = start_server(program);  // default --groups x25519,secp256r1
    Process client({"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(server.port), "-CAfile",
                    cert("ca.pem"), "-servername", "localhost", "-verify_return_error", "-groups", "P-384:X25519"});
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    CHECK_CONTAINS(client.all(), "Server Temp Key: X25519");
    client.write_stdin("p384 first\n");
    CHECK_MESSAGE(client.wait_for("p384 first", 5s), client.all());
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 11 bytes", 5s));
    CHECK_CONTAINS(server.process.all(), "the client sent no key share for x25519: we ask for one (§4.1.4)");
    }
}

TEST_CASE("tshark decrypts a captured ch10 session with a HelloRetryRequest, using the client's key log") {
    require_tool("tshark");
    TempDir temp;
    auto capture = temp.file("ch10.pcapng");
    auto keylog = temp.file("client.keys");
    auto server = start_server("ch10-server", {"--quiet", "--groups", "secp256r1,x25519"});
    TsharkCapture tshark(server.port, capture);
    const std::string message = "decrypted after a retry";
    Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--message", message, "--keylog", keylog});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "<- HelloRetryRequest");
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    tshark.stop();

    auto decrypted = tshark_read(capture, keylog);
    INFO("tshark with the key log:\n" << decrypted.output);
    auto types = handshake_types(decrypted.output);
    // Two ClientHellos (1), the HelloRetryRequest and the ServerHello (both type 2), then the
    // encrypted flight and both Finished (20): the key log holds after a retry.
    CHECK(std::count(types.begin(), types.end(), "1") == 2);
    CHECK(std::count(types.begin(), types.end(), "2") == 2);
    for (auto type : {"8", "11", "15"}) CHECK(std::count(types.begin(), types.end(), type) == 1);
    CHECK(std::count(types.begin(), types.end(), "20") == 2);
    CHECK(count_of(decrypted.output, message) == 2);  // the message and its echo
}
