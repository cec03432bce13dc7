// End to end: the real chapter 03 (ClientHello), 04 (ServerHello, key exchange) and
// 05 (key schedule) programs on free ports. Both sides' traces are compared; crafted
// ClientHellos go to the real servers, crafted ServerHellos to the real ch04 client.
#include "crypto.hpp"
#include "handshake_reader.hpp"
#include "key_exchange.hpp"
#include "messages.hpp"
#include "record.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <regex>
#include <thread>

using namespace tlstest;

namespace {

// ---- Reading the traces --------------------------------------------------------------

// The value of a trace line "   NAME  VALUE" (Trace::value): "" if there is none.
std::string value_of(const std::string& text, const std::string& name) {
    std::string prefix = "   " + name + "  ";
    for (auto& line : lines_of(text))
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    return "";
}

// The value of the first message field "     NAME    VALUE" (Trace::message): "" if none.
std::string field_of(const std::string& text, const std::string& name) {
    std::regex re("^\\s+" + name + "\\s+(.*)$");
    for (auto& line : lines_of(text)) {
        std::smatch m;
        if (std::regex_match(line, m, re)) return m[1];
    }
    return "";
}

// "2e 22 4f ..." -> "2e224f...".
std::string without_spaces(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
}

// ---- Building ClientHellos with the common/ API --------------------------------------

tls::ClientHello client_hello_with(std::vector<tls::Extension> extensions) {
    tls::ClientHello hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.legacy_compression_methods = {0};
    hello.extensions = std::move(extensions);
    return hello;
}

// A ClientHello any of the three servers accepts: x25519 only, with a fresh share.
tls::ClientHello good_client_hello() {
    return client_hello_with({
        tls::make_server_name("localhost"),
        tls::make_supported_groups({tls::NamedGroup::x25519}),
        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256}),
        tls::make_supported_versions_client({tls::TLS1_3}),
        tls::make_key_share_client({{tls::NamedGroup::x25519, tls::x25519_keypair().public_key}}),
    });
}

void remove_extension(tls::ClientHello& hello, tls::ExtensionType type) {
    std::erase_if(hello.extensions, [&](const tls::Extension& e) { return e.extension_type == type; });
}

void replace_extension(tls::ClientHello& hello, tls::Extension replacement) {
    for (auto& e : hello.extensions)
        if (e.extension_type == replacement.extension_type) e = replacement;
}

// The whole message in one handshake record, as a client sends it.
tls::Bytes as_record(tls::BytesView handshake_message) {
    return tls::encode_record(tls::ContentType::handshake, handshake_message);
}
tls::Bytes as_record(const tls::ClientHello& hello) { return as_record(tls::encode_handshake(hello)); }

// §6: struct { AlertLevel level; AlertDescription description; } in a plaintext alert record.
std::string alert_record_hex(tls::AlertDescription d, tls::AlertLevel level = tls::AlertLevel::fatal) {
    return tls::to_hex(tls::encode_record(tls::ContentType::alert,
                                          tls::Bytes{static_cast<std::uint8_t>(level), static_cast<std::uint8_t>(d)}));
}

// ---- The three chapters --------------------------------------------------------------

struct Chapter {
    std::string server, client, success;  // success: what the client prints after a normal run
};
const Chapter ch03{"ch03-server", "ch03-client", "the server answered with the alert user_canceled"};
const Chapter ch04{"ch04-server", "ch04-client", "ServerHello accepted: TLS_AES_128_GCM_SHA256 with x25519"};
const Chapter ch05{"ch05-server", "ch05-client", "handshake keys derived: TLS_AES_128_GCM_SHA256 with x25519"};
const std::vector<Chapter> all_chapters{ch03, ch04, ch05};

// After a bad connection the server still serves a normal client.
void check_still_serving(const Chapter& chapter, unsigned short port) {
    Process client({bin(chapter.client), "--port", std::to_string(port), "--quiet"});
    CHECK(client.wait(10s) == 0);
    CHECK_MESSAGE(contains(client.out(), chapter.success), client.all());
}

// Sends `bytes` to a fresh `chapter.server` (then half-closes if asked), and checks that
// exactly the alert record `expected_hex` comes back, that the server closes the
// connection, traces the alert it sent, and then still serves a normal client.
void expect_server_answer(const Chapter& chapter, tls::BytesView bytes, const std::string& expected_hex,
                          const std::string& expected_trace, bool half_close = false) {
    CAPTURE(chapter.server);
    auto server = start_server(chapter.server);
    {
        RawClient raw(server.port);
        raw.send(bytes);
        if (half_close) raw.shutdown_write();
        auto reply = raw.read_all(5s);
        CHECK(tls::to_hex(reply) == expected_hex);
        CHECK(raw.peer_closed());
    }
    check_still_serving(chapter, server.port);
    CHECK_MESSAGE(server.process.wait_for(expected_trace, 2s), server.process.all());
}

void expect_alert(const Chapter& chapter, tls::BytesView bytes, tls::AlertDescription d, bool half_close = false) {
    expect_server_answer(chapter, bytes, alert_record_hex(d),
                         fmt::format("-> Alert {}({})", tls::alert_name(d), static_cast<int>(d)), half_close);
}

