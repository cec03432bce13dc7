// Chapter 12: resumption with tickets and PSKs (RFC 8446 §4.6.1, §4.2.9, §4.2.11, §7.1). The
// chapter's own server and client end to end — --reconnect, session files, shared ticket keys,
// psk_ke, a HelloRetryRequest before the binder, expiry — and each rule a hostile peer can
// break: the server against scripted ClientHellos, the client against a scripted ServerHello.
#include "key_exchange.hpp"
#include "peers.hpp"
#include "session.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <thread>

using namespace tlstest;

namespace {

const std::string resumed_dhe = "resumed with the PSK and (EC)DHE";
const std::string server_resumed_dhe = "resumed with a PSK and (EC)DHE (psk_dhe_ke)";

// What follows the first occurrence of `marker` ("" if it is missing).
std::string after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    return at == std::string::npos ? std::string() : text.substr(at);
}
// What precedes it (all of `text` if it is missing).
std::string before(const std::string& text, const std::string& marker) { return text.substr(0, text.find(marker)); }

const std::string reconnecting = "connecting again, with a ticket from the first connection";

Process ch12_client(unsigned short port, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("ch12-client"), "--port", std::to_string(port), "--message", "x", "--repeat", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process(argv);
}

// The ch12 client's full handshake against `port`, its tickets saved in `file` and loaded back.
tls::Session session_from(unsigned short port, const std::string& file) {
    auto client = ch12_client(port, {"--session-out", file});
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    return tls::Session::load(file);
}

// A ClientHello like the chapter clients send (x25519, TLS_AES_128_GCM_SHA256), for crafting.
tls::ClientHello plain_client_hello() {
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

tls::Bytes as_record(const tls::ClientHello& hello) {
    return tls::encode_record(tls::ContentType::handshake, tls::encode_handshake(hello));
}

// A ch12 server and a session of two tickets from it, for the scripted clients.
struct ServerWithSession {
    TempDir dir;
    Server server;
    tls::Session session;
    explicit ServerWithSession(std::vector<std::string> args = {})
        : server(start_server("ch12-server", std::move(args))), session(session_from(server.port, dir.file("session"))) {
        REQUIRE(session.tickets.size() == 2);
    }
    unsigned short port() const { return server.port; }
    tls::PskOffer offer(std::size_t ticket = 0) const {
        return tls::psk_offer(session, session.tickets.at(ticket), tls::unix_time_ms());
    }
    // After a hostile client: the server still resumes with its other ticket, from the file.
    void check_still_serving() {
        auto client = ch12_client(server.port, {"--session-in", dir.file("session")});
        CHECK(client.wait() == 0);
        CHECK_CONTAINS(client.out(), "received message: x");
        CHECK_CONTAINS(client.out(), resumed_dhe);
    }
};

// The in-test client's handshake with `tweaks` against the server; "" when it completed (then
// `session` says whether the server resumed), else how it failed ("peer alert ...").
std::string scripted_handshake(unsigned short port, const ClientTweaks& tweaks, ClientSession* session = nullptr) {
    return run_client_script(port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto done = co_await client_handshake(conn, tweaks);
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        CHECK(co_await read_until_alert(conn) == "close_notify(0)");
        if (session) *session = std::move(done);
    });
}

// A PSK offer of a ticket the server never issued, with a binder correct for its (random) PSK.
struct ForeignPsk {
    tls::Secret psk = tls::Secret(32, 0x5a);
    tls::PskOffer offer() const { return {tls::PskIdentity{tls::random_bytes(104), 1234}, tls::HashAlg::sha256, psk}; }
};

// ---- The client against a scripted ServerHello ------------------------------------------------

// A session file of one made-up ticket for localhost (the scripted server never opens it).
void write_made_up_session(const std::string& path) {
    tls::SessionTicket ticket;
    ticket.ticket = tls::random_bytes(64);
    ticket.resumption_psk = tls::Secret(32, 0x42);
    ticket.ticket_nonce = {0};
    ticket.receipt_time_ms = tls::unix_time_ms();
    ticket.ticket_lifetime = 7200;
    ticket.ticket_age_add = 12345;
    tls::Session session{"localhost", tls::CipherSuite::TLS_AES_128_GCM_SHA256, {ticket}};
    session.save(path);
}

