// Hostile peers against the real chapter programs: forged plaintext alerts once records are
// protected, legacy_version 0x0300, missing extensions, zero-length fragments, a ClientHello
// as large as the RFC allows, early data a server does not accept. Each test sends real
// bytes over a real socket, checks the exact alert the RFC names, and then that the server
// still serves another client.
#include "peers.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

namespace {

void check_still_serves(const std::string& server_program, unsigned short port) {
    if (server_program < "ch09-server") {
        // An earlier chapter's server: its own client runs to its own end.
        auto client_program = server_program.substr(0, 5) + "client";
        Process client({bin(client_program), "--port", std::to_string(port)});
        CHECK(client.wait() == 0);
        return;
    }
    // Chapter 09 on: a complete client, told what to send.
    Process client({bin(server_program.substr(0, 5) + "client"), "--port", std::to_string(port), "--message",
                    "still serving"});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "received message: still serving");
}

// A plain ClientHello like the chapter clients send, for crafting bad ones.
tls::ClientHello plain_client_hello() {
    tls::ClientHello hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.extensions = {tls::make_server_name("localhost"), tls::make_supported_groups({tls::NamedGroup::x25519}),
                        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256}),
                        tls::make_supported_versions_client({tls::TLS1_3}),
                        tls::make_key_share_client({{tls::NamedGroup::x25519, tls::x25519_keypair().public_key}})};
    return hello;
}

tls::Bytes as_records(const tls::ClientHello& hello) {
    tls::Bytes out;
    for (auto& record : tls::encode_records(tls::ContentType::handshake, tls::encode_handshake(hello), 0x0301))
        out.insert(out.end(), record.begin(), record.end());
    return out;
}

// Sends `bytes` to each server and expects exactly the plaintext alert `alert` back (the
// server has no keys yet), then the connection closed and another client served.
void check_plaintext_answer(const std::vector<std::string>& servers, const tls::Bytes& bytes, const std::string& alert_hex) {
    for (auto& program : servers) {
        INFO(program);
        auto server = start_server(program);
        RawClient raw(server.port);
        raw.send(bytes);
        auto reply = raw.read_all(5s);
        CHECK(tls::to_hex(reply) == alert_hex);
        CHECK(raw.peer_closed());
        check_still_serves(program, server.port);
    }
}

const std::vector<std::string> servers_04_on = {"ch04-server", "ch05-server", "ch06-server", "ch07-server",
                                                   "ch08-server", "ch09-server", "ch10-server", "ch11-server"};

std::string alert_line(const std::string& alert) { return "-> Alert " + alert; }

}  // namespace

// ---- Defect 1: forged plaintext alerts once records are protected (§5, §5.2, §6, D.4) ----

TEST_CASE("ch09 server answers a forged plaintext close_notify after the handshake with unexpected_message") {
    auto server = start_server("ch09-server");
    std::string echoed;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn);
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("one echo"));
        auto record = co_await conn.records().read_record();
        REQUIRE(record);
        echoed = tls::to_string(record->fragment);
        // What an attacker on the path injects: close_notify, in plaintext.
        co_await conn.records().write_raw(tls::from_hex("15030300020100"));
        auto answer = co_await read_until_alert(conn);
        CHECK(answer == "unexpected_message(10)");
    });
    CHECK(outcome == "");
    CHECK(echoed == "one echo");
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    auto out = server.process.all();
    CHECK_CONTAINS(out, alert_line("unexpected_message(10): plaintext alert after the peer's records were protected"));
    CHECK(out.find("closed cleanly") == std::string::npos);
    check_still_serves("ch09-server", server.port);
}

TEST_CASE("ch09 server answers a forged plaintext fatal alert after the handshake with unexpected_message") {
    auto server = start_server("ch09-server");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn);
        co_await conn.records().write_raw(tls::from_hex("15030300020228"));  // handshake_failure
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    CHECK(outcome == "");
    CHECK(server.process.wait_for(alert_line("unexpected_message(10)"), 5s));
    CHECK(server.process.all().find("peer sent alert") == std::string::npos);
    check_still_serves("ch09-server", server.port);
}

