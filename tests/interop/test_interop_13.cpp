// Interop: chapter 13's 0-RTT early data against real TLS 1.3 stacks, both directions: openssl
// s_client (-sess_out, then -sess_in -early_data) against our server, our client against
// openssl s_server -early_data and gnutls-serv --earlydata, and tshark decrypting the early data
// with the client's key log (CLIENT_EARLY_TRAFFIC_SECRET).
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace tlstest;

namespace {

const std::string accepted = "the server accepted our early data (§4.2.10)";

// `openssl s_client` with a session file: -sess_out to keep the session, -sess_in (and
// -early_data FILE) to resume it.
Process s_client(unsigned short port, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port),
                                     "-CAfile", cert("ca.pem"), "-servername", "localhost", "-verify_return_error"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process(argv);
}

}  // namespace

TEST_CASE("openssl s_client -early_data against the ch13 server: accepted once, rejected when its session is replayed") {
    require_tool("openssl");
    TempDir temp;
    auto session = temp.file("openssl.session"), copy = temp.file("copy.session"), early = temp.file("early.txt");
    write_file(early, "zero round trip");
    auto server = start_server("ch13-server");
    {
        auto first = s_client(server.port, {"-sess_out", session});
        REQUIRE_MESSAGE(first.wait_for("Verify return code: 0 (ok)", 10s), first.all());
        first.write_stdin("first\n");
        REQUIRE_MESSAGE(first.wait_for("first", 5s), first.all());  // the echo: the tickets came before it
        first.close_stdin();
        CHECK(first.wait(10s) == 0);
        CHECK_CONTAINS(first.all(), "Max Early Data: 16384");
    }
    REQUIRE(std::filesystem::exists(session));
    std::filesystem::copy_file(session, copy);  // what an attacker replays: the same ticket
    {
        auto resumed = s_client(server.port, {"-sess_in", session, "-early_data", early});
        REQUIRE_MESSAGE(resumed.wait_for("Early data was", 10s), resumed.all());
        REQUIRE_MESSAGE(resumed.wait_for("zero round trip", 5s), resumed.all());  // the echo
        resumed.close_stdin();
        CHECK(resumed.wait(10s) == 0);
        CHECK_CONTAINS(resumed.all(), "Reused, TLSv1.3");
        CHECK_CONTAINS(resumed.all(), "Early data was accepted");
    }
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    {
        auto trace = server.process.all();
        CHECK_CONTAINS(trace, "early data accepted: first identity, fresh, never used before");
        CHECK_CONTAINS(trace, "<- EndOfEarlyData");
        CHECK_CONTAINS(trace, "early data  15 bytes, before the handshake is complete: zero round trip");
        CHECK_CONTAINS(trace, "echoing the 15 bytes of early data");
    }
    {
        auto replayed = s_client(server.port, {"-sess_in", copy, "-early_data", early});
        REQUIRE_MESSAGE(replayed.wait_for("Early data was", 10s), replayed.all());
        replayed.close_stdin();
        CHECK(replayed.wait(10s) == 0);
        CHECK_CONTAINS(replayed.all(), "Reused, TLSv1.3");  // resumed all the same
        CHECK_CONTAINS(replayed.all(), "Early data was rejected");
    }
    REQUIRE(server.process.wait_for("== connection #3 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "early data accepted") == 1);
    CHECK_CONTAINS(trace, "early data declined: the ticket has already been used for early data: a replay");
    CHECK_CONTAINS(trace, "early data skipped:");
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, resumed with a PSK and (EC)DHE") == 2);
}

TEST_CASE("ch13 client's early data against openssl s_server -early_data") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-early_data"});
    // Standard input mode: the line goes on the first connection, the early data as 0-RTT on the
    // second (and after the handshake on the first, which has no ticket yet).
    Process client({bin("ch13-client"), "--port", std::to_string(server.port), "--reconnect", "--early-data", "early hello"});
    client.write_stdin("a line\n");
    client.close_stdin();
    CHECK(client.wait() == 0);
    auto err = client.err();
    auto second = err.substr(std::min(err.size(), err.find("connecting again, with a ticket")));
    CHECK_CONTAINS(second, "early data  11 bytes sent before the server's answer");
    CHECK_CONTAINS(second, accepted);
    CHECK_CONTAINS(second, "-> EndOfEarlyData");
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, resumed with the PSK and (EC)DHE");
    // (s_server's own lines are buffered: wait for each.)
    CHECK_MESSAGE(server.process.wait_for("No early data received", 5s), server.process.all());  // the first connection
    CHECK_MESSAGE(server.process.wait_for("Early data received:", 5s), server.process.all());    // the second
    CHECK_MESSAGE(server.process.wait_for("End of early data", 5s), server.process.all());
    CHECK_MESSAGE(server.process.wait_for("Reused session-id", 5s), server.process.all());
    auto out = server.process.all();
    // s_server writes the data itself unbuffered, its own lines buffered: the order varies. Once
    // after the first handshake, once as 0-RTT.
    CHECK(count_of(out, "early hello") == 2);
}

TEST_CASE("ch13 client's early data against gnutls-serv --earlydata") {
    require_tool("gnutls-serv");
    auto port = free_port();
    Process server({"gnutls-serv", "-p", std::to_string(port), "--echo", "--earlydata", "--disable-client-cert",
                    "--x509certfile", cert("server-ecdsa.pem"), "--x509keyfile", cert("server-ecdsa.key"), "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.3"});
    REQUIRE_MESSAGE(server.wait_for("listening", 10s), server.all());
    // gnutls-serv does not echo early data: standard input mode, which waits for no echo of it.
    Process client({bin("ch13-client"), "--port", std::to_string(port), "--reconnect", "--early-data", "early hello"});
    client.write_stdin("a line\n");
    client.close_stdin();
    CHECK(client.wait() == 0);
    auto err = client.err();
    auto second = err.substr(std::min(err.size(), err.find("connecting again, with a ticket")));
    CHECK_CONTAINS(err, "max_early_data_size");  // GnuTLS's tickets allow early data
    CHECK_CONTAINS(second, "early data  11 bytes sent before the server's answer");
    CHECK_CONTAINS(second, accepted);
    CHECK_CONTAINS(second, "-> EndOfEarlyData");
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, resumed with the PSK and (EC)DHE");
    CHECK_CONTAINS(server.all(), "This is a resumed session");
}

TEST_CASE("tshark decrypts a ch13 client's 0-RTT data with its key log (CLIENT_EARLY_TRAFFIC_SECRET)") {
    require_tool("tshark");
    TempDir temp;
    auto capture = temp.file("ch13.pcapng"), keylog = temp.file("client.keys"), session = temp.file("session");
    auto server = start_server("ch13-server", {"--quiet"});
    {
        Process first({bin("ch13-client"), "--port", std::to_string(server.port), "--message", "x", "--repeat", "1",
                       "--session-out", session});
        REQUIRE_MESSAGE(first.wait() == 0, first.all());
    }
    // Only the resumed connection is captured: its early data, and the echo of it.
    TsharkCapture tshark(server.port, capture);
    const std::string early = "seen by tshark";
    Process client({bin("ch13-client"), "--port", std::to_string(server.port), "--message", "x", "--repeat", "1",
                    "--session-in", session, "--early-data", early, "--keylog", keylog});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), accepted);
    CHECK_CONTAINS(client.out(), "received the echo of our 0-RTT data: " + early);
    REQUIRE(server.process.wait_for("connection closed cleanly", 5s));
    tshark.stop();
    CHECK(keylog_lines(keylog).count("CLIENT_EARLY_TRAFFIC_SECRET") == 1);

    auto decrypted = tshark_read(capture, keylog);
    INFO("tshark with the key log:\n" << decrypted.output);
    CHECK(count_of(decrypted.output, early) == 2);  // the 0-RTT record and the echo
    auto types = handshake_types(decrypted.output);
    CHECK(std::count(types.begin(), types.end(), "5") == 1);  // EndOfEarlyData, under the early keys
    auto sealed = tshark_read(capture, "");
    CHECK(count_of(sealed.output, early) == 0);
}
