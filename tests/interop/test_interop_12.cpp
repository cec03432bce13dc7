// Interop: chapter 12's resumption against real TLS 1.3 stacks, both directions: openssl
// s_client (-sess_out / -sess_in) and Python's ssl module resume with the ch12 server's
// tickets; the ch12 client resumes with the tickets of openssl s_server and gnutls-serv;
// gnutls-cli --resume; tshark decrypts a resumed handshake with the client's key log.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace tlstest;

namespace {

const std::string reconnecting = "connecting again, with a ticket from the first connection";

std::string after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    return at == std::string::npos ? std::string() : text.substr(at);
}

// openssl s_client, sending one line and closing once it is echoed (the server's tickets
// come before the echo, so -sess_out has them by then).
Process s_client(unsigned short port, const std::vector<std::string>& session_args) {
    std::vector<std::string> argv{"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port),
                                  "-CAfile", cert("ca.pem"), "-servername", "localhost", "-verify_return_error"};
    argv.insert(argv.end(), session_args.begin(), session_args.end());
    return Process(argv);
}

void exchange_line(Process& client, const std::string& line) {
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    client.write_stdin(line + "\n");
    REQUIRE_MESSAGE(client.wait_for(line, 5s), client.all());
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
}

}  // namespace

TEST_CASE("ch12 server resumes openssl s_client's session: -sess_out, then -sess_in says Reused") {
    require_tool("openssl");
    TempDir temp;
    auto session = temp.file("openssl.session");
    auto server = start_server("ch12-server");
    auto first = s_client(server.port, {"-sess_out", session});
    exchange_line(first, "first connection");
    CHECK_CONTAINS(first.all(), "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256");
    CHECK_CONTAINS(first.all(), "Post-Handshake New Session Ticket arrived");
    CHECK_CONTAINS(read_file(session), "BEGIN SSL SESSION PARAMETERS");
    auto second = s_client(server.port, {"-sess_in", session});
    exchange_line(second, "second connection");
    CHECK_CONTAINS(second.all(), "Reused, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "full handshake, ecdsa_secp256r1_sha256") == 2);  // "negotiated" and "handshake complete"
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, resumed with a PSK and (EC)DHE (psk_dhe_ke)") == 1);
    CHECK(count_of(trace, "-> Certificate (") == 1);
    CHECK_CONTAINS(trace, "binder  verified");
}

TEST_CASE("ch12 server resumes Python ssl's session: session_reused on the second connection") {
    require_tool("python3");
    auto server = start_server("ch12-server");
    const std::string script = R"(
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
def once(session=None):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"python\n")
            data = b""
            while len(data) < 7:
                data += s.recv(100)
            # TLS 1.3: the session (with the ticket) is known once the tickets were read.
            print("echo", data.decode().strip(), "reused", s.session_reused, flush=True)
            return s.session
once(once())
)";
    Process python({"python3", "-c", script, std::to_string(server.port), cert("ca.pem")});
    CHECK(python.wait(20s) == 0);
    auto out = python.out();
    INFO(python.all());
    CHECK_CONTAINS(out, "echo python reused False\necho python reused True\n");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    CHECK(count_of(server.process.all(), "resumed with a PSK and (EC)DHE (psk_dhe_ke)") == 2);  // "negotiated", "complete"
}

TEST_CASE("ch12 client --reconnect resumes with openssl s_server's ticket") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev"});
    Process client({bin("ch12-client"), "--port", std::to_string(server.port), "--message", "hi\n", "--repeat", "1",
                    "--reconnect"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto second = after(out, reconnecting);
    REQUIRE_MESSAGE(!second.empty(), out);
    CHECK_CONTAINS(out, "full handshake");
    CHECK(count_of(out, "received message: ih\n") == 2);  // -rev reverses each line
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, resumed with the PSK and (EC)DHE");
    CHECK(second.find("<- Certificate") == std::string::npos);
}

TEST_CASE("ch12 client --reconnect --psk-modes psk_ke resumes with the PSK alone against openssl s_server -allow_no_dhe_kex") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev", "-allow_no_dhe_kex"});
    Process client({bin("ch12-client"), "--port", std::to_string(server.port), "--message", "hi\n", "--repeat", "1",
                    "--reconnect", "--psk-modes", "psk_ke"});
    CHECK(client.wait() == 0);
    auto second = after(client.out(), reconnecting);
    REQUIRE_MESSAGE(!second.empty(), client.out());
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, no group, resumed with the PSK alone (psk_ke)");
    CHECK_CONTAINS(second, "received message: ih\n");
}

