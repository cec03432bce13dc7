// RFC 8446 §5 and §6 in the record layer, driven without sockets: a MemoryTransport feeds it
// bytes and collects what it writes. The rules: which records may arrive in plaintext once
// keys are installed, change_cipher_spec (§5, D.4), zero-length fragments (§5.1), skipping
// early data (§4.2.10), and one write at a time however many coroutines write.
#include "record_layer.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <stdexcept>

using namespace tls;
using tlstest::alert_of;

namespace {

const SuiteInfo& aes128() { return *suite_info(CipherSuite::TLS_AES_128_GCM_SHA256); }
const ClientTrafficSecret client_secret(Secret(32, 0x11));
const ServerTrafficSecret server_secret(Secret(32, 0x22));

Trace& quiet_trace() {
    static std::FILE* devnull = std::fopen("/dev/null", "w");
    static Trace trace({.hex = false, .quiet = true}, devnull);
    return trace;
}

// A record the client writes under client_secret, sequence number `seq`.
Bytes client_record(std::uint64_t seq, ContentType type, BytesView content, std::size_t padding = 0) {
    RecordProtection p(aes128().aead, traffic_keys(aes128(), client_secret));
    for (std::uint64_t i = 0; i < seq; ++i) p.seal(ContentType::application_data, {});
    return p.seal(type, content, padding);
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// What a server-side record layer does with `input`: every record it returns, in order, as
// "type:text", then "end" or "close_notify", or the AlertError / PeerAlert that stopped it.
struct Reading {
    std::vector<std::string> records;
    std::string end;
};

Reading read_all(BytesView input, const std::function<void(RecordLayer&)>& setup) {
    asio::io_context io;
    MemoryTransport transport(input, 7);  // odd-sized reads: records arrive in pieces
    RecordLayer records(transport, quiet_trace(), Role::server);
    setup(records);
    Reading reading;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (auto record = co_await records.read_record())
                reading.records.push_back(name(record->type) + ":" + to_string(record->fragment));
            reading.end = records.received_close_notify() ? "close_notify" : "end";
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const AlertError& a) {
                reading.end = "AlertError " + alert_name(a.description);
            } catch (const PeerAlert& a) {
                reading.end = "PeerAlert " + alert_name(a.alert.description);
            }
        });
    io.run();
    return reading;
}

void with_read_keys(RecordLayer& records) { records.install(aes128(), client_secret); }

}  // namespace

TEST_CASE("record layer: a plaintext close_notify after a protected record is unexpected_message, not a close") {
    auto input = concat({client_record(0, ContentType::application_data, to_bytes("hi")), from_hex("15030300020100")});
    auto r = read_all(input, with_read_keys);
    CHECK(r.records == std::vector<std::string>{"application_data:hi"});
    CHECK(r.end == "AlertError unexpected_message");
}

TEST_CASE("record layer: a plaintext fatal alert after a protected record is unexpected_message") {
    auto input = concat({client_record(0, ContentType::application_data, to_bytes("hi")), from_hex("15030300020228")});
    CHECK(read_all(input, with_read_keys).end == "AlertError unexpected_message");
}

TEST_CASE("record layer: a plaintext fatal alert before the peer's first protected record is the peer's failure") {
    CHECK(read_all(from_hex("1503030002022a"), with_read_keys).end == "PeerAlert bad_certificate");
}

TEST_CASE("record layer: a plaintext close_notify once read keys are installed is never a clean close") {
    CHECK(read_all(from_hex("15030300020100"), with_read_keys).end == "AlertError unexpected_message");
    CHECK(read_all(from_hex("1503030002015a"), with_read_keys).end == "AlertError unexpected_message");  // user_canceled
}

// RFC8446 6-1
TEST_CASE("record layer: a protected close_notify is a clean close") {
    auto input = client_record(0, ContentType::alert, from_hex("0100"));
    CHECK(read_all(input, with_read_keys).end == "close_notify");
}

TEST_CASE("record layer: a plaintext close_notify before any keys ends the stream") {
    CHECK(read_all(from_hex("15030300020100"), [](RecordLayer&) {}).end == "close_notify");
}

// RFC8446 5.4-2
TEST_CASE("record layer: zero-length alert and handshake fragments are unexpected_message, plaintext or protected") {
    for (auto type : {ContentType::alert, ContentType::handshake}) {
        INFO(name(type));
        CHECK(read_all(encode_record(type, {}), [](RecordLayer&) {}).end == "AlertError unexpected_message");
        for (std::size_t padding : {0, 5}) {
            CHECK(read_all(client_record(0, type, {}, padding), with_read_keys).end == "AlertError unexpected_message");
        }
    }
}

