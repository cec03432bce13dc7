// Chapter 13: 0-RTT early data (RFC 8446 §4.2.10, §2.3, §4.5, §8). The chapter's own server and
// client end to end — accepted early data, a replay refused, tickets without early data, a
// HelloRetryRequest, key logs — then each rule a hostile client can break against the server
// (a scripted client that holds a real ticket and sends its own early data), and the client
// against a scripted server.
#include "key_exchange.hpp"
#include "keylog.hpp"
#include "peers.hpp"
#include "session.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

namespace {

const std::string reconnecting = "connecting again, with a ticket from the first connection";
const std::string replaying = "connecting again and replaying that connection's ClientHello and early data";
const std::string accepted = "the server accepted our early data (§4.2.10)";
const std::string not_accepted = "the server did not accept our early data: it goes again after the handshake";
const std::string server_accepted = "early data accepted: first identity, fresh, never used before";
const std::string server_replay = "early data declined: the ticket has already been used for early data: a replay";
const std::string resumed = "resumed with the PSK and (EC)DHE";

// What follows the first occurrence of `marker` ("" if it is missing).
std::string after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    return at == std::string::npos ? std::string() : text.substr(at);
}
// What precedes it (all of `text` if it is missing).
std::string before(const std::string& text, const std::string& marker) { return text.substr(0, text.find(marker)); }

Process ch13_client(unsigned short port, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("ch13-client"), "--port", std::to_string(port), "--message", "hi", "--repeat", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process(argv);
}

// The ch13 client's tickets from a full handshake with `port`, saved in `file` and loaded back.
tls::Session session_from(unsigned short port, const std::string& file) {
    auto client = ch13_client(port, {"--session-out", file});
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    auto session = tls::Session::load(file);
    REQUIRE(!session.tickets.empty());
    return session;
}

// ---- The scripted client: a real ticket, its own early data ---------------------------------

// A ClientHello that offers the first ticket of `session` (x25519, TLS_AES_128_GCM_SHA256,
// psk_dhe_ke) and early data, made once: sent again, it is byte for byte the same (the replay
// of §8), and since we hold its key share, every connection it opens can complete.
struct EarlyFlight {
    tls::Session session;
    tls::KeyPair share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ClientHello hello;
    tls::Bytes raw;  // the message as sent, header included
    const tls::SuiteInfo& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
    // §7.1: Derive-Secret(Early Secret(PSK), "c e traffic", ClientHello)
    tls::ClientTrafficSecret client_early_traffic_secret;

    explicit EarlyFlight(tls::Session s) : session(std::move(s)) {
        auto random = tls::random_bytes(32);
        std::copy(random.begin(), random.end(), hello.random.begin());
        hello.legacy_session_id = tls::random_bytes(32);
        hello.cipher_suites = {suite.suite};
        hello.extensions = {tls::make_server_name("localhost"), tls::make_supported_groups({tls::NamedGroup::x25519}),
                            tls::make_signature_algorithms({tls::SignatureScheme::ecdsa_secp256r1_sha256}),
                            tls::make_supported_versions_client({tls::TLS1_3}),
                            tls::make_key_share_client({{tls::NamedGroup::x25519, share.public_key}}),
                            tls::make_early_data(),
                            tls::make_psk_key_exchange_modes({tls::PskKeyExchangeMode::psk_dhe_ke})};
        const std::vector<tls::PskOffer> offers = {tls::psk_offer(session, session.tickets.front(), tls::unix_time_ms())};
        tls::add_pre_shared_key(hello, offers);
        raw = tls::encode_handshake(hello);
        tls::TranscriptHash client_hello_only(suite.hash);
        client_hello_only.update(raw);
        client_early_traffic_secret = tls::EarlySecret(suite.hash, psk()).client_early_traffic_secret(client_hello_only.current());
    }
    const tls::Secret& psk() const { return session.tickets.front().resumption_psk; }
    // A record of early data as the record layer seals it: sequence number `n` under the early keys.
    tls::Bytes sealed(std::uint64_t n, tls::ContentType type, tls::BytesView content) const {
        return seal_record(suite, client_early_traffic_secret, n, type, content);
    }
};

// Sends the ClientHello and installs the early keys for writing: what the script writes next
// is early data (§2.3).
asio::awaitable<void> send_early_hello(tls::Connection& conn, const EarlyFlight& flight) {
    auto raw = co_await conn.write(flight.hello);
    CHECK(raw == flight.raw);
    conn.records().allow_compatibility_ccs(true);
    conn.install(flight.suite, flight.client_early_traffic_secret);
}