// ---- A fake server for the client-side tests -----------------------------------------

// Listens on a free port, reads one ClientHello, answers with what `answer` makes of it,
// then collects what the client sends until it closes (every step bounded in time).
class FakeServer {
public:
    using Answer = std::function<tls::Bytes(const tls::ClientHello&)>;

    explicit FakeServer(Answer answer) : answer_(std::move(answer)) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 1) != 0)
            throw std::runtime_error("fake server: bind/listen failed");
        socklen_t len = sizeof a;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeServer() {
        if (thread_.joinable()) thread_.join();
        if (listen_fd_ >= 0) close(listen_fd_);
    }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    unsigned short port() const { return port_; }

    // Waits for the exchange to end; then these hold what happened.
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    const std::optional<tls::ClientHello>& client_hello() const { return client_hello_; }
    const tls::Bytes& received_after_answer() const { return after_; }
    const std::string& error() const { return error_; }

private:
    using Clock = std::chrono::steady_clock;

    // Reads what arrives within the deadline; false when the peer closed or time ran out.
    static bool read_some(int fd, tls::Bytes& into, Clock::time_point deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
        std::uint8_t buf[4096];
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got <= 0) return false;
        into.insert(into.end(), buf, buf + got);
        return true;
    }

    void run() {
        int fd = -1;
        try {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 10000) <= 0) throw std::runtime_error("no client connected within 10 s");
            fd = accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) throw std::runtime_error("accept failed");
            auto deadline = Clock::now() + 5s;
            tls::RecordReader records;
            tls::HandshakeReader messages;
            std::optional<tls::HandshakeMessage> message;
            while (!message) {
                tls::Bytes chunk;
                if (!read_some(fd, chunk, deadline)) throw std::runtime_error("no whole ClientHello within 5 s");
                records.feed(chunk);
                while (auto record = records.next()) {
                    if (record->type != tls::ContentType::handshake) throw std::runtime_error("not a handshake record");
                    messages.feed(record->fragment);
                }
                message = messages.next();
            }
            client_hello_ = tls::ClientHello::decode(message->body);
            auto answer = answer_(*client_hello_);
            ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
            deadline = Clock::now() + 5s;
            while (read_some(fd, after_, deadline)) {
            }
        } catch (const std::exception& e) {
            error_ = e.what();
        }
        if (fd >= 0) close(fd);
    }

    Answer answer_;
    int listen_fd_ = -1;
    unsigned short port_ = 0;
    std::thread thread_;
    std::optional<tls::ClientHello> client_hello_;
    tls::Bytes after_;
    std::string error_;
};

// A ServerHello the ch04 client accepts: its session id echoed, x25519, TLS 1.3.
tls::ServerHello valid_server_hello(const tls::ClientHello& client_hello) {
    tls::ServerHello hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    hello.legacy_session_id_echo = client_hello.legacy_session_id;
    hello.cipher_suite = tls::CipherSuite::TLS_AES_128_GCM_SHA256;
    hello.extensions = {
        tls::make_supported_versions_server(tls::TLS1_3),
        tls::make_key_share_server({tls::NamedGroup::x25519, tls::x25519_keypair().public_key}),
    };
    return hello;
}

struct ClientRun {
    std::optional<int> code;
    std::string output;
    tls::Bytes server_received;  // what the client sent after our ServerHello
};

// Runs the ch04 client against a fake server that answers with `tweak(valid ServerHello)`.
ClientRun run_ch04_client_against(const std::function<void(tls::ServerHello&)>& tweak) {
    FakeServer fake([&](const tls::ClientHello& ch) {
        auto hello = valid_server_hello(ch);
        tweak(hello);
        return as_record(tls::encode_handshake(hello));
    });
    Process client({bin("ch04-client"), "--port", std::to_string(fake.port())});
    ClientRun run;
    run.code = client.wait(10s);
    run.output = client.all();
    fake.join();
    INFO("fake server: ", fake.error());
    CHECK(fake.client_hello().has_value());
    run.server_received = fake.received_after_answer();
    return run;
}

void check_client_rejects(const ClientRun& run, tls::AlertDescription d, const std::string& why) {
    INFO(run.output);
    REQUIRE(run.code.has_value());
    CHECK(*run.code != 0);
    CHECK(contains(run.output, fmt::format("-> Alert {}({})", tls::alert_name(d), static_cast<int>(d))));
    CHECK(contains(run.output, why));
    CHECK_FALSE(contains(run.output, "ServerHello accepted"));
    CHECK_FALSE(contains(run.output, "shared_secret"));
    CHECK(tls::to_hex(run.server_received) == alert_record_hex(d));
}

}  // namespace

// =====================================================================================
// Chapter 03: the ClientHello, decoded on the server side
// =====================================================================================

