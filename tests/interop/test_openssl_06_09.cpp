// Interop: the chapter 06–09 programs against a real TLS 1.3 stack (the openssl CLI,
// OpenSSL 3.0) and a real dissector (tshark). A missing tool fails the test with a
// message saying how to install it; nothing is skipped.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>

using namespace tlstest;

namespace {

const char* const tls13_secret_labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                           "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"};

// openssl s_client, TLS 1.3 only, trusting the test CA and checking the name "localhost";
// -verify_return_error makes a certificate it cannot verify fatal.
Process s_client(unsigned short port, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port),
                                  "-CAfile", cert("ca.pem"), "-servername", "localhost", "-verify_return_error"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process(argv);
}

std::string reversed(std::string s) {
    std::reverse(s.begin(), s.end());
    return s;
}

}  // namespace

// ---- openssl s_client against the ch09 server ---------------------------------------------

TEST_CASE("openssl s_client gets its line echoed by the ch09 server for every suite group and certificate type") {
    require_tool("openssl");
    struct Combination {
        std::string suite, openssl_group, our_group, kind, scheme, openssl_signature;
    };
    // Every suite, both groups and every certificate type at least once.
    const Combination combinations[] = {
        {"TLS_AES_128_GCM_SHA256", "X25519", "x25519", "server-ecdsa", "ecdsa_secp256r1_sha256", "ECDSA"},
        {"TLS_AES_256_GCM_SHA384", "P-256", "secp256r1", "server-rsa", "rsa_pss_rsae_sha256", "RSA-PSS"},
        {"TLS_CHACHA20_POLY1305_SHA256", "X25519", "x25519", "server-ed25519", "ed25519", "ed25519"},
        {"TLS_AES_128_GCM_SHA256", "P-256", "secp256r1", "server-ed25519", "ed25519", "ed25519"},
        {"TLS_AES_256_GCM_SHA384", "X25519", "x25519", "server-ecdsa", "ecdsa_secp256r1_sha256", "ECDSA"},
        {"TLS_CHACHA20_POLY1305_SHA256", "P-256", "secp256r1", "server-rsa", "rsa_pss_rsae_sha256", "RSA-PSS"},
        {"TLS_AES_128_GCM_SHA256", "X25519", "x25519", "server-rsa", "rsa_pss_rsae_sha256", "RSA-PSS"},
    };
    for (auto& c : combinations) {
        INFO(c.suite << " " << c.openssl_group << " " << c.kind);
        auto server = start_server("ch09-server", identity(c.kind));
        auto client = s_client(server.port, {"-ciphersuites", c.suite, "-groups", c.openssl_group});
        REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
        CHECK_CONTAINS(client.all(), "Verification: OK");
        CHECK_CONTAINS(client.all(), "New, TLSv1.3, Cipher is " + c.suite);
        CHECK_CONTAINS(client.all(), "Peer signature type: " + c.openssl_signature);
        const std::string line = "echo me over " + c.suite + " with " + c.kind;
        client.write_stdin(line + "\n");
        CHECK_MESSAGE(client.wait_for(line, 5s), client.all());
        client.close_stdin();  // s_client sends close_notify and exits
        CHECK(client.wait(10s) == 0);
        CHECK(server.process.wait_for("connection closed cleanly after echoing " + std::to_string(line.size() + 1) + " bytes", 5s));
        auto trace = server.process.all();
        CHECK_CONTAINS(trace, "handshake complete: " + c.suite + ", " + c.our_group + ", " + c.scheme);
        CHECK_CONTAINS(trace, "<- Alert close_notify(0)");
        CHECK_CONTAINS(trace, "-> Alert close_notify(0)");
        CHECK(trace.find("error:") == std::string::npos);
    }
}

// ---- the ch09 client against openssl s_server -rev -----------------------------------------