// RFC8446 6-2, 6.2-1, 6.2-5
TEST_CASE("ch09 server takes a plaintext fatal alert before the client's first protected record as the client's failure") {
    // The client may have failed before it had our keys: it can only answer in plaintext.
    auto server = start_server("ch09-server");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, {}, /*finish=*/false);
        co_await conn.records().write_raw(tls::from_hex("1503030002022a"));  // bad_certificate
        CHECK(co_await read_until_alert(conn) == "(closed without an alert)");
    });
    CHECK(outcome == "");
    CHECK(server.process.wait_for("<- Alert bad_certificate(42)", 5s));
    CHECK(server.process.all().find("-> Alert") == std::string::npos);
    check_still_serves("ch09-server", server.port);
}

TEST_CASE("ch09 server never takes a plaintext close_notify after its keys are installed as a clean close") {
    auto server = start_server("ch09-server");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, {}, /*finish=*/false);
        co_await conn.records().write_raw(tls::from_hex("15030300020100"));
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    CHECK(outcome == "");
    CHECK(server.process.wait_for(alert_line("unexpected_message(10): plaintext close_notify after keys were installed"), 5s));
    check_still_serves("ch09-server", server.port);
}

TEST_CASE("ch09 client answers a forged plaintext close_notify with unexpected_message") {
    ScriptedServer server([](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await server_handshake(conn);
        auto request = co_await conn.records().read_record();  // the client's message
        REQUIRE(request);
        // Instead of the echo: an attacker's close_notify, in plaintext.
        co_await conn.records().write_raw(tls::from_hex("15030300020100"));
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    Process client({bin("ch09-client"), "--port", std::to_string(server.port()), "--message", "hello"});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK_CONTAINS(client.out(), alert_line("unexpected_message(10): plaintext alert after the peer's records were protected"));
    CHECK(client.out().find("received message") == std::string::npos);
}

TEST_CASE("ch09 client in stdin mode answers a forged plaintext close_notify with unexpected_message") {
    ScriptedServer server([](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await server_handshake(conn);
        co_await conn.records().write_raw(tls::from_hex("15030300020100"));
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    Process client({bin("ch09-client"), "--port", std::to_string(server.port())});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK_CONTAINS(client.err(), alert_line("unexpected_message(10)"));
    CHECK(client.err().find("connection closed") == std::string::npos);
}

// RFC8446 5-1
TEST_CASE("ch09 server drops every change_cipher_spec 01 during the handshake (§5, Appendix D.4)") {
    auto server = start_server("ch09-server");
    std::string echoed;
    ClientTweaks tweaks;
    tweaks.after_hello = tls::from_hex("140303000101" "140303000101" "140303000101");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, tweaks);
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("three CCS"));
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn, &echoed) == "close_notify(0)");
    });
    CHECK(outcome == "");
    CHECK(echoed == "three CCS");
    CHECK(server.process.wait_for("connection closed cleanly", 5s));
    CHECK(count_of(server.process.all(), "change_cipher_spec dropped") == 3);
}

// RFC8446 5-3
TEST_CASE("ch09 server answers a change_cipher_spec after the handshake with unexpected_message") {
    auto server = start_server("ch09-server");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn);
        co_await conn.records().write_raw(tls::from_hex("140303000101"));
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    CHECK(outcome == "");
    CHECK(server.process.wait_for(alert_line("unexpected_message(10): change_cipher_spec outside the handshake"), 5s));
    check_still_serves("ch09-server", server.port);
}

// ---- Defect 2: legacy_version 0x0300 or lower (Appendix D.5) -------------------------------

// RFC8446 D.5-10
TEST_CASE("ch03-ch11 servers answer a ClientHello with legacy_version 0x0300 with protocol_version") {
    for (std::uint16_t version : {0x0300, 0x0200}) {
        INFO("legacy_version " << version);
        auto hello = plain_client_hello();  // supported_versions still offers 0x0304
        hello.legacy_version = version;
        std::vector<std::string> servers = {"ch03-server"};
        servers.insert(servers.end(), servers_04_on.begin(), servers_04_on.end());
        check_plaintext_answer(servers, as_records(hello), "15030300020246");
    }
}