TEST_CASE("ch03 server decodes every field and extension of the ch03 client's ClientHello") {
    auto server = start_server("ch03-server");
    Process client({bin("ch03-client"), "--port", std::to_string(server.port)});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("ClientHello decoded", 5s));
    auto s = server.process.out();
    INFO(s);
    CHECK(has_line(s, R"(^<- record handshake\(22\) legacy_record_version 0303 length \d+$)"));
    CHECK(has_line(s, R"(^<- ClientHello \(\d+ bytes\))"));
    CHECK(has_line(s, R"(^\s+legacy_version\s+TLS 1\.2 \(0x0303\)$)"));
    CHECK(has_line(s, R"(^\s+random\s+[0-9a-f ]+… \(32 bytes\)$)"));
    CHECK(has_line(s, R"(^\s+legacy_session_id\s+[0-9a-f ]+… \(32 bytes\)$)"));
    CHECK(has_line(s, R"(^\s+cipher_suites\s+TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256$)"));
    CHECK(has_line(s, R"(^\s+legacy_compression_methods\s+00$)"));
    CHECK(has_line(s, R"(^\s+extensions\s+5 extensions$)"));
    CHECK(has_line(s, R"(^\s+server_name\s+localhost$)"));
    CHECK(has_line(s, R"(^\s+supported_groups\s+x25519, secp256r1$)"));
    CHECK(has_line(s, R"(^\s+signature_algorithms\s+ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519, )"
                      R"(rsa_pss_rsae_sha384, rsa_pss_rsae_sha512$)"));
    CHECK(has_line(s, R"(^\s+supported_versions\s+TLS 1\.3 \(0x0304\)$)"));
    CHECK(has_line(s, R"(^\s+key_share\s+x25519 \(0x001d\) [0-9a-f ]+… \(32 bytes\)$)"));
    CHECK(contains(s, "ClientHello decoded: 3 cipher suites, 5 extensions"));
    CHECK(contains(s, "-> Alert user_canceled(90): ServerHello comes in chapter 04"));

    // What the client sent is what the server decoded: same session id, same random.
    auto c = client.out();
    CHECK(field_of(c, "legacy_session_id") == field_of(s, "legacy_session_id"));
    CHECK(field_of(c, "random") == field_of(s, "random"));
    CHECK(contains(c, "the server answered with the alert user_canceled"));
    CHECK(contains(c, "<- Alert user_canceled(90)"));
}

TEST_CASE("ch03 client sends the host name given with --server-name") {
    auto server = start_server("ch03-server");
    Process client({bin("ch03-client"), "--port", std::to_string(server.port), "--server-name", "example.com"});
    CHECK(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("ClientHello decoded", 5s));
    CHECK(has_line(server.process.out(), R"(^\s+server_name\s+example\.com$)"));
}

TEST_CASE("ch03 and later clients refuse an IP address as --server-name before connecting (RFC 6066 §3)") {
    auto server = start_server("ch03-server");
    for (const char* name : {"ch03-client", "ch09-client", "ch15-client"}) {
        for (const char* address : {"127.0.0.1", "::1"}) {
            CAPTURE(name);
            CAPTURE(address);
            Process client({bin(name), "--port", std::to_string(server.port), "--server-name", address});
            auto code = client.wait(10s);
            REQUIRE(code.has_value());
            CHECK(*code != 0);
            CHECK(contains(client.all(), "RFC 6066 §3: a literal IP address is not permitted in HostName"));
        }
    }
    CHECK_FALSE(contains(server.process.all(), "connection #1"));  // refused before any connection
}

TEST_CASE("ch03 --quiet keeps only the result on both sides") {
    auto server = start_server("ch03-server", {"--quiet"});
    Process client({bin("ch03-client"), "--port", std::to_string(server.port), "--quiet"});
    CHECK(client.wait(10s) == 0);
    CHECK(contains(client.out(), "the server answered with the alert user_canceled"));
    CHECK_FALSE(contains(client.out(), "legacy_session_id"));
    REQUIRE(server.process.wait_for("ClientHello decoded: 3 cipher suites, 5 extensions", 5s));
    CHECK_FALSE(contains(server.process.out(), "legacy_session_id"));
}

// =====================================================================================
// Chapter 04: ServerHello and the shared secret
// =====================================================================================

namespace {
struct Ch04Run {
    std::string server_out, client_out;
};

Ch04Run run_ch04(const std::vector<std::string>& client_args) {
    auto server = start_server("ch04-server");
    std::vector<std::string> argv{bin("ch04-client"), "--port", std::to_string(server.port)};
    argv.insert(argv.end(), client_args.begin(), client_args.end());
    Process client(argv);
    auto code = client.wait(10s);
    CHECK_MESSAGE(code == 0, client.all());
    CHECK_MESSAGE(server.process.wait_for("== connection #1 closed", 5s), server.process.all());
    return {server.process.out(), client.out()};
}

void check_same_shared_secret(const Ch04Run& run, const std::string& group, std::size_t secret_length) {
    INFO("server:\n", run.server_out, "\nclient:\n", run.client_out);
    auto server_secret = value_of(run.server_out, "shared_secret");
    auto client_secret = value_of(run.client_out, "shared_secret");
    REQUIRE(!server_secret.empty());
    CHECK(server_secret == client_secret);
    CHECK(tls::from_hex(client_secret).size() == secret_length);
    CHECK(value_of(run.server_out, "negotiated") == "TLS_AES_128_GCM_SHA256, " + group);
    CHECK(value_of(run.client_out, "negotiated") == "TLS_AES_128_GCM_SHA256, " + group);
    CHECK(contains(run.client_out, "ServerHello accepted: TLS_AES_128_GCM_SHA256 with " + group));
    CHECK(has_line(run.client_out, R"(^\s+cipher_suite\s+TLS_AES_128_GCM_SHA256 \(0x1301\)$)"));
    CHECK(has_line(run.client_out, R"(^\s+supported_versions\s+TLS 1\.3 \(0x0304\)$)"));
    // The session id comes back as sent (§4.1.3).
    CHECK(field_of(run.client_out, "legacy_session_id") == field_of(run.client_out, "legacy_session_id_echo"));
    CHECK(contains(run.server_out, "-> Alert user_canceled(90): encryption begins in chapter 06"));
}
}  // namespace

