// tests/unit/test_resumption.cpp — chapters 12 (resumption) and 13 (0-RTT).
// The mechanisms in common/ticket.*, psk.*, session.* and anti_replay.*: RFC 8446 §4.6.1
// (tickets and their lifetime), §4.2.11 (pre_shared_key, the server's choice and the
// client's check), §4.2.11.1 (ticket age), §4.2.11.2 (binders, byte for byte against the
// resumed ClientHello of RFC 8448 §4), §4.2.10 (accepting 0-RTT), §8.1-§8.3 (anti-replay),
// Appendix C.4 (one ticket per connection), and the client's session file.
#include "anti_replay.hpp"
#include "key_schedule.hpp"
#include "messages.hpp"
#include "psk.hpp"
#include "rfc8448_vectors.hpp"
#include "session.hpp"
#include "testing.hpp"
#include "ticket.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace tls;
using tlstest::alert_of;

namespace {

namespace s3 = rfc8448::simple;
namespace s4 = rfc8448::resumed;
namespace s5 = rfc8448::hello_retry;

Bytes bytes(std::string_view rfc_hex) { return from_hex(rfc_hex); }
std::string rfc(std::string_view rfc_hex) { return to_hex(from_hex(rfc_hex)); }

constexpr std::uint64_t t0 = 1'767'225'600'000;  // 2026-01-01 00:00:00 UTC, in ms
constexpr CipherSuite aes128 = CipherSuite::TLS_AES_128_GCM_SHA256;
constexpr CipherSuite aes256 = CipherSuite::TLS_AES_256_GCM_SHA384;
constexpr CipherSuite chacha = CipherSuite::TLS_CHACHA20_POLY1305_SHA256;

TicketKey key_of(std::uint8_t fill) { return TicketKey(Bytes(TicketKey::key_length, fill)); }
Bytes id_of(const TicketKey& key) { return Bytes(key.key_id().begin(), key.key_id().end()); }
Bytes first4(const Bytes& ticket) { return Bytes(ticket.begin(), ticket.begin() + 4); }

TicketState sample_state(CipherSuite suite = aes128) {
    TicketState s;
    s.cipher_suite = suite;
    const std::size_t n = hash_length(suite_info(suite)->hash);
    for (std::size_t i = 0; i < n; ++i) s.resumption_psk.push_back(static_cast<std::uint8_t>(0xa0 + i));
    s.creation_time_ms = t0;
    s.estimated_rtt_ms = 40;
    s.ticket_lifetime = 7200;
    s.ticket_age_add = 0xfad6aac5;
    s.max_early_data_size = 16384;
    s.alpn = "http/1.1";
    s.server_name = "localhost";
    return s;
}

Bytes flip_bit(Bytes b, std::size_t bit) {
    b.at(bit / 8) ^= static_cast<std::uint8_t>(1u << (bit % 8));
    return b;
}

// §3's ticket_nonce, as the client reads it from the NewSessionTicket.
NewSessionTicket s3_new_session_ticket() {
    return NewSessionTicket::decode(Handshake::decode(bytes(s3::new_session_ticket)).body);
}

// §4.6.1: the PSK that §3's NewSessionTicket makes, from §3's resumption_master_secret.
Secret s3_resumption_psk() {
    return resumption_psk(HashAlg::sha256, bytes(s3::resumption_master_secret), s3_new_session_ticket().ticket_nonce);
}

// §4.4.1: Handshake { message_hash, Hash.length, Hash(ClientHello1) }.
Bytes message_hash(HashAlg alg, BytesView client_hello_1) {
    return encode_handshake(HandshakeType::message_hash, hash(alg, client_hello_1));
}

// A client's ClientHello before its pre_shared_key: what a chapter 12 client sends.
ClientHello client_hello_without_psk() {
    ClientHello ch;
    ch.random.fill(0x11);
    ch.cipher_suites = {aes128, aes256};
    ch.extensions = {make_supported_versions_client({TLS1_3}),
                     make_supported_groups({NamedGroup::x25519}),
                     make_key_share_client({{NamedGroup::x25519, Bytes(32, 0x22)}}),
                     make_psk_key_exchange_modes({PskKeyExchangeMode::psk_dhe_ke})};
    return ch;
}

std::string runtime_error_of(auto&& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("no std::runtime_error thrown");
    return {};
}

}  // namespace

// ==== §4.6.1 Tickets (common/ticket.*) =======================================================

TEST_CASE("the ticket_lifetime limit is RFC 8446's 604800 seconds (7 days)") {
    static_assert(max_ticket_lifetime == 7 * 24 * 60 * 60);
    static_assert(default_ticket_lifetime <= max_ticket_lifetime);
    CHECK(max_ticket_lifetime == 604800);
}

TEST_CASE("TicketState encodes and decodes to the same state, for each suite") {
    for (CipherSuite suite : {aes128, aes256, chacha}) {
        const TicketState s = sample_state(suite);
        const Secret encoded = s.encode();
        CHECK(encoded.at(0) == TicketState::current_version);
        CHECK(TicketState::decode(encoded) == s);
    }
    TicketState empty = sample_state();
    empty.alpn.clear();
    empty.server_name.clear();
    empty.max_early_data_size = 0;
    CHECK(TicketState::decode(empty.encode()) == empty);
}

TEST_CASE("TicketState decoder rejects every truncation, trailing bytes, an unknown version, suite or PSK length") {
    const Secret good = sample_state().encode();
    for (std::size_t n = 0; n < good.size(); ++n)
        CHECK(alert_of([&] { TicketState::decode(BytesView(good).first(n)); }) == AlertDescription::decode_error);
    Bytes longer(good.begin(), good.end());
    longer.push_back(0);
    CHECK(alert_of([&] { TicketState::decode(longer); }) == AlertDescription::decode_error);

    TicketState v2 = sample_state();
    v2.version = 2;
    CHECK(alert_of([&] { TicketState::decode(v2.encode()); }) == AlertDescription::decode_error);
    TicketState ccm = sample_state();
    ccm.cipher_suite = CipherSuite::TLS_AES_128_CCM_SHA256;  // not implemented here
    CHECK(alert_of([&] { TicketState::decode(ccm.encode()); }) == AlertDescription::decode_error);
    TicketState short_psk = sample_state(aes256);  // SHA-384 needs 48 bytes
    short_psk.resumption_psk.resize(32);
    CHECK(alert_of([&] { TicketState::decode(short_psk.encode()); }) == AlertDescription::decode_error);
    TicketState too_long = sample_state();
    too_long.ticket_lifetime = max_ticket_lifetime + 1;
    CHECK(alert_of([&] { TicketState::decode(too_long.encode()); }) == AlertDescription::decode_error);
}