// RFC8446 D.5-10
TEST_CASE("ch09 client answers a ServerHello with legacy_version 0x0300 with protocol_version") {
    ScriptedServer server([](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        ServerTweaks tweaks;  // (not a braced temporary in the co_await: g++ 12)
        tweaks.edit_server_hello = [](tls::ServerHello& hello) { hello.legacy_version = 0x0300; };
        co_await server_handshake(conn, tweaks);
    });
    Process client({bin("ch09-client"), "--port", std::to_string(server.port()), "--message", "x"});
    CHECK(client.wait() == 1);
    CHECK_CONTAINS(client.out(), alert_line("protocol_version(70)"));
    CHECK(server.outcome() == "peer alert protocol_version(70)");
}

// ---- Defect 3: supported_groups and key_share come together (§9.2) ----------------------

// RFC8446 9.2-11, 9.2-12
TEST_CASE("ch04-ch11 servers answer supported_groups without key_share with missing_extension") {
    auto hello = plain_client_hello();
    std::erase_if(hello.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::key_share; });
    check_plaintext_answer(servers_04_on, as_records(hello), "1503030002026d");
}

// RFC8446 9.2-11, 9.2-12
TEST_CASE("ch09 server answers key_share without supported_groups with missing_extension") {
    auto hello = plain_client_hello();
    std::erase_if(hello.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::supported_groups; });
    check_plaintext_answer({"ch09-server"}, as_records(hello), "1503030002026d");
}

// RFC8446 9.2-10, 9.2-12, 4.2.3-3
// RFC8446 9.2-9
TEST_CASE("ch09 server answers a ClientHello without signature_algorithms or a PSK with missing_extension") {
    auto hello = plain_client_hello();
    std::erase_if(hello.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::signature_algorithms; });
    check_plaintext_answer({"ch09-server"}, as_records(hello), "1503030002026d");
}

// ---- Defect 4: zero-length Alert and Handshake fragments (§5.1) --------------------------

// RFC8446 5.4-2
TEST_CASE("ch09 server answers a zero-length plaintext alert or handshake record with unexpected_message") {
    check_plaintext_answer({"ch09-server"}, tls::from_hex("1503030000"), "1503030002020a");
    check_plaintext_answer({"ch09-server"}, tls::from_hex("1603030000"), "1503030002020a");
}

TEST_CASE("ch09 server answers a protected zero-length alert under handshake keys with unexpected_message") {
    for (std::size_t padding : {0, 1, 100}) {
        INFO("padding " << padding);
        auto server = start_server("ch09-server");
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            auto session = co_await client_handshake(conn, {}, /*finish=*/false);
            co_await conn.records().write_raw(seal_record(session.suite, session.client_handshake_traffic_secret, 0,
                                                          tls::ContentType::alert, {}, padding));
            CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
        });
        CHECK(outcome == "");
        CHECK(server.process.wait_for(alert_line("unexpected_message(10): zero-length alert fragment"), 5s));
        check_still_serves("ch09-server", server.port);
    }
}

// RFC8446 5.4-2
TEST_CASE("ch09 server answers a protected zero-length alert or handshake under application keys with unexpected_message") {
    for (auto type : {tls::ContentType::alert, tls::ContentType::handshake}) {
        INFO(tls::name(type));
        auto server = start_server("ch09-server");
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            auto session = co_await client_handshake(conn);
            co_await conn.records().write_raw(
                seal_record(session.suite, session.client_application_traffic_secret_0, 0, type, {}, 16));
            CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
        });
        CHECK(outcome == "");
        CHECK(server.process.wait_for(alert_line("unexpected_message(10): zero-length " + tls::name(type)), 5s));
        check_still_serves("ch09-server", server.port);
    }
}

TEST_CASE("ch09 server takes a zero-length application data record and goes on") {
    auto server = start_server("ch09-server");
    std::string echoed;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto session = co_await client_handshake(conn);
        // §5.1: "Zero-length fragments of Application Data MAY be sent".
        co_await conn.records().write_records(tls::ContentType::application_data, {});
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("after"));
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn, &echoed) == "close_notify(0)");
    });
    CHECK(outcome == "");
    CHECK(echoed == "after");
    CHECK(server.process.wait_for("connection closed cleanly after echoing 5 bytes", 5s));
}