// The server's flight after our ClientHello, read with the keys it implies; the server's
// application keys are then installed for reading.
struct ServerAnswer {
    bool accepted = false;  // early_data in EncryptedExtensions
    tls::TranscriptHash transcript;
    tls::ClientTrafficSecret client_handshake_traffic_secret;
    tls::ClientTrafficSecret client_application_traffic_secret_0;
};

asio::awaitable<ServerAnswer> read_server_flight(tls::Connection& conn, const EarlyFlight& flight) {
    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    if (server_hello.pre_shared_key() != std::uint16_t{0} || !server_hello.key_share())
        throw std::runtime_error("scripted client: the server did not resume with our ticket and (EC)DHE");
    tls::TranscriptHash transcript(flight.suite.hash);
    transcript.update(flight.raw);
    transcript.update(server_hello_raw);
    auto shared = tls::shared_secret(tls::NamedGroup::x25519, flight.share.private_key, server_hello.key_share()->key_exchange);
    const tls::KeyLog no_keylog("/dev/null");
    const tls::EarlySecret early(flight.suite.hash, flight.psk());
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, no_keylog, flight.hello.random);
    conn.install(flight.suite, keys.server_handshake_traffic_secret);
    auto [encrypted_extensions, encrypted_extensions_raw] = co_await conn.read<tls::EncryptedExtensions>();
    transcript.update(encrypted_extensions_raw);
    // §2.2: a resumed handshake has no Certificate: Finished follows.
    co_await tls::read_finished(conn, keys.server_handshake_traffic_secret, transcript);
    auto app = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, no_keylog, flight.hello.random);
    conn.install(flight.suite, app.server_application_traffic_secret_0);
    ServerAnswer answer{encrypted_extensions.has_extension(tls::ExtensionType::early_data), std::move(transcript),
                        keys.client_handshake_traffic_secret, app.client_application_traffic_secret_0};
    co_return answer;
}

// EndOfEarlyData if the server accepted our early data (§4.5: the last message under the early
// keys), then our Finished under the handshake keys; application keys both ways after it.
asio::awaitable<void> finish_handshake(tls::Connection& conn, const EarlyFlight& flight, ServerAnswer& answer) {
    if (answer.accepted) {
        const tls::EndOfEarlyData end_of_early_data;
        answer.transcript.update(co_await conn.write(end_of_early_data));
    }
    conn.install(flight.suite, answer.client_handshake_traffic_secret);
    co_await tls::send_finished(conn, answer.client_handshake_traffic_secret, answer.transcript);
    conn.install(flight.suite, answer.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);
}

// Application data until `size` bytes or the end (NewSessionTickets on the way are skipped).
asio::awaitable<std::string> read_data(tls::Connection& conn, std::size_t size) {
    std::string data;
    while (data.size() < size) {
        auto record = co_await conn.records().read_record();
        if (!record) break;
        if (record->type == tls::ContentType::application_data) data += tls::to_string(record->fragment);
    }
    co_return data;
}

// A ch13 server (with `args`, and 4 tickets per handshake) and a session from it, for the
// scripted client. Each ticket gives 0-RTT once (§8.1): each scripted connection takes its own.
struct ServerWithSession {
    TempDir dir;
    Server server;
    tls::Session session;
    std::size_t used = 0;
    explicit ServerWithSession(std::vector<std::string> args = {})
        : server(start_server("ch13-server", with_tickets(std::move(args)))),
          session(session_from(server.port, dir.file("session"))) {}
    static std::vector<std::string> with_tickets(std::vector<std::string> args) {
        args.insert(args.end(), {"--tickets", "4"});
        return args;
    }
    unsigned short port() const { return server.port; }
    // The session with one ticket not used yet.
    tls::Session next() {
        REQUIRE(used < session.tickets.size());
        tls::Session one = session;
        one.tickets = {session.tickets[used++]};
        return one;
    }
    // After a hostile client: a correct one still gets its early data through.
    void check_still_serving() {
        auto client = ch13_client(server.port, {"--reconnect", "--early-data", "still"});
        CHECK(client.wait() == 0);
        CHECK_CONTAINS(client.out(), accepted);
        CHECK_CONTAINS(client.out(), "received the echo of our 0-RTT data: still");
    }
};