// The ch12 client (offering the ticket of `session_file`, if not empty) against a server that
// answers its ClientHello with a ServerHello edited by `edit` and expects the alert `alert`.
// Returns the client's output.
std::string client_answer(const std::string& session_file, const std::function<void(tls::ServerHello&)>& edit,
                          const std::string& alert) {
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto [hello, raw] = co_await conn.read<tls::ClientHello>();
        tls::ServerHello server_hello;
        auto random = tls::random_bytes(32);
        std::copy(random.begin(), random.end(), server_hello.random.begin());
        server_hello.legacy_session_id_echo = hello.legacy_session_id;
        server_hello.cipher_suite = tls::CipherSuite::TLS_AES_128_GCM_SHA256;
        server_hello.extensions = {
            tls::make_key_share_server({tls::NamedGroup::x25519, tls::x25519_keypair().public_key}),
            tls::make_supported_versions_server(tls::TLS1_3)};
        edit(server_hello);
        co_await conn.write(server_hello);
        CHECK(co_await read_until_alert(conn) == alert);
    });
    std::vector<std::string> args;
    if (!session_file.empty()) args = {"--session-in", session_file};
    auto client = ch12_client(server.port(), args);
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    return client.out();
}

}  // namespace

// ---- End to end: the chapter's own programs -----------------------------------------------

