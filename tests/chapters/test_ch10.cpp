// Chapter 10: HelloRetryRequest (RFC 8446 §4.1.4, §4.2.2, §4.2.8, §4.4.1). The chapter's own
// server and client end to end (with state and with a cookie), and each rule a hostile peer
// can break: the client against a scripted server, the server against a scripted client.
#include "key_exchange.hpp"
#include "peers.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

namespace {

std::string alert_line(const std::string& alert) { return "-> Alert " + alert; }

// ---- The chapter's server against a scripted client ---------------------------------------

// A first ClientHello that offers secp256r1 and x25519 but sends a share for x25519 only: a
// server that prefers secp256r1 asks for a retry.
tls::ClientHello first_client_hello() {
    tls::ClientHello hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256};
    hello.extensions = {tls::make_server_name("localhost"),
                        tls::make_supported_groups({tls::NamedGroup::x25519, tls::NamedGroup::secp256r1}),
                        tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256}),
                        tls::make_supported_versions_client({tls::TLS1_3}),
                        tls::make_key_share_client({{tls::NamedGroup::x25519, tls::x25519_keypair().public_key}})};
    return hello;
}

// What a correct client sends second (§4.1.2): one share, for secp256r1, and the cookie.
tls::ClientHello second_client_hello(const tls::ClientHello& first, const std::optional<tls::Bytes>& cookie) {
    auto second = first;
    auto share = tls::generate_key_share(tls::NamedGroup::secp256r1);
    for (auto& e : second.extensions)
        if (e.extension_type == tls::ExtensionType::key_share)
            e = tls::make_key_share_client({{tls::NamedGroup::secp256r1, share.public_key}});
    if (cookie) second.extensions.push_back(tls::make_cookie(*cookie));
    return second;
}

struct RetryOutcome {
    std::string alert;      // what the server answered ClientHello2 with
    tls::ServerHello hrr;   // its HelloRetryRequest
};

// Runs CH1 -> HRR -> edited CH2 against a ch10 server started with `args`, and checks that it
// still serves a correct client afterwards.
RetryOutcome answer_to_second_hello(const std::vector<std::string>& args,
                                    const std::function<void(tls::ClientHello&)>& edit) {
    auto server = start_server("ch10-server", args);
    RetryOutcome result;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto first = first_client_hello();
        co_await conn.write(first);
        conn.records().allow_compatibility_ccs(true);
        auto [hrr, hrr_raw] = co_await conn.read<tls::ServerHello>();
        result.hrr = hrr;
        auto second = second_client_hello(first, hrr.cookie());
        edit(second);
        co_await conn.write(second);
        result.alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--message", "still serving"});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "received message: still serving");
    return result;
}

const std::vector<std::string> prefers_p256 = {"--groups", "secp256r1,x25519"};
const std::vector<std::string> prefers_p256_stateless = {"--groups", "secp256r1,x25519", "--hrr-cookie"};

// ---- The chapter's client against a scripted server ---------------------------------------

// Reads the client's ClientHello and answers with a HelloRetryRequest edited by `edit`.
asio::awaitable<tls::ClientHello> send_hello_retry_request(tls::Connection& conn,
                                                           const std::function<void(tls::ServerHello&)>& edit) {
    auto [hello, raw] = co_await conn.read<tls::ClientHello>();
    conn.records().allow_compatibility_ccs(true);
    tls::ServerHello hrr;
    hrr.random = tls::hello_retry_request_random;
    hrr.legacy_session_id_echo = hello.legacy_session_id;
    hrr.cipher_suite = tls::CipherSuite::TLS_AES_128_GCM_SHA256;
    hrr.extensions = {tls::make_key_share_hrr(tls::NamedGroup::secp256r1), tls::make_supported_versions_server(tls::TLS1_3)};
    edit(hrr);
    co_await conn.write(hrr);
    co_return hello;
}

// The ch10 client (x25519 share, secp256r1 offered) against `script`; returns its output.
std::string client_against(const ScriptedServer::Script& script, const std::string& expected_server_outcome) {
    ScriptedServer server(script);
    Process client({bin("ch10-client"), "--port", std::to_string(server.port()), "--message", "x"});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == expected_server_outcome);
    return client.out();
}

}  // namespace

// ---- End to end: the chapter's own programs -----------------------------------------------