using EarlyScript = std::function<asio::awaitable<void>(tls::Connection&, const EarlyFlight&)>;
using AfterFlightScript = std::function<asio::awaitable<void>(tls::Connection&, const EarlyFlight&, ServerAnswer&)>;

// The scripted client against `server`: ClientHello with early data, `early` under the early
// keys (what it writes is the early data), the server's flight (which must accept the early
// data), then `after_flight`, if any; returns the alert the server ended with.
std::string server_answer(ServerWithSession& server, const EarlyScript& early, const AfterFlightScript& after_flight = {}) {
    EarlyFlight flight(server.next());
    std::string alert;
    auto outcome = run_client_script(server.port(), [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await send_early_hello(conn, flight);
        co_await early(conn, flight);
        auto answer = co_await read_server_flight(conn, flight);
        CHECK(answer.accepted);
        if (after_flight) co_await after_flight(conn, flight, answer);
        alert = co_await read_until_alert(conn);
    });
    CHECK(outcome == "");
    return alert;
}

tls::Bytes handshake_message(tls::HandshakeType type, const tls::Bytes& body) {
    tls::Bytes message = {static_cast<std::uint8_t>(type), 0, static_cast<std::uint8_t>(body.size() >> 8),
                          static_cast<std::uint8_t>(body.size())};
    message.insert(message.end(), body.begin(), body.end());
    return message;
}
const tls::Bytes end_of_early_data = {0x05, 0x00, 0x00, 0x00};

// ---- The client against a scripted server -------------------------------------------------

// A session file of one made-up ticket for localhost that allows early data. The scripted
// server never opens the ticket; it knows the PSK, 32 bytes of 0x42.
const tls::Secret made_up_psk(32, 0x42);
void write_made_up_session(const std::string& path) {
    tls::SessionTicket ticket;
    ticket.ticket = tls::random_bytes(64);
    ticket.resumption_psk = made_up_psk;
    ticket.ticket_nonce = {0};
    ticket.receipt_time_ms = tls::unix_time_ms();
    ticket.ticket_lifetime = 7200;
    ticket.ticket_age_add = 12345;
    ticket.max_early_data_size = 16384;
    tls::Session session{"localhost", tls::CipherSuite::TLS_AES_128_GCM_SHA256, {ticket}};
    session.save(path);
}

// The scripted server's first steps: reads the ClientHello, answers with a ServerHello (a full
// handshake: no pre_shared_key) and installs the handshake keys both ways. Returns the
// ClientHello, and the client_early_traffic_secret for `psk`, if given (a view: no braced
// temporary among the arguments of a co_awaited call, for g++ 12).
struct ScriptedStart {
    tls::ClientHello client_hello;
    tls::ClientTrafficSecret client_early_traffic_secret;  // if the client offered early data with `psk`
};
asio::awaitable<ScriptedStart> answer_client_hello(tls::Connection& conn, tls::BytesView psk = {}) {
    const auto& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    conn.records().allow_compatibility_ccs(true);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);
    ScriptedStart start{client_hello, {}};
    if (!psk.empty()) start.client_early_traffic_secret = tls::EarlySecret(suite.hash, psk).client_early_traffic_secret(transcript.current());
    tls::KeyShareEntry client_share;
    for (auto& share : client_hello.key_share().value_or(std::vector<tls::KeyShareEntry>{}))
        if (share.group == tls::NamedGroup::x25519) client_share = share;
    auto our_share = tls::generate_key_share(tls::NamedGroup::x25519);
    tls::ServerHello server_hello;
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), server_hello.random.begin());
    server_hello.legacy_session_id_echo = client_hello.legacy_session_id;
    server_hello.cipher_suite = suite.suite;
    server_hello.extensions = {tls::make_supported_versions_server(tls::TLS1_3),
                               tls::make_key_share_server({tls::NamedGroup::x25519, our_share.public_key})};
    transcript.update(co_await conn.write(server_hello));
    auto shared = tls::shared_secret(tls::NamedGroup::x25519, our_share.private_key, client_share.key_exchange);
    const tls::KeyLog no_keylog("/dev/null");
    const tls::EarlySecret no_psk(suite.hash);
    auto keys = tls::establish_handshake_keys(conn.trace(), no_psk, shared, transcript, no_keylog, client_hello.random);
    conn.install(suite, keys.server_handshake_traffic_secret);
    conn.install(suite, keys.client_handshake_traffic_secret);
    co_return start;
}

}  // namespace

// ---- End to end: the chapter's own programs -----------------------------------------------

