// Interop for chapters 03-05: the chapter programs against the real `openssl s_server`,
// `openssl s_client` (TLS 1.3 only) and curl. A missing peer tool fails the test with a
// message that says how to get it; it never skips.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <functional>
#include <map>
#include <set>

using namespace tlstest;

namespace {

using Clock = std::chrono::steady_clock;

// Polls a key log until `ready` holds for it or the timeout passes; returns the last read.
KeyLog wait_for_keylog(const std::string& path, const std::function<bool(const KeyLog&)>& ready,
                       std::chrono::milliseconds timeout = 5s) {
    auto end = Clock::now() + timeout;
    KeyLog log;
    for (;;) {
        log = parse_keylog(read_file(path));
        if (ready(log) || Clock::now() > end) return log;
        usleep(50'000);
    }
}

std::set<std::string> labels(const std::map<std::string, std::string>& lines) {
    std::set<std::string> out;
    for (auto& [label, secret] : lines) out.insert(label);
    return out;
}

// `openssl s_client -tls1_3 -connect 127.0.0.1:PORT ...` with stdin closed, run to its end
// (it gives up once the chapter server cancels) or killed after 10 s.
struct ClientResult {
    std::optional<int> code;
    std::string output;
};

ClientResult run_openssl_client(unsigned short port, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"openssl", "s_client", "-tls1_3", "-connect", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Process p(argv);
    p.close_stdin();
    auto code = p.wait(10s);
    if (!code) p.kill();
    return {code, p.all()};
}

}  // namespace

// =====================================================================================
// Chapter 03: real ClientHellos decoded, a real ServerHello recognised
// =====================================================================================

TEST_CASE("ch03 server decodes the ClientHello of openssl s_client") {
    require_tool("openssl");
    auto server = start_server("ch03-server");
    auto client = run_openssl_client(server.port);
    REQUIRE_MESSAGE(server.process.wait_for("ClientHello decoded", 5s), server.process.all(), "\ns_client:\n", client.output);
    auto s = server.process.out();
    INFO(s);
    CHECK(has_line(s, R"(^\s+supported_versions\s+TLS 1\.3 \(0x0304\)$)"));
    CHECK(has_line(s, R"(^\s+key_share\s+x25519 \(0x001d\) .*\(32 bytes\)$)"));
    CHECK(has_line(s, R"(^\s+supported_groups\s+x25519, )"));
    CHECK(has_line(s, R"(^\s+cipher_suites\s+.*TLS_AES_128_GCM_SHA256)"));
    CHECK(has_line(s, R"(^\s+signature_algorithms\s+.*ecdsa_secp256r1_sha256)"));
    CHECK(has_line(s, R"(^\s+psk_key_exchange_modes\s+psk_dhe_ke$)"));
    CHECK(contains(s, "-> Alert user_canceled(90)"));
    CHECK_FALSE(contains(s, "error"));
}

TEST_CASE("ch03 server decodes the ClientHello of curl with its ALPN list") {
    require_tool("curl");
    auto server = start_server("ch03-server");
    auto curl = run_command("curl --tlsv1.3 -k -sS --max-time 5 https://127.0.0.1:" + std::to_string(server.port) + "/",
                            15s);
    CHECK(curl.code != 0);  // the ch03 server cancels the handshake
    REQUIRE_MESSAGE(server.process.wait_for("ClientHello decoded", 5s), server.process.all(), "\ncurl:\n", curl.output);
    auto s = server.process.out();
    INFO(s);
    CHECK(has_line(s, R"(^\s+application_layer_protocol_negotiation\s+(h2, )?http/1\.1$)"));
    CHECK(has_line(s, R"(^\s+supported_versions\s+TLS 1\.3 \(0x0304\)$)"));
    CHECK(has_line(s, R"(^\s+key_share\s+x25519 \(0x001d\) )"));
}

TEST_CASE("ch03 client sees a handshake record holding ServerHello from openssl s_server") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa");
    Process client({bin("ch03-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait(10s) == 0);
    INFO(client.all());
    CHECK(contains(client.out(), "<- record handshake(22) legacy_record_version 0303"));
    CHECK(contains(client.out(), "the server answered with a handshake record holding ServerHello"));
}

// =====================================================================================
// Chapter 04: key exchange with OpenSSL
// =====================================================================================

TEST_CASE("ch04 client accepts the ServerHello of openssl s_server with -groups X25519") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-groups", "X25519"});
    Process client({bin("ch04-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait(10s) == 0);
    auto out = client.out();
    INFO(client.all());
    CHECK(has_line(out, R"(^ServerHello accepted: TLS_AES_\w+ with x25519$)"));
    CHECK(has_line(out, R"(^   shared_secret  ([0-9a-f]{2} ){31}[0-9a-f]{2}$)"));
}

TEST_CASE("ch04 client accepts the ServerHello of openssl s_server with -groups P-256") {
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-groups", "P-256"});
    Process client({bin("ch04-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait(10s) == 0);
    auto out = client.out();
    INFO(client.all());
    CHECK(has_line(out, R"(^ServerHello accepted: TLS_AES_\w+ with secp256r1$)"));
    CHECK(has_line(out, R"(^\s+key_share\s+secp256r1 \(0x0017\) 04 .*\(65 bytes\)$)"));
    CHECK(has_line(out, R"(^   shared_secret  ([0-9a-f]{2} ){31}[0-9a-f]{2}$)"));
}

TEST_CASE("ch04 client reports the handshake_failure alert of openssl s_server when they share no group") {
    // s_server takes only P-384, which the ch04 client does not implement.
    require_tool("openssl");
    auto server = start_openssl_server("server-ecdsa", {"-groups", "P-384"});
    Process client({bin("ch04-client"), "--port", std::to_string(server.port)});
    auto code = client.wait(10s);
    INFO(client.all());
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(contains(client.out(), "<- Alert handshake_failure(40)"));
    CHECK_FALSE(contains(client.out(), "ServerHello accepted"));
}

TEST_CASE("openssl s_client receives the ch04 server's ServerHello") {
    require_tool("openssl");
    auto server = start_server("ch04-server");
    auto client = run_openssl_client(server.port, {"-msg"});
    INFO("s_client:\n", client.output);
    CHECK(contains(client.output, "<<< TLS 1.3, Handshake [length 007a], ServerHello"));
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto s = server.process.out();
    INFO("server:\n", s);
    CHECK(has_line(s, R"(^   negotiated  TLS_AES_128_GCM_SHA256, x25519$)"));
    CHECK(has_line(s, R"(^   shared_secret  ([0-9a-f]{2} ){31}[0-9a-f]{2}$)"));
    CHECK(contains(s, "-> Alert user_canceled(90)"));
}

TEST_CASE("openssl s_client with -groups P-256 gets a secp256r1 ServerHello from the ch04 server") {
    require_tool("openssl");
    auto server = start_server("ch04-server");
    auto client = run_openssl_client(server.port, {"-msg", "-groups", "P-256"});
    INFO("s_client:\n", client.output);
    CHECK(contains(client.output, "ServerHello"));
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    CHECK(has_line(server.process.out(), R"(^   negotiated  TLS_AES_128_GCM_SHA256, secp256r1$)"));
}

// =====================================================================================
// Chapter 05: our handshake traffic secrets equal OpenSSL's
// =====================================================================================

namespace {
// Runs the ch05 client against s_server (-keylogfile), compares the key logs by client random.
void check_ch05_client_against_s_server(const std::vector<std::string>& server_args, const std::string& suite) {
    require_tool("openssl");
    TempDir dir;
    auto theirs_path = dir.file("openssl.keys"), ours_path = dir.file("ours.keys");
    std::vector<std::string> args{"-keylogfile", theirs_path};
    args.insert(args.end(), server_args.begin(), server_args.end());
    auto server = start_openssl_server("server-ecdsa", args);
    Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--keylog", ours_path});
    CHECK(client.wait(10s) == 0);
    INFO("client:\n", client.all());
    CHECK(contains(client.out(), "handshake keys derived: " + suite));

    auto ours = parse_keylog(read_file(ours_path));
    REQUIRE(ours.size() == 1);
    auto& [random, our_lines] = *ours.begin();
    CHECK(labels(our_lines) == std::set<std::string>{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET"});

    // s_server writes its secrets as it sends its whole first flight (ServerHello up to
    // Finished): both handshake secrets, then the exporter and its application secret.
    auto theirs = wait_for_keylog(theirs_path, [&](const KeyLog& log) {
        return log.contains(random) && log.at(random).size() >= 4;
    });
    INFO("openssl key log:\n", read_file(theirs_path));
    REQUIRE(theirs.contains(random));
    auto& their_lines = theirs.at(random);
    CHECK(labels(their_lines) == std::set<std::string>{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                                       "EXPORTER_SECRET", "SERVER_TRAFFIC_SECRET_0"});
    for (auto& [label, secret] : our_lines) {
        CAPTURE(label);
        REQUIRE(their_lines.contains(label));
        CHECK(their_lines.at(label) == secret);
    }
    // The other two need the transcript up to the server's Finished (chapter 08).
    CHECK_FALSE(our_lines.contains("EXPORTER_SECRET"));
    CHECK_FALSE(our_lines.contains("SERVER_TRAFFIC_SECRET_0"));
}

// Runs s_client (-keylogfile) against the ch05 server (--keylog), compares by client random.
void check_s_client_against_ch05_server(const std::vector<std::string>& client_args, std::size_t secret_length) {
    require_tool("openssl");
    TempDir dir;
    auto theirs_path = dir.file("openssl.keys"), ours_path = dir.file("ours.keys");
    auto server = start_server("ch05-server", {"--keylog", ours_path});
    std::vector<std::string> args{"-keylogfile", theirs_path};
    args.insert(args.end(), client_args.begin(), client_args.end());
    auto client = run_openssl_client(server.port, args);
    INFO("s_client:\n", client.output);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    INFO("server:\n", server.process.out());

    auto ours = parse_keylog(read_file(ours_path));
    REQUIRE(ours.size() == 1);
    auto& [random, our_lines] = *ours.begin();
    CHECK(our_lines.size() == 2);
    for (auto& [label, secret] : our_lines) CHECK(secret.size() == 2 * secret_length);

    auto theirs = parse_keylog(read_file(theirs_path));
    INFO("openssl key log:\n", read_file(theirs_path));
    REQUIRE(theirs.contains(random));
    auto& their_lines = theirs.at(random);
    // OpenSSL's client logs the server's handshake secret as soon as it processes
    // ServerHello; its own it logs only when it would send its second flight, which the
    // chapter 05 server never lets it reach. Every line it did write must equal ours.
    CHECK(their_lines.contains("SERVER_HANDSHAKE_TRAFFIC_SECRET"));
    for (auto& [label, secret] : their_lines) {
        CAPTURE(label);
        REQUIRE(our_lines.contains(label));
        CHECK(our_lines.at(label) == secret);
    }
}
}  // namespace

TEST_CASE("ch05 client handshake traffic secrets equal openssl s_server's key log") {
    check_ch05_client_against_s_server({}, "TLS_AES_128_GCM_SHA256");
}

TEST_CASE("ch05 client handshake traffic secrets equal openssl s_server's over P-256 and AES-256-GCM-SHA384") {
    check_ch05_client_against_s_server({"-groups", "P-256", "-ciphersuites", "TLS_AES_256_GCM_SHA384"},
                                       "TLS_AES_256_GCM_SHA384 with secp256r1");
}

TEST_CASE("ch05 server handshake traffic secrets equal openssl s_client's key log") {
    check_s_client_against_ch05_server({}, 32);
}

TEST_CASE("ch05 server handshake traffic secrets equal openssl s_client's with TLS_AES_256_GCM_SHA384") {
    check_s_client_against_ch05_server({"-ciphersuites", "TLS_AES_256_GCM_SHA384"}, 48);
}

TEST_CASE("ch05 server handshake traffic secrets equal openssl s_client's with TLS_CHACHA20_POLY1305_SHA256 over P-256") {
    check_s_client_against_ch05_server({"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-groups", "P-256"}, 32);
}