TEST_CASE("ch04 client and server compute the same shared secret with the default groups") {
    auto run = run_ch04({});
    // The client offers both groups; the server prefers x25519.
    check_same_shared_secret(run, "x25519", 32);
    CHECK(has_line(run.client_out, R"(^\s+supported_groups\s+(x25519, secp256r1|secp256r1, x25519)$)"));
    CHECK(has_line(run.client_out, R"(^\s+key_share\s+.*secp256r1 \(0x0017\) 04 .*\(65 bytes\))"));
    CHECK(has_line(run.client_out, R"(^\s+key_share\s+.*x25519 \(0x001d\) .*\(32 bytes\))"));
}

// RFC8446 9.1-3
TEST_CASE("ch04 client and server compute the same shared secret over secp256r1") {
    auto run = run_ch04({"--groups", "secp256r1"});
    check_same_shared_secret(run, "secp256r1", 32);  // §7.4.1: the x coordinate
    CHECK(has_line(run.server_out, R"(^\s+supported_groups\s+secp256r1$)"));
    CHECK(has_line(run.server_out, R"(^\s+key_share\s+secp256r1 \(0x0017\) 04 .*\(65 bytes\)$)"));
}

TEST_CASE("ch04 client and server compute the same shared secret over x25519") {
    auto run = run_ch04({"--groups", "x25519"});
    check_same_shared_secret(run, "x25519", 32);
    CHECK(has_line(run.server_out, R"(^\s+supported_groups\s+x25519$)"));
}

TEST_CASE("ch04 client refuses an unknown group name on the command line before connecting") {
    auto server = start_server("ch04-server");
    Process client({bin("ch04-client"), "--port", std::to_string(server.port), "--groups", "secp384r1"});
    auto code = client.wait(10s);
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(contains(client.all(), "secp384r1 not in {x25519,secp256r1,P-256}"));
    CHECK_FALSE(contains(server.process.all(), "connection #1"));  // rejected before any connection
}

// =====================================================================================
// Chapter 05: the key schedule
// =====================================================================================

namespace {
const char* const schedule_values[] = {
    "shared_secret",        "early_secret",        "handshake_secret",     "transcript_hash",
    "client_handshake_traffic_secret", "server_handshake_traffic_secret", "client_handshake key",
    "client_handshake iv",  "server_handshake key", "server_handshake iv",  "master_secret",
};

// The number of key-log lines, each a distinct (label, client random).
std::size_t keylog_entries(const std::string& text) {
    std::size_t n = 0;
    for (auto& [random, secrets] : parse_keylog(text)) n += secrets.size();
    return n;
}

// Both handshake lines, in NSS format, matching the secrets in the trace.
void check_keylog_matches_trace(const std::string& keylog, const std::string& trace) {
    INFO("key log:\n", keylog);
    auto lines = lines_of(keylog);
    REQUIRE(lines.size() == 2);
    std::regex nss(R"(^(CLIENT|SERVER)_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64}$)");
    for (auto& line : lines) CHECK_MESSAGE(std::regex_match(line, nss), line);
    auto random = lines[0].substr(lines[0].find(' ') + 1, 64);
    // The trace shows the first 16 bytes of ClientHello.random.
    auto shown = without_spaces(field_of(trace, "random"));
    CHECK(random.substr(0, 32) == shown.substr(0, 32));
    CHECK(lines[0] == "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + random + " " +
                          without_spaces(value_of(trace, "client_handshake_traffic_secret")));
    CHECK(lines[1] == "SERVER_HANDSHAKE_TRAFFIC_SECRET " + random + " " +
                          without_spaces(value_of(trace, "server_handshake_traffic_secret")));
}
}  // namespace

