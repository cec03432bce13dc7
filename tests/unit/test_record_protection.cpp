// tests/unit/test_record_protection.cpp — chapter 06 (encrypted records).
// RFC 8446 §5.2-§5.4: every protected record of the published RFC 8448 (rfc8448_vectors.hpp),
// byte for byte — §3's server flight, client Finished, NewSessionTicket, application data and
// alerts both ways; §4's 0-RTT data and EndOfEarlyData under the early traffic key and the
// rest of the resumed handshake; §5, §6 and §7's flights and alerts — sealed in order and
// opened again; then every way a protected record can be refused.
#include "alert.hpp"
#include "crypto.hpp"
#include "record_protection.hpp"
#include "rfc8448_vectors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace tls;
using tlstest::alert_from;

namespace {

namespace s3 = rfc8448::simple;
namespace s4 = rfc8448::resumed;
namespace s5 = rfc8448::hello_retry;
namespace s6 = rfc8448::client_auth;
namespace s7 = rfc8448::compat;

std::string hex(BytesView bytes) { return to_hex(bytes); }
Bytes bytes(std::string_view rfc_hex) { return from_hex(rfc_hex); }
std::string rfc(std::string_view rfc_hex) { return to_hex(from_hex(rfc_hex)); }

Secret secret(std::string_view rfc_hex) {
    const Bytes b = from_hex(rfc_hex);
    return Secret(b.begin(), b.end());
}

// A write key and IV as the trace prints them (test_key_schedule.cpp checks that we derive them).
TrafficKeys keys(std::string_view write_key, std::string_view write_iv) {
    return {secret(write_key), secret(write_iv)};
}

// One protected record of the trace: the content its sender sealed and the whole record.
struct TraceRecord {
    const char* what;
    ContentType type;
    std::string_view payload, record;
};

// Seals the records in order under one key (sequence numbers 0, 1, 2...), each of which must
// come out as the trace's record; and opens the trace's records in order with a second
// RecordProtection, as the peer does, which must give back each type and content.
void check_records(const TrafficKeys& traffic_keys, std::initializer_list<TraceRecord> records) {
    RecordProtection writer(AeadAlg::aes_128_gcm, traffic_keys);
    RecordProtection reader(AeadAlg::aes_128_gcm, traffic_keys);
    for (const TraceRecord& r : records) {
        CAPTURE(r.what);
        CHECK(hex(writer.seal(r.type, bytes(r.payload))) == rfc(r.record));
        const Bytes record = bytes(r.record);
        const BytesView v(record);
        const InnerPlaintext opened = reader.open(v.first(5), v.subspan(5));
        CHECK(opened.type == r.type);
        CHECK(hex(opened.content) == rfc(r.payload));
    }
    CHECK(writer.sequence_number() == records.size());
    CHECK(reader.sequence_number() == records.size());
}

// The messages of a flight, one after the other: what one record carries.
std::string flight(std::initializer_list<std::string_view> messages) {
    std::string out;
    for (std::string_view m : messages) out += rfc(m);
    return out;
}

Bytes random_key(AeadAlg aead) { return random_bytes(aead_key_length(aead)); }

TrafficKeys random_keys(AeadAlg aead) {
    const Bytes key = random_key(aead);
    const Bytes iv = random_bytes(12);
    return {Secret(key.begin(), key.end()), Secret(iv.begin(), iv.end())};
}

// A record the sealer would never make, with the header a peer would send for it.
Bytes hand_made_record(const TrafficKeys& keys, std::uint64_t sequence_number, BytesView inner_plaintext) {
    ByteWriter record;
    record.u8(23);
    record.u16(0x0303);
    record.u16(static_cast<std::uint16_t>(inner_plaintext.size() + 16));
    const Bytes header = record.data();
    record.bytes(aead_seal(AeadAlg::aes_128_gcm, keys.key, per_record_nonce(keys.iv, sequence_number), header,
                           inner_plaintext));
    return record.take();
}

}  // namespace

// ---- RFC 8448 §3 "Simple 1-RTT Handshake" -----------------------------------------------------

TEST_CASE("RFC 8448 §3: server handshake flight record, EncryptedExtensions to Finished") {
    // Four messages in one record, the first under the server handshake key (sequence number 0).
    CHECK(rfc(s3::server_flight_payload) ==
          flight({s3::encrypted_extensions, s3::certificate, s3::certificate_verify, s3::server_finished}));
    check_records(keys(s3::server_handshake_write_key, s3::server_handshake_write_iv),
                  {{"server flight", ContentType::handshake, s3::server_flight_payload, s3::server_flight_record}});
}