TEST_CASE("a ticket sealed by a TicketKey opens to the same state, and two seals differ") {
    TicketKey key = key_of(0x42);
    const TicketState s = sample_state();
    const Bytes a = key.seal(s);
    const Bytes b = key.seal(s);
    CHECK(a != b);  // a fresh nonce each time: the same state gives unlinkable tickets
    CHECK(first4(a) == id_of(key));
    CHECK(a.size() == TicketKey::key_id_length + TicketKey::nonce_length + s.encode().size() + aead_tag_length);
    REQUIRE(key.open(a).has_value());
    CHECK(*key.open(a) == s);
    CHECK(*key.open(b) == s);
}

TEST_CASE("TicketKey::open ignores a ticket with any one bit flipped") {
    TicketKey key = key_of(0x42);
    const Bytes ticket = key.seal(sample_state());
    for (std::size_t bit = 0; bit < ticket.size() * 8; ++bit) {
        CAPTURE(bit);
        CHECK_FALSE(key.open(flip_bit(ticket, bit)).has_value());
    }
}

TEST_CASE("TicketKey::open ignores every truncation and an extended ticket") {
    TicketKey key = key_of(0x42);
    const Bytes ticket = key.seal(sample_state());
    for (std::size_t n = 0; n < ticket.size(); ++n) CHECK_FALSE(key.open(BytesView(ticket).first(n)).has_value());
    Bytes longer = ticket;
    longer.push_back(0);
    CHECK_FALSE(key.open(longer).has_value());
    CHECK_FALSE(key.open(Bytes(200, 0)).has_value());
}

TEST_CASE("a ticket sealed under another key is ignored, even with that key's key_id put in front") {
    TicketKey ours = key_of(0x42);
    TicketKey theirs = key_of(0x43);
    CHECK(ours.key_id() != theirs.key_id());
    Bytes ticket = theirs.seal(sample_state());
    CHECK_FALSE(ours.open(ticket).has_value());
    std::copy(ours.key_id().begin(), ours.key_id().end(), ticket.begin());
    CHECK_FALSE(ours.open(ticket).has_value());
}

TEST_CASE("an authentic ticket of an unknown version is ignored, not an error") {
    TicketKey key = key_of(0x42);
    TicketState future = sample_state();
    future.version = 2;
    const Bytes ticket = key.seal(future);  // seal writes any version; open knows only 1
    CHECK_FALSE(key.open(ticket).has_value());
}

TEST_CASE("seal refuses a ticket_lifetime over 604800 seconds and a PSK that does not fit the suite") {
    TicketKey key = key_of(0x42);
    TicketState s = sample_state();
    s.ticket_lifetime = max_ticket_lifetime;
    CHECK(key.open(key.seal(s)) == s);
    s.ticket_lifetime = max_ticket_lifetime + 1;
    CHECK_THROWS_AS(key.seal(s), std::invalid_argument);
    TicketState wrong_psk = sample_state(aes256);
    wrong_psk.resumption_psk.resize(32);
    CHECK_THROWS_AS(key.seal(wrong_psk), std::invalid_argument);
}

TEST_CASE("TicketState expires ticket_lifetime seconds after its creation") {
    const TicketState s = sample_state();  // 7200 s
    CHECK(s.expiry_time_ms() == t0 + 7'200'000);
    CHECK_FALSE(s.expired(t0));
    CHECK_FALSE(s.expired(t0 + 7'200'000 - 1));
    CHECK(s.expired(t0 + 7'200'000));
}

TEST_CASE("TicketKey refuses a key that is not 32 bytes; random keys differ") {
    CHECK_THROWS_AS(TicketKey(Bytes(31, 1)), std::invalid_argument);
    CHECK_THROWS_AS(TicketKey(Bytes(33, 1)), std::invalid_argument);
    CHECK(TicketKey::random().key_id() != TicketKey::random().key_id());
}

TEST_CASE("ticket key file: 64 hex digits with comments load; create_file writes one for its owner only") {
    tlstest::TempDir dir;
    const std::string path = dir.file("ticket.key");
    tlstest::write_file(path, "# a comment\n" + std::string(32, 'a') + "\n  " + std::string(32, 'b') + "\n");
    TicketKey loaded = TicketKey::load_file(path);
    CHECK(loaded.hex() == std::string(32, 'a') + std::string(32, 'b'));

    const std::string created_path = dir.file("new.key");
    TicketKey created = TicketKey::create_file(created_path);
    TicketKey reloaded = TicketKey::load_file(created_path);
    CHECK(created.key_id() == reloaded.key_id());
    CHECK(created.hex() == reloaded.hex());
    const auto perms = std::filesystem::status(created_path).permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
          std::filesystem::perms::none);
    CHECK_THROWS_AS(TicketKey::create_file(created_path), std::runtime_error);  // never overwrites a key

    // load_or_create_file: the second run of a server finds the key the first one wrote.
    const std::string auto_path = dir.file("auto.key");
    TicketKey first = TicketKey::load_or_create_file(auto_path);
    TicketKey second = TicketKey::load_or_create_file(auto_path);
    CHECK(first.key_id() == second.key_id());
    const TicketState s = sample_state();
    CHECK(second.open(first.seal(s)) == s);
}

TEST_CASE("ticket key file errors name the file and say what a key file holds") {
    tlstest::TempDir dir;
    const std::string path = dir.file("bad.key");
    CHECK_CONTAINS(runtime_error_of([&] { TicketKey::load_file(path); }), path);
    tlstest::write_file(path, std::string(62, 'a') + "\n");
    std::string e = runtime_error_of([&] { TicketKey::load_file(path); });
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "31 bytes, expected 32");
    CHECK_CONTAINS(e, "openssl rand -hex 32");
    tlstest::write_file(path, std::string(63, 'a') + "g\n");
    CHECK_CONTAINS(runtime_error_of([&] { TicketKey::load_file(path); }), "not hex digits");
}