// RFC8446 4.2.9-1, 4.2.9-2, 4.2.9-8, 4.2.11-8, 4.2.11-15, 4.6.1-6, 2.2-1, C.4-3
TEST_CASE("ch12 client --reconnect: a full handshake, then one resumed with the PSK and (EC)DHE, without Certificate") {
    auto server = start_server("ch12-server");
    auto client = ch12_client(server.port, {"--reconnect"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto first = before(out, reconnecting), second = after(out, reconnecting);
    REQUIRE(!second.empty());
    CHECK_CONTAINS(first, "<- Certificate (");
    CHECK_CONTAINS(first, "<- CertificateVerify (");
    CHECK_CONTAINS(first, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, full handshake");
    CHECK(count_of(first, "<- NewSessionTicket") == 2);  // the server's default --tickets 2
    CHECK_CONTAINS(second, "offering  a ticket of");
    CHECK_CONTAINS(second, "psk_key_exchange_modes    psk_dhe_ke");
    CHECK_CONTAINS(second, "pre_shared_key            1 identity, 1 binder");
    CHECK_CONTAINS(second, "pre_shared_key           selected_identity 0");
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed_dhe);
    CHECK(second.find("Certificate") == std::string::npos);  // neither Certificate nor CertificateVerify
    CHECK(count_of(out, "received message: x") == 2);
    // The server: one full handshake, one resumption whose binder it verified.
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, full handshake") == 1);
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, " + server_resumed_dhe) == 1);
    CHECK_CONTAINS(trace, "binder  verified: the client holds the PSK");
    CHECK(count_of(trace, "-> Certificate (") == 1);
    CHECK(count_of(trace, "connection closed cleanly after echoing 1 bytes") == 2);
}

// RFC8446 C.4-1, 4.2.11-4, 4.6.1-2
TEST_CASE("ch12 client --session-out writes a readable session file, and --session-in resumes from it once per ticket") {
    TempDir temp;
    auto file = temp.file("localhost.session");
    auto server = start_server("ch12-server");
    auto first = ch12_client(server.port, {"--session-out", file});
    CHECK(first.wait() == 0);
    CHECK_CONTAINS(first.out(), "full handshake");
    CHECK_CONTAINS(first.out(), "saved 2 ticket(s) in " + file);
    auto text = read_file(file);
    CHECK_CONTAINS(text, "server_name          localhost");
    CHECK_CONTAINS(text, "cipher_suite         TLS_AES_128_GCM_SHA256");
    CHECK_CONTAINS(text, "resumption_psk");
    CHECK_CONTAINS(text, "ticket_age_add");
    CHECK(count_of(text, "[ticket]") == 2);
    // The file is the client's only memory of the session: it loads as what was received.
    auto session = tls::Session::load(file);
    CHECK(session.server_name == "localhost");
    REQUIRE(session.tickets.size() == 2);
    CHECK(session.tickets[0].ticket_lifetime == tls::default_ticket_lifetime);
    CHECK(session.tickets[0].ticket != session.tickets[1].ticket);
    CHECK(session.tickets[0].resumption_psk != session.tickets[1].resumption_psk);  // one PSK per ticket_nonce

    // Appendix C.4: each ticket once. The file loses the ticket before it goes on the wire.
    for (std::size_t left : {1, 0}) {
        auto again = ch12_client(server.port, {"--session-in", file});
        CHECK(again.wait() == 0);
        CHECK_CONTAINS(again.out(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed_dhe);
        CHECK(again.out().find("<- Certificate") == std::string::npos);
        CHECK(count_of(read_file(file), "[ticket]") == left);
    }
    // No ticket left: a full handshake, and still a success.
    auto empty = ch12_client(server.port, {"--session-in", file});
    CHECK(empty.wait() == 0);
    CHECK_CONTAINS(empty.out(), "no usable ticket in " + file + ": full handshake");
    CHECK_CONTAINS(empty.out(), "<- Certificate (");
}

// RFC8446 C.4-2
TEST_CASE("ch12 server --tickets: as many NewSessionTickets as asked, and none with --tickets 0") {
    TempDir temp;
    {
        auto server = start_server("ch12-server", {"--tickets", "3"});
        auto client = ch12_client(server.port, {"--session-out", temp.file("three")});
        CHECK(client.wait() == 0);
        CHECK(count_of(client.out(), "<- NewSessionTicket") == 3);
        CHECK(count_of(read_file(temp.file("three")), "[ticket]") == 3);
        // Each ticket has its own ticket_nonce (§4.6.1: "unique across all tickets issued on this connection").
        auto session = tls::Session::load(temp.file("three"));
        REQUIRE(session.tickets.size() == 3);
        CHECK(session.tickets[0].ticket_nonce != session.tickets[1].ticket_nonce);
        CHECK(session.tickets[1].ticket_nonce != session.tickets[2].ticket_nonce);
    }
    {
        auto server = start_server("ch12-server", {"--tickets", "0"});
        auto client = ch12_client(server.port, {"--session-out", temp.file("none")});
        CHECK(client.wait() == 0);
        CHECK(client.out().find("NewSessionTicket") == std::string::npos);
        CHECK(count_of(read_file(temp.file("none")), "[ticket]") == 0);
        auto reconnect = ch12_client(server.port, {"--reconnect"});
        CHECK(reconnect.wait() == 1);
        CHECK_CONTAINS(reconnect.out(), "the server sent no ticket we can use: nothing to resume with");
    }
}

// RFC8446 4.2.11-5, 4.2.11-6
TEST_CASE("ch12 server --ticket-key: a ticket from one server resumes on another with the key, not on one without") {
    TempDir temp;
    auto key = temp.file("ticket.key");
    auto file = temp.file("session");
    {
        auto a = start_server("ch12-server", {"--ticket-key", key});
        session_from(a.port, file);
    }
    // The server made the key file: 64 hex digits.
    CHECK(std::regex_search(read_file(key), std::regex("(^|\\n)[0-9a-f]{64}\\s*$")));
    REQUIRE(count_of(read_file(file), "[ticket]") == 2);
    {
        // Another process with the same key file (a sibling, or the first one restarted).
        auto b = start_server("ch12-server", {"--ticket-key", key});
        auto client = ch12_client(b.port, {"--session-in", file});
        CHECK(client.wait() == 0);
        CHECK_CONTAINS(client.out(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed_dhe);
        CHECK(b.process.wait_for("binder  verified", 5s));
    }
    {
        // A server with a key of its own cannot open the ticket: §4.2.11, it is ignored.
        auto c = start_server("ch12-server");
        auto client = ch12_client(c.port, {"--session-in", file});
        CHECK(client.wait() == 0);
        auto out = client.out();
        CHECK_CONTAINS(out, "the server did not take our ticket: a full handshake instead (§4.2.11)");
        CHECK_CONTAINS(out, "<- Certificate (");
        CHECK_CONTAINS(out, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, full handshake");
        CHECK(c.process.wait_for("none of the 1 PSK identities is a ticket of ours we can use", 5s));
    }
}

// RFC8446 4.2.9-4, 4.2.9-5, 4.2.9-7, 4.1.1-2
TEST_CASE("ch12 psk_ke: resumed with the PSK alone only if the server --allow-psk-ke, else a full handshake") {
    {
        auto server = start_server("ch12-server", {"--allow-psk-ke"});
        auto client = ch12_client(server.port, {"--reconnect", "--psk-modes", "psk_ke"});
        CHECK(client.wait() == 0);
        auto second = after(client.out(), reconnecting);
        CHECK_CONTAINS(second, "psk_key_exchange_modes    psk_ke");
        CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, no group, resumed with the PSK alone (psk_ke)");
        // §4.2.9: no (EC)DHE, so no key_share in the ServerHello and no shared_secret.
        auto server_hello = before(after(second, "<- ServerHello"), "negotiated");
        CHECK_CONTAINS(server_hello, "pre_shared_key           selected_identity 0");
        CHECK(server_hello.find("key_share") == std::string::npos);
        CHECK(before(after(second, "negotiated"), "handshake complete").find("shared_secret") == std::string::npos);
        CHECK(second.find("Certificate") == std::string::npos);
        CHECK_CONTAINS(second, "received message: x");
        CHECK(server.process.wait_for("resumed with the PSK alone (psk_ke): no forward secrecy", 5s));
    }
    {
        // Without --allow-psk-ke: a ticket (from a psk_dhe_ke connection) offered for psk_ke only
        // is not taken, and a client that advertises psk_ke only gets no tickets (§4.2.9).
        TempDir temp;
        auto server = start_server("ch12-server");
        session_from(server.port, temp.file("session"));
        auto client = ch12_client(server.port, {"--session-in", temp.file("session"), "--psk-modes", "psk_ke"});
        CHECK(client.wait() == 0);
        auto out = client.out();
        CHECK_CONTAINS(out, "the server did not take our ticket: a full handshake instead");
        CHECK_CONTAINS(out, "<- Certificate (");
        CHECK_CONTAINS(out, "received message: x");
        CHECK(out.find("<- NewSessionTicket") == std::string::npos);
        CHECK(server.process.wait_for("the client offers PSKs, but no key exchange mode we take (§4.2.9): full handshake", 5s));
        CHECK(server.process.wait_for("no tickets: the client advertises no PSK key exchange mode we take (§4.2.9)", 5s));
        auto reconnect = ch12_client(server.port, {"--reconnect", "--psk-modes", "psk_ke"});
        CHECK(reconnect.wait() == 1);
        CHECK_CONTAINS(reconnect.out(), "the server sent no ticket we can use: nothing to resume with");
    }
    {
        // Both modes offered: the server prefers psk_dhe_ke even with --allow-psk-ke.
        auto server = start_server("ch12-server", {"--allow-psk-ke"});
        auto client = ch12_client(server.port, {"--reconnect", "--psk-modes", "psk_ke,psk_dhe_ke"});
        CHECK(client.wait() == 0);
        CHECK_CONTAINS(after(client.out(), reconnecting), resumed_dhe);
    }
}

// RFC8446 4.1.4-11
TEST_CASE("ch12 resumption after a HelloRetryRequest, with state and with a cookie: the binders cover message_hash and the HRR") {
    for (auto stateless : {false, true}) {
        INFO("stateless: " << stateless);
        std::vector<std::string> args = {"--groups", "secp256r1,x25519"};
        if (stateless) args.push_back("--hrr-cookie");
        auto server = start_server("ch12-server", args);
        auto client = ch12_client(server.port, {"--reconnect"});  // a share for x25519 only
        CHECK(client.wait() == 0);
        auto out = client.out();
        auto second = after(out, reconnecting);
        REQUIRE(!second.empty());
        CHECK(count_of(out, "<- HelloRetryRequest") == 2);
        CHECK(count_of(second, "<- HelloRetryRequest") == 1);
        CHECK(count_of(second, "pre_shared_key            1 identity, 1 binder") == 2);  // in ClientHello1 and 2
        if (stateless) CHECK_CONTAINS(second, "the server sent a cookie: we echo it (§4.2.2)");
        CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, secp256r1, " + resumed_dhe);
        CHECK(second.find("<- Certificate") == std::string::npos);
        CHECK(count_of(out, "received message: x") == 2);
        REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
        auto trace = server.process.all();
        CHECK_CONTAINS(trace, "binder  verified");
        CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, secp256r1, " + server_resumed_dhe) == 1);
    }
}

// RFC8446 4.2.11.1-1, 4.6.1-5
TEST_CASE("ch12 an expired ticket: the client drops it, the server refuses it, and the handshake is a full one") {
    TempDir temp;
    auto file = temp.file("session");
    auto server = start_server("ch12-server", {"--ticket-lifetime", "1"});
    auto session = session_from(server.port, file);
    REQUIRE(session.tickets.size() == 2);
    CHECK(session.tickets[0].ticket_lifetime == 1);
    std::this_thread::sleep_for(1100ms);
    // The client: §4.2.11.1, "Clients MUST NOT attempt to use tickets which have ages greater
    // than the "ticket_lifetime"": nothing usable in the file.
    auto client = ch12_client(server.port, {"--session-in", file});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), "no usable ticket in " + file + ": full handshake");
    CHECK_CONTAINS(client.out(), "<- Certificate (");
    CHECK(count_of(read_file(file), "[ticket]") == 0);
    // The server: offered anyway, with a binder that verifies, an expired ticket is ignored.
    ClientTweaks tweaks;
    tweaks.psks = {tls::psk_offer(session, session.tickets[1], tls::unix_time_ms())};
    ClientSession done;
    CHECK(scripted_handshake(server.port, tweaks, &done) == "");
    CHECK_FALSE(done.selected_identity);
    CHECK(server.process.wait_for("none of the 1 PSK identities is a ticket of ours we can use", 5s));
}

// ---- The server against a scripted client: offers it should take -----------------------------

// RFC8446 4.2.11-3, 4.2.11-10
TEST_CASE("ch12 server resumes the in-test client's offer, and selects the first ticket of its own in the list") {
    ServerWithSession s;
    {
        ClientTweaks tweaks;
        tweaks.psks = {s.offer(0)};
        ClientSession done;
        CHECK(scripted_handshake(s.port(), tweaks, &done) == "");
        CHECK(done.selected_identity == std::optional<std::uint16_t>(0));
    }
    {
        // §4.2.11: an identity it cannot open is skipped; the index is of the ticket it took.
        ForeignPsk foreign;
        ClientTweaks tweaks;
        tweaks.psks = {foreign.offer(), s.offer(1)};
        ClientSession done;
        CHECK(scripted_handshake(s.port(), tweaks, &done) == "");
        CHECK(done.selected_identity == std::optional<std::uint16_t>(1));
        CHECK(s.server.process.wait_for("identity 1 of 2", 5s));
    }
}

TEST_CASE("ch12 server answers a ticket the client saw, used twice, with a resumption each time (no single-use on the server)") {
    // The server keeps no state: a ticket resumes as often as it is offered (Appendix C.4 asks
    // the client not to reuse it; §8 leaves 1-RTT replays harmless). Chapter 13 limits 0-RTT.
    ServerWithSession s;
    for (int i = 0; i < 2; ++i) {
        ClientTweaks tweaks;
        tweaks.psks = {s.offer(0)};
        ClientSession done;
        CHECK(scripted_handshake(s.port(), tweaks, &done) == "");
        CHECK(done.selected_identity == std::optional<std::uint16_t>(0));
    }
}

// RFC8446 4.2.11-5
TEST_CASE("ch12 server answers an unknown ticket identity with a full handshake, not an alert (§4.2.11)") {
    ServerWithSession s;
    ForeignPsk foreign;
    ClientTweaks tweaks;
    tweaks.psks = {foreign.offer()};
    ClientSession done;
    CHECK(scripted_handshake(s.port(), tweaks, &done) == "");  // it read Certificate and CertificateVerify
    CHECK_FALSE(done.selected_identity);
    CHECK(s.server.process.wait_for("none of the 1 PSK identities is a ticket of ours we can use", 5s));
    CHECK(count_of(s.server.process.all(), "-> Certificate (") == 2);  // the session's handshake and this one
    s.check_still_serving();
}

// RFC8446 4.2.11-6
TEST_CASE("ch12 server answers a ticket whose obfuscated_ticket_age is far off with a full handshake (§4.2.11.1)") {
    ServerWithSession s;
    for (std::uint32_t skew : {1'000'000'000u, 60'000u}) {  // 11 days; a minute more than the ticket has lived
        INFO("skew " << skew);
        ClientTweaks tweaks;
        tweaks.psks = {s.offer(0)};
        tweaks.psks[0].identity.obfuscated_ticket_age += skew;
        ClientSession done;
        CHECK(scripted_handshake(s.port(), tweaks, &done) == "");
        CHECK_FALSE(done.selected_identity);
    }
    CHECK(count_of(s.server.process.all(), "none of the 1 PSK identities is a ticket of ours we can use") == 2);
    s.check_still_serving();
}

// ---- The server against a scripted client: offers it must refuse with an alert ----------------

// RFC8446 4.2.11-8, 4.2.11-9
TEST_CASE("ch12 server answers a real ticket with a corrupted binder with decrypt_error (§4.2.11)") {
    ServerWithSession s;
    auto hello = plain_client_hello();
    std::vector<tls::PskOffer> offers = {s.offer(0)};
    hello.extensions.push_back(tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke}));
    tls::add_pre_shared_key(hello, offers);
    hello.extensions.back().extension_data.back() ^= 0x01;  // the binder ends the extension
    RawClient raw(s.port());
    raw.send(as_record(hello));
    CHECK(tls::to_hex(raw.read_all(5s)) == "15030300020233");  // plaintext alert decrypt_error(51)
    CHECK(raw.peer_closed());
    CHECK(s.server.process.wait_for("the PSK binder does not verify", 5s));
    s.check_still_serving();
}

// RFC8446 4.2.11-9
TEST_CASE("ch12 server answers a ClientHello2 whose binder leaves out the HelloRetryRequest with decrypt_error (§4.2.11.2)") {
    for (auto forget_retry : {true, false}) {
        INFO("binder without message_hash and HelloRetryRequest: " << forget_retry);
        ServerWithSession s({"--groups", "secp256r1,x25519"});
        std::string answer;
        auto outcome = run_client_script(s.port(), [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            std::vector<tls::PskOffer> offers = {s.offer(0)};
            auto first = plain_client_hello();
            first.extensions.push_back(tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke}));
            tls::add_pre_shared_key(first, offers);
            auto first_raw = co_await conn.write(first);
            conn.records().allow_compatibility_ccs(true);
            auto [hrr, hrr_raw] = co_await conn.read<tls::ServerHello>();
            if (!hrr.is_hello_retry_request()) throw std::runtime_error("no HelloRetryRequest");
            auto second = first;
            auto share = tls::generate_key_share(tls::NamedGroup::secp256r1);
            for (auto& e : second.extensions)
                if (e.extension_type == tls::ExtensionType::key_share)
                    e = tls::make_key_share_client({{tls::NamedGroup::secp256r1, share.public_key}});
            // §4.2.11.2: Transcript-Hash(ClientHello1, HelloRetryRequest, Truncate(ClientHello2)),
            // ClientHello1 as message_hash (§4.4.1).
            tls::Bytes prefix;
            if (!forget_retry) {
                prefix = tls::encode_handshake(tls::HandshakeType::message_hash, tls::hash(tls::HashAlg::sha256, first_raw));
                prefix.insert(prefix.end(), hrr_raw.begin(), hrr_raw.end());
            }
            tls::add_pre_shared_key(second, offers, prefix);
            co_await conn.write(second);
            auto [hello, hello_raw] = co_await conn.read<tls::ServerHello>();
            answer = hello.pre_shared_key() ? "resumed" : "full";
        });
        if (forget_retry) {
            CHECK(outcome == "peer alert decrypt_error(51)");
            CHECK(s.server.process.wait_for("the PSK binder does not verify", 5s));
        } else {
            CHECK(outcome == "");
            CHECK(answer == "resumed");
        }
        s.check_still_serving();
    }
}

