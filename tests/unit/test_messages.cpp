// tests/unit/test_messages.cpp — chapter 03 onwards. RFC 8446 §4 handshake messages
// (common/messages.*) and §5.1 reassembly (common/handshake_reader.*), checked against the
// example handshakes of RFC 8448.
#include "alert.hpp"
#include "handshake_reader.hpp"
#include "messages.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace tls;
using tlstest::alert_of;

namespace {

// Whole handshake messages (header and body) copied from RFC 8448.
namespace rfc8448 {

// RFC 8448 §3: {client} construct a ClientHello.
const char* const client_hello =
    "010000c003036660261ff947cea49cce6cfad687f457cf1b14531ba14131a0e8"
    "f309a1d0b9c4000006130113031302010000910000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d00204cfdfcd178b784bf328cae793b136f2aedce00"
    "5ff183d7bb1495207236647037002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001";

// RFC 8448 §3: {server} construct a ServerHello.
const char* const server_hello =
    "0200005603031274991495cf425857262dde2299342c315afba9b64a87d55251"
    "5614e01b045d00130100002e00330024001d0020c7bb6bdfc26350b929a08a41"
    "a76ddac210b096868d960c4845987dc3a7fa650a002b00020304";

// RFC 8448 §3: {server} construct a EncryptedExtensions.
const char* const encrypted_extensions =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "0002400100000000";

// RFC 8448 §3: {server} construct a Certificate.
const char* const certificate =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
    "864886f70d01010b0500300e310c300a06035504031303727361301e170d3136"
    "303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d00"
    "30818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
    "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
    "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a"
    "8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
    "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
    "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0"
    "a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000";

// RFC 8448 §3: {server} construct a CertificateVerify.
const char* const certificate_verify =
    "0f00008408040080ace0af8e87d7c63cc9dbe7dcc12ff83bd55df0ccda9bf4e5"
    "a0f70100d9bc4d25aa684fd9d347642c942222526e163e3b0fba312b10e9b67e"
    "b0ac9c2be5fef490f81d7827e3bc12fa027ab439e71cc8459c14b94a8f3506ec"
    "44547d6c23e19cc7f9d5e0d1f595108fc240f5b0842c485a321487c4950377a5"
    "2e917294715567cd";

// RFC 8448 §3: {server} construct a Finished.
const char* const server_finished =
    "140000204c92b1b256d861a1830167827d3e288d1a76f03484e9ec886d4ff661"
    "49cbec2f";

// RFC 8448 §3: {server} construct a NewSessionTicket.
const char* const new_session_ticket =
    "040000c90000001e933d093202000000b2f35edae4e60404d6f40fa17f000000"
    "008393d163fb4f5f105fe2056caeb32ac7007070045931026db07d58dd58090d"
    "629af59ecb7fba353d5d9653a708fbcf0f515c1b82db6b08977179dfc684d22f"
    "cf7bd5c12222ab63ffd9d2bc46176d144ae98ad93416894822ac5064065f9299"
    "5a6f052fa3a731703657817ea7a8de73148661768f7f62098fb45c0a9dde04a9"
    "cf1aa4206f13dd055df3ed5fa681bbf876e362ad9c0a68d2b5266c79aa806cbf"
    "e6113b0008002a000400000400";

// RFC 8448 §4: {client} send handshake record (payload): a resumption ClientHello with 0-RTT.
const char* const client_hello_psk =
    "010001fc0303750e184c0c28d365ffab68b74cb202fdb495ad19f527c6e6cebe"
    "c35b443b9b35000006130113031302010001cd0000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "3300260024001d00205839e32b2b0e47211ff3098d998ed0379a07b299b84658"
    "5b7fab62c61357d174002a0000002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "0002400100150057000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "2900dd00b800b2f35edae4e60404d6f40fa17f000000008393d163fb4f5f105f"
    "e2056caeb32ac7007070045931026db07d58dd58090d629af59ecb7fba353d5d"
    "9653a708fbcf0f515c1b82db6b08977179dfc684d22fcf7bd5c12222ab63ffd9"
    "d2bc46176d144ae98ad93416894822ac5064065f92995a6f052fa3a731703657"
    "817ea7a8de73148661768f7f62098fb45c0a9dde04a9cf1aa4206f13dd055df3"
    "ed5fa681bbf876e362ad9c0a68d2b5266c79aa806cbfe6113b933d0937002120"
    "718cd8f22e8ed71d1a23f7c88f63d45487afe58157cbc57e66bd1323e41a8cd8";

// RFC 8448 §4: {client} construct a ClientHello: the same hello without its binders,
// Truncated(ClientHello) of RFC 8446 §4.2.11.2.
const char* const client_hello_psk_truncated =
    "010001fc0303750e184c0c28d365ffab68b74cb202fdb495ad19f527c6e6cebe"
    "c35b443b9b35000006130113031302010001cd0000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "3300260024001d00205839e32b2b0e47211ff3098d998ed0379a07b299b84658"
    "5b7fab62c61357d174002a0000002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "0002400100150057000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "2900dd00b800b2f35edae4e60404d6f40fa17f000000008393d163fb4f5f105f"
    "e2056caeb32ac7007070045931026db07d58dd58090d629af59ecb7fba353d5d"
    "9653a708fbcf0f515c1b82db6b08977179dfc684d22fcf7bd5c12222ab63ffd9"
    "d2bc46176d144ae98ad93416894822ac5064065f92995a6f052fa3a731703657"
    "817ea7a8de73148661768f7f62098fb45c0a9dde04a9cf1aa4206f13dd055df3"
    "ed5fa681bbf876e362ad9c0a68d2b5266c79aa806cbfe6113b933d0937";

// RFC 8448 §5: {server} construct a ServerHello (HelloRetryRequest).
const char* const hello_retry_request =
    "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e"
    "09e2c8a8339c001301000084003300020017002c00740072c8a457e4f6d9b8f4"
    "85a6fbb2000000000944e8ada9c6414d2412d66659d64678003023f9de457f1f"
    "09e31dd322cfe0dc9147b7dc3ec0c577b010a0b0a8f28784226e0f061797aa37"
    "e95da2c006d12af13e0745b0d04918d14d429a0d50808857736687baff6d07c4"
    "682a007c62c3cb4afcb3002b00020304";

// RFC 8448 §6: {server} construct a CertificateRequest.
const char* const certificate_request =
    "0d000027000024000d0020001e04030503060302030804080508060401050106"
    "0102010402050206020202";

}  // namespace rfc8448

// The body of a whole RFC 8448 message, after checking its 4-byte header.
Bytes body_of(const char* hex, HandshakeType expected) {
    auto h = Handshake::decode(from_hex(hex));
    REQUIRE(h.msg_type == expected);
    return h.body;
}

Bytes with_byte_at(Bytes b, std::size_t at, std::uint8_t value) {
    b.at(at) = value;
    return b;
}

const Field* field(const Fields& fields, const std::string& name) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; });
    return it == fields.end() ? nullptr : &*it;
}