TEST_CASE("TicketKeys seal with the current key and open with it and the two before it") {
    TicketKeys keys(key_of(1));
    const TicketState s = sample_state();
    const Bytes by_1 = keys.seal(s);
    keys.rotate(key_of(2));
    const Bytes by_2 = keys.seal(s);
    CHECK(first4(by_2) == id_of(key_of(2)));
    CHECK(keys.open(by_1) == s);
    CHECK(keys.open(by_2) == s);
    keys.rotate(key_of(3));
    CHECK(keys.size() == 3);
    CHECK(keys.open(by_1) == s);  // the oldest of the two previous keys
    keys.rotate(key_of(4));
    CHECK(keys.size() == 1 + TicketKeys::max_previous_keys);
    CHECK_FALSE(keys.open(by_1).has_value());  // its key is gone: a full handshake
    CHECK(keys.open(by_2) == s);
    CHECK_FALSE(keys.open({}).has_value());
    CHECK_FALSE(keys.open(Bytes{1, 2}).has_value());
}

TEST_CASE("issue_ticket: RFC 8448 §3's PSK for ticket_nonce 0000, a fresh ticket_age_add, early_data when allowed") {
    TicketKeys keys(key_of(7));
    TicketState connection = sample_state();
    connection.resumption_psk.clear();  // issue_ticket derives it
    const Bytes rms = bytes(s3::resumption_master_secret);

    const NewSessionTicket a = issue_ticket(keys, connection, rms, Bytes{0, 0});
    CHECK(a.ticket_lifetime == 7200);
    CHECK(a.ticket_nonce == Bytes{0, 0});
    CHECK(a.max_early_data_size() == 16384u);
    const auto opened = keys.open(a.ticket);
    REQUIRE(opened.has_value());
    CHECK(to_hex(opened->resumption_psk) == rfc(s3::resumption_psk));  // §4.6.1 on §3's values
    CHECK(opened->ticket_age_add == a.ticket_age_add);
    CHECK(opened->alpn == "http/1.1");
    // The message round-trips through its codec.
    CHECK(NewSessionTicket::decode(a.encode()) == a);

    // Another nonce: another PSK; and a fresh ticket_age_add each time (§4.6.1 MUST).
    connection.max_early_data_size = 0;
    std::vector<std::uint32_t> age_adds;
    for (std::uint8_t n = 1; n <= 4; ++n) {
        const NewSessionTicket t = issue_ticket(keys, connection, rms, Bytes{n});
        CHECK_FALSE(t.max_early_data_size().has_value());
        CHECK(keys.open(t.ticket)->resumption_psk != opened->resumption_psk);
        age_adds.push_back(t.ticket_age_add);
    }
    std::sort(age_adds.begin(), age_adds.end());
    CHECK(std::adjacent_find(age_adds.begin(), age_adds.end()) == age_adds.end());

    connection.ticket_lifetime = max_ticket_lifetime + 1;
    CHECK_THROWS_AS(issue_ticket(keys, connection, rms, Bytes{9}), std::invalid_argument);
}

// ==== §4.2.11.1 Ticket age (common/psk.*) ====================================================

TEST_CASE("obfuscated_ticket_age adds ticket_age_add modulo 2^32 and the server's inverse undoes it") {
    static_assert(obfuscated_ticket_age(1000, 5) == 1005);
    static_assert(obfuscated_ticket_age(1000, 0xffffff00) == 744);  // wraps past 2^32
    static_assert(ticket_age_from_obfuscated(744, 0xffffff00) == 1000);
    static_assert(ticket_age_from_obfuscated(obfuscated_ticket_age(0xffffffff, 0xffffffff), 0xffffffff) == 0xffffffff);
    for (std::uint32_t add : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xfad6aac5u, 0xffffffffu})
        for (std::uint32_t age : {0u, 1u, 999u, 604'800'000u, 0xffffffffu})
            CHECK(ticket_age_from_obfuscated(obfuscated_ticket_age(age, add), add) == age);
}

TEST_CASE("RFC 8448 §4: the resumed ClientHello's obfuscated_ticket_age is §3's ticket_age_add plus a small age") {
    const auto psks = ClientHello::decode(Handshake::decode(bytes(s4::client_hello)).body).pre_shared_key();
    REQUIRE(psks.has_value());
    const std::uint32_t age =
        ticket_age_from_obfuscated(psks->identities.at(0).obfuscated_ticket_age, s3_new_session_ticket().ticket_age_add);
    CHECK(age < 30'000u);  // within §3's ticket_lifetime of 30 seconds
}

TEST_CASE("client_ticket_age_ms counts from receipt, is 0 if the clock went back, and saturates") {
    CHECK(client_ticket_age_ms(t0, t0 + 1234) == 1234u);
    CHECK(client_ticket_age_ms(t0, t0) == 0u);
    CHECK(client_ticket_age_ms(t0, t0 - 5) == 0u);
    CHECK(client_ticket_age_ms(0, 1ull << 40) == 0xffffffffu);
}

TEST_CASE("ticket_age_plausible: up to the tolerance over the server's view and never over the lifetime") {
    const TicketState s = sample_state();  // created t0, lifetime 7200 s
    const auto claims = [&](std::uint32_t age_ms, std::uint64_t now) {
        return ticket_age_plausible(s, obfuscated_ticket_age(age_ms, s.ticket_age_add), now);
    };
    CHECK(claims(5'000, t0 + 5'000));                                  // exact
    CHECK(claims(4'950, t0 + 5'000));                                  // half a round trip less
    CHECK(claims(0, t0 + 3'600'000));                                  // late: harmless without 0-RTT
    CHECK(claims(5'000 + ticket_age_tolerance_ms, t0 + 5'000));        // the edge
    CHECK_FALSE(claims(5'000 + ticket_age_tolerance_ms + 1, t0 + 5'000));
    CHECK_FALSE(claims(7'200'001, t0 + 7'200'001 - 1));                // over ticket_lifetime
    CHECK(claims(7'200'000, t0 + 7'200'000));
    // A wrong ticket_age_add (another ticket's) gives an absurd age.
    CHECK_FALSE(ticket_age_plausible(s, obfuscated_ticket_age(5'000, 0x12345678), t0 + 5'000));
}

// ==== §4.2.11.2 Binders (common/psk.*) =======================================================

TEST_CASE("RFC 8448 §4: add_pre_shared_key rebuilds the resumed ClientHello byte for byte from §3's PSK") {
    const Bytes message = bytes(s4::client_hello);
    ClientHello ch = ClientHello::decode(Handshake::decode(message).body);
    const auto rfc_psks = ch.pre_shared_key();
    REQUIRE(rfc_psks.has_value());
    ch.extensions.pop_back();  // the ClientHello as the client had it before its pre_shared_key

    const Secret psk = s3_resumption_psk();
    CHECK(to_hex(psk) == rfc(s3::resumption_psk));
    const PskOffer offer{rfc_psks->identities.at(0), HashAlg::sha256, psk};
    add_pre_shared_key(ch, {&offer, 1});

    const auto psks = ch.pre_shared_key();
    REQUIRE(psks.has_value());
    REQUIRE(psks->binders.size() == 1);
    CHECK(to_hex(psks->binders[0]) == rfc(s4::binder));
    CHECK(to_hex(encode_handshake(ch)) == rfc(s4::client_hello));
    CHECK(to_hex(psk_binder(HashAlg::sha256, psk, PskType::resumption, {}, bytes(s4::client_hello_prefix))) ==
          rfc(s4::binder));
}

TEST_CASE("RFC 8448 §4: binder_valid accepts the RFC's binder and rejects any flipped bit of it") {
    const Bytes message = bytes(s4::client_hello);
    const Secret psk = s3_resumption_psk();
    CHECK(binder_valid(message, 0, HashAlg::sha256, psk));

    // The binder is the last 32 bytes of the message.
    for (std::size_t bit = 0; bit < 32 * 8; ++bit) {
        CAPTURE(bit);
        CHECK_FALSE(binder_valid(flip_bit(message, (message.size() - 32) * 8 + bit), 0, HashAlg::sha256, psk));
    }
    // Anything else it covers: a bit of ClientHello.random, of the ticket.
    CHECK_FALSE(binder_valid(flip_bit(message, (4 + 2 + 5) * 8), 0, HashAlg::sha256, psk));
    CHECK_FALSE(binder_valid(flip_bit(message, (message.size() - 32 - 3 - 4 - 10) * 8), 0, HashAlg::sha256, psk));
    // Another PSK, another index, another label, another hash.
    Secret other = psk;
    other[0] ^= 1;
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha256, other));
    CHECK_FALSE(binder_valid(message, 1, HashAlg::sha256, psk));
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha256, psk, {}, PskType::external));
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha384, psk));
    // With a transcript prefix the binder covers something else.
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha256, psk, bytes(s5::hello_retry_request)));
}