// RFC8446 4.2.11-16
TEST_CASE("ch12 server answers a pre_shared_key that is not the last extension with illegal_parameter") {
    ServerWithSession s;
    ClientTweaks tweaks;
    std::vector<tls::PskOffer> offers = {s.offer(0)};
    tweaks.edit_hello = [&](tls::ClientHello& hello) {
        tls::add_pre_shared_key(hello, offers);
        hello.extensions.push_back(tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke}));
    };
    CHECK(scripted_handshake(s.port(), tweaks) == "peer alert illegal_parameter(47)");
    CHECK(s.server.process.wait_for("ClientHello: pre_shared_key is not the last extension", 5s));
    s.check_still_serving();
}

// RFC8446 4.2.9-3, 9.2-8
TEST_CASE("ch12 server answers a pre_shared_key without psk_key_exchange_modes with missing_extension (§4.2.9)") {
    ServerWithSession s;
    ClientTweaks tweaks;
    std::vector<tls::PskOffer> offers = {s.offer(0)};
    tweaks.edit_hello = [&](tls::ClientHello& hello) { tls::add_pre_shared_key(hello, offers); };
    CHECK(scripted_handshake(s.port(), tweaks) == "peer alert missing_extension(109)");
    CHECK(s.server.process.wait_for("pre_shared_key without psk_key_exchange_modes", 5s));
    s.check_still_serving();
}