// RFC8446 9.3-3, 9.1-2
TEST_CASE("ch09 client gets its message reversed by openssl s_server -rev and decodes its NewSessionTickets") {
    require_tool("openssl");
    struct Combination {
        std::vector<std::string> server_options;
        std::string kind, expected;  // what our client reports as negotiated
    };
    const Combination combinations[] = {
        {{}, "server-ecdsa", "TLS_AES_128_GCM_SHA256, "},
        {{"-ciphersuites", "TLS_AES_256_GCM_SHA384", "-groups", "P-256"}, "server-rsa", "TLS_AES_256_GCM_SHA384, secp256r1"},
        {{"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-groups", "X25519"}, "server-ed25519",
         "TLS_CHACHA20_POLY1305_SHA256, x25519"},
        {{"-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256"}, "server-ecdsa", "TLS_AES_128_GCM_SHA256, secp256r1"},
    };
    for (auto& c : combinations) {
        auto options = c.server_options;
        options.push_back("-rev");
        INFO(c.kind << " " << c.expected);
        auto server = start_openssl_server(c.kind, options);
        const std::string message = "tls by hand meets openssl\n";  // -rev answers whole lines
        Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", message});
        CHECK(client.wait() == 0);
        auto out = client.out();
        CHECK_CONTAINS(out, "handshake complete with localhost: " + c.expected);
        CHECK_CONTAINS(out, "<- NewSessionTicket");
        CHECK_CONTAINS(out, "ticket_lifetime");
        CHECK_CONTAINS(out, "received message: " + reversed(message.substr(0, message.size() - 1)) + "\n");
        CHECK_CONTAINS(out, "-> Alert close_notify(0)");
        CHECK_CONTAINS(out, "<- Alert close_notify(0)");
        CHECK_MESSAGE(server.process.wait_for("CONNECTION CLOSED", 5s), server.process.all());
    }
}

TEST_CASE("ch09 client in stdin mode prints exactly the lines openssl s_server -rev sends back") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev"});
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    client.write_stdin("first line\nsecond line\nabc\n");
    client.close_stdin();
    CHECK(client.wait() == 0);
    CHECK(client.out() == "enil tsrif\nenil dnoces\ncba\n");
    CHECK_CONTAINS(client.err(), "<- NewSessionTicket");
    CHECK_CONTAINS(client.err(), "<- Alert close_notify(0)");
    CHECK_CONTAINS(client.err(), "connection closed");
}

TEST_CASE("ch09 client in stdin mode refuses a KeyUpdate while standard input stays open, and stops cleanly") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa");
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    client.write_stdin("a line\n");
    REQUIRE_MESSAGE(server.process.wait_for("a line", 10s), server.process.all());
    server.process.write_stdin("k\n");  // s_server: send a KeyUpdate
    // The client answers unexpected_message while its standard-input side waits for a line:
    // that side must end before the state it uses does (it once wrote to a freed flag).
    auto code = client.wait(10s);
    REQUIRE_MESSAGE(code.has_value(), client.all());
    CHECK(*code == 1);
    CHECK_CONTAINS(client.err(), "-> Alert unexpected_message(10): post-handshake KeyUpdate is not handled");
    CHECK(client.err().find("-> Alert close_notify") == std::string::npos);
    CHECK_MESSAGE(client.err().find("AddressSanitizer") == std::string::npos, client.err());
}

// ---- how far chapters 06–08 get with OpenSSL -----------------------------------------------

TEST_CASE("openssl s_client decrypts the ch06 server's EncryptedExtensions then gets user_canceled") {
    require_tool("openssl");
    auto server = start_server("ch06-server");
    auto client = s_client(server.port, {"-msg"});
    client.close_stdin();
    client.wait(10s);
    auto out = client.all();
    // -msg shows the inner (decrypted) content of each protected record.
    CHECK_CONTAINS(out, "<<< TLS 1.3, Handshake [length 007a], ServerHello");
    CHECK_CONTAINS(out, "<<< TLS 1.3, Handshake [length 0006], EncryptedExtensions");
    CHECK_CONTAINS(out, "<<< TLS 1.3, Alert [length 0002], warning user_canceled");
    CHECK(out.find("], Certificate\n") == std::string::npos);
    CHECK(server.process.wait_for("-> Alert user_canceled(90): Certificate comes in chapter 07", 5s));
}