TEST_CASE("binders of two PSKs with different hashes: each Hash.length long, each valid at its index only") {
    ClientHello ch = client_hello_without_psk();
    const Bytes psk256(32, 0x01), psk384(48, 0x02);
    const PskOffer offers[] = {{{Bytes(40, 0xaa), 111}, HashAlg::sha256, psk256},
                               {{Bytes(50, 0xbb), 222}, HashAlg::sha384, psk384}};
    add_pre_shared_key(ch, offers);
    const Bytes message = encode_handshake(ch);
    const auto psks = ClientHello::decode(Handshake::decode(message).body).pre_shared_key();
    REQUIRE(psks.has_value());
    CHECK(psks->identities == std::vector<PskIdentity>{offers[0].identity, offers[1].identity});
    CHECK(psks->binders.at(0).size() == 32);
    CHECK(psks->binders.at(1).size() == 48);
    CHECK(ch.extensions.back().extension_type == ExtensionType::pre_shared_key);
    CHECK(binder_valid(message, 0, HashAlg::sha256, psk256));
    CHECK(binder_valid(message, 1, HashAlg::sha384, psk384));
    CHECK_FALSE(binder_valid(message, 1, HashAlg::sha256, psk256));
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha384, psk384));
    CHECK_FALSE(binder_valid(message, 2, HashAlg::sha256, psk256));
}

TEST_CASE("after a HelloRetryRequest the binder covers message_hash(ClientHello1), the HelloRetryRequest and ClientHello2") {
    // §4.2.11.2: Transcript-Hash(ClientHello1, HelloRetryRequest, Truncate(ClientHello2)),
    // with ClientHello1 as message_hash (§4.4.1). RFC 8448 §5's messages as the prefix.
    const Bytes prefix = [] {
        Bytes p = message_hash(HashAlg::sha256, bytes(s5::client_hello_1));
        const Bytes hrr = bytes(s5::hello_retry_request);
        p.insert(p.end(), hrr.begin(), hrr.end());
        return p;
    }();
    const Bytes psk(32, 0x33);
    const PskOffer offer{{Bytes(16, 0xcc), 42}, HashAlg::sha256, psk};

    ClientHello ch2 = client_hello_without_psk();
    add_pre_shared_key(ch2, {&offer, 1}, prefix);
    const Bytes message = encode_handshake(ch2);
    CHECK(binder_valid(message, 0, HashAlg::sha256, psk, prefix));
    CHECK_FALSE(binder_valid(message, 0, HashAlg::sha256, psk));  // as if there had been no HRR

    // By hand: HMAC(finished_key(binder_key), Hash(prefix || Truncate(ClientHello2))).
    Bytes covered = prefix;
    const Bytes truncated = truncated_client_hello(message);
    covered.insert(covered.end(), truncated.begin(), truncated.end());
    const Secret binder_key = EarlySecret(HashAlg::sha256, psk).resumption_binder_key();
    CHECK(ch2.pre_shared_key()->binders.at(0) == finished_verify_data(HashAlg::sha256, binder_key, hash(HashAlg::sha256, covered)));
}

TEST_CASE("add_pre_shared_key replaces a pre_shared_key already last, as ClientHello2 recomputes it") {
    ClientHello ch = client_hello_without_psk();
    const Bytes psk(32, 0x44);
    PskOffer offer{{Bytes(16, 0xdd), 1000}, HashAlg::sha256, psk};
    add_pre_shared_key(ch, {&offer, 1});
    const std::size_t count = ch.extensions.size();
    offer.identity.obfuscated_ticket_age = 1500;  // §4.1.2: "recomputing the obfuscated_ticket_age"
    add_pre_shared_key(ch, {&offer, 1});
    CHECK(ch.extensions.size() == count);
    CHECK(ch.pre_shared_key()->identities.at(0).obfuscated_ticket_age == 1500u);
    CHECK(binder_valid(encode_handshake(ch), 0, HashAlg::sha256, psk));
    CHECK_THROWS_AS(add_pre_shared_key(ch, {}), std::invalid_argument);
}