TEST_CASE("ch12 client --reconnect resumes with gnutls-serv's ticket") {
    require_tool("gnutls-serv");
    auto port = free_port();
    Process server({"gnutls-serv", "-p", std::to_string(port), "--echo", "--disable-client-cert", "--x509certfile",
                    cert("server-ecdsa.pem"), "--x509keyfile", cert("server-ecdsa.key"), "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.3"});
    REQUIRE_MESSAGE(server.wait_for("listening", 10s), server.all());
    Process client({bin("ch12-client"), "--port", std::to_string(port), "--message", "gnutls\n", "--repeat", "1",
                    "--reconnect"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto second = after(out, reconnecting);
    REQUIRE_MESSAGE(!second.empty(), out);
    CHECK(count_of(out, "received message: gnutls\n") == 2);
    CHECK_CONTAINS(second, "resumed with the PSK and (EC)DHE");
    CHECK(second.find("<- Certificate") == std::string::npos);
}

TEST_CASE("ch12 server resumes gnutls-cli --resume: This is a resumed session") {
    require_tool("gnutls-cli");
    auto server = start_server("ch12-server");
    // gnutls-cli connects, disconnects after the handshake, connects again with the ticket.
    Process client({"gnutls-cli", "-p", std::to_string(server.port), "--x509cafile", cert("ca.pem"), "--resume",
                    "localhost"});
    REQUIRE_MESSAGE(client.wait_for("This is a resumed session", 10s), client.all());
    client.write_stdin("resumed\n");
    REQUIRE_MESSAGE(client.wait_for("resumed\n", 5s), client.all());
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    // GnuTLS offers psk_dhe_ke and psk_ke: we take psk_dhe_ke (§4.2.9).
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, resumed with a PSK and (EC)DHE (psk_dhe_ke)") == 1);
    CHECK(count_of(trace, "-> Certificate (") == 1);
}

TEST_CASE("ch12 tshark decrypts a resumed ch12 session with the client's key log: no Certificate the second time") {
    require_tool("tshark");
    TempDir temp;
    auto capture = temp.file("ch12.pcapng");
    auto keylog = temp.file("client.keys");
    auto server = start_server("ch12-server", {"--quiet"});
    TsharkCapture tshark(server.port, capture);
    const std::string message = "resumed and readable";
    Process client({bin("ch12-client"), "--port", std::to_string(server.port), "--message", message, "--repeat", "1",
                    "--reconnect", "--keylog", keylog});
    CHECK(client.wait() == 0);  // after the server's last close_notify: all is on the wire
    CHECK(server.process.wait_for("resumed with a PSK and (EC)DHE", 5s));
    tshark.stop();

    auto decrypted = tshark_read(capture, keylog);
    INFO("tshark with the key log:\n" << decrypted.output);
    CHECK(count_of(decrypted.output, message) == 4);  // a message and its echo on each connection
    auto types = handshake_types(decrypted.output);
    auto count = [&](const std::string& type) { return std::count(types.begin(), types.end(), type); };
    CHECK(count("1") == 2);   // two ClientHellos
    CHECK(count("2") == 2);   // two ServerHellos
    CHECK(count("11") == 1);  // one Certificate: the first handshake's
    CHECK(count("15") == 1);  // one CertificateVerify
    CHECK(count("20") == 4);  // Finished from each side, twice
    CHECK(count("4") == 4);   // two NewSessionTickets on each connection
    // The second connection's handshake: ClientHello, ServerHello, EncryptedExtensions, Finished.
    auto second = std::find(std::next(std::find(types.begin(), types.end(), "1")), types.end(), "1");
    REQUIRE(second != types.end());
    CHECK(std::find(second, types.end(), "11") == types.end());
}