TEST_CASE("record layer: zero-length application data is delivered") {
    auto input = concat({client_record(0, ContentType::application_data, {}), client_record(1, ContentType::application_data, to_bytes("x"))});
    auto r = read_all(input, with_read_keys);
    CHECK(r.records == std::vector<std::string>{"application_data:", "application_data:x"});
}

// RFC8446 5-1, 5-2, 5-3
TEST_CASE("record layer: every change_cipher_spec 01 is dropped during the handshake; others are unexpected_message") {
    auto ccs = from_hex("140303000101");
    auto allow = [](RecordLayer& r) { r.allow_compatibility_ccs(true); };
    auto three = concat({ccs, ccs, ccs, encode_record(ContentType::handshake, from_hex("14000000"))});
    CHECK(read_all(three, allow).records == std::vector<std::string>{"handshake:" + to_string(from_hex("14000000"))});
    CHECK(read_all(from_hex("140303000102"), allow).end == "AlertError unexpected_message");
    CHECK(read_all(from_hex("14030300020101"), allow).end == "AlertError unexpected_message");
    CHECK(read_all(ccs, [](RecordLayer&) {}).end == "AlertError unexpected_message");  // not during a handshake
    auto protected_ccs = client_record(0, ContentType::change_cipher_spec, from_hex("01"));
    CHECK(read_all(protected_ccs, [&](RecordLayer& r) { allow(r); with_read_keys(r); }).end == "AlertError unexpected_message");
}

TEST_CASE("record layer: a server skipping early data drops records that do not decrypt, up to its limit") {
    auto garbage = encode_record(ContentType::application_data, Bytes(100, 0x5a));
    auto finished = client_record(0, ContentType::handshake, from_hex("14000000"));
    auto skip = [](std::size_t limit) {
        return [limit](RecordLayer& r) {
            with_read_keys(r);
            r.skip_early_data(limit);
        };
    };
    // The sequence number stays at 0 through the failures: the first good record is record 0.
    auto r = read_all(concat({garbage, garbage, finished}), skip(1000));
    CHECK(r.records.size() == 1);
    CHECK(r.end == "end");
    CHECK(read_all(concat({garbage, garbage, finished}), skip(150)).end == "AlertError unexpected_message");
    // Once a record has decrypted, skipping is over: the next bad one is bad_record_mac.
    CHECK(read_all(concat({finished, garbage}), skip(1000)).end == "AlertError bad_record_mac");
    // Without skip_early_data, the first bad record is bad_record_mac.
    CHECK(read_all(garbage, with_read_keys).end == "AlertError bad_record_mac");
}

// RFC8446 4.2.2-3
TEST_CASE("record layer: after a HelloRetryRequest, application_data records are skipped until the next ClientHello") {
    auto early = encode_record(ContentType::application_data, Bytes(100, 0x5a));
    auto hello = encode_record(ContentType::handshake, from_hex("01000000"));
    auto skip = [](RecordLayer& r) { r.skip_early_data(1000); };
    auto r = read_all(concat({early, early, hello, early}), skip);
    CHECK(r.records.size() == 2);  // the ClientHello, then (skipping over) a plaintext application_data record
    CHECK(read_all(concat({early, early}), [](RecordLayer& r) { r.skip_early_data(150); }).end == "AlertError unexpected_message");
}

// ---- One writer at a time ------------------------------------------------------------------

namespace {

// A transport whose writes take time, and which notes any write that starts while another
// is still in flight (what Asio forbids on a socket).
class SlowTransport final : public Transport {
public:
    asio::awaitable<std::size_t> read_some(std::span<std::uint8_t>) override { co_return 0; }
    asio::awaitable<void> write(BytesView bytes) override {
        if (in_flight_) ++overlaps;
        in_flight_ = true;
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
        co_await timer.async_wait(asio::use_awaitable);
        written.insert(written.end(), bytes.begin(), bytes.end());
        in_flight_ = false;
        ++writes;
    }
    void close() override {}

    Bytes written;
    int overlaps = 0;
    int writes = 0;

private:
    bool in_flight_ = false;
};

}  // namespace