TEST_CASE("RFC 8448 §3: client Finished record") {
    check_records(keys(s3::client_handshake_write_key, s3::client_handshake_write_iv),
                  {{"client Finished", ContentType::handshake, s3::client_finished, s3::client_finished_record}});
}

TEST_CASE("RFC 8448 §3: server NewSessionTicket, application data and alert records") {
    // Under the server application key: NewSessionTicket at 0, application data at 1, alert at 2.
    check_records(keys(s3::server_application_write_key, s3::server_application_write_iv),
                  {{"NewSessionTicket", ContentType::handshake, s3::new_session_ticket, s3::new_session_ticket_record},
                   {"application data", ContentType::application_data, s3::server_application_data_payload,
                    s3::server_application_data_record},
                   {"close_notify", ContentType::alert, s3::server_alert_payload, s3::server_alert_record}});
}

TEST_CASE("RFC 8448 §3: client application data and alert records") {
    check_records(keys(s3::client_application_write_key, s3::client_application_write_iv),
                  {{"application data", ContentType::application_data, s3::client_application_data_payload,
                    s3::client_application_data_record},
                   {"close_notify", ContentType::alert, s3::client_alert_payload, s3::client_alert_record}});
}

TEST_CASE("RFC 8448 §3: the application data is 00 01 02 ... 31 and the alerts are close_notify") {
    Bytes counting(50);
    for (std::size_t i = 0; i < counting.size(); ++i) counting[i] = static_cast<std::uint8_t>(i);
    CHECK(rfc(s3::client_application_data_payload) == hex(counting));
    CHECK(rfc(s3::server_application_data_payload) == hex(counting));
    // §6: struct { AlertLevel level; AlertDescription description; }: warning(1), close_notify(0).
    CHECK(rfc(s3::client_alert_payload) == "0100");
    CHECK(rfc(s3::server_alert_payload) == "0100");
}

// ---- RFC 8448 §4 "Resumed 0-RTT Handshake" ----------------------------------------------------

TEST_CASE("RFC 8448 §4: 0-RTT application data and EndOfEarlyData records under the early traffic key") {
    // The client writes both under client_early_traffic_secret: "ABCDEF" at 0, EndOfEarlyData at 1.
    check_records(keys(s4::client_early_write_key, s4::client_early_write_iv),
                  {{"0-RTT data", ContentType::application_data, s4::client_early_data_payload,
                    s4::client_early_data_record},
                   {"EndOfEarlyData", ContentType::handshake, s4::end_of_early_data, s4::end_of_early_data_record}});
}

TEST_CASE("RFC 8448 §4: server handshake flight record, EncryptedExtensions and Finished") {
    CHECK(rfc(s4::server_flight_payload) == flight({s4::encrypted_extensions, s4::server_finished}));
    check_records(keys(s4::server_handshake_write_key, s4::server_handshake_write_iv),
                  {{"server flight", ContentType::handshake, s4::server_flight_payload, s4::server_flight_record}});
}

TEST_CASE("RFC 8448 §4: client Finished record") {
    check_records(keys(s4::client_handshake_write_key, s4::client_handshake_write_iv),
                  {{"client Finished", ContentType::handshake, s4::client_finished, s4::client_finished_record}});
}

TEST_CASE("RFC 8448 §4: application data and alert records both ways") {
    check_records(keys(s4::server_application_write_key, s4::server_application_write_iv),
                  {{"server application data", ContentType::application_data, s4::server_application_data_payload,
                    s4::server_application_data_record},
                   {"server close_notify", ContentType::alert, s4::server_alert_payload, s4::server_alert_record}});
    check_records(keys(s4::client_application_write_key, s4::client_application_write_iv),
                  {{"client application data", ContentType::application_data, s4::client_application_data_payload,
                    s4::client_application_data_record},
                   {"client close_notify", ContentType::alert, s4::client_alert_payload, s4::client_alert_record}});
}

// ---- RFC 8448 §5 "HelloRetryRequest" ----------------------------------------------------------

TEST_CASE("RFC 8448 §5: server flight, client Finished and alert records") {
    CHECK(rfc(s5::server_flight_payload) ==
          flight({s5::encrypted_extensions, s5::certificate, s5::certificate_verify, s5::server_finished}));
    check_records(keys(s5::server_handshake_write_key, s5::server_handshake_write_iv),
                  {{"server flight", ContentType::handshake, s5::server_flight_payload, s5::server_flight_record}});
    check_records(keys(s5::client_handshake_write_key, s5::client_handshake_write_iv),
                  {{"client Finished", ContentType::handshake, s5::client_finished, s5::client_finished_record}});
    check_records(keys(s5::client_application_write_key, s5::client_application_write_iv),
                  {{"client close_notify", ContentType::alert, s5::client_alert_payload, s5::client_alert_record}});
    check_records(keys(s5::server_application_write_key, s5::server_application_write_iv),
                  {{"server close_notify", ContentType::alert, s5::server_alert_payload, s5::server_alert_record}});
}