// ---- Defect 5: handshake messages as large as the RFC allows, across records (§4, §5.1) ---

TEST_CASE("ch09 server completes a handshake whose ClientHello has 32715 signature schemes in five records") {
    auto server = start_server("ch09-server");
    std::size_t hello_size = 0;
    std::string echoed;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        ClientTweaks tweaks;
        tweaks.edit_hello = [&](tls::ClientHello& hello) {
            // signature_algorithms<2..2^16-2>: 32715 entries, 65430 bytes; ours comes last.
            std::vector<tls::SignatureScheme> schemes(32714, static_cast<tls::SignatureScheme>(0x0a0a));
            schemes.push_back(tls::SignatureScheme::ecdsa_secp256r1_sha256);
            for (auto& e : hello.extensions)
                if (e.extension_type == tls::ExtensionType::signature_algorithms) e = tls::make_signature_algorithms(schemes);
            hello_size = tls::encode_handshake(hello).size();
        };
        co_await client_handshake(conn, tweaks);
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("big hello"));
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn, &echoed) == "close_notify(0)");
    });
    CHECK_MESSAGE(outcome == "", "server output:\n" << server.process.all().substr(0, 3000));
    CHECK(hello_size > 4 * (1 << 14));  // five records of at most 2^14 bytes
    CHECK(echoed == "big hello");
    CHECK(server.process.wait_for("connection closed cleanly", 5s));
}

// RFC8446 4.1.2-16, 4.4.2.1-3, 9.3-4, 9.3-2
TEST_CASE("ch09-ch11 servers ignore unknown cipher suites, groups, key shares, schemes, versions and extensions") {
    for (std::string program : {"ch09-server", "ch10-server", "ch11-server"}) {
        INFO(program);
        auto server = start_server(program);
        std::string echoed;
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            ClientTweaks tweaks;
            tweaks.edit_hello = [](tls::ClientHello& hello) {
                // GREASE values (RFC 8701) and code points we do not implement, before ours.
                const auto grease_group = static_cast<tls::NamedGroup>(0x2a2a);
                hello.cipher_suites = {static_cast<tls::CipherSuite>(0x0a0a), static_cast<tls::CipherSuite>(0xc02b),
                                       tls::CipherSuite::TLS_AES_128_GCM_SHA256};
                for (auto& e : hello.extensions) {
                    if (e.extension_type == tls::ExtensionType::supported_groups)
                        e = tls::make_supported_groups({grease_group, static_cast<tls::NamedGroup>(0x11ec), tls::NamedGroup::x25519});
                    else if (e.extension_type == tls::ExtensionType::signature_algorithms)
                        e = tls::make_signature_algorithms({static_cast<tls::SignatureScheme>(0x0a0a),
                                                            static_cast<tls::SignatureScheme>(0x0401),  // rsa_pkcs1_sha256
                                                            tls::SignatureScheme::ecdsa_secp256r1_sha256});
                    else if (e.extension_type == tls::ExtensionType::supported_versions)
                        e = tls::make_supported_versions_client({0x3a3a, 0x7f1c, tls::TLS1_3, 0x0303});
                    else if (e.extension_type == tls::ExtensionType::key_share) {
                        auto shares = hello.key_share().value();
                        shares.insert(shares.begin(), tls::KeyShareEntry{grease_group, tls::from_hex("00")});
                        e = tls::make_key_share_client(shares);
                    }
                }
                // An unknown extension with a body, an empty GREASE one, and status_request_v2
                // (RFC 6961, §4.4.2.1: "TLS 1.3 servers MUST be able to process ClientHello
                // messages that include it").
                hello.extensions.insert(hello.extensions.begin(),
                                        tls::Extension{static_cast<tls::ExtensionType>(0x0a0a), {}});
                hello.extensions.push_back({static_cast<tls::ExtensionType>(17), tls::from_hex("000e010009000000000000000000")});
                hello.extensions.push_back({static_cast<tls::ExtensionType>(0xfe0d), tls::to_bytes("not ours")});
            };
            co_await client_handshake(conn, tweaks);
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("ignored"));
            co_await conn.records().send_alert(tls::AlertDescription::close_notify);
            CHECK(co_await read_until_alert(conn, &echoed) == "close_notify(0)");
        });
        CHECK_MESSAGE(outcome == "", "server output:\n" << server.process.all().substr(0, 3000));
        CHECK(echoed == "ignored");
        CHECK(server.process.wait_for("connection closed cleanly", 5s));
    }
}