TEST_CASE("ch05 client and server derive identical handshake secrets keys and IVs") {
    auto server = start_server("ch05-server");
    Process client({bin("ch05-client"), "--port", std::to_string(server.port)});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto s = server.process.out(), c = client.out();
    INFO("server:\n", s, "\nclient:\n", c);
    for (auto name : schedule_values) {
        CAPTURE(name);
        CHECK(!value_of(c, name).empty());
        CHECK(value_of(s, name) == value_of(c, name));
    }
    // §7.1 with no PSK: Early Secret = HKDF-Extract(0, 0) for SHA-256, the same every time.
    CHECK(without_spaces(value_of(c, "early_secret")) ==
          "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
    // TLS_AES_128_GCM_SHA256: 16-byte keys, 12-byte IVs (§7.3).
    CHECK(tls::from_hex(value_of(c, "client_handshake key")).size() == 16);
    CHECK(tls::from_hex(value_of(c, "server_handshake iv")).size() == 12);
    CHECK(value_of(c, "client_handshake key") != value_of(c, "server_handshake key"));
    CHECK(contains(c, "handshake keys derived: TLS_AES_128_GCM_SHA256 with x25519"));
}

TEST_CASE("ch05 client and server derive identical secrets over secp256r1") {
    auto server = start_server("ch05-server");
    Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--groups", "secp256r1"});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto s = server.process.out(), c = client.out();
    INFO("server:\n", s, "\nclient:\n", c);
    for (auto name : schedule_values) {
        CAPTURE(name);
        CHECK(value_of(s, name) == value_of(c, name));
    }
    CHECK(contains(c, "handshake keys derived: TLS_AES_128_GCM_SHA256 with secp256r1"));
}

TEST_CASE("ch05 --keylog on both sides writes identical NSS handshake traffic secret lines") {
    TempDir dir;
    auto server = start_server("ch05-server", {"--keylog", dir.file("server.keys")});
    Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--keylog", dir.file("client.keys")});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto server_log = read_file(dir.file("server.keys")), client_log = read_file(dir.file("client.keys"));
    CHECK(server_log == client_log);
    check_keylog_matches_trace(client_log, client.out());
    check_keylog_matches_trace(server_log, server.process.out());
}

TEST_CASE("ch05 --keylog appends one pair of lines per connection") {
    TempDir dir;
    auto server = start_server("ch05-server", {"--keylog", dir.file("server.keys")});
    for (int i = 0; i < 2; ++i) {
        Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--quiet"});
        REQUIRE(client.wait(10s) == 0);
    }
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    CHECK(keylog_entries(read_file(dir.file("server.keys"))) == 4);  // two labels x two client randoms
}

TEST_CASE("ch05 client writes its key log to SSLKEYLOGFILE when --keylog is absent") {
    TempDir dir;
    auto server = start_server("ch05-server", {"--keylog", dir.file("server.keys")});
    Process client({bin("ch05-client"), "--port", std::to_string(server.port)},
                   {"SSLKEYLOGFILE=" + dir.file("env.keys")});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto env_log = read_file(dir.file("env.keys"));
    CHECK(env_log == read_file(dir.file("server.keys")));
    check_keylog_matches_trace(env_log, client.out());
}

TEST_CASE("ch05 server writes its key log to SSLKEYLOGFILE when --keylog is absent") {
    TempDir dir;
    auto server = start_server("ch05-server", {}, {"SSLKEYLOGFILE=" + dir.file("env.keys")});
    Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--keylog", dir.file("client.keys")});
    REQUIRE(client.wait(10s) == 0);
    REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
    auto env_log = read_file(dir.file("env.keys"));
    CHECK(env_log == read_file(dir.file("client.keys")));
    check_keylog_matches_trace(env_log, server.process.out());
}

TEST_CASE("ch05 --keylog takes precedence over SSLKEYLOGFILE") {
    TempDir dir;
    auto server = start_server("ch05-server");
    Process client({bin("ch05-client"), "--port", std::to_string(server.port), "--keylog", dir.file("option.keys")},
                   {"SSLKEYLOGFILE=" + dir.file("env.keys")});
    REQUIRE(client.wait(10s) == 0);
    CHECK(keylog_entries(read_file(dir.file("option.keys"))) == 2);
    CHECK_FALSE(std::filesystem::exists(dir.file("env.keys")));
}

TEST_CASE("ch05 without --keylog or SSLKEYLOGFILE writes no key log") {
    TempDir dir;
    auto server = start_server("ch05-server");
    // Run in the empty directory, with SSLKEYLOGFILE unset even if the test runner has it.
    Process client({"/bin/sh", "-c", "cd '" + dir.path + "' && unset SSLKEYLOGFILE && exec '" +
                                         bin("ch05-client") + "' --quiet --port " + std::to_string(server.port)});
    CHECK(client.wait(10s) == 0);
    CHECK(std::filesystem::is_empty(dir.path));
}

// =====================================================================================
// Bad input to the servers: the exact alert on the wire, then the server keeps serving
// =====================================================================================

TEST_CASE("ch03 ch04 and ch05 servers answer a ClientHello cut short at end of stream with decode_error") {
    // A whole record holding a handshake header that promises 256 body bytes, then 10 of them.
    tls::Bytes message = tls::from_hex("01000100");
    auto body = tls::encode_handshake(good_client_hello());
    message.insert(message.end(), body.begin() + 4, body.begin() + 14);
    for (auto& chapter : all_chapters)
        expect_alert(chapter, as_record(message), tls::AlertDescription::decode_error, /*half_close=*/true);
}

TEST_CASE("ch03 ch04 and ch05 servers answer a ClientHello record cut short at end of stream with decode_error") {
    auto record = as_record(good_client_hello());
    record.resize(record.size() / 2);
    for (auto& chapter : all_chapters)
        expect_alert(chapter, record, tls::AlertDescription::decode_error, /*half_close=*/true);
}

TEST_CASE("ch03 ch04 and ch05 servers answer a supported_groups list longer than its extension with decode_error") {
    auto hello = good_client_hello();
    // named_group_list says 6 bytes; 4 follow.
    replace_extension(hello, {tls::ExtensionType::supported_groups, tls::from_hex("0006 001d 0017")});
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::decode_error);
}