// RFC8446 4.2.10-1, 4.2.10-2, 4.5-1, 4.5-2, 8-1, 8-3
TEST_CASE("ch13 client --reconnect --early-data --replay: 0-RTT accepted once, the replay declined, the handshake still completes") {
    auto server = start_server("ch13-server");
    auto client = ch13_client(server.port, {"--reconnect", "--early-data", "early hello", "--replay"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto first = before(out, reconnecting), second = before(after(out, reconnecting), replaying),
         third = after(out, replaying);
    REQUIRE(!second.empty());
    REQUIRE(!third.empty());
    // 1: a full handshake, with no ticket yet: the early data goes after the handshake.
    CHECK_CONTAINS(first, "full handshake");
    CHECK_CONTAINS(first, "early_data     max_early_data_size 16384");  // NewSessionTicket (§4.6.1)
    CHECK(first.find("client_early_traffic_secret") == std::string::npos);
    CHECK_CONTAINS(first, "received the echo of our data (sent after the handshake): early hello");
    // 2: resumed, with 0-RTT.
    CHECK_CONTAINS(second, "early_data                (empty)");  // ClientHello
    CHECK_CONTAINS(second, "client_early_traffic_secret");
    CHECK_CONTAINS(second, "early data  11 bytes sent before the server's answer");
    CHECK_CONTAINS(second, accepted);
    CHECK_CONTAINS(second, "-> EndOfEarlyData");
    CHECK(second.find("-> EndOfEarlyData") > second.find("<- Finished"));  // §4.5: after the server's Finished
    CHECK(second.find("-> EndOfEarlyData") < second.find("-> Finished"));
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed);
    CHECK_CONTAINS(second, "received the echo of our 0-RTT data: early hello");
    // 3: the same ClientHello and early data, byte for byte: declined, the handshake completes.
    CHECK_CONTAINS(third, "replaying the ClientHello and early data of the last connection, byte for byte");
    CHECK_CONTAINS(third, not_accepted);
    CHECK(third.find("EndOfEarlyData") == std::string::npos);
    CHECK_CONTAINS(third, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed);
    CHECK_CONTAINS(third, "received the echo of our data (sent after the handshake): early hello");
    CHECK(count_of(out, "received message: hi") == 3);

    REQUIRE(server.process.wait_for("== connection #3 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, server_accepted) == 1);
    CHECK(count_of(trace, server_replay) == 1);
    CHECK(count_of(trace, "<- EndOfEarlyData") == 1);
    CHECK_CONTAINS(trace, "early data  11 bytes, before the handshake is complete: early hello");
    CHECK_CONTAINS(trace, "early data skipped: 28 bytes");
    CHECK(count_of(trace, "connection closed cleanly after echoing 13 bytes") == 3);
    // The server still serves: a new client, with a new ticket, gets its 0-RTT through.
    auto again = ch13_client(server.port, {"--reconnect", "--early-data", "once more"});
    CHECK(again.wait() == 0);
    CHECK_CONTAINS(again.out(), "received the echo of our 0-RTT data: once more");
}

TEST_CASE("ch13 server --max-early-data 0: tickets without early_data, and the client sends its data after the handshake") {
    auto server = start_server("ch13-server", {"--max-early-data", "0"});
    auto client = ch13_client(server.port, {"--reconnect", "--early-data", "early hello"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto second = after(out, reconnecting);
    REQUIRE(!second.empty());
    CHECK(out.find("max_early_data_size") == std::string::npos);  // no early_data in NewSessionTicket
    CHECK_CONTAINS(second, "no early data: the ticket allows 0 bytes, we have 11 (§4.2.10)");
    CHECK(second.find("early_data                (empty)") == std::string::npos);
    CHECK(second.find("client_early_traffic_secret") == std::string::npos);
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, " + resumed);
    CHECK_CONTAINS(second, "received the echo of our data (sent after the handshake): early hello");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK(trace.find("early data accepted") == std::string::npos);
    CHECK(trace.find("<- EndOfEarlyData") == std::string::npos);
    CHECK(count_of(trace, "connection closed cleanly after echoing 13 bytes") == 2);
}

TEST_CASE("ch13 client offers no 0-RTT when its early data is larger than the ticket allows") {
    auto server = start_server("ch13-server", {"--max-early-data", "4"});
    auto client = ch13_client(server.port, {"--reconnect", "--early-data", "0123456789"});
    CHECK(client.wait() == 0);
    auto second = after(client.out(), reconnecting);
    REQUIRE(!second.empty());
    CHECK_CONTAINS(client.out(), "early_data     max_early_data_size 4");
    CHECK_CONTAINS(second, "no early data: the ticket allows 4 bytes, we have 10 (§4.2.10)");
    CHECK(second.find("client_early_traffic_secret") == std::string::npos);
    CHECK_CONTAINS(second, resumed);
    CHECK_CONTAINS(second, "received the echo of our data (sent after the handshake): 0123456789");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    CHECK(server.process.all().find("early data accepted") == std::string::npos);
}

// RFC8446 4.2.10-5, 4.2.10-6, 4.2.10-10
TEST_CASE("ch13 early data and a HelloRetryRequest: the server declines it, the client sends it again after the handshake") {
    auto server = start_server("ch13-server", {"--groups", "secp256r1,x25519"});
    auto client = ch13_client(server.port, {"--reconnect", "--early-data", "early hello"});
    CHECK(client.wait() == 0);
    auto out = client.out();
    auto second = after(out, reconnecting);
    REQUIRE(!second.empty());
    CHECK_CONTAINS(second, "early data  11 bytes sent before the server's answer");
    CHECK_CONTAINS(second, "<- HelloRetryRequest");
    CHECK_CONTAINS(second, "from now on we write records unprotected again");
    // ClientHello2 without early_data (§4.1.2).
    auto client_hello2 = after(second, "from now on we write records unprotected again");
    CHECK(before(client_hello2, "<- ServerHello").find("early_data") == std::string::npos);
    CHECK_CONTAINS(second, not_accepted);
    CHECK(second.find("EndOfEarlyData") == std::string::npos);
    CHECK_CONTAINS(second, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, secp256r1, " + resumed);
    CHECK_CONTAINS(second, "received the echo of our data (sent after the handshake): early hello");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "early data declined: we ask for another ClientHello, and early data is not permitted after a "
                          "HelloRetryRequest (§4.2.10)");
    CHECK_CONTAINS(trace, "early data skipped: 28 bytes sent before our HelloRetryRequest");
    CHECK(trace.find("early data accepted") == std::string::npos);
    CHECK(count_of(trace, "connection closed cleanly after echoing 13 bytes") == 2);
}

TEST_CASE("ch13 client --early-data-file sends the file's content as 0-RTT data") {
    TempDir temp;
    auto file = temp.file("early.txt");
    write_file(file, "from a file");
    auto server = start_server("ch13-server");
    auto client = ch13_client(server.port, {"--reconnect", "--early-data-file", file});
    CHECK(client.wait() == 0);
    auto second = after(client.out(), reconnecting);
    CHECK_CONTAINS(second, "early data  11 bytes sent before the server's answer");
    CHECK_CONTAINS(second, accepted);
    CHECK_CONTAINS(second, "received the echo of our 0-RTT data: from a file");
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    CHECK_CONTAINS(server.process.all(), "early data  11 bytes, before the handshake is complete: from a file");
    // Not both.
    auto both = ch13_client(server.port, {"--early-data", "x", "--early-data-file", file});
    CHECK(both.wait() != 0);
}

TEST_CASE("ch13 key logs: client and server write the same CLIENT_EARLY_TRAFFIC_SECRET for the 0-RTT connection") {
    TempDir temp;
    auto client_log = temp.file("client.keys"), server_log = temp.file("server.keys");
    auto server = start_server("ch13-server", {"--keylog", server_log});
    auto client = ch13_client(server.port, {"--reconnect", "--early-data", "logged", "--keylog", client_log});
    CHECK(client.wait() == 0);
    CHECK_CONTAINS(client.out(), accepted);
    REQUIRE(server.process.wait_for("== connection #2 closed", 5s));
    auto client_keys = parse_keylog(read_file(client_log)), server_keys = parse_keylog(read_file(server_log));
    CHECK(client_keys.size() == 2);  // two connections
    CHECK(client_keys == server_keys);
    int early = 0;
    for (auto& [random, secrets] : client_keys) {
        if (!secrets.count("CLIENT_EARLY_TRAFFIC_SECRET")) continue;
        ++early;
        CHECK(secrets.at("CLIENT_EARLY_TRAFFIC_SECRET").size() == 64);
        // The trace's client_early_traffic_secret is the one logged.
        auto spaced = std::string();
        const auto& hex = secrets.at("CLIENT_EARLY_TRAFFIC_SECRET");
        for (std::size_t i = 0; i < hex.size(); i += 2) spaced += (i ? " " : "") + hex.substr(i, 2);
        CHECK_CONTAINS(client.out(), "client_early_traffic_secret  " + spaced);
        CHECK(secrets.count("CLIENT_HANDSHAKE_TRAFFIC_SECRET") == 1);
    }
    CHECK(early == 1);  // only the resumed connection sent 0-RTT
}

// ---- The server against a hostile client ----------------------------------------------------

// RFC8446 4.6.1-8, 4.2.10-11
TEST_CASE("ch13 server answers more early data than the ticket's max_early_data_size with unexpected_message") {
    ServerWithSession server({"--max-early-data", "16"});
    REQUIRE(server.session.tickets.front().max_early_data_size == 16);
    {
        INFO("40 bytes in one record");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            const tls::Bytes forty(40, 'x');
            co_await conn.records().write_records(tls::ContentType::application_data, forty);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.server.process.all(), "more than the 16 bytes of early data the ticket allows");
    }
    {
        INFO("10 bytes, then 10 more");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            const tls::Bytes ten(10, 'x');
            co_await conn.records().write_records(tls::ContentType::application_data, ten);
            co_await conn.records().write_records(tls::ContentType::application_data, ten);
        });
        CHECK(alert == "unexpected_message(10)");
    }
    {
        INFO("exactly 16 bytes in two records: accepted and echoed");
        EarlyFlight flight(server.next());
        std::string echoed;
        auto outcome = run_client_script(server.port(), [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_early_hello(conn, flight);
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("eight by"));
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("tes more"));
            auto answer = co_await read_server_flight(conn, flight);
            CHECK(answer.accepted);
            co_await finish_handshake(conn, flight, answer);
            echoed = co_await read_data(conn, 16);
            co_await conn.records().send_alert(tls::AlertDescription::close_notify);
            CHECK(co_await read_until_alert(conn) == "close_notify(0)");
        });
        CHECK(outcome == "");
        CHECK(echoed == "eight bytes more");
    }
    server.check_still_serving();
}

