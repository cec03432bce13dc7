// Interop: chapter 11's KeyUpdate against real TLS 1.3 stacks, both directions: openssl
// s_client / s_server (OpenSSL 3.0: "k" sends a KeyUpdate, "K" one with update_requested),
// GnuTLS (gnutls-serv, gnutls-cli), and tshark decrypting across key generations.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace tlstest;

namespace {

Process s_client(unsigned short port) {
    return Process({"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port), "-CAfile",
                    cert("ca.pem"), "-servername", "localhost", "-verify_return_error"});
}

std::string reversed(std::string s) {
    std::reverse(s.begin(), s.end());
    return s;
}

}  // namespace

TEST_CASE("openssl s_client's k and K lines update the keys of the ch11 server, and the echo goes on") {
    require_tool("openssl");
    auto server = start_server("ch11-server");
    auto client = s_client(server.port);
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    client.write_stdin("first\n");
    REQUIRE_MESSAGE(client.wait_for("first", 5s), client.all());
    // s_client reads a command from a read() of its own (the rest of that read is dropped).
    client.write_stdin("k\n");  // KeyUpdate(update_not_requested)
    REQUIRE_MESSAGE(client.wait_for("KEYUPDATE", 5s), client.all());
    client.write_stdin("second\n");
    REQUIRE_MESSAGE(client.wait_for("second", 5s), client.all());
    client.write_stdin("K\n");  // KeyUpdate(update_requested): we answer with our own
    REQUIRE(server.process.wait_for("from now on we write records protected with the server keys of generation 1", 5s));
    client.write_stdin("third\n");
    REQUIRE_MESSAGE(client.wait_for("third", 5s), client.all());
    CHECK(count_of(client.all(), "KEYUPDATE") == 2);
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 19 bytes", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "<- KeyUpdate") == 2);
    CHECK(count_of(trace, "-> KeyUpdate") == 1);
    CHECK_CONTAINS(trace, "from now on we read records protected with the client keys of generation 2");
    CHECK_CONTAINS(trace, "from now on we write records protected with the server keys of generation 1");
}

TEST_CASE("openssl s_client follows the ch11 server's --key-update-every 1") {
    require_tool("openssl");
    auto server = start_server("ch11-server", {"--key-update-every", "1"});
    auto client = s_client(server.port);
    REQUIRE_MESSAGE(client.wait_for("Verify return code: 0 (ok)", 10s), client.all());
    for (auto line : {"one", "two", "three"}) {
        client.write_stdin(std::string(line) + "\n");
        REQUIRE_MESSAGE(client.wait_for(line, 5s), client.all());
    }
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 14 bytes", 5s));
    auto trace = server.process.all();
    // Every echo after the first went out under a new generation, and s_client read it.
    CHECK(count_of(trace, "-> KeyUpdate") == 3);
    // OpenSSL answers update_requested "prior to sending its next Application Data record"
    // (§4.6.3): whether it has read our KeyUpdate before it sends the next line is up to its
    // event loop, so the number of answers varies (and the last is never due).
    CHECK(count_of(trace, "<- KeyUpdate") <= 2);
}

TEST_CASE("ch11 client's KeyUpdates against openssl s_server -rev") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-rev"});
    Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", "update me\n",
                    "--key-update-every", "1"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(count_of(out, "received message: " + reversed("update me") + "\n") == 3);
    CHECK(count_of(out, "-> KeyUpdate") == 3);
    // Answered before the server's next data (§4.6.3): the answer to the last never comes.
    CHECK(count_of(out, "<- KeyUpdate") == 2);
    CHECK_CONTAINS(out, "from now on we read records protected with the server keys of generation 2");
    CHECK_MESSAGE(server.process.wait_for("CONNECTION CLOSED", 5s), server.process.all());
}

TEST_CASE("ch11 client's KeyUpdates against gnutls-serv --echo") {
    require_tool("gnutls-serv");
    auto port = free_port();
    Process server({"gnutls-serv", "-p", std::to_string(port), "--echo", "--disable-client-cert", "--x509certfile",
                    cert("server-ecdsa.pem"), "--x509keyfile", cert("server-ecdsa.key"), "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.3"});
    REQUIRE_MESSAGE(server.wait_for("listening", 10s), server.all());
    Process client({bin("ch11-client"), "--port", std::to_string(port), "--message", "gnutls\n", "--key-update-every", "1"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(count_of(out, "received message: gnutls\n") == 3);
    CHECK(count_of(out, "-> KeyUpdate") == 3);
    CHECK(count_of(out, "<- KeyUpdate") == 2);  // as with OpenSSL: the last answer is never due
    CHECK_CONTAINS(out, "from now on we read records protected with the server keys of generation 2");
}

TEST_CASE("gnutls-cli follows the ch11 server's --key-update-every 1") {
    require_tool("gnutls-cli");
    auto server = start_server("ch11-server", {"--key-update-every", "1"});
    Process client({"gnutls-cli", "-p", std::to_string(server.port), "--x509cafile", cert("ca.pem"), "localhost"});
    REQUIRE_MESSAGE(client.wait_for("Handshake was completed", 10s), client.all());
    for (auto line : {"alpha", "beta"}) {
        client.write_stdin(std::string(line) + "\n");
        REQUIRE_MESSAGE(client.wait_for(line, 5s), client.all());
    }
    client.close_stdin();
    CHECK(client.wait(10s) == 0);
    CHECK(server.process.wait_for("connection closed cleanly after echoing 11 bytes", 5s));
    auto trace = server.process.all();
    // Both echoes decrypted: GnuTLS follows our generations. (It answers update_requested
    // lazily, before data it sends; gnutls-cli sends none after reading our KeyUpdate.)
    CHECK(count_of(trace, "-> KeyUpdate") == 2);
}

TEST_CASE("tshark decrypts a ch11 session across two KeyUpdates each way, with the client's key log") {
    require_tool("tshark");
    TempDir temp;
    auto capture = temp.file("ch11.pcapng");
    auto keylog = temp.file("client.keys");
    auto server = start_server("ch11-server", {"--quiet", "--key-update-every", "1"});
    TsharkCapture tshark(server.port, capture);
    const std::string message = "still readable";
    // Three records each way, a KeyUpdate from each side after the first two (and answers):
    // the last message and its echo travel under generation 2 or later.
    Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", message, "--repeat", "3",
                    "--key-update-every", "1", "--keylog", keylog});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "of generation 2");
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    tshark.stop();

    // Wireshark derives the later generations itself from *_TRAFFIC_SECRET_0 (§7.2).
    auto decrypted = tshark_read(capture, keylog);
    INFO("tshark with the key log:\n" << decrypted.output);
    CHECK(count_of(decrypted.output, message) == 6);  // three messages, three echoes
    auto types = handshake_types(decrypted.output);
    CHECK(std::count(types.begin(), types.end(), "24") >= 4);  // KeyUpdate is handshake type 24
}
