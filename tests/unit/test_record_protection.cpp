// tests/unit/test_record_protection.cpp — chapter 06 (encrypted records).
// RFC 8446 §5.2-§5.4: the protected records of RFC 8448 §3 (and the 0-RTT record of §4),
// byte for byte, then every way a protected record can be refused.
#include "alert.hpp"
#include "crypto.hpp"
#include "record_protection.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace tls;
using tlstest::alert_from;

namespace {

std::string hex(BytesView bytes) { return to_hex(bytes); }

Secret secret(std::string_view rfc_hex) {
    const Bytes b = from_hex(rfc_hex);
    return Secret(b.begin(), b.end());
}

// The keys RFC 8448 §3 derives (test_key_schedule.cpp checks that we derive them too).
TrafficKeys server_handshake_keys() {
    return {secret("4d 15 c0 0e 47 31 7f e9 9c 71 4f 8e bd 92 c4 d1"),
            secret("18 22 30 84 73 5f 2f 2d 85 88 ca aa")};
}
TrafficKeys client_handshake_keys() {
    return {secret("94 7f e4 1b 60 fa 1b cf 94 2d 45 62 68 47 6e 8d"),
            secret("96 2d f1 fc 72 0f 95 74 f7 d2 22 48")};
}
TrafficKeys server_application_keys() {
    return {secret("bb e6 b3 fc 9c 06 8c 6f b3 31 ec a8 aa 91 9b fd"),
            secret("80 57 dc 46 84 68 21 a1 be a3 06 e0")};
}
TrafficKeys client_application_keys() {
    return {secret("d9 2b 3e 9a 88 ea 7f e2 ed 69 aa 9c 8b 62 9e 91"),
            secret("37 a8 28 16 1e ad 2b 68 13 ad 0b 13")};
}

// The 50 bytes both sides send as application data in RFC 8448 §3: 00 01 02 ... 31.
Bytes rfc8448_application_data() {
    Bytes data(50);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
    return data;
}

// Seals `content` and checks the record against the trace, then opens it with a fresh
// reader at the same sequence number and checks what comes out.
void check_record(RecordProtection& writer, RecordProtection& reader, ContentType type, BytesView content,
                  std::string_view rfc_record) {
    const Bytes record = writer.seal(type, content);
    CHECK(hex(record) == hex(from_hex(rfc_record)));
    const BytesView r(record);
    const InnerPlaintext opened = reader.open(r.first(5), r.subspan(5));
    CHECK(opened.type == type);
    CHECK(hex(opened.content) == hex(content));
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

TEST_CASE("record protection reproduces RFC 8448 server handshake flight record") {
    // EncryptedExtensions, Certificate, CertificateVerify and Finished in one record,
    // the first under the server handshake key (sequence number 0).
    RecordProtection writer(AeadAlg::aes_128_gcm, server_handshake_keys());
    RecordProtection reader(AeadAlg::aes_128_gcm, server_handshake_keys());
    const Bytes flight = from_hex(R"(
        08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17
        00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
        00 02 40 01 00 00 00 00 0b 00 01 b9 00 00 01 b5
        00 01 b0 30 82 01 ac 30 82 01 15 a0 03 02 01 02
        02 01 02 30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b
        05 00 30 0e 31 0c 30 0a 06 03 55 04 03 13 03 72
        73 61 30 1e 17 0d 31 36 30 37 33 30 30 31 32 33
        35 39 5a 17 0d 32 36 30 37 33 30 30 31 32 33 35
        39 5a 30 0e 31 0c 30 0a 06 03 55 04 03 13 03 72
        73 61 30 81 9f 30 0d 06 09 2a 86 48 86 f7 0d 01
        01 01 05 00 03 81 8d 00 30 81 89 02 81 81 00 b4
        bb 49 8f 82 79 30 3d 98 08 36 39 9b 36 c6 98 8c
        0c 68 de 55 e1 bd b8 26 d3 90 1a 24 61 ea fd 2d
        e4 9a 91 d0 15 ab bc 9a 95 13 7a ce 6c 1a f1 9e
        aa 6a f9 8c 7c ed 43 12 09 98 e1 87 a8 0e e0 cc
        b0 52 4b 1b 01 8c 3e 0b 63 26 4d 44 9a 6d 38 e2
        2a 5f da 43 08 46 74 80 30 53 0e f0 46 1c 8c a9
        d9 ef bf ae 8e a6 d1 d0 3e 2b d1 93 ef f0 ab 9a
        80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f 02
        03 01 00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04
        02 30 00 30 0b 06 03 55 1d 0f 04 04 03 02 05 a0
        30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00 03
        81 81 00 85 aa d2 a0 e5 b9 27 6b 90 8c 65 f7 3a
        72 67 17 06 18 a5 4c 5f 8a 7b 33 7d 2d f7 a5 94
        36 54 17 f2 ea e8 f8 a5 8c 8f 81 72 f9 31 9c f3
        6b 7f d6 c5 5b 80 f2 1a 03 01 51 56 72 60 96 fd
        33 5e 5e 67 f2 db f1 02 70 2e 60 8c ca e6 be c1
        fc 63 a4 2a 99 be 5c 3e b7 10 7c 3c 54 e9 b9 eb
        2b d5 20 3b 1c 3b 84 e0 a8 b2 f7 59 40 9b a3 ea
        c9 d9 1d 40 2d cc 0c c8 f8 96 12 29 ac 91 87 b4
        2b 4d e1 00 00 0f 00 00 84 08 04 00 80 ac e0 af
        8e 87 d7 c6 3c c9 db e7 dc c1 2f f8 3b d5 5d f0
        cc da 9b f4 e5 a0 f7 01 00 d9 bc 4d 25 aa 68 4f
        d9 d3 47 64 2c 94 22 22 52 6e 16 3e 3b 0f ba 31
        2b 10 e9 b6 7e b0 ac 9c 2b e5 fe f4 90 f8 1d 78
        27 e3 bc 12 fa 02 7a b4 39 e7 1c c8 45 9c 14 b9
        4a 8f 35 06 ec 44 54 7d 6c 23 e1 9c c7 f9 d5 e0
        d1 f5 95 10 8f c2 40 f5 b0 84 2c 48 5a 32 14 87
        c4 95 03 77 a5 2e 91 72 94 71 55 67 cd 14 00 00
        20 4c 92 b1 b2 56 d8 61 a1 83 01 67 82 7d 3e 28
        8d 1a 76 f0 34 84 e9 ec 88 6d 4f f6 61 49 cb ec
        2f)");
    check_record(writer, reader, ContentType::handshake, flight,
                 R"(
                     17 03 03 02 a2 d8 62 31 e3 99 ee e4 54 4f 58 e5
                     c9 ff 1d 0d ef 3b aa 47 0a e2 ed 0b 12 7c 5d d4
                     71 71 56 73 ce f7 4b 51 fe ca c0 d9 d3 47 ce 9f
                     43 ef e7 72 ad 20 ef dd fa 5b 9a 39 11 76 03 11
                     27 95 99 83 2e 85 6c eb a2 5b dc 80 71 f9 72 28
                     27 79 85 b9 6f 4e 2b 52 0f 48 b1 29 bd 3f 9b b8
                     e0 ba 5a d5 cb 25 13 b7 d9 15 7f ab 22 fb d5 86
                     2a 86 31 a1 94 b4 ec e8 e3 1d ad e9 e6 d0 19 d5
                     71 48 33 de 18 11 92 b4 27 a1 0f e4 e9 29 f6 37
                     d5 5c 3e cf 01 82 19 1d ee 94 df 0c de ed 15 dc
                     c6 f1 14 c5 ab dc c0 62 63 56 cf e4 dc f0 11 02
                     2c 0e 6a 24 31 d6 88 bb c8 29 fa 49 5b cb 0e 74
                     56 63 6b 15 3c 9c 79 a4 f8 cb 08 31 64 c5 f5 55
                     ac 78 b8 84 4a 25 d8 c7 b3 f4 0d 72 26 f5 3e 6b
                     6f 09 76 98 9c 70 a3 27 b6 e7 bf 53 16 a2 0b 8d
                     e9 9e 25 ab 7d 5e 2f ab a2 f5 3e f8 f3 71 39 95
                     02 3e 67 88 59 cd e1 21 cf 54 86 25 d6 1f e8 40
                     f0 c5 74 9f c6 5c 98 4c 54 3a 13 9a 31 85 09 1a
                     eb 9e ac a2 4d 26 9a 31 50 1c c5 06 bd f9 b6 20
                     99 4c 8d c4 bd c9 77 af d9 e9 71 fa d4 2e b1 c9
                     d0 55 45 fc 37 16 4a 12 32 33 e3 70 bb 6a fe f2
                     cb f7 df 71 0c 95 a4 e2 09 82 cc a1 eb fc 67 a6
                     eb b8 2e 8e e5 91 0a 69 ec 08 55 98 ab 49 73 65
                     c4 08 ac a9 0d 13 fe ea 1d 77 3a f9 89 9f 9e 37
                     b7 41 89 f7 11 ea 08 a9 60 81 0c 44 9c 14 1a b4
                     ee 2d 49 58 02 10 50 e1 bc 43 47 fb fd db 90 e9
                     24 75 2f 1d f7 6e d1 ce 7c 00 38 ce 11 93 b0 e7
                     2e 05 6c 3e 33 09 14 cb e6 56 b8 0b be bf 03 59
                     bf 30 1e 06 90 19 74 ba ad 55 76 5f 18 6c 7b 1c
                     13 04 e1 10 11 81 62 93 51 68 2a 0a 96 e2 a8 44
                     2c d6 52 34 d5 5f 4d cd c5 85 c3 a7 29 aa b2 05
                     59 0a 53 a9 ce 9e 4b 0e 12 18 f0 95 2c c2 80 6b
                     5f 46 c5 9d 88 a1 72 da c3 7c 9f 37 af b9 1c ea
                     61 66 53 24 b0 6d 3c e7 9d 74 65 d3 23 ca 9c b4
                     cc d8 d8 ad f2 1e ef de 6a 24 f3 6f e7 e0 22 13
                     92 85 de 95 dd 62 83 e1 06 77 3d 11 d0 7d 9b f2
                     7c a9 e9 95 3a 0c 23 73 0b 15 9f f8 aa 00 86 d7
                     4e 0b a5 55 72 57 c2 f3 08 a5 5f f5 4c 9c 48 54
                     78 86 f9 79 fa 84 1b 8c 2d 6c d7 a1 4e f6 42 dd
                     a8 32 ba db a3 4a 35 54 fc d4 09 2d 8d e0 4e 43
                     2c cb da a4 ea c2 8f 92 2a 29 bd 00 a7 d2 6f 50
                     72 a3 fa 2d a1 a2 28 39 4a 26 a8 05 de e0 90 42
                     27 94 fb 14 76 cf f0)");
    CHECK(writer.sequence_number() == 1);
    CHECK(reader.sequence_number() == 1);
}

TEST_CASE("record protection reproduces RFC 8448 client Finished record") {
    RecordProtection writer(AeadAlg::aes_128_gcm, client_handshake_keys());
    RecordProtection reader(AeadAlg::aes_128_gcm, client_handshake_keys());
    check_record(writer, reader, ContentType::handshake,
                 from_hex(R"(
                     14 00 00 20 80 a2 c0 d6 cb c2 10 78 db a3 0a ff
                     bf 09 19 29 27 8e dc 83 2d b4 bf a1 c8 11 c9 e8
                     c6 7d a9 bb)"),
                 R"(
                     17 03 03 00 35 ed 2b 56 75 d3 a8 b0 d0 ce dd 05
                     19 d5 e7 57 3c 4a a0 61 f4 2d ae ec ca 1c 54 98
                     e1 f0 63 a9 c6 c5 f5 94 e3 85 9f 56 8a 0b c5 ee
                     9e e4 9d b2 3a 09 99 f0 ae de)");
}

TEST_CASE("record protection reproduces RFC 8448 server NewSessionTicket and application data records") {
    // Under the server application key: NewSessionTicket at 0, application data at 1, alert at 2.
    RecordProtection writer(AeadAlg::aes_128_gcm, server_application_keys());
    RecordProtection reader(AeadAlg::aes_128_gcm, server_application_keys());
    check_record(writer, reader, ContentType::handshake,
                 from_hex(R"(
                     04 00 00 c9 00 00 00 1e 93 3d 09 32 02 00 00 00
                     b2 f3 5e da e4 e6 04 04 d6 f4 0f a1 7f 00 00 00
                     00 83 93 d1 63 fb 4f 5f 10 5f e2 05 6c ae b3 2a
                     c7 00 70 70 04 59 31 02 6d b0 7d 58 dd 58 09 0d
                     62 9a f5 9e cb 7f ba 35 3d 5d 96 53 a7 08 fb cf
                     0f 51 5c 1b 82 db 6b 08 97 71 79 df c6 84 d2 2f
                     cf 7b d5 c1 22 22 ab 63 ff d9 d2 bc 46 17 6d 14
                     4a e9 8a d9 34 16 89 48 22 ac 50 64 06 5f 92 99
                     5a 6f 05 2f a3 a7 31 70 36 57 81 7e a7 a8 de 73
                     14 86 61 76 8f 7f 62 09 8f b4 5c 0a 9d de 04 a9
                     cf 1a a4 20 6f 13 dd 05 5d f3 ed 5f a6 81 bb f8
                     76 e3 62 ad 9c 0a 68 d2 b5 26 6c 79 aa 80 6c bf
                     e6 11 3b 00 08 00 2a 00 04 00 00 04 00)"),
                 R"(
                     17 03 03 00 de c0 47 d7 b2 5e bb c3 16 eb ee f6
                     64 85 64 9f 1a 3a 6c 19 18 b0 35 c1 83 eb de 6b
                     d3 0c 2b 97 f4 93 5e 32 97 14 bb 08 af 9c 6d 96
                     da 3c 60 44 43 c0 db be ab 8b ee cd 90 af 0c 3d
                     bc 53 ea 1c 49 de eb 68 8f 45 f0 f9 e8 cc ee c6
                     8e bb ad d3 a4 42 59 38 ac d9 9d ca 9e ad 9b 6f
                     6a 29 7a 9a a0 d9 ab 91 07 45 f6 73 25 27 81 7f
                     d4 13 4a c5 e9 9c d6 25 5e 23 88 c8 9f 83 64 6e
                     0e 5f be 40 44 aa 5a 55 a3 53 0c a9 8f f5 6e b6
                     b1 dc 68 5e 56 60 a7 5a 82 2e fa e5 33 da ed 34
                     74 56 08 aa 98 29 ba 84 de 3e 7c 4a cf c8 09 4e
                     39 d2 af 81 74 21 e5 5c 3a a5 d0 e1 de 43 c4 08
                     ba c9 32 25 99 ef 4e 57 df d0 8a 7a f0 d1 18 6c
                     96 e6 ac 29 9b d0 7f 5e e5 b0 56 83 19 64 cb 80
                     76 8c e5)");
    check_record(writer, reader, ContentType::application_data, rfc8448_application_data(),
                 R"(
                     17 03 03 00 43 cc 8a 45 07 8c 6c 81 b7 46 1f f5
                     62 4f 63 12 aa 44 c3 c1 01 eb 70 0e 62 48 04 2f
                     40 ba ca 0d 98 8f ef d1 1e 94 5d 27 c7 c3 64 b5
                     06 85 80 57 19 08 64 6e 59 a8 5e 12 69 0d f1 43
                     67 10 95 b3 c9 3d 70 5c)");
    check_record(writer, reader, ContentType::alert, from_hex("01 00"),
                 R"(
                     17 03 03 00 13 48 7b 8f bb f3 0c 49 dd 48 17 e3
                     94 fa 6c 6f 95 81 68 46)");
    CHECK(writer.sequence_number() == 3);
    CHECK(reader.sequence_number() == 3);
}

TEST_CASE("record protection reproduces RFC 8448 client application data and alert records") {
    RecordProtection writer(AeadAlg::aes_128_gcm, client_application_keys());
    RecordProtection reader(AeadAlg::aes_128_gcm, client_application_keys());
    check_record(writer, reader, ContentType::application_data, rfc8448_application_data(),
                 R"(
                     17 03 03 00 43 6f 75 48 3d 5a f7 4e 84 19 fa df
                     d2 14 04 a9 b5 eb a3 6b 51 70 c5 04 36 6f 2d a8
                     dd c2 bd 7b fc af 3c be e3 3d 8c 01 72 f0 f8 48
                     5a 1f a5 2d 13 64 25 7c f5 c5 09 ea f3 5c 39 18
                     9b 52 78 b5 86 1b 01 9f)");
    check_record(writer, reader, ContentType::alert, from_hex("01 00"),
                 R"(
                     17 03 03 00 13 91 e4 3d 71 d6 25 14 9c 7e 22 1c
                     a9 54 b6 a8 95 8f 12 c0)");
}

TEST_CASE("record protection reproduces RFC 8448 0-RTT application data record") {
    const TrafficKeys early{secret("a9 d6 c9 1b 8a db 61 22 68 f7 72 4f 0b 6c dc 75"),
                            secret("8d 52 15 6f b7 db 01 cb 29 0b de f1")};
    RecordProtection writer(AeadAlg::aes_128_gcm, early);
    RecordProtection reader(AeadAlg::aes_128_gcm, early);
    check_record(writer, reader, ContentType::application_data, to_bytes("ABCDEF"),
                 R"(
                     17 03 03 00 17 9c d0 e4 cd 0e 38 9d 95 40 94 f3
                     40 60 52 ea a7 d5 62 de 9d 7e 95 3f)");
}

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

TEST_CASE("record protection rejects a record longer than 2^14 + 256 with record_overflow") {
    RecordProtection reader(AeadAlg::aes_128_gcm, random_keys(AeadAlg::aes_128_gcm));
    const Bytes too_long(max_ciphertext_length + 1, 0);
    CHECK(alert_from([&] { reader.open(from_hex("17 03 03 41 01"), too_long); }) == "record_overflow");
}

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

TEST_CASE("decode_inner_plaintext of all zeros or nothing is unexpected_message") {
    CHECK(alert_from([] { decode_inner_plaintext(from_hex("00 00 00")); }) == "unexpected_message");
    CHECK(alert_from([] { decode_inner_plaintext(Bytes{}); }) == "unexpected_message");
}