TEST_CASE("ch03 ch04 and ch05 servers answer a cipher_suites vector of odd length with decode_error") {
    // cipher_suites<2..2^16-2> holds uint16s; a length of 3 cannot be right.
    auto body = good_client_hello().encode();
    std::size_t at = 2 + 32 + 1 + 32;  // legacy_version, random, legacy_session_id
    REQUIRE(body[at] == 0x00);
    REQUIRE(body[at + 1] == 0x02);
    body[at + 1] = 0x03;
    for (auto& chapter : all_chapters)
        expect_alert(chapter, as_record(tls::encode_handshake(tls::HandshakeType::client_hello, body)),
                     tls::AlertDescription::decode_error);
}

TEST_CASE("ch03 ch04 and ch05 servers answer bytes after the ClientHello's extensions with decode_error") {
    auto body = good_client_hello().encode();
    body.push_back(0x00);  // the handshake length covers it; the ClientHello does not
    for (auto& chapter : all_chapters)
        expect_alert(chapter, as_record(tls::encode_handshake(tls::HandshakeType::client_hello, body)),
                     tls::AlertDescription::decode_error);
}

// RFC8446 4.2.1-3
TEST_CASE("ch03 ch04 and ch05 servers answer a ClientHello without supported_versions with protocol_version") {
    auto hello = good_client_hello();
    remove_extension(hello, tls::ExtensionType::supported_versions);
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::protocol_version);
}

// RFC8446 D.2-3
TEST_CASE("ch03 ch04 and ch05 servers answer a TLS 1.2 ClientHello without extensions with protocol_version") {
    auto hello = good_client_hello();
    hello.extensions.clear();  // §4.1.2: a pre-1.3 ClientHello may have no extensions field at all
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::protocol_version);
}

// RFC8446 4.2.1-6
// RFC8446 4.2.1-4
TEST_CASE("ch03 ch04 and ch05 servers answer supported_versions without 0x0304 with protocol_version") {
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_supported_versions_client({tls::TLS1_2, 0x0302}));
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::protocol_version);
}

// RFC8446 2.1-1
TEST_CASE("ch04 and ch05 servers answer a ClientHello with no common cipher suite with handshake_failure") {
    auto hello = good_client_hello();
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_CCM_SHA256, static_cast<tls::CipherSuite>(0xc02f)};
    for (auto& chapter : {ch04, ch05}) expect_alert(chapter, as_record(hello), tls::AlertDescription::handshake_failure);
}

TEST_CASE("ch03 server decodes a ClientHello with no common cipher suite and still cancels with user_canceled") {
    // Chapter 03 negotiates nothing: it decodes, checks the version, and always cancels.
    auto hello = good_client_hello();
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_CCM_SHA256};
    expect_server_answer(ch03, as_record(hello),
                         alert_record_hex(tls::AlertDescription::user_canceled, tls::AlertLevel::warning),
                         "ClientHello decoded: 1 cipher suites, 5 extensions");
}

TEST_CASE("ch04 and ch05 servers answer a ClientHello with no key share for a group they support with handshake_failure") {
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_supported_groups({tls::NamedGroup::secp384r1}));
    tls::Bytes p384_point(97, 0x01);
    p384_point[0] = 0x04;
    replace_extension(hello, tls::make_key_share_client({{tls::NamedGroup::secp384r1, p384_point}}));
    for (auto& chapter : {ch04, ch05}) expect_alert(chapter, as_record(hello), tls::AlertDescription::handshake_failure);
    // Chapter 03 does not negotiate groups: it decodes and cancels.
    expect_server_answer(ch03, as_record(hello),
                         alert_record_hex(tls::AlertDescription::user_canceled, tls::AlertLevel::warning),
                         "ClientHello decoded: 1 cipher suites, 5 extensions");
}

TEST_CASE("ch03 ch04 and ch05 servers answer supported_groups without a key_share extension with missing_extension") {
    // §9.2: "If containing a "supported_groups" extension, it MUST also contain a "key_share" extension".
    auto hello = good_client_hello();
    remove_extension(hello, tls::ExtensionType::key_share);
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::missing_extension);
}

TEST_CASE("ch04 and ch05 servers answer an empty key_share with handshake_failure") {
    // §9.2: "An empty KeyShare.client_shares vector is permitted" — but with no share we can
    // use, and no HelloRetryRequest before chapter 10, there is nothing to agree on (§4.1.1).
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_key_share_client({}));
    for (auto& chapter : {ch04, ch05}) expect_alert(chapter, as_record(hello), tls::AlertDescription::handshake_failure);
}

// RFC8446 4.2-5
TEST_CASE("ch03 ch04 and ch05 servers answer a duplicated extension with illegal_parameter") {
    auto hello = good_client_hello();
    hello.extensions.push_back(tls::make_server_name("localhost"));
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::illegal_parameter);
}

// RFC8446 4.2.8-1, 4.2.8-4
TEST_CASE("ch03 ch04 and ch05 servers answer a key share for a group not in supported_groups with illegal_parameter") {
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_supported_groups({tls::NamedGroup::secp256r1}));  // but the share is x25519
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::illegal_parameter);
}