// A ClientHello built the way a chapter client builds one.
ClientHello built_client_hello() {
    ClientHello ch;
    ch.random.fill(0x11);
    ch.legacy_session_id = Bytes(32, 0x22);
    ch.cipher_suites = {CipherSuite::TLS_AES_128_GCM_SHA256, CipherSuite::TLS_CHACHA20_POLY1305_SHA256};
    ch.extensions = {
        make_server_name("localhost"),
        make_supported_groups({NamedGroup::x25519, NamedGroup::secp256r1}),
        make_signature_algorithms({SignatureScheme::ed25519, SignatureScheme::rsa_pss_rsae_sha256}),
        make_supported_versions_client({TLS1_3}),
        make_key_share_client({{NamedGroup::x25519, Bytes(32, 0x33)}}),
        make_psk_key_exchange_modes({PskKeyExchangeMode::psk_dhe_ke}),
        make_alpn({"h2", "http/1.1"}),
        make_cookie(from_hex("c0ffee")),
        Extension{static_cast<ExtensionType>(0x1234), from_hex("abcd")},
    };
    return ch;
}

}  // namespace

// ---- RFC 8448 messages decode to the RFC's fields and re-encode byte for byte --------------

TEST_CASE("RFC 8448 ClientHello decodes to its fields and re-encodes identically") {
    auto body = body_of(rfc8448::client_hello, HandshakeType::client_hello);
    auto ch = ClientHello::decode(body);
    CHECK(ch.legacy_version == 0x0303);
    CHECK(to_hex(ch.random) == "6660261ff947cea49cce6cfad687f457cf1b14531ba14131a0e8f309a1d0b9c4");
    CHECK(ch.legacy_session_id.empty());
    CHECK(ch.cipher_suites == std::vector{CipherSuite::TLS_AES_128_GCM_SHA256, CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
                                          CipherSuite::TLS_AES_256_GCM_SHA384});
    CHECK(ch.legacy_compression_methods == Bytes{0});

    // Extensions keep their wire order, unknown ones (record_size_limit, 0x001c) included.
    std::vector<std::uint16_t> types;
    for (const auto& e : ch.extensions) types.push_back(static_cast<std::uint16_t>(e.extension_type));
    CHECK(types == std::vector<std::uint16_t>{0x0000, 0xff01, 0x000a, 0x0023, 0x0033, 0x002b, 0x000d, 0x002d, 0x001c});

    CHECK(ch.server_name() == std::vector<std::string>{"server"});
    CHECK(ch.supported_groups() ==
          std::vector{NamedGroup::x25519, NamedGroup::secp256r1, NamedGroup::secp384r1, NamedGroup::secp521r1,
                      NamedGroup::ffdhe2048, NamedGroup::ffdhe3072, NamedGroup::ffdhe4096, NamedGroup::ffdhe6144,
                      NamedGroup::ffdhe8192});
    auto shares = ch.key_share();
    REQUIRE(shares);
    REQUIRE(shares->size() == 1);
    CHECK((*shares)[0].group == NamedGroup::x25519);
    CHECK(to_hex((*shares)[0].key_exchange) == "4cfdfcd178b784bf328cae793b136f2aedce005ff183d7bb1495207236647037");
    CHECK(ch.supported_versions() == std::vector<std::uint16_t>{0x0304});
    auto schemes = ch.signature_algorithms();
    REQUIRE(schemes);
    CHECK(schemes->size() == 15);
    CHECK(schemes->front() == SignatureScheme::ecdsa_secp256r1_sha256);
    CHECK(schemes->back() == static_cast<SignatureScheme>(0x0202));  // dsa_sha1_RESERVED, kept as sent
    CHECK(ch.psk_key_exchange_modes() == std::vector{PskKeyExchangeMode::psk_dhe_ke});
    CHECK_FALSE(ch.alpn());
    CHECK_FALSE(ch.pre_shared_key());
    CHECK(ch.has_extension(ExtensionType::session_ticket));
    CHECK_NOTHROW(check_key_shares_match_supported_groups(ch));

    CHECK(ch.encode() == body);
    CHECK(encode_handshake(ch) == from_hex(rfc8448::client_hello));
}

TEST_CASE("RFC 8448 ServerHello decodes to its fields and re-encodes identically") {
    auto body = body_of(rfc8448::server_hello, HandshakeType::server_hello);
    auto sh = ServerHello::decode(body);
    CHECK(sh.legacy_version == 0x0303);
    CHECK(to_hex(sh.random) == "1274991495cf425857262dde2299342c315afba9b64a87d552515614e01b045d");
    CHECK(sh.legacy_session_id_echo.empty());
    CHECK(sh.cipher_suite == CipherSuite::TLS_AES_128_GCM_SHA256);
    CHECK(sh.legacy_compression_method == 0);
    CHECK_FALSE(sh.is_hello_retry_request());
    CHECK(sh.selected_version() == std::uint16_t{0x0304});
    auto share = sh.key_share();
    REQUIRE(share);
    CHECK(share->group == NamedGroup::x25519);
    CHECK(to_hex(share->key_exchange) == "c7bb6bdfc26350b929a08a41a76ddac210b096868d960c4845987dc3a7fa650a");
    CHECK_FALSE(sh.hrr_selected_group());
    CHECK_FALSE(sh.pre_shared_key());
    CHECK(encode_handshake(sh) == from_hex(rfc8448::server_hello));
}