// ---- RFC 8448 §6 "Client Authentication" ------------------------------------------------------

TEST_CASE("RFC 8448 §6: server flight with CertificateRequest, client flight with its certificate, alerts") {
    CHECK(rfc(s6::server_flight_payload) == flight({s6::encrypted_extensions, s6::certificate_request, s6::certificate,
                                                    s6::certificate_verify, s6::server_finished}));
    check_records(keys(s6::server_handshake_write_key, s6::server_handshake_write_iv),
                  {{"server flight", ContentType::handshake, s6::server_flight_payload, s6::server_flight_record}});
    CHECK(rfc(s6::client_flight_payload) ==
          flight({s6::client_certificate, s6::client_certificate_verify, s6::client_finished}));
    check_records(keys(s6::client_handshake_write_key, s6::client_handshake_write_iv),
                  {{"client flight", ContentType::handshake, s6::client_flight_payload, s6::client_flight_record}});
    check_records(keys(s6::client_application_write_key, s6::client_application_write_iv),
                  {{"client close_notify", ContentType::alert, s6::client_alert_payload, s6::client_alert_record}});
    check_records(keys(s6::server_application_write_key, s6::server_application_write_iv),
                  {{"server close_notify", ContentType::alert, s6::server_alert_payload, s6::server_alert_record}});
}

// ---- RFC 8448 §7 "Compatibility Mode" ---------------------------------------------------------

TEST_CASE("RFC 8448 §7: server flight, client Finished and alert records") {
    // The change_cipher_spec records in between are plaintext (test_record.cpp) and leave the
    // sequence numbers alone.
    CHECK(rfc(s7::server_flight_payload) ==
          flight({s7::encrypted_extensions, s7::certificate, s7::certificate_verify, s7::server_finished}));
    check_records(keys(s7::server_handshake_write_key, s7::server_handshake_write_iv),
                  {{"server flight", ContentType::handshake, s7::server_flight_payload, s7::server_flight_record}});
    check_records(keys(s7::client_handshake_write_key, s7::client_handshake_write_iv),
                  {{"client Finished", ContentType::handshake, s7::client_finished, s7::client_finished_record}});
    check_records(keys(s7::client_application_write_key, s7::client_application_write_iv),
                  {{"client close_notify", ContentType::alert, s7::client_alert_payload, s7::client_alert_record}});
    check_records(keys(s7::server_application_write_key, s7::server_application_write_iv),
                  {{"server close_notify", ContentType::alert, s7::server_alert_payload, s7::server_alert_record}});
}

// ---- Records beyond the traces ----------------------------------------------------------------

TEST_CASE("record protection round trips with all three AEADs") {
    for (AeadAlg aead : {AeadAlg::aes_128_gcm, AeadAlg::aes_256_gcm, AeadAlg::chacha20_poly1305}) {
        CAPTURE(aead_name(aead));
        const TrafficKeys keys = random_keys(aead);
        RecordProtection writer(aead, keys);
        RecordProtection reader(aead, keys);
        CHECK(writer.aead() == aead);
        for (const std::string text : {"GET / HTTP/1.1", "", "x"}) {
            const Bytes record = writer.seal(ContentType::application_data, to_bytes(text));
            // §5.2: opaque_type 23, legacy_record_version 0303, length = content + type + tag.
            CHECK(hex(BytesView(record).first(3)) == "170303");
            CHECK(record.size() == 5 + text.size() + 1 + 16);
            CHECK((record[3] << 8 | record[4]) == static_cast<int>(text.size() + 1 + 16));
            const BytesView r(record);
            const InnerPlaintext opened = reader.open(r.first(5), r.subspan(5));
            CHECK(opened.type == ContentType::application_data);
            CHECK(to_string(opened.content) == text);
        }
    }
}