// RFC8446 4.2.8-1
TEST_CASE("ch03 ch04 and ch05 servers answer key shares out of supported_groups order with illegal_parameter") {
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_supported_groups({tls::NamedGroup::x25519, tls::NamedGroup::secp256r1}));
    replace_extension(hello, tls::make_key_share_client({{tls::NamedGroup::secp256r1, tls::p256_keypair().public_key},
                                                         {tls::NamedGroup::x25519, tls::x25519_keypair().public_key}}));
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::illegal_parameter);
}

// RFC8446 4.1.2-13, 4.1.2-14
TEST_CASE("ch03 ch04 and ch05 servers answer compression methods other than null with illegal_parameter") {
    auto hello = good_client_hello();
    hello.legacy_compression_methods = {1, 0};
    for (auto& chapter : all_chapters) expect_alert(chapter, as_record(hello), tls::AlertDescription::illegal_parameter);
}

// RFC8446 7.4.2-3
TEST_CASE("ch04 server answers an all-zero X25519 share with illegal_parameter") {
    // §7.4.2: the all-zero shared secret must be refused. Whatever the server sent before
    // noticing, the connection must end with the illegal_parameter alert and no secret.
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_key_share_client({{tls::NamedGroup::x25519, tls::Bytes(32, 0)}}));
    for (auto& chapter : {ch04, ch05}) {
        CAPTURE(chapter.server);
        auto server = start_server(chapter.server);
        {
            RawClient raw(server.port);
            raw.send(as_record(hello));
            auto reply = raw.read_all(5s);
            CHECK(raw.peer_closed());
            auto hex = tls::to_hex(reply);
            auto alert = alert_record_hex(tls::AlertDescription::illegal_parameter);
            REQUIRE(hex.size() >= alert.size());
            CHECK(hex.substr(hex.size() - alert.size()) == alert);
            if (hex != alert) {
                // Anything before the alert can only be the ServerHello record.
                tls::RecordReader records;
                records.feed(reply);
                auto first = records.next();
                REQUIRE(first.has_value());
                CHECK(first->type == tls::ContentType::handshake);
                CHECK(first->fragment.at(0) == static_cast<std::uint8_t>(tls::HandshakeType::server_hello));
                CHECK(tls::to_hex(reply).size() == (tls::record_header_length + first->fragment.size()) * 2 + alert.size());
            }
        }
        REQUIRE(server.process.wait_for("== connection #1 closed", 5s));
        auto trace = server.process.out();
        CHECK_MESSAGE(contains(trace, "-> Alert illegal_parameter(47)"), trace);
        CHECK_MESSAGE(!contains(trace, "shared_secret"), trace);
        check_still_serving(chapter, server.port);
    }
}

// RFC8446 4.2.8.2-1
TEST_CASE("ch04 server answers a secp256r1 share that is not on the curve with illegal_parameter") {
    auto hello = good_client_hello();
    replace_extension(hello, tls::make_supported_groups({tls::NamedGroup::secp256r1}));
    tls::Bytes bogus(65, 0x01);
    bogus[0] = 0x04;
    replace_extension(hello, tls::make_key_share_client({{tls::NamedGroup::secp256r1, bogus}}));
    auto server = start_server("ch04-server");
    {
        RawClient raw(server.port);
        raw.send(as_record(hello));
        auto hex = tls::to_hex(raw.read_all(5s));
        auto alert = alert_record_hex(tls::AlertDescription::illegal_parameter);
        REQUIRE(hex.size() >= alert.size());
        CHECK(hex.substr(hex.size() - alert.size()) == alert);
        CHECK(raw.peer_closed());
    }
    check_still_serving(ch04, server.port);
}

// RFC8446 4-2
TEST_CASE("ch03 ch04 and ch05 servers answer a Finished as the first message with unexpected_message") {
    tls::Finished finished{tls::Bytes(32, 0xab)};
    for (auto& chapter : all_chapters)
        expect_alert(chapter, as_record(tls::encode_handshake(finished)), tls::AlertDescription::unexpected_message);
}

// RFC8446 4-2
TEST_CASE("ch03 ch04 and ch05 servers answer a ServerHello as the first message with unexpected_message") {
    auto hello = valid_server_hello(good_client_hello());
    for (auto& chapter : all_chapters)
        expect_alert(chapter, as_record(tls::encode_handshake(hello)), tls::AlertDescription::unexpected_message);
}

TEST_CASE("ch03 ch04 and ch05 servers answer application data before the ClientHello with unexpected_message") {
    auto record = tls::encode_record(tls::ContentType::application_data, tls::to_bytes("GET / HTTP/1.1\r\n\r\n"));
    for (auto& chapter : all_chapters) expect_alert(chapter, record, tls::AlertDescription::unexpected_message);
}

// =====================================================================================
// Bad input to the ch04 client: crafted ServerHellos from a fake server
// =====================================================================================