TEST_CASE("record layer: two coroutines writing at once never have two writes in flight") {
    asio::io_context io;
    SlowTransport transport;
    RecordLayer records(transport, quiet_trace(), Role::client);
    records.install(aes128(), client_secret);
    auto writer = [&](char tag) -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i) co_await records.write_records(ContentType::application_data, Bytes(10, std::uint8_t(tag)));
    };
    asio::co_spawn(io, writer('a'), asio::detached);
    asio::co_spawn(io, writer('b'), asio::detached);
    io.run();
    asio::co_spawn(io, records.send_alert(AlertDescription::close_notify), asio::detached);
    io.restart();
    io.run();
    CHECK(transport.overlaps == 0);
    // Every record arrives whole and in sequence-number order: the server's view decrypts all 11.
    MemoryTransport in(transport.written);
    RecordLayer server(in, quiet_trace(), Role::server);
    server.install(aes128(), client_secret);
    int a = 0, b = 0;
    bool closed = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (auto record = co_await server.read_record()) (record->fragment[0] == 'a' ? a : b)++;
            closed = server.received_close_notify();
        },
        asio::detached);
    io.restart();
    io.run();
    CHECK(a == 5);
    CHECK(b == 5);
    CHECK(closed);
}

// ---- What the record layer sends, and what it reads after a close_notify -------------------

namespace {

// Runs `body` to its end on `io` (which must outlive the record layer: it keeps a timer of
// it); the exception it ended with, if any.
std::exception_ptr run_coroutine(asio::io_context& io, const std::function<asio::awaitable<void>()>& body) {
    std::exception_ptr error;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) { error = e; });
    io.restart();
    io.run();
    return error;
}

// Whether `e` holds a std::logic_error (our refusal to write something the RFC forbids).
bool is_logic_error(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const std::logic_error&) {
        return true;
    } catch (...) {
    }
    return false;
}

}  // namespace

// RFC8446 6.1-1, 6.1-3
TEST_CASE("record layer: nothing after the peer's close_notify is read, however often it is asked") {
    // Protected: close_notify, then application data the peer should not have sent.
    auto input = concat({client_record(0, ContentType::alert, from_hex("0100")),
                         client_record(1, ContentType::application_data, to_bytes("after the close"))});
    asio::io_context io;
    MemoryTransport transport(input);
    RecordLayer records(transport, quiet_trace(), Role::server);
    with_read_keys(records);
    std::vector<bool> got;
    auto error = run_coroutine(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) got.push_back((co_await records.read_record()).has_value());
    });
    CHECK_FALSE(error);
    CHECK(got == std::vector<bool>{false, false, false});
    CHECK(records.received_close_notify());
    // The same in plaintext, before any keys: a handshake record behind the close_notify stays unread.
    const Bytes plain_input = concat({from_hex("15030300020100"), encode_record(ContentType::handshake, from_hex("14000000"))});
    MemoryTransport plain(plain_input);
    RecordLayer plain_records(plain, quiet_trace(), Role::server);
    got.clear();
    error = run_coroutine(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) got.push_back((co_await plain_records.read_record()).has_value());
    });
    CHECK_FALSE(error);
    CHECK(got == std::vector<bool>{false, false});
}

// RFC8446 6-4, 5.1-8
TEST_CASE("record layer: each alert goes out alone in one record, fatal unless it is a closure alert") {
    auto sent = [](AlertDescription description) {
        asio::io_context io;
        MemoryTransport transport({});
        RecordLayer records(transport, quiet_trace(), Role::server);
        CHECK_FALSE(run_coroutine(io, [&]() -> asio::awaitable<void> {
            co_await records.send_alert(description);
            co_await records.send_alert(description);
        }));
        return to_hex(transport.written());
    };
    // Two alerts sent: two records of two bytes each, never one record of four.
    CHECK(sent(AlertDescription::decode_error) == "15030300020232" "15030300020232");
    CHECK(sent(AlertDescription::handshake_failure) == "15030300020228" "15030300020228");
    CHECK(sent(AlertDescription::unexpected_message) == "1503030002020a" "1503030002020a");
    CHECK(sent(AlertDescription::close_notify) == "15030300020100" "15030300020100");
    CHECK(sent(AlertDescription::user_canceled) == "1503030002015a" "1503030002015a");
}

// RFC8446 6-2, 6-4, 6-5
TEST_CASE("record layer: every alert but close_notify is the peer's error, whatever its level, known or not") {
    CHECK(read_all(from_hex("15030300020228"), [](RecordLayer&) {}).end == "PeerAlert handshake_failure");
    CHECK(read_all(from_hex("15030300020128"), [](RecordLayer&) {}).end == "PeerAlert handshake_failure");  // warning
    CHECK(read_all(from_hex("150303000202fe"), [](RecordLayer&) {}).end == "PeerAlert unknown(254)");
    CHECK(read_all(from_hex("150303000201fe"), [](RecordLayer&) {}).end == "PeerAlert unknown(254)");
    // Protected, after application data: the same.
    auto input = concat({client_record(0, ContentType::application_data, to_bytes("hi")),
                         client_record(1, ContentType::alert, from_hex("01fe"))});
    auto r = read_all(input, with_read_keys);
    CHECK(r.records == std::vector<std::string>{"application_data:hi"});
    CHECK(r.end == "PeerAlert unknown(254)");
}

