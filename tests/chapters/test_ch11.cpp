// Chapter 11: KeyUpdate (RFC 8446 §4.6.3, §7.2, §5.1, §5.5). The chapter's own server and
// client end to end, and each rule a hostile peer can break, against a scripted peer.
#include "peers.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

namespace {

tls::Bytes key_update_message(std::uint8_t request) { return {0x18, 0x00, 0x00, 0x01, request}; }

// Runs `script` as the in-test client after a full handshake with a ch11 server; returns the
// alert the server answered with, and checks that the server still serves a correct client.
std::string server_answer(const std::function<asio::awaitable<void>(tls::Connection&)>& script) {
    auto server = start_server("ch11-server");
    std::string alert;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn);
        co_await script(conn);
        alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", "still serving"});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "received message: still serving");
    return alert;
}

}  // namespace

// ---- End to end ----------------------------------------------------------------------------

// RFC8446 4.1.3-2, 4.1.3-3
TEST_CASE("ch11 server's ServerHello.random is new for each connection and is not the client's") {
    auto server = start_server("ch11-server");
    std::vector<std::string> client_randoms, server_randoms;
    for (int i = 0; i < 3; ++i) {
        Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", "r", "--repeat", "1"});
        CHECK(client.wait() == 0);
        // The client's trace shows the first 16 bytes of each random: its ClientHello's, then
        // the ServerHello's.
        std::vector<std::string> randoms;
        for (const auto& line : lines_of(client.out())) {
            const auto at = line.find(" random ");
            if (at != std::string::npos) randoms.push_back(line.substr(line.find_first_not_of(' ', at + 8)));
        }
        REQUIRE(randoms.size() == 2);
        client_randoms.push_back(randoms[0]);
        server_randoms.push_back(randoms[1]);
    }
    for (std::size_t i = 0; i < server_randoms.size(); ++i) {
        CHECK(server_randoms[i].size() > 16 * 3);
        CHECK(server_randoms[i] != client_randoms[i]);
        for (std::size_t j = 0; j < i; ++j) CHECK(server_randoms[i] != server_randoms[j]);
    }
}

// RFC8446 4.6.3-2, 4.6.3-6, 4.6.3-3
TEST_CASE("ch11 client and server: KeyUpdates both ways every two records, and the echo goes on") {
    auto server = start_server("ch11-server", {"--key-update-every", "2"});
    Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", "hello", "--repeat", "5",
                    "--key-update-every", "2"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(count_of(out, "received message: hello") == 5);
    CHECK_CONTAINS(out, "-> KeyUpdate");
    CHECK_CONTAINS(out, "<- KeyUpdate");
    CHECK_CONTAINS(out, "update_requested");
    CHECK_CONTAINS(out, "update_not_requested");
    CHECK_CONTAINS(out, "from now on we write records protected with the client keys of generation 2");
    CHECK_CONTAINS(out, "from now on we read records protected with the server keys of generation 2");
    CHECK_CONTAINS(out, "client_application_traffic_secret_1");
    CHECK(server.process.wait_for("connection closed cleanly after echoing 25 bytes", 5s));
    CHECK_CONTAINS(server.process.all(), "from now on we read records protected with the client keys of generation 2");
}