TEST_CASE("RFC 8448 HelloRetryRequest is recognised by its random and carries a group and a cookie") {
    auto body = body_of(rfc8448::hello_retry_request, HandshakeType::server_hello);
    auto hrr = ServerHello::decode(body);
    CHECK(hrr.is_hello_retry_request());
    CHECK(hrr.hrr_selected_group() == NamedGroup::secp256r1);
    CHECK_FALSE(hrr.key_share());
    CHECK(hrr.selected_version() == std::uint16_t{0x0304});
    auto cookie = hrr.cookie();
    REQUIRE(cookie);
    CHECK(cookie->size() == 114);
    CHECK(hrr.encode() == body);
}

TEST_CASE("RFC 8448 EncryptedExtensions decodes and re-encodes identically") {
    auto body = body_of(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto ee = EncryptedExtensions::decode(body);
    REQUIRE(ee.extensions.size() == 3);
    CHECK(ee.supported_groups()->size() == 9);
    CHECK(ee.extensions[1].extension_type == static_cast<ExtensionType>(0x001c));  // record_size_limit
    CHECK(ee.has_extension(ExtensionType::server_name));  // the empty acknowledgement
    CHECK(ee.encode() == body);
}

TEST_CASE("RFC 8448 server Certificate decodes and re-encodes identically") {
    auto body = body_of(rfc8448::certificate, HandshakeType::certificate);
    auto c = Certificate::decode(body);
    CHECK(c.certificate_request_context.empty());
    REQUIRE(c.certificate_list.size() == 1);
    CHECK(c.certificate_list[0].cert_data.size() == 432);
    CHECK(to_hex(BytesView(c.certificate_list[0].cert_data).first(4)) == "308201ac");  // a DER SEQUENCE
    CHECK(c.certificate_list[0].extensions.empty());
    CHECK(c.encode() == body);
}

TEST_CASE("RFC 8448 CertificateVerify decodes and re-encodes identically") {
    auto body = body_of(rfc8448::certificate_verify, HandshakeType::certificate_verify);
    auto cv = CertificateVerify::decode(body);
    CHECK(cv.algorithm == SignatureScheme::rsa_pss_rsae_sha256);
    CHECK(cv.signature.size() == 128);
    CHECK(cv.encode() == body);
}

TEST_CASE("RFC 8448 Finished decodes with the SHA-256 length and re-encodes identically") {
    auto body = body_of(rfc8448::server_finished, HandshakeType::finished);
    auto fin = Finished::decode(body, 32);
    CHECK(to_hex(fin.verify_data) == "4c92b1b256d861a1830167827d3e288d1a76f03484e9ec886d4ff66149cbec2f");
    CHECK(fin.encode() == body);
}

TEST_CASE("RFC 8448 NewSessionTicket decodes and re-encodes identically") {
    auto body = body_of(rfc8448::new_session_ticket, HandshakeType::new_session_ticket);
    auto t = NewSessionTicket::decode(body);
    CHECK(t.ticket_lifetime == 30);
    CHECK(t.ticket_age_add == 0x933d0932);
    CHECK(t.ticket_nonce == Bytes{0, 0});
    CHECK(t.ticket.size() == 178);
    CHECK(t.max_early_data_size() == std::uint32_t{1024});
    CHECK(t.encode() == body);
}

TEST_CASE("RFC 8448 CertificateRequest decodes and re-encodes identically") {
    auto body = body_of(rfc8448::certificate_request, HandshakeType::certificate_request);
    auto cr = CertificateRequest::decode(body);
    CHECK(cr.certificate_request_context.empty());
    CHECK(cr.signature_algorithms()->size() == 15);
    CHECK(cr.encode() == body);
}

TEST_CASE("RFC 8448 resumption ClientHello carries a pre_shared_key last and re-encodes identically") {
    auto body = body_of(rfc8448::client_hello_psk, HandshakeType::client_hello);
    auto ch = ClientHello::decode(body);
    CHECK(ch.extensions.back().extension_type == ExtensionType::pre_shared_key);
    CHECK(ch.has_extension(ExtensionType::early_data));
    CHECK(ch.has_extension(ExtensionType::padding));
    auto psks = ch.pre_shared_key();
    REQUIRE(psks);
    REQUIRE(psks->identities.size() == 1);
    CHECK(psks->identities[0].identity.size() == 178);  // the ticket of the NewSessionTicket above
    CHECK(psks->identities[0].obfuscated_ticket_age == 0x933d0937);  // ticket_age_add + 5 ms
    REQUIRE(psks->binders.size() == 1);
    CHECK(to_hex(psks->binders[0]) == "718cd8f22e8ed71d1a23f7c88f63d45487afe58157cbc57e66bd1323e41a8cd8");
    CHECK(ch.encode() == body);
}

TEST_CASE("truncated_client_hello cuts the binders off the RFC 8448 resumption ClientHello") {
    CHECK(truncated_client_hello(from_hex(rfc8448::client_hello_psk)) == from_hex(rfc8448::client_hello_psk_truncated));
    CHECK(alert_of([] { truncated_client_hello(from_hex(rfc8448::client_hello)); }) == AlertDescription::internal_error);
}

// ---- built messages round-trip -----------------------------------------------------------

TEST_CASE("a ClientHello built with the make_ helpers round-trips and reads back through its accessors") {
    auto ch = built_client_hello();
    auto decoded = ClientHello::decode(ch.encode());
    CHECK(decoded == ch);
    CHECK(decoded.server_name() == std::vector<std::string>{"localhost"});
    CHECK(decoded.supported_groups() == std::vector{NamedGroup::x25519, NamedGroup::secp256r1});
    CHECK(decoded.signature_algorithms() ==
          std::vector{SignatureScheme::ed25519, SignatureScheme::rsa_pss_rsae_sha256});
    CHECK(decoded.supported_versions() == std::vector<std::uint16_t>{TLS1_3});
    CHECK(decoded.key_share() == std::vector<KeyShareEntry>{{NamedGroup::x25519, Bytes(32, 0x33)}});
    CHECK(decoded.psk_key_exchange_modes() == std::vector{PskKeyExchangeMode::psk_dhe_ke});
    CHECK(decoded.alpn() == std::vector<std::string>{"h2", "http/1.1"});
    CHECK(decoded.cookie() == from_hex("c0ffee"));
    CHECK_FALSE(decoded.signature_algorithms_cert());
    CHECK_FALSE(decoded.pre_shared_key());

    OfferedPsks psks{{{to_bytes("ticket"), 1234}}, {Bytes(32, 0x99)}};
    ch.extensions.push_back(make_pre_shared_key_client(psks));  // last, as §4.2.11 requires
    CHECK(ClientHello::decode(ch.encode()).pre_shared_key() == psks);
}

TEST_CASE("a ServerHello and a HelloRetryRequest built with the make_ helpers round-trip") {
    ServerHello sh;
    sh.random.fill(0x44);
    sh.legacy_session_id_echo = Bytes(32, 0x22);
    sh.cipher_suite = CipherSuite::TLS_AES_256_GCM_SHA384;
    sh.extensions = {make_supported_versions_server(TLS1_3),
                     make_key_share_server({NamedGroup::x25519, Bytes(32, 0x55)}), make_pre_shared_key_server(0)};
    auto decoded = ServerHello::decode(sh.encode());
    CHECK(decoded == sh);
    CHECK(decoded.selected_version() == TLS1_3);
    CHECK(decoded.key_share() == KeyShareEntry{NamedGroup::x25519, Bytes(32, 0x55)});
    CHECK(decoded.pre_shared_key() == std::uint16_t{0});

    ServerHello hrr;
    hrr.random = hello_retry_request_random;
    hrr.cipher_suite = CipherSuite::TLS_AES_128_GCM_SHA256;
    hrr.extensions = {make_supported_versions_server(TLS1_3), make_key_share_hrr(NamedGroup::secp256r1),
                      make_cookie(from_hex("0102"))};
    auto decoded_hrr = ServerHello::decode(hrr.encode());
    CHECK(decoded_hrr == hrr);
    CHECK(decoded_hrr.hrr_selected_group() == NamedGroup::secp256r1);
    CHECK(decoded_hrr.cookie() == from_hex("0102"));
}

TEST_CASE("EncryptedExtensions CertificateRequest and Certificate round-trip") {
    EncryptedExtensions ee;
    ee.extensions = {Extension{ExtensionType::server_name, {}}, make_alpn({"h2"}), make_early_data()};
    auto ee2 = EncryptedExtensions::decode(ee.encode());
    CHECK(ee2 == ee);
    CHECK(ee2.alpn() == std::vector<std::string>{"h2"});
    CHECK(EncryptedExtensions::decode(EncryptedExtensions{}.encode()).extensions.empty());

    CertificateRequest cr;
    cr.certificate_request_context = from_hex("abcd");
    cr.extensions = {make_signature_algorithms({SignatureScheme::ecdsa_secp256r1_sha256})};
    CHECK(CertificateRequest::decode(cr.encode()) == cr);

    Certificate c;
    c.certificate_request_context = from_hex("abcd");
    c.certificate_list = {{from_hex("3003020101"), {Extension{ExtensionType::status_request, from_hex("01")}}},
                          {from_hex("3000"), {}}};
    CHECK(Certificate::decode(c.encode()) == c);
}

TEST_CASE("a client Certificate with an empty certificate_list decodes") {
    Certificate empty;
    CHECK(to_hex(empty.encode()) == "00000000");
    CHECK(Certificate::decode(from_hex("00000000")).certificate_list.empty());
}

TEST_CASE("CertificateVerify Finished NewSessionTicket KeyUpdate and EndOfEarlyData round-trip") {
    CertificateVerify cv{SignatureScheme::ed25519, Bytes(64, 0x66)};
    CHECK(CertificateVerify::decode(cv.encode()) == cv);

    Finished fin{Bytes(48, 0x77)};
    CHECK(Finished::decode(fin.encode(), 48) == fin);

    NewSessionTicket t;
    t.ticket_lifetime = 7200;
    t.ticket_age_add = 0xdeadbeef;
    t.ticket_nonce = from_hex("00");
    t.ticket = Bytes(40, 0x88);
    t.extensions = {make_early_data(16384)};
    auto t2 = NewSessionTicket::decode(t.encode());
    CHECK(t2 == t);
    CHECK(t2.max_early_data_size() == std::uint32_t{16384});

    for (auto request : {KeyUpdateRequest::update_not_requested, KeyUpdateRequest::update_requested}) {
        KeyUpdate ku{request};
        CHECK(KeyUpdate::decode(ku.encode()) == ku);
    }

    CHECK(EndOfEarlyData::decode(EndOfEarlyData{}.encode()) == EndOfEarlyData{});
}

TEST_CASE("Handshake framing puts the type and a 24-bit length before the body") {
    auto whole = encode_handshake(HandshakeType::finished, from_hex("aabbcc"));
    CHECK(to_hex(whole) == "14000003aabbcc");
    auto h = Handshake::decode(whole);
    CHECK(h.msg_type == HandshakeType::finished);
    CHECK(h.body == from_hex("aabbcc"));
    CHECK(h.encode() == whole);
    CHECK(encode_handshake(KeyUpdate{KeyUpdateRequest::update_requested}) == from_hex("1800000101"));
}

TEST_CASE("certificate_verify_content is 64 spaces then the context string then 0 then the hash") {
    Bytes hash(32, 0xab);
    auto server = certificate_verify_content(true, hash);
    REQUIRE(server.size() == 64 + 33 + 1 + 32);
    CHECK(std::all_of(server.begin(), server.begin() + 64, [](std::uint8_t b) { return b == 0x20; }));
    CHECK(to_string(BytesView(server).subspan(64, 33)) == "TLS 1.3, server CertificateVerify");
    CHECK(server[97] == 0);
    CHECK(std::equal(hash.begin(), hash.end(), server.begin() + 98));
    auto client = certificate_verify_content(false, hash);
    CHECK(to_string(BytesView(client).subspan(64, 33)) == "TLS 1.3, client CertificateVerify");
}

TEST_CASE("the HelloRetryRequest random and the downgrade sentinels hold the RFC values") {
    CHECK(to_hex(hello_retry_request_random) == "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
    CHECK(to_string(downgrade_tls12) == std::string("DOWNGRD\x01", 8));
    CHECK(to_string(downgrade_tls11) == std::string("DOWNGRD\x00", 8));
}

// ---- malformed input gets its alert ------------------------------------------------------

TEST_CASE("ClientHello decoder rejects every truncation with decode_error") {
    auto body = body_of(rfc8448::client_hello, HandshakeType::client_hello);
    // 2 + 32 + 1 + 8 + 2 bytes end right after legacy_compression_methods: that is a
    // pre-TLS-1.3 ClientHello without extensions, which must parse (§4.1.2).
    const std::size_t before_extensions = 2 + 32 + 1 + 8 + 2;
    CHECK(ClientHello::decode(BytesView(body).first(before_extensions)).extensions.empty());
    for (std::size_t n = 0; n < body.size(); ++n) {
        if (n == before_extensions) continue;
        CAPTURE(n);
        CHECK(alert_of([&] { ClientHello::decode(BytesView(body).first(n)); }) == AlertDescription::decode_error);
    }
}

TEST_CASE("every decoder rejects a truncated RFC 8448 message with decode_error") {
    auto ee = body_of(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto cert = body_of(rfc8448::certificate, HandshakeType::certificate);
    auto cv = body_of(rfc8448::certificate_verify, HandshakeType::certificate_verify);
    auto nst = body_of(rfc8448::new_session_ticket, HandshakeType::new_session_ticket);
    auto cr = body_of(rfc8448::certificate_request, HandshakeType::certificate_request);
    auto sh = body_of(rfc8448::server_hello, HandshakeType::server_hello);
    auto cut = [](const Bytes& b) { return BytesView(b).first(b.size() - 1); };
    CHECK(alert_of([&] { EncryptedExtensions::decode(cut(ee)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { Certificate::decode(cut(cert)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { CertificateVerify::decode(cut(cv)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { NewSessionTicket::decode(cut(nst)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { CertificateRequest::decode(cut(cr)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { ServerHello::decode(cut(sh)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { ServerHello::decode(BytesView(sh).first(20)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { KeyUpdate::decode({}); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { Handshake::decode(from_hex("14000003aabb")); }) == AlertDescription::decode_error);
}

TEST_CASE("decoders reject a vector whose length disagrees with its contents") {
    auto ch = body_of(rfc8448::client_hello, HandshakeType::client_hello);
    // cipher_suites says 8 bytes where 6 follow: the rest of the hello no longer lines up.
    CHECK(ch[36] == 0x06);
    CHECK(alert_of([&] { ClientHello::decode(with_byte_at(ch, 36, 0x08)); }) == AlertDescription::decode_error);
    // named_group_list inside supported_groups says 0x14 where 0x12 bytes follow.
    auto ee = body_of(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions);
    CHECK(ee[7] == 0x12);
    CHECK(alert_of([&] { EncryptedExtensions::decode(with_byte_at(ee, 7, 0x14)); }) == AlertDescription::decode_error);
    // ... or 0x10, leaving two bytes inside the extension unread.
    CHECK(alert_of([&] { EncryptedExtensions::decode(with_byte_at(ee, 7, 0x10)); }) == AlertDescription::decode_error);
    // The certificate_list length one short of its entry.
    auto cert = body_of(rfc8448::certificate, HandshakeType::certificate);
    CHECK(alert_of([&] { Certificate::decode(with_byte_at(cert, 3, 0xb4)); }) == AlertDescription::decode_error);
}

TEST_CASE("decoders reject trailing bytes with decode_error") {
    auto with_extra = [](Bytes b) {
        b.push_back(0);
        return b;
    };
    auto ch = body_of(rfc8448::client_hello, HandshakeType::client_hello);
    auto sh = body_of(rfc8448::server_hello, HandshakeType::server_hello);
    auto ee = body_of(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto cert = body_of(rfc8448::certificate, HandshakeType::certificate);
    auto cv = body_of(rfc8448::certificate_verify, HandshakeType::certificate_verify);
    auto nst = body_of(rfc8448::new_session_ticket, HandshakeType::new_session_ticket);
    CHECK(alert_of([&] { ClientHello::decode(with_extra(ch)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { ServerHello::decode(with_extra(sh)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { EncryptedExtensions::decode(with_extra(ee)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { Certificate::decode(with_extra(cert)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { CertificateVerify::decode(with_extra(cv)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { NewSessionTicket::decode(with_extra(nst)); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { KeyUpdate::decode(from_hex("0100")); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { EndOfEarlyData::decode(from_hex("00")); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { Handshake::decode(from_hex("1400000100ff")); }) == AlertDescription::decode_error);
}

TEST_CASE("ClientHello decoder rejects empty cipher_suites with decode_error") {
    auto ch = built_client_hello();
    ch.cipher_suites.clear();
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::decode_error);
}

TEST_CASE("ClientHello decoder rejects an odd-length cipher_suites and a session id over 32 bytes") {
    auto body = body_of(rfc8448::client_hello, HandshakeType::client_hello);
    // cipher_suites of 5 bytes: "1301 1303 13", then 02 is read as the compression length.
    CHECK(alert_of([&] { ClientHello::decode(with_byte_at(body, 36, 0x05)); }) == AlertDescription::decode_error);
    auto ch = built_client_hello();
    ch.legacy_session_id = Bytes(33, 0);
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::decode_error);
    ch.legacy_session_id.clear();
    ch.legacy_compression_methods.clear();  // <1..2^8-1>
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::decode_error);
}

TEST_CASE("ClientHello decoder rejects a duplicated extension with illegal_parameter") {
    auto ch = built_client_hello();
    ch.extensions.push_back(make_supported_groups({NamedGroup::x448}));
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::illegal_parameter);
    // Unknown extensions may not repeat either.
    auto ch2 = built_client_hello();
    ch2.extensions.push_back(ch2.extensions.back());
    CHECK(alert_of([&] { ClientHello::decode(ch2.encode()); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("EncryptedExtensions decoder rejects a duplicated extension with illegal_parameter") {
    EncryptedExtensions ee;
    ee.extensions = {make_alpn({"h2"}), make_alpn({"h2"})};
    CHECK(alert_of([&] { EncryptedExtensions::decode(ee.encode()); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("decoders reject an extension the RFC does not allow in that message with illegal_parameter") {
    EncryptedExtensions ee;
    ee.extensions = {make_key_share_server({NamedGroup::x25519, Bytes(32, 1)})};
    CHECK(alert_of([&] { EncryptedExtensions::decode(ee.encode()); }) == AlertDescription::illegal_parameter);
    ServerHello sh;
    sh.extensions = {make_supported_versions_server(TLS1_3), make_cookie(from_hex("01"))};  // cookie: HRR only
    CHECK(alert_of([&] { ServerHello::decode(sh.encode()); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("ClientHello decoder rejects a pre_shared_key that is not last with illegal_parameter") {
    auto ch = ClientHello::decode(body_of(rfc8448::client_hello_psk, HandshakeType::client_hello));
    std::swap(ch.extensions[ch.extensions.size() - 1], ch.extensions[ch.extensions.size() - 2]);
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("ClientHello decoder rejects two key shares for one group with illegal_parameter") {
    auto ch = built_client_hello();
    ch.extensions[4] = make_key_share_client({{NamedGroup::x25519, Bytes(32, 1)}, {NamedGroup::x25519, Bytes(32, 2)}});
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("ClientHello decoder rejects malformed known extension bodies with decode_error") {
    // The built hello with one extension body replaced (or added): the alert it then gets.
    auto alert_with = [](Extension e) {
        auto ch = built_client_hello();
        auto it = std::find_if(ch.extensions.begin(), ch.extensions.end(),
                               [&](const Extension& x) { return x.extension_type == e.extension_type; });
        if (it != ch.extensions.end()) *it = e;
        else ch.extensions.push_back(e);
        return alert_of([&] { ClientHello::decode(ch.encode()); });
    };
    using T = ExtensionType;
    const auto decode_error = AlertDescription::decode_error;
    CHECK(alert_with({T::supported_versions, from_hex("03030403")}) == decode_error);  // odd list length
    CHECK(alert_with({T::supported_versions, from_hex("00")}) == decode_error);        // below <2..254>
    CHECK(alert_with({T::signature_algorithms, from_hex("0000")}) == decode_error);    // below <2..2^16-2>
    CHECK(alert_with({T::supported_groups, from_hex("0002001d00")}) == decode_error);  // trailing byte
    CHECK(alert_with({T::psk_key_exchange_modes, from_hex("0101ff")}) == decode_error);
    CHECK(alert_with({T::early_data, from_hex("00")}) == decode_error);  // Empty in a ClientHello
    CHECK(alert_with({T::key_share, from_hex("0004001d0000")}) == decode_error);  // empty key_exchange
    CHECK(alert_with({T::key_share, from_hex("0006001d000101")}) == decode_error);  // list length 6, 5 follow
    CHECK(alert_with({T::server_name, from_hex("0006010003616263")}) == decode_error);  // NameType 1
    CHECK(alert_with({T::application_layer_protocol_negotiation, from_hex("000100")}) == decode_error);
    CHECK(alert_with({T::cookie, from_hex("0000")}) == decode_error);
    CHECK(alert_with({T::pre_shared_key, from_hex("0000")}) == decode_error);
}

TEST_CASE("KeyUpdate decoder rejects a request_update other than 0 or 1 with illegal_parameter") {
    CHECK(alert_of([] { KeyUpdate::decode(from_hex("02")); }) == AlertDescription::illegal_parameter);
    CHECK(alert_of([] { KeyUpdate::decode(from_hex("ff")); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("Finished decoder rejects verify_data of the wrong length with decode_error") {
    CHECK(alert_of([] { Finished::decode(Bytes(31, 0), 32); }) == AlertDescription::decode_error);
    CHECK(alert_of([] { Finished::decode(Bytes(48, 0), 32); }) == AlertDescription::decode_error);
    CHECK(alert_of([] { Finished::decode(Bytes(32, 0), 48); }) == AlertDescription::decode_error);
}

TEST_CASE("CertificateRequest decoder rejects a request without signature_algorithms with missing_extension") {
    CertificateRequest cr;
    cr.extensions = {Extension{ExtensionType::signature_algorithms_cert, from_hex("00020807")}};
    CHECK(alert_of([&] { CertificateRequest::decode(cr.encode()); }) == AlertDescription::missing_extension);
}

TEST_CASE("Certificate and NewSessionTicket decoders reject empty cert_data and an empty ticket") {
    CHECK(alert_of([] { Certificate::decode(from_hex("0000000500000000 00")); }) == AlertDescription::decode_error);
    NewSessionTicket t;
    CHECK(alert_of([&] { NewSessionTicket::decode(t.encode()); }) == AlertDescription::decode_error);
}

TEST_CASE("check_key_shares_match_supported_groups rejects a share out of order or not offered") {
    auto ch = built_client_hello();  // supported_groups: x25519 secp256r1
    ch.extensions[4] = make_key_share_client({{NamedGroup::secp256r1, Bytes(65, 4)}, {NamedGroup::x25519, Bytes(32, 1)}});
    CHECK(alert_of([&] { check_key_shares_match_supported_groups(ch); }) == AlertDescription::illegal_parameter);
    ch.extensions[4] = make_key_share_client({{NamedGroup::x448, Bytes(56, 1)}});
    CHECK(alert_of([&] { check_key_shares_match_supported_groups(ch); }) == AlertDescription::illegal_parameter);
    ch.extensions[4] = make_key_share_client({{NamedGroup::x25519, Bytes(32, 1)}, {NamedGroup::secp256r1, Bytes(65, 4)}});
    CHECK_NOTHROW(check_key_shares_match_supported_groups(ch));
}

TEST_CASE("decoders answer every one-byte corruption of the RFC 8448 messages with a message or an AlertError") {
    // A poor man's fuzzer: no input may crash a decoder, read past its buffer (run this under
    // TLS_SANITIZE) or throw anything but AlertError; describe() of what decodes never throws.
    auto survives = [](const char* hex, HandshakeType type, auto decode) {
        auto body = body_of(hex, type);
        for (std::size_t i = 0; i < body.size(); ++i) {
            for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0xff}, static_cast<std::uint8_t>(body[i] ^ 1)}) {
                try {
                    auto fields = decode(with_byte_at(body, i, v)).describe();
                    CHECK_FALSE(fields.empty());
                } catch (const AlertError&) {
                }
            }
        }
    };
    survives(rfc8448::client_hello, HandshakeType::client_hello, ClientHello::decode);
    survives(rfc8448::client_hello_psk, HandshakeType::client_hello, ClientHello::decode);
    survives(rfc8448::server_hello, HandshakeType::server_hello, ServerHello::decode);
    survives(rfc8448::hello_retry_request, HandshakeType::server_hello, ServerHello::decode);
    survives(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions, EncryptedExtensions::decode);
    survives(rfc8448::certificate, HandshakeType::certificate, Certificate::decode);
    survives(rfc8448::certificate_request, HandshakeType::certificate_request, CertificateRequest::decode);
    survives(rfc8448::certificate_verify, HandshakeType::certificate_verify, CertificateVerify::decode);
    survives(rfc8448::new_session_ticket, HandshakeType::new_session_ticket, NewSessionTicket::decode);
}

// ---- HandshakeReader (§5.1) --------------------------------------------------------------

TEST_CASE("HandshakeReader reassembles a message split across three fragments") {
    auto whole = from_hex(rfc8448::client_hello);
    BytesView v(whole);
    HandshakeReader reader;
    reader.feed(v.first(2));  // not even a whole header
    CHECK_FALSE(reader.next());
    CHECK_FALSE(reader.empty());
    reader.feed(v.subspan(2, 100));
    CHECK_FALSE(reader.next());
    reader.feed(v.subspan(102));
    auto m = reader.next();
    REQUIRE(m);
    CHECK(m->msg_type == HandshakeType::client_hello);
    CHECK(m->raw == whole);
    CHECK(m->body == Bytes(whole.begin() + 4, whole.end()));
    CHECK_FALSE(reader.next());
    CHECK(reader.empty());
}

TEST_CASE("HandshakeReader returns two messages that share one fragment") {
    auto ee = from_hex(rfc8448::encrypted_extensions);
    auto fin = from_hex(rfc8448::server_finished);
    Bytes fragment = ee;
    fragment.insert(fragment.end(), fin.begin(), fin.end());
    fragment.insert(fragment.end(), {0x18, 0x00});  // and the start of a third
    HandshakeReader reader;
    reader.feed(fragment);
    auto first = reader.next();
    auto second = reader.next();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->raw == ee);
    CHECK(second->msg_type == HandshakeType::finished);
    CHECK(second->raw == fin);
    CHECK_FALSE(reader.next());
    CHECK_FALSE(reader.empty());  // a key change now would be an unexpected_message
    reader.feed(from_hex("000101"));
    auto third = reader.next();
    REQUIRE(third);
    CHECK(KeyUpdate::decode(third->body).request_update == KeyUpdateRequest::update_requested);
    CHECK(reader.empty());
}

TEST_CASE("HandshakeReader reads a message with an empty body") {
    HandshakeReader reader;
    reader.feed(from_hex("05000000"));  // EndOfEarlyData
    auto m = reader.next();
    REQUIRE(m);
    CHECK(m->msg_type == HandshakeType::end_of_early_data);
    CHECK(m->body.empty());
    CHECK(reader.empty());
}

TEST_CASE("HandshakeReader rejects an oversize length with decode_error as soon as the header arrives") {
    HandshakeReader reader;  // Certificate: 128 KiB at most
    CHECK(alert_of([&] { reader.feed(from_hex("0b020001")); }) == AlertDescription::decode_error);
    HandshakeReader finished;  // Finished: Hash.length, 64 bytes at most
    CHECK(alert_of([&] { finished.feed(from_hex("14000041")); }) == AlertDescription::decode_error);

    HandshakeReader small(100);
    small.feed(from_hex("0b00"));
    CHECK(alert_of([&] { small.feed(from_hex("0065")); }) == AlertDescription::decode_error);

    HandshakeReader exact(100);
    exact.feed(from_hex("0b000064"));
    exact.feed(Bytes(100, 0));
    CHECK(exact.next());
}

TEST_CASE("HandshakeReader takes a ClientHello as long as the RFC's vectors allow, and not one byte more") {
    CHECK(max_client_hello_length == 131396);
    HandshakeReader reader;
    reader.feed(from_hex("01020144"));  // 131 396: the largest legal ClientHello
    reader.feed(Bytes(max_client_hello_length, 0));
    CHECK(reader.next());
    HandshakeReader too_long;
    CHECK(alert_of([&] { too_long.feed(from_hex("01020145")); }) == AlertDescription::decode_error);
}

TEST_CASE("HandshakeReader refuses a message type RFC 8446 does not define, and message_hash, at once") {
    for (auto header : {"63000001", "fe000020", "00000000"}) {
        INFO(header);
        HandshakeReader reader;
        CHECK(alert_of([&] { reader.feed(from_hex(header)); }) == AlertDescription::unexpected_message);
    }
}

TEST_CASE("HandshakeReader rejects an oversize message that follows a good one") {
    HandshakeReader reader(100);
    reader.feed(from_hex("1400000100" "0b000065"));
    CHECK(reader.next());  // the first message is still delivered
    CHECK(alert_of([&] { reader.next(); }) == AlertDescription::decode_error);
}

// ---- describe() --------------------------------------------------------------------------

TEST_CASE("ClientHello describe lists every field and every extension decoded") {
    auto ch = ClientHello::decode(body_of(rfc8448::client_hello, HandshakeType::client_hello));
    auto f = ch.describe();
    std::vector<std::string> top;
    for (const auto& x : f)
        if (x.depth == 0) top.push_back(x.name);
    CHECK(top == std::vector<std::string>{"legacy_version", "random", "legacy_session_id", "cipher_suites",
                                          "legacy_compression_methods", "extensions"});
    CHECK(field(f, "legacy_version")->value == "TLS 1.2 (0x0303)");
    CHECK(field(f, "random")->value == "66 60 26 1f f9 47 ce a4 9c ce 6c fa d6 87 f4 57 … (32 bytes)");
    CHECK(field(f, "legacy_session_id")->value == "(empty)");
    CHECK(field(f, "cipher_suites")->value ==
          "TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_256_GCM_SHA384");
    CHECK(field(f, "extensions")->value == "9 extensions");
    CHECK(field(f, "server_name")->value == "server");
    CHECK(field(f, "server_name")->depth == 1);
    CHECK(field(f, "key_share")->depth == 1);
    CHECK(field(f, "key_share")->value ==
          "x25519 (0x001d) 4c fd fc d1 78 b7 84 bf 32 8c ae 79 3b 13 6f 2a … (32 bytes)");
    CHECK(field(f, "supported_versions")->value == "TLS 1.3 (0x0304)");
    CHECK(field(f, "supported_groups")->value.starts_with("x25519, secp256r1, secp384r1"));
    CHECK(field(f, "signature_algorithms")->value.starts_with("ecdsa_secp256r1_sha256, "));
    CHECK(field(f, "psk_key_exchange_modes")->value == "psk_dhe_ke");
    CHECK(field(f, "renegotiation_info")->value == "1 byte: 00");
    CHECK(field(f, "unknown(0x001c)")->value == "2 bytes: 40 01");
}

TEST_CASE("ServerHello describe names the suite and the server share and spots a HelloRetryRequest") {
    auto sh = ServerHello::decode(body_of(rfc8448::server_hello, HandshakeType::server_hello));
    auto f = sh.describe();
    CHECK(field(f, "cipher_suite")->value == "TLS_AES_128_GCM_SHA256 (0x1301)");
    CHECK(field(f, "key_share")->value.starts_with("x25519 (0x001d) c7 bb 6b df"));
    CHECK(field(f, "supported_versions")->value == "TLS 1.3 (0x0304)");

    auto hrr = ServerHello::decode(body_of(rfc8448::hello_retry_request, HandshakeType::server_hello));
    auto h = hrr.describe();
    CHECK(field(h, "random")->value.starts_with("HelloRetryRequest"));
    CHECK(field(h, "key_share")->value == "secp256r1 (0x0017)");
    CHECK(field(h, "cookie")->value.ends_with("… (114 bytes)"));
}

TEST_CASE("describe of the other messages lists their fields") {
    auto ee = EncryptedExtensions::decode(body_of(rfc8448::encrypted_extensions, HandshakeType::encrypted_extensions));
    CHECK(field(ee.describe(), "server_name")->value == "(empty: name accepted)");

    auto c = Certificate::decode(body_of(rfc8448::certificate, HandshakeType::certificate));
    auto cf = c.describe();
    CHECK(field(cf, "certificate_list")->value == "1 certificate");
    CHECK(field(cf, "cert_data")->depth == 1);
    CHECK(field(cf, "cert_data")->value.starts_with("30 82 01 ac"));
    CHECK(field(cf, "extensions")->depth == 2);

    auto cv = CertificateVerify::decode(body_of(rfc8448::certificate_verify, HandshakeType::certificate_verify));
    CHECK(field(cv.describe(), "algorithm")->value == "rsa_pss_rsae_sha256 (0x0804)");
    CHECK(field(cv.describe(), "signature")->value.ends_with("(128 bytes)"));

    auto t = NewSessionTicket::decode(body_of(rfc8448::new_session_ticket, HandshakeType::new_session_ticket));
    auto tf = t.describe();
    CHECK(field(tf, "ticket_lifetime")->value == "30 seconds");
    CHECK(field(tf, "ticket_nonce")->value == "00 00");
    CHECK(field(tf, "early_data")->value == "max_early_data_size 1024");

    auto psk = ClientHello::decode(body_of(rfc8448::client_hello_psk, HandshakeType::client_hello));
    CHECK(field(psk.describe(), "pre_shared_key")->value == "1 identity, 1 binder");

    CHECK(field(KeyUpdate{KeyUpdateRequest::update_requested}.describe(), "request_update")->value ==
          "update_requested (1)");
    CHECK(field(Finished{from_hex("0102")}.describe(), "verify_data")->value == "01 02");
    CHECK(field(CertificateRequest::decode(body_of(rfc8448::certificate_request, HandshakeType::certificate_request))
                    .describe(),
                "signature_algorithms") != nullptr);
}

TEST_CASE("describe escapes control characters in names the peer chose") {
    auto ch = built_client_hello();
    ch.extensions = {make_server_name("evil\x1b[2Jhost"), make_alpn({"h2", "x\ny"})};
    auto f = ClientHello::decode(ch.encode()).describe();
    CHECK(field(f, "server_name")->value == "evil\\x1b[2Jhost");
    CHECK(field(f, "application_layer_protocol_negotiation")->value == "h2, x\\x0ay");
}

TEST_CASE("describe never throws on a hand-built message with a malformed extension") {
    ClientHello ch;
    ch.extensions = {Extension{ExtensionType::key_share, from_hex("00")},
                     Extension{ExtensionType::supported_versions, {}}};
    Fields f;
    CHECK_NOTHROW(f = ch.describe());
    CHECK(field(f, "key_share")->value.starts_with("malformed"));
    CHECK(field(f, "supported_versions")->value.starts_with("malformed"));
}