// RFC8446 5-4
TEST_CASE("record layer: a content type RFC 8446 does not define is never written") {
    asio::io_context io;
    MemoryTransport transport({});
    RecordLayer records(transport, quiet_trace(), Role::client);
    for (int type : {0, 24, 255}) {
        CAPTURE(type);
        auto error = run_coroutine(io, [&]() -> asio::awaitable<void> {
            co_await records.write_records(static_cast<ContentType>(type), to_bytes("x"));
        });
        CHECK(is_logic_error(error));
    }
    CHECK(transport.written().empty());
}

// RFC8446 5.1-10, D.5-11
TEST_CASE("record layer: every record says 0x0303 but the initial ClientHello's, which may say 0x0301") {
    for (std::uint16_t initial : {0x0301, 0x0303}) {
        CAPTURE(initial);
        asio::io_context io;
        MemoryTransport transport({});
        RecordLayer records(transport, quiet_trace(), Role::client);
        records.set_framing({.initial_client_hello_version = initial});
        const Bytes hello = from_hex("01000000");  // stands for a ClientHello
        CHECK_FALSE(run_coroutine(io, [&]() -> asio::awaitable<void> {
            co_await records.write_records(ContentType::handshake, hello);  // the initial ClientHello
            co_await records.write_change_cipher_spec();
            co_await records.write_records(ContentType::handshake, hello);  // a second one, after a retry
            records.install(aes128(), client_secret);
            co_await records.write_records(ContentType::application_data, to_bytes("data"));
            co_await records.send_alert(AlertDescription::close_notify);
        }));
        // Each record's type and legacy_record_version, in order.
        std::vector<std::string> headers;
        BytesView rest = transport.written();
        while (rest.size() >= 5) {
            headers.push_back(to_hex(rest.first(3)));
            rest = rest.subspan(5 + (std::size_t{rest[3]} << 8 | rest[4]));
        }
        CHECK(rest.empty());
        CHECK(headers == std::vector<std::string>{(initial == 0x0301 ? "160301" : "160303"), "140303", "160303",
                                                  "170303", "170303"});
    }
}

// RFC8446 5.1-7
TEST_CASE("record layer: an empty handshake write is refused, never sent as a zero-length fragment") {
    asio::io_context io;
    MemoryTransport transport({});
    RecordLayer records(transport, quiet_trace(), Role::client);
    auto error = run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await records.write_records(ContentType::handshake, {});
    });
    CHECK(is_logic_error(error));
    CHECK(transport.written().empty());
    // Empty application data is allowed (§5.1): one record of length 0.
    CHECK_FALSE(run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await records.write_records(ContentType::application_data, {});
    }));
    CHECK(to_hex(transport.written()) == "1703030000");
}

// RFC8446 5.3-1
TEST_CASE("record layer: the first record under each new key has sequence number 0") {
    asio::io_context io;
    MemoryTransport transport({});
    RecordLayer records(transport, quiet_trace(), Role::client);
    records.install(aes128(), client_secret);
    // The next generation's keys, as §7.2 derives them; records sealed here independently.
    const Secret next = next_traffic_secret(aes128().hash, client_secret);
    auto sealed_next = [&](std::uint64_t seq, ContentType type, BytesView content) {
        RecordProtection p(aes128().aead, traffic_keys(aes128(), next));
        for (std::uint64_t i = 0; i < seq; ++i) p.seal(ContentType::application_data, {});
        return p.seal(type, content);
    };
    const Bytes key_update = from_hex("1800000100");
    CHECK_FALSE(run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await records.write_records(ContentType::application_data, to_bytes("one"));
        co_await records.write_records(ContentType::application_data, to_bytes("two"));
        records.install(aes128(), client_secret);  // installed again: sequence numbers from 0
        co_await records.write_records(ContentType::application_data, to_bytes("three"));
        co_await records.write_key_update(key_update);  // sequence number 1 under the old keys
        co_await records.write_records(ContentType::application_data, to_bytes("four"));
    }));
    auto expected = concat({client_record(0, ContentType::application_data, to_bytes("one")),
                            client_record(1, ContentType::application_data, to_bytes("two")),
                            client_record(0, ContentType::application_data, to_bytes("three")),
                            client_record(1, ContentType::handshake, key_update),
                            sealed_next(0, ContentType::application_data, to_bytes("four"))});
    CHECK(to_hex(transport.written()) == to_hex(expected));
}