TEST_CASE("ch11 client sends no KeyUpdate after its close_notify, even when asked (§6.1)") {
    auto server = start_server("ch11-server", {"--key-update-every", "1"});
    Process client({bin("ch11-client"), "--port", std::to_string(server.port), "--message", "last", "--repeat", "1"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto closed = out.find("-> Alert close_notify(0)");
    REQUIRE(closed != std::string::npos);
    // The server's KeyUpdate (update_requested) after its echo is read after our close_notify.
    CHECK_CONTAINS(out.substr(closed), "<- KeyUpdate");
    CHECK(out.find("-> KeyUpdate", closed) == std::string::npos);
    CHECK(server.process.wait_for("connection closed cleanly", 5s));
}

TEST_CASE("ch11 client in stdin mode sends a KeyUpdate for the line /keyupdate and the echo goes on") {
    auto server = start_server("ch11-server");
    Process client({bin("ch11-client"), "--port", std::to_string(server.port)});
    client.write_stdin("before\n/keyupdate\nafter\n");
    client.close_stdin();
    CHECK(client.wait() == 0);
    CHECK(client.out() == "before\nafter\n");
    auto err = client.err();
    CHECK(count_of(err, "-> KeyUpdate") == 1);
    CHECK(count_of(err, "<- KeyUpdate") == 1);  // the server's answer to update_requested
    CHECK(server.process.wait_for("connection closed cleanly after echoing 13 bytes", 5s));
}

// RFC8446 5.3-2
// RFC8446 5.5-1
TEST_CASE("the §5.5 limits: AES-GCM updates before 2^24.5 records, ChaCha20-Poly1305 before the sequence number wraps") {
    // N records, then the KeyUpdate as record N + 1 under the same keys.
    CHECK(tls::records_before_key_update(tls::AeadAlg::aes_128_gcm) + 1 == 23'726'566);
    CHECK(tls::records_before_key_update(tls::AeadAlg::aes_256_gcm) + 1 == 23'726'566);
    CHECK(23'726'566.0 * 23'726'566.0 <= 562949953421312.0);  // floor(2^24.5)^2 <= 2^49
    CHECK(23'726'567.0 * 23'726'567.0 > 562949953421312.0);
    // The KeyUpdate takes sequence number N, the last one that can be sealed.
    const auto n = tls::records_before_key_update(tls::AeadAlg::chacha20_poly1305);
    CHECK(n == ~std::uint64_t{0} - 1);
}

// ---- The server against a hostile client -------------------------------------------------

// RFC8446 4.6.3-3, 4.6.3-5
TEST_CASE("ch11 server answers 32 KeyUpdates in a row, with and without a request, and echoes under generation 32") {
    auto server = start_server("ch11-server");
    std::string echoed;
    int answers = 0;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn);
        for (int i = 0; i < 32; ++i)
            co_await conn.send_key_update(i % 2 ? tls::KeyUpdateRequest::update_requested
                                                : tls::KeyUpdateRequest::update_not_requested);
        CHECK(conn.records().write_generation() == 32);
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("generation 32"));
        tls::HandshakeReader reader;
        while (echoed.size() < 13) {
            auto record = co_await conn.records().read_record();
            REQUIRE(record);
            if (record->type == tls::ContentType::handshake) {
                reader.feed(record->fragment);
                while (auto message = reader.next()) {
                    auto update = tls::KeyUpdate::decode(message->body);
                    // §4.6.3: the answer to a request does not ask again.
                    CHECK(update.request_update == tls::KeyUpdateRequest::update_not_requested);
                    co_await conn.receive_key_update(update, reader);
                    ++answers;
                }
            } else {
                echoed += tls::to_string(record->fragment);
            }
        }
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn) == "close_notify(0)");
    });
    CHECK(outcome == "");
    CHECK(echoed == "generation 32");
    CHECK(answers == 16);
    CHECK(server.process.wait_for("connection closed cleanly", 5s));
    CHECK_CONTAINS(server.process.all(), "from now on we read records protected with the client keys of generation 32");
}

// RFC8446 4.6.3-1
TEST_CASE("ch11 server answers a KeyUpdate before the client's Finished with unexpected_message") {
    auto server = start_server("ch11-server");
    std::string alert;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, {}, /*finish=*/false);
        co_await conn.records().write_records(tls::ContentType::handshake, key_update_message(0));  // handshake keys
        alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    CHECK(alert == "unexpected_message(10)");
    CHECK(server.process.wait_for("expected Finished, got KeyUpdate", 5s));
}

// RFC8446 4.6.3-4
TEST_CASE("ch11 server answers a plaintext KeyUpdate after the handshake with unexpected_message") {
    {
        auto script = [](tls::Connection& conn) -> asio::awaitable<void> {
            // An on-path attacker's KeyUpdate, unprotected: it would desynchronise the keys.
            const tls::Bytes plaintext = {0x16, 0x03, 0x03, 0x00, 0x05, 0x18, 0x00, 0x00, 0x01, 0x00};
            co_await conn.records().write_raw(plaintext);
        };
        CHECK(server_answer(script) == "unexpected_message(10)");
    }
}

// RFC8446 6-7
TEST_CASE("ch11 server answers a KeyUpdate with request_update 2 with illegal_parameter") {
    {
        auto script = [](tls::Connection& conn) -> asio::awaitable<void> {
            co_await conn.records().write_records(tls::ContentType::handshake, key_update_message(2));
        };
        CHECK(server_answer(script) == "illegal_parameter(47)");
    }
}