// RFC8446 4.2.10-12, 5.2-3
TEST_CASE("ch13 server answers a forged 0-RTT record after accepting early data with bad_record_mac") {
    ServerWithSession server;
    {
        INFO("a corrupted early data record");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight& flight) -> asio::awaitable<void> {
            auto record = flight.sealed(0, tls::ContentType::application_data, tls::to_bytes("tampered"));
            record.back() ^= 0x01;  // the tag
            co_await conn.records().write_raw(record);
        });
        CHECK(alert == "bad_record_mac(20)");
    }
    {
        INFO("an early data record with the wrong sequence number");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight& flight) -> asio::awaitable<void> {
            auto record = flight.sealed(1, tls::ContentType::application_data, tls::to_bytes("skipped one"));
            co_await conn.records().write_raw(record);
        });
        CHECK(alert == "bad_record_mac(20)");
    }
    {
        INFO("no EndOfEarlyData: the client's Finished under the handshake keys");
        auto alert = server_answer(
            server, [](tls::Connection&, const EarlyFlight&) -> asio::awaitable<void> { co_return; },
            [](tls::Connection& conn, const EarlyFlight& flight, ServerAnswer& answer) -> asio::awaitable<void> {
                conn.install(flight.suite, answer.client_handshake_traffic_secret);
                co_await tls::send_finished(conn, answer.client_handshake_traffic_secret, answer.transcript);
            });
        CHECK(alert == "bad_record_mac(20)");
    }
    CHECK_CONTAINS(server.server.process.all(), server_accepted);
    server.check_still_serving();
}