TEST_CASE("ch12 server answers two PSK identities with one binder with illegal_parameter (§4.2.11)") {
    ServerWithSession s;
    ClientTweaks tweaks;
    auto real = s.offer(0);
    tweaks.edit_hello = [&](tls::ClientHello& hello) {
        hello.extensions.push_back(tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke}));
        tls::OfferedPsks offered;
        offered.identities = {real.identity, ForeignPsk().offer().identity};
        offered.binders = {tls::Bytes(32, 0)};
        hello.extensions.push_back(tls::make_pre_shared_key_client(offered));
    };
    CHECK(scripted_handshake(s.port(), tweaks) == "peer alert illegal_parameter(47)");
    CHECK(s.server.process.wait_for("2 PSK identities but 1 binder ", 5s));
    s.check_still_serving();
}

// ---- The client against a scripted ServerHello ------------------------------------------------

// RFC8446 4.2.11-11, 4.2.11-12
TEST_CASE("ch12 client answers a selected_identity beyond the PSKs it offered with illegal_parameter (§4.2.11)") {
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);
    auto out = client_answer(
        file, [](tls::ServerHello& hello) { hello.extensions.push_back(tls::make_pre_shared_key_server(5)); },
        "illegal_parameter(47)");
    CHECK_CONTAINS(out, "-> Alert illegal_parameter(47): ServerHello: selected_identity 5 but we offered 1 PSK");
    // The ticket was spent before it went on the wire, though the handshake failed.
    CHECK(count_of(read_file(file), "[ticket]") == 0);
}