TEST_CASE("ch06 client decrypts EncryptedExtensions from openssl s_server") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa");
    Process client({bin("ch06-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK_CONTAINS(out, "change_cipher_spec dropped (middlebox compatibility, Appendix D.4)");
    CHECK_CONTAINS(out, "<- EncryptedExtensions");
    CHECK_CONTAINS(out, "EncryptedExtensions decrypted: TLS_AES_128_GCM_SHA256 with ");
    CHECK_CONTAINS(out, "-> Alert user_canceled(90)");
}

TEST_CASE("openssl s_client receives the ch07 server's Certificate and CertificateVerify then user_canceled") {
    require_tool("openssl");
    auto server = start_server("ch07-server");
    auto client = s_client(server.port, {"-msg"});
    client.close_stdin();
    client.wait(10s);
    auto out = client.all();
    CHECK_CONTAINS(out, "<<< TLS 1.3, Handshake [length 0006], EncryptedExtensions");
    CHECK_CONTAINS(out, "], Certificate\n");
    CHECK_CONTAINS(out, "], CertificateVerify\n");
    CHECK_CONTAINS(out, "<<< TLS 1.3, Alert [length 0002], warning user_canceled");
    CHECK_CONTAINS(out, "Verification: OK");  // s_client checked the chain and the signature
    CHECK(out.find("], Finished") == std::string::npos);
}

TEST_CASE("ch07 client authenticates openssl s_server through its Certificate and CertificateVerify") {
    require_tool("openssl");
    for (auto [kind, scheme] : {std::pair{"server-ecdsa", "ecdsa_secp256r1_sha256"}, std::pair{"server-rsa", "rsa_pss_rsae_sha256"},
                                std::pair{"server-ed25519", "ed25519"}}) {
        INFO(kind);
        auto server = start_openssl_server(kind);
        Process client({bin("ch07-client"), "--port", std::to_string(server.port)});
        CHECK(client.wait() == 0);
        CHECK_CONTAINS(client.out(), std::string("CertificateVerify  ") + scheme + " signature verified");
        CHECK_CONTAINS(client.out(), "server authenticated as localhost: TLS_AES_128_GCM_SHA256 with ");
    }
}

TEST_CASE("openssl s_client completes a handshake with the ch08 server") {
    require_tool("openssl");
    auto server = start_server("ch08-server");
    auto client = s_client(server.port, {"-msg"});
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    auto out = client.all();
    CHECK_CONTAINS(out, "<<< TLS 1.3, Handshake [length 0024], Finished");  // the server's, verified
    CHECK_CONTAINS(out, ">>> TLS 1.3, Handshake [length 0024], Finished");  // and s_client's own
    CHECK_CONTAINS(out, "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256");
    CHECK_CONTAINS(out, "Verify return code: 0 (ok)");
    CHECK(server.process.wait_for("handshake complete: TLS_AES_128_GCM_SHA256, x25519, ecdsa_secp256r1_sha256", 5s));
    CHECK_CONTAINS(server.process.all(), "Finished  verify_data matches the transcript");
}

TEST_CASE("ch08 client completes a handshake with openssl s_server") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa");
    Process client({bin("ch08-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "Finished  verify_data matches the transcript");
    CHECK_CONTAINS(client.out(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, ");
    // s_server prints the session only once SSL_accept succeeded: it accepted our Finished.
    CHECK_MESSAGE(server.process.wait_for("CIPHER is TLS_AES_128_GCM_SHA256", 5s), server.process.all());
}

// ---- key logs and Wireshark ----------------------------------------------------------------

TEST_CASE("openssl s_client and the ch09 server write the same five secrets to their key logs") {
    require_tool("openssl");
    TempDir temp;
    const auto& dir = temp.path;
    auto server = start_server("ch09-server", {"--keylog", dir + "/server.keys"});
    auto client = s_client(server.port, {"-keylogfile", dir + "/openssl.keys"});
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    // Not starting with K, Q or R: s_client reads those as commands (KeyUpdate, quit, renegotiate).
    client.write_stdin("the secrets agree\n");
    CHECK(client.wait_for("the secrets agree", 5s));
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    auto ours = keylog_lines(dir + "/server.keys");
    auto theirs = keylog_lines(dir + "/openssl.keys");
    REQUIRE(ours.size() == 5);
    auto client_random = ours["CLIENT_HANDSHAKE_TRAFFIC_SECRET"].substr(0, 64);
    for (auto label : tls13_secret_labels) {
        INFO(label);
        REQUIRE(theirs.count(label) == 1);
        CHECK(theirs[label].substr(0, 64) == client_random);  // the same connection
        CHECK(ours[label] == theirs[label]);
    }
}

TEST_CASE("tshark decrypts a captured ch09 session with the client's key log") {
    require_tool("tshark");
    TempDir temp;
    const auto& dir = temp.path;
    auto capture = dir + "/ch09.pcapng";
    auto keylog = dir + "/client.keys";
    auto server = start_server("ch09-server", {"--quiet"});
    TsharkCapture tshark(server.port, capture);
    const std::string message = "plaintext only with the key log";
    Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", message, "--keylog", keylog});
    CHECK(client.wait() == 0);
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    tshark.stop();

    auto decrypted = tshark_read(capture, keylog);
    auto without_keys = tshark_read(capture, "");
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    auto with = handshake_types(decrypted.output);
    auto without = handshake_types(without_keys.output);
    INFO("tshark with the key log:\n" << decrypted.output << "\ntshark without:\n" << without_keys.output);
    // ClientHello and ServerHello are in the clear either way.
    CHECK(has(with, "1"));
    CHECK(has(with, "2"));
    CHECK(has(without, "1"));
    // EncryptedExtensions(8), Certificate(11), CertificateVerify(15), Finished(20): only with the key log.
    for (auto type : {"8", "11", "15", "20"}) {
        INFO("handshake type " << type);
        CHECK(has(with, type));
        CHECK_FALSE(has(without, type));
    }
    CHECK(std::count(with.begin(), with.end(), "20") == 2);  // both Finished messages
    // The message and its echo, decrypted.
    CHECK(std::count(decrypted.output.begin(), decrypted.output.end(), '\n') > 0);
    std::size_t copies = 0;
    for (auto at = decrypted.output.find(message); at != std::string::npos; at = decrypted.output.find(message, at + 1)) ++copies;
    CHECK(copies == 2);
    CHECK(without_keys.output.find(message) == std::string::npos);
}

// ---- Early data offered to a server that does not accept it (RFC 8446 §4.2.10) ------------

TEST_CASE("openssl s_client offering 0-RTT with another server's session completes a 1-RTT handshake with ch09") {
    require_tool("openssl");
    TempDir temp;
    const auto session = temp.file("session.pem");
    {
        // A session from openssl s_server that allows early data.
        auto openssl = start_openssl_server("server-ecdsa", {"-early_data"});
        auto first = s_client(openssl.port, {"-sess_out", session});
        REQUIRE_MESSAGE(first.wait_for("Verify return code: 0 (ok)", 10s), first.all());
        // The ticket arrives after the handshake; s_client writes the file when it does.
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!contains(read_file(session), "max_early_data") && std::chrono::steady_clock::now() < deadline)
            first.wait_for("(never printed)", 50ms);
        REQUIRE_MESSAGE(contains(read_file(session), "BEGIN SSL SESSION"), first.all());
        first.close_stdin();
        first.wait(5s);
    }
    write_file(temp.file("early.txt"), "sent before the handshake completes\n");
    auto server = start_server("ch09-server");
    auto client = s_client(server.port, {"-sess_in", session, "-early_data", temp.file("early.txt")});
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    CHECK_CONTAINS(client.all(), "Early data was rejected");
    CHECK_CONTAINS(client.all(), "New, TLSv1.3");  // a full handshake, not a resumption
    client.write_stdin("1-RTT line\n");
    CHECK_MESSAGE(client.wait_for("1-RTT line", 10s), client.all());
    client.close_stdin();
    client.wait(5s);
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    auto out = server.process.all();
    CHECK_CONTAINS(out, "the client offers early data: declined");
    CHECK_CONTAINS(out, "early data skipped:");
    CHECK_CONTAINS(out, "handshake complete");
    CHECK(out.find("bad_record_mac") == std::string::npos);
}