// RFC8446 4.1.2-2, 4.2.8-7, 4.2.2-1
// RFC8446 4.1.1-3, 4.1.3-9, 4.1.4-7
TEST_CASE("ch10 client and server: a retry for the server's preferred group, with state and with a cookie") {
    for (auto stateless : {false, true}) {
        INFO("stateless: " << stateless);
        std::vector<std::string> args = {"--groups", "secp256r1,x25519"};
        if (stateless) args.push_back("--hrr-cookie");
        auto server = start_server("ch10-server", args);
        Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--message", "after a retry"});
        CHECK(client.wait() == 0);
        auto out = client.out();
        CHECK_CONTAINS(out, "<- HelloRetryRequest");
        CHECK_CONTAINS(out, "the server asks for a key share for secp256r1 (§4.2.8)");
        CHECK(count_of(out, "-> ClientHello") == 2);
        CHECK_CONTAINS(out, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, secp256r1");
        CHECK_CONTAINS(out, "received message: after a retry");
        // Appendix D.4: one dummy change_cipher_spec each way, the server's right after its HRR.
        CHECK(count_of(out, "-> record change_cipher_spec(20)") == 1);
        if (stateless)
            CHECK_CONTAINS(out, "the server sent a cookie: we echo it (§4.2.2)");
        else
            CHECK(out.find("cookie") == std::string::npos);
        CHECK(server.process.wait_for("connection closed cleanly after echoing 13 bytes", 5s));
        CHECK_CONTAINS(server.process.all(), "the client sent no key share for secp256r1: we ask for one (§4.1.4)");
    }
}

TEST_CASE("ch10 client and server: no retry when the first share is for the server's group") {
    auto server = start_server("ch10-server", {"--groups", "secp256r1,x25519"});
    Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--message", "one round trip",
                    "--groups", "secp256r1,x25519"});
    CHECK(client.wait() == 0);
    CHECK(client.out().find("HelloRetryRequest") == std::string::npos);
    CHECK_CONTAINS(client.out(), "received message: one round trip");
}

TEST_CASE("ch10 client refuses --key-shares for a group it does not offer") {
    Process client({bin("ch10-client"), "--port", "1", "--groups", "x25519", "--key-shares", "secp256r1"});
    CHECK(client.wait() != 0);
    CHECK_CONTAINS(client.all(), "secp256r1 is not in --groups");
}

// ---- The server against a hostile second ClientHello (§4.1.2, §4.2.2) ---------------------

// RFC8446 4.1.2-2
TEST_CASE("ch10 server answers a ClientHello2 with another random or cipher suite list with illegal_parameter") {
    auto changed_random = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) { h.random[0] ^= 1; });
    CHECK(changed_random.hrr.is_hello_retry_request());
    CHECK(changed_random.alert == "illegal_parameter(47)");
    auto changed_suites = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        h.cipher_suites.push_back(tls::CipherSuite::TLS_AES_256_GCM_SHA384);
    });
    CHECK(changed_suites.alert == "illegal_parameter(47)");
}

// RFC8446 4.1.2-2
TEST_CASE("ch10 server answers a ClientHello2 with an extension changed, added or removed with illegal_parameter") {
    auto renamed = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        for (auto& e : h.extensions)
            if (e.extension_type == tls::ExtensionType::server_name) e = tls::make_server_name("elsewhere");
    });
    CHECK(renamed.alert == "illegal_parameter(47)");
    auto added = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        h.extensions.insert(h.extensions.begin(), tls::Extension{static_cast<tls::ExtensionType>(0x4a4a), {}});
    });
    CHECK(added.alert == "illegal_parameter(47)");
}

TEST_CASE("ch10 server answers a ClientHello2 whose key share is not the one asked for with illegal_parameter") {
    auto wrong_group = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        for (auto& e : h.extensions)
            if (e.extension_type == tls::ExtensionType::key_share)
                e = tls::make_key_share_client({{tls::NamedGroup::x25519, tls::x25519_keypair().public_key}});
    });
    CHECK(wrong_group.alert == "illegal_parameter(47)");
    for (auto& args : {prefers_p256, prefers_p256_stateless}) {
        auto two_shares = answer_to_second_hello(args, [](tls::ClientHello& h) {
            for (auto& e : h.extensions)
                if (e.extension_type == tls::ExtensionType::key_share)
                    e = tls::make_key_share_client(
                        {{tls::NamedGroup::secp256r1, tls::generate_key_share(tls::NamedGroup::secp256r1).public_key},
                         {tls::NamedGroup::x25519, tls::x25519_keypair().public_key}});
        });
        CHECK(two_shares.alert == "illegal_parameter(47)");
    }
}

TEST_CASE("ch10 server answers early_data in ClientHello2 with illegal_parameter (§4.1.2)") {
    for (auto& args : {prefers_p256, prefers_p256_stateless}) {
        auto outcome = answer_to_second_hello(args, [](tls::ClientHello& h) {
            h.extensions.push_back(tls::Extension{tls::ExtensionType::early_data, {}});
        });
        CHECK(outcome.alert == "illegal_parameter(47)");
    }
}