// RFC8446 4.5-1
TEST_CASE("ch13 server answers a handshake message other than EndOfEarlyData under the early keys with unexpected_message") {
    ServerWithSession server;
    {
        INFO("a Finished");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            const auto finished = handshake_message(tls::HandshakeType::finished, tls::Bytes(32, 0));
            co_await conn.records().write_records(tls::ContentType::handshake, finished);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.server.process.all(), "Finished under the early data keys");
    }
    {
        INFO("a KeyUpdate, after some early data");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("some data"));
            const tls::Bytes key_update = {0x18, 0x00, 0x00, 0x01, 0x00};
            co_await conn.records().write_records(tls::ContentType::handshake, key_update);
        });
        CHECK(alert == "unexpected_message(10)");
    }
    {
        INFO("an EndOfEarlyData with a body: decode_error");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            const tls::Bytes with_body = {0x05, 0x00, 0x00, 0x01, 0x00};
            co_await conn.records().write_records(tls::ContentType::handshake, with_body);
        });
        CHECK(alert == "decode_error(50)");
    }
    server.check_still_serving();
}

// RFC8446 5.1-2, 5.1-3, 5.1-4, 5.1-5
TEST_CASE("ch13 server answers EndOfEarlyData that does not end its record with unexpected_message (§5.1)") {
    ServerWithSession server;
    {
        INFO("EndOfEarlyData and the client's Finished in one record");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            auto both = end_of_early_data;
            auto finished = handshake_message(tls::HandshakeType::finished, tls::Bytes(32, 0));
            both.insert(both.end(), finished.begin(), finished.end());
            co_await conn.records().write_records(tls::ContentType::handshake, both);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.server.process.all(), "data after EndOfEarlyData in its record");
    }
    {
        INFO("EndOfEarlyData and the first bytes of another message");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            auto split = end_of_early_data;
            split.insert(split.end(), {0x14, 0x00});
            co_await conn.records().write_records(tls::ContentType::handshake, split);
        });
        CHECK(alert == "unexpected_message(10)");
    }
    {
        INFO("EndOfEarlyData split over two records is fine");
        EarlyFlight flight(server.next());
        std::string echoed;
        auto outcome = run_client_script(server.port(), [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_early_hello(conn, flight);
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("split"));
            auto answer = co_await read_server_flight(conn, flight);
            const tls::Bytes head = {0x05, 0x00}, tail = {0x00, 0x00};
            co_await conn.records().write_records(tls::ContentType::handshake, head);
            co_await conn.records().write_records(tls::ContentType::handshake, tail);
            answer.transcript.update(end_of_early_data);
            answer.accepted = false;  // sent already
            co_await finish_handshake(conn, flight, answer);
            echoed = co_await read_data(conn, 5);
            co_await conn.records().send_alert(tls::AlertDescription::close_notify);
            CHECK(co_await read_until_alert(conn) == "close_notify(0)");
        });
        CHECK(outcome == "");
        CHECK(echoed == "split");
    }
    {
        INFO("early data between the two halves of EndOfEarlyData (§5.1: no interleaving)");
        auto alert = server_answer(server, [](tls::Connection& conn, const EarlyFlight&) -> asio::awaitable<void> {
            const tls::Bytes head = {0x05, 0x00}, tail = {0x00, 0x00};
            co_await conn.records().write_records(tls::ContentType::handshake, head);
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes("inside"));
            co_await conn.records().write_records(tls::ContentType::handshake, tail);
        });
        CHECK(alert == "unexpected_message(10)");
        CHECK_CONTAINS(server.server.process.all(), "early data inside a handshake message split over records");
    }
    server.check_still_serving();
}