// ==== The server's checks and choice (common/psk.*) =========================================

TEST_CASE("offered_psks: missing_extension without psk_key_exchange_modes, illegal_parameter if binders and identities differ") {
    ClientHello ch = client_hello_without_psk();
    CHECK_FALSE(offered_psks(ch).has_value());

    const Bytes psk(32, 0x55);
    const PskOffer offer{{Bytes(16, 0xee), 7}, HashAlg::sha256, psk};
    add_pre_shared_key(ch, {&offer, 1});
    REQUIRE(offered_psks(ch).has_value());
    CHECK(offered_psks(ch)->identities.size() == 1);

    ClientHello no_modes = ch;
    std::erase_if(no_modes.extensions,
                  [](const Extension& e) { return e.extension_type == ExtensionType::psk_key_exchange_modes; });
    CHECK(alert_of([&] { offered_psks(no_modes); }) == AlertDescription::missing_extension);

    OfferedPsks two_binders = *ch.pre_shared_key();
    two_binders.binders.push_back(Bytes(32, 0));
    ClientHello mismatched = ch;
    mismatched.extensions.back() = make_pre_shared_key_client(two_binders);
    CHECK(alert_of([&] { offered_psks(mismatched); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("choose_psk_key_exchange_mode prefers psk_dhe_ke and takes psk_ke only when allowed") {
    ClientHello ch = client_hello_without_psk();  // psk_dhe_ke
    CHECK(choose_psk_key_exchange_mode(ch) == PskKeyExchangeMode::psk_dhe_ke);
    ch.extensions.back() = make_psk_key_exchange_modes({PskKeyExchangeMode::psk_ke, PskKeyExchangeMode::psk_dhe_ke});
    CHECK(choose_psk_key_exchange_mode(ch, true) == PskKeyExchangeMode::psk_dhe_ke);
    ch.extensions.back() = make_psk_key_exchange_modes({PskKeyExchangeMode::psk_ke});
    CHECK_FALSE(choose_psk_key_exchange_mode(ch).has_value());
    CHECK(choose_psk_key_exchange_mode(ch, true) == PskKeyExchangeMode::psk_ke);
    ch.extensions.pop_back();
    CHECK_FALSE(choose_psk_key_exchange_mode(ch, true).has_value());
}

TEST_CASE("select_psk skips what it cannot use and takes the first ticket that opens, fits, lives and has a plausible age") {
    TicketKeys keys(key_of(9));
    TicketKey stranger = key_of(10);
    const std::uint64_t now = t0 + 60'000;
    const auto identity = [&](const Bytes& ticket, const TicketState& s, std::uint32_t age_ms) {
        return PskIdentity{ticket, obfuscated_ticket_age(age_ms, s.ticket_age_add)};
    };
    TicketState good = sample_state();
    TicketState sha384 = sample_state(aes256);
    TicketState expired = sample_state();
    expired.creation_time_ms = t0 - 7'200'000;
    TicketState chacha_state = sample_state(chacha);  // same hash as AES-128-GCM: usable

    OfferedPsks offered;
    offered.identities = {
        {Bytes(50, 0x77), 0},                                  // not a ticket of ours
        identity(stranger.seal(good), good, 60'000),           // another server's key
        identity(keys.seal(sha384), sha384, 60'000),           // SHA-384: not with AES-128-GCM
        identity(keys.seal(expired), expired, 60'000),         // expired
        identity(keys.seal(good), good, 200'000),              // older than it can be
        identity(keys.seal(good), good, 59'950),               // this one
        identity(keys.seal(chacha_state), chacha_state, 1),
    };
    offered.binders.assign(offered.identities.size(), Bytes(32, 0));

    const auto selected = select_psk(offered, keys, aes128, now);
    REQUIRE(selected.has_value());
    CHECK(selected->selected_identity == 5);
    CHECK(selected->ticket == good);
    CHECK(selected->client_ticket_age_ms == 59'950u);

    // With AES-256-GCM-SHA384 negotiated, only the SHA-384 ticket fits.
    const auto selected384 = select_psk(offered, keys, aes256, now);
    REQUIRE(selected384.has_value());
    CHECK(selected384->selected_identity == 2);

    offered.identities.resize(5);
    CHECK_FALSE(select_psk(offered, keys, aes128, now).has_value());  // a full handshake
}

TEST_CASE("check_selected_identity: in range, the PSK's hash, a key_share; nullopt when the server declined") {
    const Bytes psk256(32, 1), psk384(48, 2);
    const PskOffer offers[] = {{{Bytes(8, 1), 0}, HashAlg::sha256, psk256}, {{Bytes(8, 2), 0}, HashAlg::sha384, psk384}};
    ServerHello sh;
    sh.cipher_suite = aes128;
    sh.extensions = {make_supported_versions_server(TLS1_3), make_key_share_server({NamedGroup::x25519, Bytes(32, 9)})};
    CHECK_FALSE(check_selected_identity(sh, offers).has_value());  // a full handshake

    sh.extensions.push_back(make_pre_shared_key_server(0));
    CHECK(check_selected_identity(sh, offers) == std::uint16_t{0});
    CHECK(alert_of([&] { check_selected_identity(sh, {}); }) == AlertDescription::unsupported_extension);

    sh.extensions.back() = make_pre_shared_key_server(1);  // a SHA-384 PSK with a SHA-256 suite
    CHECK(alert_of([&] { check_selected_identity(sh, offers); }) == AlertDescription::illegal_parameter);
    sh.cipher_suite = aes256;
    CHECK(check_selected_identity(sh, offers) == std::uint16_t{1});

    sh.extensions.back() = make_pre_shared_key_server(2);  // out of range
    CHECK(alert_of([&] { check_selected_identity(sh, offers); }) == AlertDescription::illegal_parameter);

    ServerHello no_share = sh;
    no_share.extensions = {make_supported_versions_server(TLS1_3), make_pre_shared_key_server(1)};
    CHECK(alert_of([&] { check_selected_identity(no_share, offers); }) == AlertDescription::illegal_parameter);
    CHECK(check_selected_identity(no_share, offers, false) == std::uint16_t{1});  // psk_ke was offered
}

// ==== The client's session (common/session.*) ===============================================

namespace {

SessionTicket sample_ticket(std::uint64_t received, std::uint8_t fill) {
    SessionTicket t;
    t.ticket = Bytes(100, fill);
    t.resumption_psk = Secret(32, static_cast<std::uint8_t>(fill + 1));
    t.ticket_nonce = Bytes{fill};
    t.receipt_time_ms = received;
    t.ticket_lifetime = 7200;
    t.ticket_age_add = 0xfad6aac5;
    return t;
}

Session sample_session() {
    Session s;
    s.server_name = "localhost";
    s.cipher_suite = aes128;
    s.tickets = {sample_ticket(t0, 1), sample_ticket(t0 + 10, 2)};
    s.tickets[1].max_early_data_size = 16384;
    s.tickets[1].alpn = "http/1.1";
    s.tickets[1].ticket_nonce.clear();  // ticket_nonce<0..255> may be empty
    return s;
}

}  // namespace

TEST_CASE("SessionTicket::from: RFC 8448 §3's NewSessionTicket gives §3's resumption PSK") {
    const NewSessionTicket nst = s3_new_session_ticket();
    const SessionTicket t = SessionTicket::from(nst, HashAlg::sha256, bytes(s3::resumption_master_secret), t0, "h2");
    CHECK(to_hex(t.resumption_psk) == rfc(s3::resumption_psk));
    CHECK(t.ticket == nst.ticket);
    CHECK(t.ticket_nonce == Bytes{0, 0});
    CHECK(t.ticket_lifetime == 30);
    CHECK(t.ticket_age_add == nst.ticket_age_add);
    CHECK(t.max_early_data_size == 1024);  // §3's ticket carries early_data
    CHECK(t.receipt_time_ms == t0);
    CHECK(t.alpn == "h2");
    CHECK(t.expiry_time_ms() == t0 + 30'000);
}

TEST_CASE("a session saves to a readable text file and loads back the same, for its owner only") {
    tlstest::TempDir dir;
    const std::string path = dir.file("session.txt");
    const Session s = sample_session();
    s.save(path);
    CHECK(Session::load(path) == s);

    const std::string text = tlstest::read_file(path);
    CHECK(text.rfind("# tls-by-hand TLS 1.3 session", 0) == 0);
    CHECK_CONTAINS(text, "RFC 8446 §4.6.1");
    CHECK(tlstest::has_line(text, "^server_name +localhost$"));
    CHECK(tlstest::has_line(text, "^cipher_suite +TLS_AES_128_GCM_SHA256$"));
    CHECK(tlstest::count_of(text, "\n[ticket]\n") == 2);
    CHECK(tlstest::has_line(text, "^ticket_age_add +4208372421$"));
    CHECK(tlstest::has_line(text, "^ticket +0101010101"));
    CHECK(tlstest::has_line(text, "^# received 2026-01-01 00:00:00 UTC, expires 2026-01-01 02:00:00 UTC$"));
    CHECK(tlstest::has_line(text, "^ticket_nonce$"));
    CHECK(tlstest::has_line(text, "^alpn +http/1.1$"));
    const auto perms = std::filesystem::status(path).permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
          std::filesystem::perms::none);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

    // A SHA-384 session and one with no tickets and no server name round-trip too.
    Session big;
    big.cipher_suite = aes256;
    big.tickets = {sample_ticket(t0, 5)};
    big.tickets[0].resumption_psk = Secret(48, 6);
    CHECK(Session::parse(big.format()) == big);
    Session empty;
    empty.cipher_suite = chacha;
    CHECK(Session::parse(empty.format()) == empty);
}

TEST_CASE("a malformed session file is a runtime_error naming the line and the problem") {
    const std::string head = "# comment\nserver_name localhost\ncipher_suite TLS_AES_128_GCM_SHA256\n";
    const std::string psk = std::string(64, 'a');
    const std::string body = "receipt_time_ms 1\nticket_lifetime 2\nticket_age_add 3\nticket_nonce 00\nticket 0102\n";
    struct Case {
        std::string text;
        std::string expected;
    };
    const Case cases[] = {
        {"server_name a\nserver_name b\ncipher_suite TLS_AES_128_GCM_SHA256\n", "line 2: a second server_name line"},
        {"cipher_suite TLS_AES_128_CCM_SHA256\n", "line 1: cipher_suite: \"TLS_AES_128_CCM_SHA256\" is not"},
        {"colour blue\n", "line 1: unknown key \"colour\""},
        {"server_name x\n[ticket]\n", "line 2: a [ticket] before the cipher_suite line"},
        {"server_name x\n", "no cipher_suite line"},
        {head + "[ticket]\n" + body, "line 4: this [ticket] has no resumption_psk line"},
        {head + "[ticket]\n" + body + "resumption_psk " + psk + "\nticket_lifetime 5\n",
         "line 11: a second ticket_lifetime line in this [ticket]"},
        {head + "[ticket]\nreceipt_time_ms -1\n", "line 5: receipt_time_ms: \"-1\" is not a number"},
        {head + "[ticket]\nticket_lifetime 4294967296\n", "line 5: ticket_lifetime: \"4294967296\" is not a number from 0 to 4294967295"},
        {head + "[ticket]\nticket_age_add 12ab\n", "line 5: ticket_age_add: \"12ab\" is not a number"},
        {head + "[ticket]\nticket_age_add\n", "line 5: ticket_age_add: \"\" is not a number"},
        {head + "[ticket]\nticket 0g\n", "line 5: ticket: not hex digits"},
        {head + "[ticket]\nticket\n", "line 5: ticket: empty"},
        {head + "[ticket]\nticket_nonce " + std::string(512, '0') + "\n", "line 5: ticket_nonce: 256 bytes, at most 255"},
        {head + "[ticket]\nresumption_psk " + std::string(96, 'a') + "\n",
         "line 5: resumption_psk: 48 bytes, but TLS_AES_128_GCM_SHA256 has a 32-byte hash"},
        {head + "[ticket]\nserver_name y\n", "line 5: unknown key \"server_name\" in a [ticket]"},
        {head + "[ticket]\n" + body + "resumption_psk " + psk + "\n[ticket]\nticket 01\n",
         "line 11: this [ticket] has no receipt_time_ms line"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const std::string e = runtime_error_of([&] { Session::parse(c.text, "session file s.txt"); });
        CHECK_CONTAINS(e, "session file s.txt");
        CHECK_CONTAINS(e, c.expected);
    }
    // The good one, for contrast.
    const Session ok = Session::parse(head + "\n[ticket]\n" + body + "resumption_psk " + psk + "\n");
    REQUIRE(ok.tickets.size() == 1);
    CHECK(ok.tickets[0].ticket == Bytes{1, 2});

    tlstest::TempDir dir;
    CHECK_CONTAINS(runtime_error_of([&] { Session::load(dir.file("missing")); }), dir.file("missing"));
}

TEST_CASE("a session refuses to write a server_name or ALPN that would not read back") {
    Session s = sample_session();
    s.server_name = "local\nhost";
    CHECK_THROWS_AS(s.format(), std::invalid_argument);
    s = sample_session();
    s.tickets[1].alpn = " h2";
    CHECK_THROWS_AS(s.format(), std::invalid_argument);
}

TEST_CASE("take_ticket takes the freshest unexpired ticket, drops expired ones, and never gives one twice") {
    Session s;
    s.cipher_suite = aes128;
    s.tickets = {sample_ticket(t0, 1), sample_ticket(t0 + 5'000, 2), sample_ticket(t0 + 5'000, 3),
                 sample_ticket(t0 - 7'200'000, 4)};  // the last one expires at t0
    auto a = s.take_ticket(t0 + 10'000);
    REQUIRE(a.has_value());
    CHECK(a->ticket == Bytes(100, 3));  // of two equally fresh, the later one
    CHECK(s.tickets.size() == 2);       // the expired one dropped too
    CHECK(s.take_ticket(t0 + 10'000)->ticket == Bytes(100, 2));
    CHECK(s.take_ticket(t0 + 10'000)->ticket == Bytes(100, 1));
    CHECK_FALSE(s.take_ticket(t0 + 10'000).has_value());

    // §4.6.1: a lifetime of 0 means discard; the client keeps none longer than 7 days.
    Session odd;
    odd.cipher_suite = aes128;
    odd.tickets = {sample_ticket(t0, 1), sample_ticket(t0, 2)};
    odd.tickets[0].ticket_lifetime = 0;
    odd.tickets[1].ticket_lifetime = 0xffffffff;
    CHECK(odd.tickets[0].expired(t0));
    CHECK(odd.tickets[1].expiry_time_ms() == t0 + std::uint64_t{max_ticket_lifetime} * 1000);
    CHECK(odd.take_ticket(t0 + 1)->ticket == Bytes(100, 2));
    CHECK(odd.take_ticket(t0 + 1) == std::nullopt);
}

TEST_CASE("take_ticket_from_file removes the ticket from the file before it is used (Appendix C.4)") {
    tlstest::TempDir dir;
    const std::string path = dir.file("session.txt");
    sample_session().save(path);
    const auto first = take_ticket_from_file(path, t0 + 1'000);
    REQUIRE(first.has_value());
    CHECK(first->ticket.ticket == Bytes(100, 2));
    CHECK(first->session.server_name == "localhost");
    CHECK(Session::load(path).tickets.size() == 1);
    CHECK(take_ticket_from_file(path, t0 + 1'000)->ticket.ticket == Bytes(100, 1));
    CHECK_FALSE(take_ticket_from_file(path, t0 + 1'000).has_value());
    CHECK(Session::load(path).tickets.empty());
}

TEST_CASE("psk_offer: the ticket as identity, its age obfuscated, the session's hash and the PSK") {
    const Session s = sample_session();
    const PskOffer offer = psk_offer(s, s.tickets[0], t0 + 2'500);
    CHECK(offer.identity.identity == s.tickets[0].ticket);
    CHECK(offer.identity.obfuscated_ticket_age == obfuscated_ticket_age(2'500, 0xfad6aac5));
    CHECK(offer.hash == HashAlg::sha256);
    CHECK(Bytes(offer.psk.begin(), offer.psk.end()) == Bytes(s.tickets[0].resumption_psk.begin(), s.tickets[0].resumption_psk.end()));
    CHECK(offer.type == PskType::resumption);
}

TEST_CASE("server and client in memory: a ticket issued, saved, offered, selected and its binder verified") {
    TicketKeys keys(TicketKey::random());
    const Bytes rms(32, 0x5a);  // the first connection's resumption_master_secret, on both sides
    TicketState connection;
    connection.cipher_suite = aes128;
    connection.creation_time_ms = t0;
    connection.server_name = "localhost";

    // Server: two tickets after the first handshake (§4.6.1). Client: keeps them.
    Session session;
    session.server_name = "localhost";
    session.cipher_suite = aes128;
    for (std::uint8_t n = 0; n < 2; ++n)
        session.tickets.push_back(SessionTicket::from(issue_ticket(keys, connection, rms, Bytes{n}),
                                                      HashAlg::sha256, rms, t0 + 20));
    tlstest::TempDir dir;
    session.save(dir.file("s"));

    // Client, later: one ticket, offered in a ClientHello.
    const std::uint64_t later = t0 + 60'000;
    auto taken = take_ticket_from_file(dir.file("s"), later);
    REQUIRE(taken.has_value());
    const PskOffer offer = psk_offer(taken->session, taken->ticket, later);
    ClientHello ch = client_hello_without_psk();
    add_pre_shared_key(ch, {&offer, 1});
    const Bytes message = encode_handshake(ch);

    // Server: checks, selects, verifies the binder with the PSK from inside the ticket.
    const ClientHello received = ClientHello::decode(Handshake::decode(message).body);
    const auto offered = offered_psks(received);
    REQUIRE(offered.has_value());
    CHECK(choose_psk_key_exchange_mode(received) == PskKeyExchangeMode::psk_dhe_ke);
    const auto selected = select_psk(*offered, keys, aes128, later + 15);
    REQUIRE(selected.has_value());
    CHECK(selected->selected_identity == 0);
    CHECK(selected->client_ticket_age_ms == 60'000u - 20u);
    CHECK(binder_valid(message, selected->selected_identity, HashAlg::sha256, selected->ticket.resumption_psk));
    CHECK(selected->ticket.resumption_psk == taken->ticket.resumption_psk);

    // Client: the ServerHello selects identity 0.
    ServerHello sh;
    sh.cipher_suite = aes128;
    sh.extensions = {make_supported_versions_server(TLS1_3), make_key_share_server({NamedGroup::x25519, Bytes(32, 1)}),
                     make_pre_shared_key_server(selected->selected_identity)};
    CHECK(check_selected_identity(sh, {&offer, 1}) == std::uint16_t{0});
}

// ==== §8 Anti-replay (common/anti_replay.*) ==================================================

TEST_CASE("UsedTickets: the first use passes, a second fails until the ticket expires") {
    UsedTickets used(t0);
    const Bytes a(120, 1), b(120, 2);
    CHECK(used.first_use(a, t0 + 10, t0 + 1'000));
    CHECK(used.seen(a, t0 + 20));
    CHECK_FALSE(used.first_use(a, t0 + 20, t0 + 1'000));  // a replay
    CHECK(used.first_use(b, t0 + 20, t0 + 1'000));        // another ticket
    CHECK_FALSE(used.first_use(a, t0 + 999, t0 + 1'000));
    CHECK_FALSE(used.seen(a, t0 + 1'000));
    CHECK(used.first_use(a, t0 + 1'000, t0 + 2'000));  // expired: the entry is reused
    CHECK(used.size() == 2);
    CHECK(used.first_use(Bytes(120, 3), t0, t0));  // already expired: nothing to remember
    CHECK(used.size() == 2);
}

TEST_CASE("UsedTickets is bounded: full of live tickets it refuses 0-RTT, and takes more as they expire") {
    UsedTickets used(t0, 3);
    CHECK(used.capacity() == 3);
    CHECK(used.first_use(Bytes{1}, t0, t0 + 100));
    CHECK(used.first_use(Bytes{2}, t0, t0 + 200));
    CHECK(used.first_use(Bytes{3}, t0, t0 + 300));
    CHECK_FALSE(used.first_use(Bytes{4}, t0 + 50, t0 + 400));  // full, nothing expired: fail closed
    CHECK(used.size() == 3);
    CHECK(used.first_use(Bytes{4}, t0 + 100, t0 + 400));  // {1} has expired: swept
    CHECK(used.size() == 3);
    CHECK_FALSE(used.first_use(Bytes{2}, t0 + 150, t0 + 400));  // still a replay
    CHECK(used.first_use(Bytes{5}, t0 + 1'000, t0 + 2'000));    // all expired
    CHECK(used.size() == 1);
}

TEST_CASE("UsedTickets remembers only since it started (§8.2 startup)") {
    const UsedTickets used(t0);
    CHECK(used.remembers_since(t0));
    CHECK(used.remembers_since(t0 + 1));
    CHECK_FALSE(used.remembers_since(t0 - 1));
}

TEST_CASE("fresh: within the window on both sides, its edges included") {
    static_assert(freshness_window_ms == 10'000);
    const std::uint64_t expected = t0 + 60'000;
    CHECK(fresh(expected, expected));
    CHECK(fresh(expected, expected + freshness_window_ms));
    CHECK_FALSE(fresh(expected, expected + freshness_window_ms + 1));
    CHECK(fresh(expected, expected - freshness_window_ms));
    CHECK_FALSE(fresh(expected, expected - freshness_window_ms - 1));
    CHECK(fresh(expected, expected + 500, 500));
    CHECK_FALSE(fresh(expected, expected + 501, 500));
}

TEST_CASE("expected_arrival_time_ms is creation time plus estimated RTT plus the client's de-obfuscated age") {
    const TicketState s = sample_state();  // created t0, RTT 40 ms, ticket_age_add 0xfad6aac5 (wraps)
    CHECK(expected_arrival_time_ms(s, obfuscated_ticket_age(30'000, s.ticket_age_add)) == t0 + 40 + 30'000);
    CHECK(expected_arrival_time_ms(s, obfuscated_ticket_age(0, s.ticket_age_add)) == t0 + 40);
}

TEST_CASE("early_data_refusal: first identity, allowed, same suite and ALPN, fresh, after startup, used once") {
    TicketState ticket = sample_state();  // AES-128-GCM, http/1.1, 16384 bytes of early data
    const Bytes identity(120, 0x99);
    const std::uint64_t now = t0 + 30'000;
    SelectedPsk psk;
    psk.ticket = ticket;
    psk.client_ticket_age_ms = 30'000 - 40;  // expected arrival: exactly now

    const auto refusal = [&](const SelectedPsk& p, UsedTickets& used, CipherSuite suite = aes128,
                             std::string_view alpn = "http/1.1", std::uint64_t at = t0 + 30'000) {
        return early_data_refusal(p, identity, suite, alpn, used, at);
    };
    UsedTickets used(t0 - 60'000);

    SelectedPsk second = psk;
    second.selected_identity = 1;
    CHECK_CONTAINS(refusal(second, used).value_or(""), "not the first");
    SelectedPsk no_early = psk;
    no_early.ticket.max_early_data_size = 0;
    CHECK_CONTAINS(refusal(no_early, used).value_or(""), "does not allow early data");
    CHECK_CONTAINS(refusal(psk, used, chacha).value_or(""), "cipher suite");
    CHECK_CONTAINS(refusal(psk, used, aes128, "h2").value_or(""), "ALPN");
    CHECK_CONTAINS(refusal(psk, used, aes128, "http/1.1", now + freshness_window_ms + 1).value_or(""), "not fresh");
    CHECK_CONTAINS(refusal(psk, used, aes128, "http/1.1", now - freshness_window_ms - 1).value_or(""), "not fresh");
    UsedTickets just_started(now - freshness_window_ms + 1);
    CHECK_CONTAINS(refusal(psk, just_started).value_or(""), "started too recently");
    // A ticket made after the store started cannot have been used before it: no startup wait.
    UsedTickets started_before_ticket(t0 - 1);
    SelectedPsk young = psk;
    young.client_ticket_age_ms = 100;
    CHECK_FALSE(refusal(young, started_before_ticket, aes128, "http/1.1", t0 + 40 + 100).has_value());
    UsedTickets started_after_ticket(t0 + 1);
    CHECK_CONTAINS(refusal(young, started_after_ticket, aes128, "http/1.1", t0 + 40 + 100).value_or(""),
                   "started too recently");
    CHECK(used.size() == 0);  // none of those refusals spent the ticket

    CHECK_FALSE(refusal(psk, used).has_value());  // accepted
    CHECK(used.size() == 1);
    CHECK_CONTAINS(refusal(psk, used, aes128, "http/1.1", now + 5).value_or(""), "replay");

    UsedTickets tiny(t0 - 60'000, 1);
    CHECK(tiny.first_use(Bytes{1}, now, now + 1'000'000));
    CHECK_CONTAINS(refusal(psk, tiny).value_or(""), "full");
}