TEST_CASE("ch11 server answers a KeyUpdate of the wrong length with decode_error") {
    {
        auto script = [](tls::Connection& conn) -> asio::awaitable<void> {
            const tls::Bytes too_long = {0x18, 0, 0, 2, 0, 0};  // (g++ 12: no braced temporaries in co_await)
            co_await conn.records().write_records(tls::ContentType::handshake, too_long);
        };
        CHECK(server_answer(script) == "decode_error(50)");
    }
    {
        auto script = [](tls::Connection& conn) -> asio::awaitable<void> {
            const tls::Bytes empty = {0x18, 0, 0, 0};
            co_await conn.records().write_records(tls::ContentType::handshake, empty);
        };
        CHECK(server_answer(script) == "decode_error(50)");
    }
}

// RFC8446 5.1-5
TEST_CASE("ch11 server answers a KeyUpdate that does not end its record with unexpected_message (§5.1)") {
    // Two KeyUpdates in one record: the key change falls inside the record.
    auto two = key_update_message(0);
    auto second = key_update_message(0);
    two.insert(two.end(), second.begin(), second.end());
    {
        auto script = [&](tls::Connection& conn) -> asio::awaitable<void> {
            co_await conn.records().write_records(tls::ContentType::handshake, two);
        };
        CHECK(server_answer(script) == "unexpected_message(10)");
    }
    // A KeyUpdate followed by the first bytes of another message: one spanning the change.
    auto split = key_update_message(0);
    split.insert(split.end(), {0x18, 0x00});
    {
        auto script = [&](tls::Connection& conn) -> asio::awaitable<void> {
            co_await conn.records().write_records(tls::ContentType::handshake, split);
        };
        CHECK(server_answer(script) == "unexpected_message(10)");
    }
}

TEST_CASE("ch11 server answers a record under the old keys after a KeyUpdate with bad_record_mac") {
    {
        auto script = [](tls::Connection& conn) -> asio::awaitable<void> {
            // The KeyUpdate goes out as plain handshake bytes, so our keys stay where they were:
            // the next record is sealed with generation 0, which the server has left.
            co_await conn.records().write_records(tls::ContentType::handshake, key_update_message(0));
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("old keys"));
        };
        CHECK(server_answer(script) == "bad_record_mac(20)");
    }
}

// ---- The client against a hostile server ---------------------------------------------------

// RFC8446 4.6.3-4
TEST_CASE("ch11 client answers a KeyUpdate with request_update 2 with illegal_parameter") {
    ScriptedServer server([](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await server_handshake(conn);
        co_await conn.records().write_records(tls::ContentType::handshake, key_update_message(2));
        CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
    });
    Process client({bin("ch11-client"), "--port", std::to_string(server.port())});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK_CONTAINS(client.err(), "-> Alert illegal_parameter(47)");
}

// RFC8446 4.6.3-5
TEST_CASE("ch11 client answers a server's update_requested with its own KeyUpdate before its next data") {
    std::vector<std::string> seen;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await server_handshake(conn);
        co_await conn.send_key_update(tls::KeyUpdateRequest::update_requested);
        tls::HandshakeReader reader;
        while (auto record = co_await conn.records().read_record()) {
            if (record->type == tls::ContentType::handshake) {
                reader.feed(record->fragment);
                while (auto message = reader.next()) {
                    auto update = tls::KeyUpdate::decode(message->body);
                    seen.push_back(update.request_update == tls::KeyUpdateRequest::update_requested ? "KeyUpdate(requested)"
                                                                                                    : "KeyUpdate");
                    co_await conn.receive_key_update(update, reader);
                }
            } else {
                seen.push_back("data " + tls::to_string(record->fragment));
                co_await conn.records().write_records(tls::ContentType::application_data, record->fragment);
            }
        }
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    });
    Process client({bin("ch11-client"), "--port", std::to_string(server.port())});
    // Once the client has read the request, its answer is queued before anything it sends next.
    REQUIRE(client.wait_for("<- KeyUpdate", 10s));
    client.write_stdin("one\n");
    REQUIRE(client.wait_for("one", 10s));
    client.close_stdin();
    CHECK(client.wait() == 0);
    CHECK(server.outcome() == "");
    // The answer came before the data, whichever the client read first.
    REQUIRE(seen.size() >= 2);
    CHECK(seen[0] == "KeyUpdate");
    CHECK(seen[1] == "data one\n");
}