// RFC8446 8-1, 8-3, 4.2.10-10
TEST_CASE("ch13 server declines the early data of a replayed ClientHello, and the handshake still completes") {
    ServerWithSession server;
    EarlyFlight flight(server.next());  // one ClientHello, sent twice
    const std::string early = "pay 100 to Mallory";
    std::vector<tls::Bytes> sent;  // each connection's first flight, as it went out
    std::vector<bool> accepted_each;
    std::vector<std::string> echoes;
    for (int i = 0; i < 2; ++i) {
        auto outcome = run_client_script(server.port(), [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
            co_await send_early_hello(conn, flight);
            // The early data as the record layer seals it: the same bytes both times.
            auto record = flight.sealed(0, tls::ContentType::application_data, tls::to_bytes(early));
            co_await conn.records().write_raw(record);
            sent.push_back(record);
            auto answer = co_await read_server_flight(conn, flight);
            accepted_each.push_back(answer.accepted);
            if (answer.accepted) {
                // The early data record was raw: the early keys' next sequence number is 1.
                auto end = flight.sealed(1, tls::ContentType::handshake, end_of_early_data);
                co_await conn.records().write_raw(end);
                answer.transcript.update(end_of_early_data);
                answer.accepted = false;
            }
            co_await finish_handshake(conn, flight, answer);
            // An echo server: what it echoes first is the early data it took, if any.
            const std::string after_handshake = "1-RTT";
            co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(after_handshake));
            auto echoed = co_await read_data(conn, accepted_each.back() ? early.size() + 5 : 5);
            echoes.push_back(echoed);
            co_await conn.records().send_alert(tls::AlertDescription::close_notify);
            CHECK(co_await read_until_alert(conn) == "close_notify(0)");
        });
        CHECK(outcome == "");
    }
    REQUIRE(sent.size() == 2);
    CHECK(sent[0] == sent[1]);
    REQUIRE(accepted_each.size() == 2);
    CHECK(accepted_each[0]);
    CHECK_FALSE(accepted_each[1]);  // no early_data in EncryptedExtensions
    REQUIRE(echoes.size() == 2);
    CHECK(echoes[0] == early + "1-RTT");
    CHECK(echoes[1] == "1-RTT");  // the replayed early data reached no application
    REQUIRE(server.server.process.wait_for("== connection #3 closed", 5s));
    auto trace = server.server.process.all();
    CHECK(count_of(trace, server_accepted) == 1);
    CHECK(count_of(trace, server_replay) == 1);
    CHECK(count_of(trace, "early data  18 bytes, before the handshake is complete: pay 100 to Mallory") == 1);
    CHECK_CONTAINS(trace, "early data skipped: 35 bytes");
    CHECK(count_of(trace, "handshake complete: TLS_AES_128_GCM_SHA256, x25519, resumed with a PSK and (EC)DHE") == 2);
    server.check_still_serving();
}