// RFC8446 6-4, 5.1-8, 6.2-1, 6.2-2, 6.2-3, 6.2-4
TEST_CASE("ch03-ch11 servers answer a ClientHello longer than the RFC's vectors allow with decode_error at once") {
    // 131 397 bytes announced: one more than the largest legal ClientHello. Only the header is sent.
    std::vector<std::string> servers = {"ch03-server"};
    servers.insert(servers.end(), servers_04_on.begin(), servers_04_on.end());
    check_plaintext_answer(servers, tls::from_hex("160301000401020145"), "15030300020232");
}

TEST_CASE("ch09 server answers a handshake message of an unknown type with unexpected_message at once") {
    check_plaintext_answer({"ch09-server"}, tls::from_hex("1603010004630000ff"), "1503030002020a");
}

// ---- Defect 6: early data offered to a server that does not accept it (§4.2.10) ----------

namespace {

// A ClientHello that resumes a session this server never issued, and offers early data.
ClientTweaks foreign_0rtt_attempt(tls::Bytes early_records) {
    ClientTweaks tweaks;
    tweaks.edit_hello = [](tls::ClientHello& hello) {
        hello.extensions.push_back(tls::make_early_data());
        hello.extensions.push_back(tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke}));
        tls::OfferedPsks psks{{{tls::random_bytes(100), 0x12345678}}, {tls::random_bytes(32)}};
        hello.extensions.push_back(tls::make_pre_shared_key_client(psks));  // §4.2.11: always the last
    };
    // Compatibility mode: a change_cipher_spec first, then the early data records.
    tweaks.after_hello = tls::from_hex("140303000101");
    tweaks.after_hello.insert(tweaks.after_hello.end(), early_records.begin(), early_records.end());
    return tweaks;
}

tls::Bytes undecryptable_records(std::size_t count, std::size_t size) {
    tls::Bytes out;
    for (std::size_t i = 0; i < count; ++i) {
        auto record = tls::encode_record(tls::ContentType::application_data, tls::random_bytes(size));
        out.insert(out.end(), record.begin(), record.end());
    }
    return out;
}

}  // namespace

TEST_CASE("ch09 server skips early data it cannot decrypt and completes a 1-RTT handshake") {
    auto server = start_server("ch09-server");
    std::string echoed;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, foreign_0rtt_attempt(undecryptable_records(3, 1000)));
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("1-RTT data"));
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn, &echoed) == "close_notify(0)");
    });
    CHECK(outcome == "");
    CHECK(echoed == "1-RTT data");
    CHECK(server.process.wait_for("connection closed cleanly after echoing 10 bytes", 5s));
    auto out = server.process.all();
    CHECK_CONTAINS(out, "the client offers early data: declined");
    CHECK(count_of(out, "early data skipped: 1000 bytes") == 3);
}

TEST_CASE("ch09 server answers more early data than it skips with unexpected_message") {
    auto server = start_server("ch09-server");
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        // 5 records of 2^14 + 17 bytes: past the 64 KiB we skip.
        auto session = co_await client_handshake(conn, foreign_0rtt_attempt(undecryptable_records(5, (1 << 14) + 17)), false);
        (void)session;
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    CHECK(outcome == "");
    CHECK(server.process.wait_for(alert_line("unexpected_message(10): more early data than we skip"), 5s));
    check_still_serves("ch09-server", server.port);
}

TEST_CASE("ch09 server answers an undecryptable record with bad_record_mac when no early data was offered") {
    auto server = start_server("ch09-server");
    ClientTweaks tweaks;
    tweaks.after_hello = undecryptable_records(1, 100);
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, tweaks, /*finish=*/false);
        CHECK(co_await read_until_alert(conn) == "bad_record_mac(20)");
    });
    CHECK(outcome == "");
    check_still_serves("ch09-server", server.port);
}