// RFC8446 5.2-3
TEST_CASE("record protection rejects a flipped bit with bad_record_mac") {
    const TrafficKeys keys = random_keys(AeadAlg::aes_128_gcm);
    RecordProtection writer(AeadAlg::aes_128_gcm, keys);
    const Bytes record = writer.seal(ContentType::application_data, to_bytes("attack at dawn"));
    // Anywhere: in the ciphertext, in the tag, or in the header (it is the additional data).
    for (std::size_t at : {std::size_t{7}, record.size() - 1, std::size_t{1}}) {
        CAPTURE(at);
        Bytes tampered = record;
        tampered[at] ^= 0x01;
        RecordProtection reader(AeadAlg::aes_128_gcm, keys);
        const BytesView r(tampered);
        CHECK(alert_from([&] { reader.open(r.first(5), r.subspan(5)); }) == "bad_record_mac");
    }
    RecordProtection reader(AeadAlg::aes_128_gcm, keys);
    const BytesView r(record);
    CHECK(alert_from([&] { reader.open(r.first(5), r.subspan(5)); }) == "none");  // the untouched record opens
}

TEST_CASE("record protection rejects a record shorter than a tag with bad_record_mac") {
    RecordProtection reader(AeadAlg::chacha20_poly1305, random_keys(AeadAlg::chacha20_poly1305));
    const Bytes header = from_hex("17 03 03 00 05");
    CHECK(alert_from([&] { reader.open(header, Bytes(5, 0xaa)); }) == "bad_record_mac");
    CHECK(alert_from([&] { reader.open(header, Bytes{}); }) == "bad_record_mac");
}

// RFC8446 5.2-2, 5.2-5
TEST_CASE("record protection rejects a record longer than 2^14 + 256 with record_overflow") {
    RecordProtection reader(AeadAlg::aes_128_gcm, random_keys(AeadAlg::aes_128_gcm));
    const Bytes too_long(max_ciphertext_length + 1, 0);
    CHECK(alert_from([&] { reader.open(from_hex("17 03 03 41 01"), too_long); }) == "record_overflow");
}

// RFC8446 5.4-5
TEST_CASE("record protection rejects a decrypted plaintext longer than 2^14 + 1 with record_overflow") {
    // It fits the 2^14 + 256 on the wire and authenticates, but holds 2^14 + 2 bytes.
    const TrafficKeys keys = random_keys(AeadAlg::aes_128_gcm);
    Bytes inner(max_plaintext_length + 2, 'a');
    inner.back() = static_cast<std::uint8_t>(ContentType::application_data);
    const Bytes record = hand_made_record(keys, 0, inner);
    RecordProtection reader(AeadAlg::aes_128_gcm, keys);
    const BytesView r(record);
    CHECK(alert_from([&] { reader.open(r.first(5), r.subspan(5)); }) == "record_overflow");
}

// RFC8446 5.4-4
TEST_CASE("record protection rejects an all-zero inner plaintext with unexpected_message") {
    const TrafficKeys keys = random_keys(AeadAlg::aes_128_gcm);
    const Bytes record = hand_made_record(keys, 0, Bytes(10, 0));
    RecordProtection reader(AeadAlg::aes_128_gcm, keys);
    const BytesView r(record);
    CHECK(alert_from([&] { reader.open(r.first(5), r.subspan(5)); }) == "unexpected_message");
}

TEST_CASE("record protection strips the padding") {
    const TrafficKeys keys = random_keys(AeadAlg::aes_256_gcm);
    RecordProtection writer(AeadAlg::aes_256_gcm, keys);
    RecordProtection reader(AeadAlg::aes_256_gcm, keys);
    const Bytes record = writer.seal(ContentType::handshake, to_bytes("hello"), 100);
    CHECK(record.size() == 5 + 5 + 1 + 100 + 16);
    const BytesView r(record);
    const InnerPlaintext opened = reader.open(r.first(5), r.subspan(5));
    CHECK(opened.type == ContentType::handshake);
    CHECK(to_string(opened.content) == "hello");
}

TEST_CASE("record protection opens a record in place as it opens a copy") {
    const TrafficKeys keys = random_keys(AeadAlg::aes_128_gcm);
    RecordProtection writer(AeadAlg::aes_128_gcm, keys);
    RecordProtection copying(AeadAlg::aes_128_gcm, keys);
    RecordProtection in_place(AeadAlg::aes_128_gcm, keys);
    for (std::size_t padding : {0, 1, 100}) {
        const Bytes record = writer.seal(ContentType::application_data, Bytes(16000, 0x61), padding);
        const BytesView r(record);
        const InnerPlaintext a = copying.open(r.first(5), r.subspan(5));
        const InnerPlaintext b = in_place.open(r.first(5), Bytes(r.begin() + 5, r.end()));
        CHECK(a.type == b.type);
        CHECK(a.content == b.content);
        CHECK(b.content == Bytes(16000, 0x61));
    }
    const Bytes record = writer.seal(ContentType::alert, from_hex("0100"));
    Bytes fragment(record.begin() + 5, record.end());
    fragment[0] ^= 1;
    CHECK_FALSE(in_place.try_open(BytesView(record).first(5), std::move(fragment)).has_value());
    CHECK(in_place.sequence_number() == 3);  // a record that does not authenticate moves nothing on
    CHECK(decode_inner_plaintext(Bytes{0x61, 0x62, 0x17, 0, 0}).content == to_bytes("ab"));
    CHECK(alert_from([] { decode_inner_plaintext(Bytes(3, 0)); }) == "unexpected_message");
}