// ---- The client against a hostile server -----------------------------------------------------

// RFC8446 4.2-2
TEST_CASE("ch13 client answers early_data in EncryptedExtensions when it offered none with unsupported_extension") {
    ScriptedServer server([](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        auto start = co_await answer_client_hello(conn);
        CHECK(!start.client_hello.has_extension(tls::ExtensionType::early_data));
        tls::EncryptedExtensions encrypted_extensions;
        encrypted_extensions.extensions.push_back(tls::make_early_data());
        co_await conn.write(encrypted_extensions);
        CHECK(co_await read_until_alert(conn) == "unsupported_extension(110)");
    });
    auto client = ch13_client(server.port(), {"--early-data", "no ticket"});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK_CONTAINS(client.out(), "early_data in EncryptedExtensions: we sent none");
    CHECK_CONTAINS(client.out(), "-> Alert unsupported_extension(110)");
}

// RFC8446 4.2.11-13, 4.2.11-14
TEST_CASE("ch13 client answers early_data in EncryptedExtensions of a handshake that did not take its PSK with illegal_parameter") {
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);
    std::string early;
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        // A full handshake (no pre_shared_key in ServerHello) that claims the early data.
        auto start = co_await answer_client_hello(conn, made_up_psk);
        CHECK(start.client_hello.has_extension(tls::ExtensionType::early_data));
        tls::EncryptedExtensions encrypted_extensions;
        encrypted_extensions.extensions.push_back(tls::make_early_data());
        co_await conn.write(encrypted_extensions);
        // The client still writes with its early keys: the server said it reads them.
        const auto& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
        conn.install(suite, start.client_early_traffic_secret);
        CHECK(co_await read_until_alert(conn, &early) == "illegal_parameter(47)");
    });
    auto client = ch13_client(server.port(), {"--session-in", file, "--early-data", "early hello"});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK(early == "early hello");
    CHECK_CONTAINS(client.out(), "early data accepted with a PSK other than the first");
    CHECK_CONTAINS(client.out(), "-> Alert illegal_parameter(47)");
}

TEST_CASE("ch13 client whose early data was declined sends its alerts under the handshake keys") {
    // A server that declines early data skips what does not decrypt with the handshake keys
    // (§4.2.10): an alert under the early keys would be dropped as early data.
    TempDir temp;
    auto file = temp.file("session");
    write_made_up_session(file);
    ScriptedServer server([&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await answer_client_hello(conn);  // a full handshake, no early_data in EncryptedExtensions
        conn.records().skip_early_data(tls::max_skipped_early_data);  // as a server that declines it
        tls::EncryptedExtensions encrypted_extensions;
        co_await conn.write(encrypted_extensions);
        co_await conn.write(encrypted_extensions);  // a second one: unexpected_message
        CHECK(co_await read_until_alert(conn) == "unexpected_message(10)");
    });
    auto client = ch13_client(server.port(), {"--session-in", file, "--early-data", "early hello"});
    CHECK(client.wait() == 1);
    CHECK(server.outcome() == "");
    CHECK_CONTAINS(client.out(), not_accepted);
    CHECK_CONTAINS(client.out(), "-> Alert unexpected_message(10)");
}