// RFC8446 4.2-2
TEST_CASE("ch12 client answers a pre_shared_key when it offered none with unsupported_extension (§4.2)") {
    auto out = client_answer(
        "", [](tls::ServerHello& hello) { hello.extensions.push_back(tls::make_pre_shared_key_server(0)); },
        "unsupported_extension(110)");
    CHECK_CONTAINS(out, "-> Alert unsupported_extension(110): ServerHello: pre_shared_key, but we offered no PSK");
}

// RFC8446 4.2.11-11, 4.2.11-12, 4.6.1-1
TEST_CASE("ch12 client answers a PSK selected with a suite of another hash with illegal_parameter (§4.2.11)") {
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);  // a SHA-256 ticket
    auto out = client_answer(
        file,
        [](tls::ServerHello& hello) {
            hello.cipher_suite = tls::CipherSuite::TLS_AES_256_GCM_SHA384;
            hello.extensions.push_back(tls::make_pre_shared_key_server(0));
        },
        "illegal_parameter(47)");
    CHECK_CONTAINS(out, "-> Alert illegal_parameter(47): ServerHello: TLS_AES_256_GCM_SHA384 does not use the hash of PSK 0");
}

// RFC8446 4.2.11-11, 4.2.11-12
TEST_CASE("ch12 client answers a PSK without key_share when it offered only psk_dhe_ke with illegal_parameter (§4.2.11)") {
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);
    auto out = client_answer(
        file,
        [](tls::ServerHello& hello) {
            std::erase_if(hello.extensions, [](auto& e) { return e.extension_type == tls::ExtensionType::key_share; });
            hello.extensions.push_back(tls::make_pre_shared_key_server(0));
        },
        "illegal_parameter(47)");
    CHECK_CONTAINS(out, "-> Alert illegal_parameter(47): ServerHello: a PSK without key_share, but we offered only psk_dhe_ke");
}