TEST_CASE("record protection sequence numbers advance and records opened out of order fail") {
    const TrafficKeys keys = random_keys(AeadAlg::aes_128_gcm);
    RecordProtection writer(AeadAlg::aes_128_gcm, keys);
    CHECK(writer.sequence_number() == 0);
    const Bytes first = writer.seal(ContentType::application_data, to_bytes("one"));
    const Bytes second = writer.seal(ContentType::application_data, to_bytes("two"));
    CHECK(writer.sequence_number() == 2);
    // Same content, different sequence number: a different nonce, so a different record.
    CHECK(hex(writer.seal(ContentType::application_data, to_bytes("two"))) != hex(second));

    RecordProtection reader(AeadAlg::aes_128_gcm, keys);
    const BytesView s(second);
    CHECK(alert_from([&] { reader.open(s.first(5), s.subspan(5)); }) == "bad_record_mac");  // expected #0

    RecordProtection in_order(AeadAlg::aes_128_gcm, keys);
    const BytesView f(first);
    CHECK(to_string(in_order.open(f.first(5), f.subspan(5)).content) == "one");
    CHECK(to_string(in_order.open(s.first(5), s.subspan(5)).content) == "two");
    CHECK(in_order.sequence_number() == 2);
}

TEST_CASE("record protection seals at most 2^14 bytes of content and padding") {
    const TrafficKeys keys = random_keys(AeadAlg::chacha20_poly1305);
    RecordProtection writer(AeadAlg::chacha20_poly1305, keys);
    RecordProtection reader(AeadAlg::chacha20_poly1305, keys);
    const Bytes full(max_plaintext_length, 'z');
    const Bytes record = writer.seal(ContentType::application_data, full);
    CHECK(record.size() == 5 + max_plaintext_length + 1 + 16);
    const BytesView r(record);
    CHECK(reader.open(r.first(5), r.subspan(5)).content.size() == max_plaintext_length);
    const Bytes too_much(max_plaintext_length + 1, 'z');
    CHECK_THROWS_AS(writer.seal(ContentType::application_data, too_much), std::length_error);
    CHECK_THROWS_AS(writer.seal(ContentType::application_data, full, 1), std::length_error);
}

TEST_CASE("record protection refuses keys of the wrong length") {
    CHECK_THROWS_AS(RecordProtection(AeadAlg::aes_256_gcm, random_keys(AeadAlg::aes_128_gcm)), std::invalid_argument);
}

TEST_CASE("per_record_nonce XORs the sequence number into the end of the IV") {
    const Bytes iv = from_hex("00 01 02 03 04 05 06 07 08 09 0a 0b");
    CHECK(hex(per_record_nonce(iv, 0)) == hex(iv));
    CHECK(hex(per_record_nonce(iv, 1)) == "000102030405060708090a0a");
    CHECK(hex(per_record_nonce(iv, 0x0102030405060708)) == "00010203050705030d0f0d03");
}

// RFC8446 5.4-1
TEST_CASE("inner plaintext puts the type after the content and zeros after the type") {
    CHECK(hex(encode_inner_plaintext(ContentType::handshake, from_hex("01 02"))) == "010216");
    CHECK(hex(encode_inner_plaintext(ContentType::alert, from_hex("01 00"), 3)) == "010015000000");
}

TEST_CASE("decode_inner_plaintext finds the type behind the padding") {
    const InnerPlaintext a = decode_inner_plaintext(from_hex("01 00 15 00 00 00"));
    CHECK(a.type == ContentType::alert);
    CHECK(hex(a.content) == "0100");  // the zero inside the content stays
    const InnerPlaintext b = decode_inner_plaintext(from_hex("17"));
    CHECK(b.type == ContentType::application_data);
    CHECK(b.content.empty());
}

// RFC8446 5.4-4
TEST_CASE("decode_inner_plaintext of all zeros or nothing is unexpected_message") {
    CHECK(alert_from([] { decode_inner_plaintext(from_hex("00 00 00")); }) == "unexpected_message");
    CHECK(alert_from([] { decode_inner_plaintext(Bytes{}); }) == "unexpected_message");
}