TEST_CASE("ch10 stateless server sends a cookie and answers a missing, forged or foreign cookie with illegal_parameter") {
    auto missing = answer_to_second_hello(prefers_p256_stateless, [](tls::ClientHello& h) {
        std::erase_if(h.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::cookie; });
    });
    REQUIRE(missing.hrr.cookie());
    CHECK(missing.alert == "illegal_parameter(47)");
    auto forged = answer_to_second_hello(prefers_p256_stateless, [](tls::ClientHello& h) {
        for (auto& e : h.extensions)
            if (e.extension_type == tls::ExtensionType::cookie) e.extension_data.back() ^= 1;
    });
    CHECK(forged.alert == "illegal_parameter(47)");
    // A cookie from a stateful server: it sent none, so any cookie is one it did not send.
    auto unasked = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        h.extensions.push_back(tls::make_cookie(tls::Bytes(40, 7)));
    });
    CHECK_FALSE(unasked.hrr.cookie());
    CHECK(unasked.alert == "illegal_parameter(47)");
}

TEST_CASE("ch10 server answers a ClientHello2 that still has no share it can use with illegal_parameter") {
    auto outcome = answer_to_second_hello(prefers_p256, [](tls::ClientHello& h) {
        std::erase_if(h.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::key_share; });
        h.extensions.push_back(tls::make_key_share_client({}));
    });
    CHECK(outcome.alert == "illegal_parameter(47)");
}

// ---- The client against a hostile HelloRetryRequest (§4.1.4, §4.2.8) ----------------------

// RFC8446 4.2.8-5, 4.2.8-6
TEST_CASE("ch10 client answers a HelloRetryRequest for a group it sent a share for with illegal_parameter") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello& hrr) {
                hrr.extensions[0] = tls::make_key_share_hrr(tls::NamedGroup::x25519);
            });
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, alert_line("illegal_parameter(47): HelloRetryRequest for x25519, but we sent a share for it"));
}

// RFC8446 4.2.8-5, 4.2.8-6
TEST_CASE("ch10 client answers a HelloRetryRequest for a group it did not offer with illegal_parameter") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello& hrr) {
                hrr.extensions[0] = tls::make_key_share_hrr(static_cast<tls::NamedGroup>(0x0018));  // secp384r1
            });
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, "a group we did not offer");
}

// RFC8446 4.1.4-5
TEST_CASE("ch10 client answers a HelloRetryRequest that changes nothing with illegal_parameter") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello& hrr) { hrr.extensions.erase(hrr.extensions.begin()); });
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, "a HelloRetryRequest that changes nothing");
}

// RFC8446 4.2-2
TEST_CASE("ch10 client answers a HelloRetryRequest with an extension it did not offer with unsupported_extension") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello& hrr) {
                hrr.extensions.push_back(tls::Extension{static_cast<tls::ExtensionType>(0x4a4a), {}});
            });
            CHECK(co_await read_until_alert(conn) == "unsupported_extension(110)");
        },
        "");
    CHECK_CONTAINS(out, alert_line("unsupported_extension(110): unexpected extension in a HelloRetryRequest"));
}

// RFC8446 4.2-3
TEST_CASE("ch10 client answers a HelloRetryRequest with an extension not allowed in it with illegal_parameter (§4.2)") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello& hrr) {
                hrr.extensions.push_back(tls::Extension{tls::ExtensionType::early_data, {}});
            });
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, alert_line("illegal_parameter(47): extension early_data is not allowed in this message (§4.2)"));
}

// RFC8446 4.1.4-6
TEST_CASE("ch10 client sends a correct ClientHello2, then answers a second HelloRetryRequest with unexpected_message") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            auto cookie = tls::Bytes{1, 2, 3, 4, 5};
            auto first = co_await send_hello_retry_request(
                conn, [&](tls::ServerHello& hrr) { hrr.extensions.push_back(tls::make_cookie(cookie)); });
            auto [second, raw] = co_await conn.read<tls::ClientHello>();
            // §4.1.2: the same ClientHello, but one share for the group asked for, and the cookie.
            CHECK(second.random == first.random);
            CHECK(second.legacy_session_id == first.legacy_session_id);
            CHECK(second.cipher_suites == first.cipher_suites);
            auto shares = second.key_share();
            REQUIRE(shares);
            REQUIRE(shares->size() == 1);
            CHECK(shares->front().group == tls::NamedGroup::secp256r1);
            CHECK(second.cookie() == cookie);
            CHECK(second.extensions.size() == first.extensions.size() + 1);
            tls::ServerHello again;
            again.random = tls::hello_retry_request_random;
            again.legacy_session_id_echo = second.legacy_session_id;
            again.cipher_suite = tls::CipherSuite::TLS_AES_128_GCM_SHA256;
            again.extensions = {tls::make_key_share_hrr(tls::NamedGroup::x25519), tls::make_supported_versions_server(tls::TLS1_3)};
            co_await conn.write(again);
            CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
        },
        "");
    CHECK_CONTAINS(out, alert_line("unexpected_message(10): a second HelloRetryRequest"));
}