TEST_CASE("ch04 client accepts a well-formed ServerHello from the fake server") {
    // The control for the cases below: the fake server itself is right.
    auto run = run_ch04_client_against([](tls::ServerHello&) {});
    INFO(run.output);
    CHECK(run.code == 0);
    CHECK(contains(run.output, "ServerHello accepted: TLS_AES_128_GCM_SHA256 with x25519"));
    CHECK(tls::to_hex(run.server_received) ==
          alert_record_hex(tls::AlertDescription::user_canceled, tls::AlertLevel::warning));
}

// RFC8446 4.1.3-4
TEST_CASE("ch04 client answers a wrong legacy_session_id_echo with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) { h.legacy_session_id_echo.at(0) ^= 0xff; });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "legacy_session_id_echo differs");
}

TEST_CASE("ch04 client answers an empty legacy_session_id_echo with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) { h.legacy_session_id_echo.clear(); });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "legacy_session_id_echo differs");
}

// RFC8446 4.1.3-5
TEST_CASE("ch04 client answers a cipher suite it did not offer with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) { h.cipher_suite = tls::CipherSuite::TLS_AES_128_CCM_SHA256; });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "cipher suite we did not offer");
}

// RFC8446 4.2.1-12
TEST_CASE("ch04 client answers supported_versions selecting TLS 1.2 with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) {
        h.extensions.at(0) = tls::make_supported_versions_server(tls::TLS1_2);
    });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "supported_versions selects");
}

// RFC8446 4.1.3-13, 4.1.3-15
TEST_CASE("ch04 client answers the TLS 1.2 downgrade sentinel in ServerHello.random with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) {
        std::copy(tls::downgrade_tls12.begin(), tls::downgrade_tls12.end(), h.random.end() - 8);
    });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "downgrade sentinel");
}

// RFC8446 4.1.3-13, 4.1.3-15
TEST_CASE("ch04 client answers the TLS 1.1 downgrade sentinel in ServerHello.random with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) {
        std::copy(tls::downgrade_tls11.begin(), tls::downgrade_tls11.end(), h.random.end() - 8);
    });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "downgrade sentinel");
}

// RFC8446 4.2.8-8
TEST_CASE("ch04 client answers a key share for a group it sent no share for with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) {
        h.extensions.at(1) = tls::make_key_share_server({tls::NamedGroup::secp384r1, tls::Bytes(97, 0x04)});
    });
    check_client_rejects(run, tls::AlertDescription::illegal_parameter, "key_share for a group we sent no share for");
}

TEST_CASE("ch04 client answers an all-zero X25519 share from the server with illegal_parameter") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) {
        h.extensions.at(1) = tls::make_key_share_server({tls::NamedGroup::x25519, tls::Bytes(32, 0)});
    });
    INFO(run.output);
    REQUIRE(run.code.has_value());
    CHECK(*run.code != 0);
    CHECK(contains(run.output, "-> Alert illegal_parameter(47)"));
    CHECK_FALSE(contains(run.output, "ServerHello accepted"));
    CHECK(tls::to_hex(run.server_received) == alert_record_hex(tls::AlertDescription::illegal_parameter));
}

namespace {
// §4.1.4: a HelloRetryRequest that asks for a group we did not offer, or one we already
// sent a share for, would change nothing: "illegal_parameter". The ch04 client sends a
// share for every group it offers, so every HelloRetryRequest is one of these.
void check_client_rejects_hello_retry_request(tls::NamedGroup selected_group) {
    auto run = run_ch04_client_against([&](tls::ServerHello& h) {
        h.random = tls::hello_retry_request_random;
        h.extensions = {tls::make_supported_versions_server(tls::TLS1_3), tls::make_key_share_hrr(selected_group)};
    });
    INFO(run.output);
    REQUIRE(run.code.has_value());
    CHECK(*run.code != 0);
    // The trace names the message for what it is, and the alert says why.
    CHECK(has_line(run.output, R"(^\s+random\s+HelloRetryRequest)"));
    CHECK(has_line(run.output, R"(^-> Alert illegal_parameter\(47\): .*HelloRetryRequest.*)" + tls::name(selected_group)));
    CHECK_FALSE(contains(run.output, "ServerHello accepted"));
    CHECK(tls::to_hex(run.server_received) == alert_record_hex(tls::AlertDescription::illegal_parameter));
}
}  // namespace

TEST_CASE("ch04 client says clearly that it received a HelloRetryRequest for a group it did not offer and exits non-zero") {
    check_client_rejects_hello_retry_request(tls::NamedGroup::secp384r1);
}

TEST_CASE("ch04 client says clearly that it received a HelloRetryRequest for a group it already sent a share for") {
    check_client_rejects_hello_retry_request(tls::NamedGroup::x25519);
}

// RFC8446 4.2.1-10
// RFC8446 D.1-3
TEST_CASE("ch04 client answers a ServerHello without supported_versions with protocol_version") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) { h.extensions.erase(h.extensions.begin()); });
    check_client_rejects(run, tls::AlertDescription::protocol_version, "the server did not select TLS 1.3");
}

TEST_CASE("ch04 client answers a ServerHello without key_share with missing_extension") {
    auto run = run_ch04_client_against([](tls::ServerHello& h) { h.extensions.pop_back(); });
    check_client_rejects(run, tls::AlertDescription::missing_extension, "ServerHello has no key_share");
}