// RFC8446 4.1.4-10
TEST_CASE("ch10 client answers a ServerHello whose cipher suite differs from the HelloRetryRequest's with illegal_parameter") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello&) {});
            auto [second, raw] = co_await conn.read<tls::ClientHello>();
            auto share = tls::generate_key_share(tls::NamedGroup::secp256r1);
            tls::ServerHello hello;
            auto random = tls::random_bytes(32);
            std::copy(random.begin(), random.end(), hello.random.begin());
            hello.legacy_session_id_echo = second.legacy_session_id;
            hello.cipher_suite = tls::CipherSuite::TLS_AES_256_GCM_SHA384;
            hello.extensions = {tls::make_key_share_server({tls::NamedGroup::secp256r1, share.public_key}),
                                tls::make_supported_versions_server(tls::TLS1_3)};
            co_await conn.write(hello);
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, "ServerHello changes the HelloRetryRequest's cipher suite");
}

// RFC8446 4.2.8-10, 4.2.8-11
TEST_CASE("ch10 client answers a ServerHello for another group than the HelloRetryRequest's with illegal_parameter") {
    auto out = client_against(
        [](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_hello_retry_request(conn, [](tls::ServerHello&) {});
            auto [second, raw] = co_await conn.read<tls::ClientHello>();
            tls::ServerHello hello;
            auto random = tls::random_bytes(32);
            std::copy(random.begin(), random.end(), hello.random.begin());
            hello.legacy_session_id_echo = second.legacy_session_id;
            hello.cipher_suite = tls::CipherSuite::TLS_AES_128_GCM_SHA256;
            hello.extensions = {tls::make_key_share_server({tls::NamedGroup::x25519, tls::x25519_keypair().public_key}),
                                tls::make_supported_versions_server(tls::TLS1_3)};
            co_await conn.write(hello);
            CHECK(co_await read_until_alert(conn) == "illegal_parameter(47)");
        },
        "");
    CHECK_CONTAINS(out, "key_share for a group we sent no share for: x25519");
}

// RFC8446 4.1.2-3
TEST_CASE("ch10 server skips the early data a client sent before its HelloRetryRequest and goes on (§4.2.10)") {
    for (auto& args : {prefers_p256, prefers_p256_stateless}) {
        auto server = start_server("ch10-server", args);
        bool got_server_hello = false;
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            auto first = first_client_hello();
            first.extensions.push_back(tls::Extension{tls::ExtensionType::early_data, {}});
            co_await conn.write(first);
            // Two 0-RTT records, as a client sends them before it sees the HelloRetryRequest.
            auto early = tls::from_hex("1703030020" + std::string(64, 'a'));
            co_await conn.records().write_raw(early);
            co_await conn.records().write_raw(early);
            conn.records().allow_compatibility_ccs(true);
            auto [hrr, hrr_raw] = co_await conn.read<tls::ServerHello>();
            CHECK(hrr.is_hello_retry_request());
            auto second = second_client_hello(first, hrr.cookie());
            std::erase_if(second.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::early_data; });
            co_await conn.write(second);
            auto [hello, hello_raw] = co_await conn.read<tls::ServerHello>();
            got_server_hello = !hello.is_hello_retry_request();
        });
        CHECK(outcome == "");
        CHECK(got_server_hello);
        REQUIRE(server.process.wait_for("-> ServerHello", 5s));  // printed after the records it skipped
        CHECK(count_of(server.process.all(), "early data skipped: 32 bytes sent before our HelloRetryRequest") == 2);
    }
}

TEST_CASE("ch10 server answers a third ClientHello, after its ServerHello, with unexpected_message") {
    auto server = start_server("ch10-server", prefers_p256);
    std::string alert;
    auto outcome = run_client_script(server.port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto first = first_client_hello();
        co_await conn.write(first);
        conn.records().allow_compatibility_ccs(true);
        auto [hrr, hrr_raw] = co_await conn.read<tls::ServerHello>();
        auto second = second_client_hello(first, hrr.cookie());
        co_await conn.write(second);
        auto [hello, hello_raw] = co_await conn.read<tls::ServerHello>();
        CHECK_FALSE(hello.is_hello_retry_request());
        co_await conn.write(second);  // a third ClientHello, in plaintext where the Finished belongs
        alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    // The server's alert is protected (it has the handshake keys); the in-test client has none.
    CHECK(server.process.wait_for("-> Alert unexpected_message(10)", 5s));
    Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--message", "still serving"});
    CHECK(client.wait() == 0);
}
