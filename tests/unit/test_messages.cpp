// tests/unit/test_messages.cpp — chapter 03 onwards. RFC 8446 §4 handshake messages
// (common/messages.*) and §5.1 reassembly (common/handshake_reader.*), checked against every
// handshake message of the published RFC 8448 (rfc8448_vectors.hpp), §3 to §7.
#include "alert.hpp"
#include "handshake_reader.hpp"
#include "messages.hpp"
#include "rfc8448_vectors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace tls;
using tlstest::alert_of;

namespace {

namespace s3 = rfc8448::simple;
namespace s4 = rfc8448::resumed;
namespace s5 = rfc8448::hello_retry;
namespace s6 = rfc8448::client_auth;
namespace s7 = rfc8448::compat;

std::string rfc(std::string_view rfc_hex) { return to_hex(from_hex(rfc_hex)); }

// The body of a whole RFC 8448 message, after checking its 4-byte header.
Bytes body_of(std::string_view hex, HandshakeType expected) {
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

TEST_CASE("RFC 8448 §3: ClientHello decodes to its fields and re-encodes identically") {
    auto body = body_of(s3::client_hello, HandshakeType::client_hello);
    auto ch = ClientHello::decode(body);
    CHECK(ch.legacy_version == 0x0303);
    CHECK(to_hex(ch.random) == "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7");
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
    CHECK(to_hex((*shares)[0].key_exchange) == rfc(s3::client_public_key));
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
    CHECK(encode_handshake(ch) == from_hex(s3::client_hello));
}

TEST_CASE("RFC 8448 §3: ServerHello decodes to its fields and re-encodes identically") {
    auto body = body_of(s3::server_hello, HandshakeType::server_hello);
    auto sh = ServerHello::decode(body);
    CHECK(sh.legacy_version == 0x0303);
    CHECK(to_hex(sh.random) == "a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928");
    CHECK(sh.legacy_session_id_echo.empty());
    CHECK(sh.cipher_suite == CipherSuite::TLS_AES_128_GCM_SHA256);
    CHECK(sh.legacy_compression_method == 0);
    CHECK_FALSE(sh.is_hello_retry_request());
    CHECK(sh.selected_version() == std::uint16_t{0x0304});
    auto share = sh.key_share();
    REQUIRE(share);
    CHECK(share->group == NamedGroup::x25519);
    CHECK(to_hex(share->key_exchange) == rfc(s3::server_public_key));
    CHECK_FALSE(sh.hrr_selected_group());
    CHECK_FALSE(sh.pre_shared_key());
    CHECK(encode_handshake(sh) == from_hex(s3::server_hello));
}

TEST_CASE("RFC 8448 §5: HelloRetryRequest is recognised by its random and carries a group and a cookie") {
    auto body = body_of(s5::hello_retry_request, HandshakeType::server_hello);
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

TEST_CASE("RFC 8448 §3: EncryptedExtensions decodes and re-encodes identically") {
    auto body = body_of(s3::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto ee = EncryptedExtensions::decode(body);
    REQUIRE(ee.extensions.size() == 3);
    CHECK(ee.supported_groups()->size() == 9);
    CHECK(ee.extensions[1].extension_type == static_cast<ExtensionType>(0x001c));  // record_size_limit
    CHECK(ee.has_extension(ExtensionType::server_name));  // the empty acknowledgement
    CHECK(ee.encode() == body);
}

TEST_CASE("RFC 8448 §3: server Certificate decodes and re-encodes identically") {
    auto body = body_of(s3::certificate, HandshakeType::certificate);
    auto c = Certificate::decode(body);
    CHECK(c.certificate_request_context.empty());
    REQUIRE(c.certificate_list.size() == 1);
    CHECK(c.certificate_list[0].cert_data.size() == 432);
    CHECK(to_hex(BytesView(c.certificate_list[0].cert_data).first(4)) == "308201ac");  // a DER SEQUENCE
    CHECK(c.certificate_list[0].extensions.empty());
    CHECK(c.encode() == body);
}

TEST_CASE("RFC 8448 §3: CertificateVerify decodes and re-encodes identically") {
    auto body = body_of(s3::certificate_verify, HandshakeType::certificate_verify);
    auto cv = CertificateVerify::decode(body);
    CHECK(cv.algorithm == SignatureScheme::rsa_pss_rsae_sha256);
    CHECK(cv.signature.size() == 128);
    CHECK(cv.encode() == body);
}

TEST_CASE("RFC 8448 §3: Finished decodes with the SHA-256 length and re-encodes identically") {
    auto body = body_of(s3::server_finished, HandshakeType::finished);
    auto fin = Finished::decode(body, 32);
    CHECK(to_hex(fin.verify_data) == rfc(s3::server_verify_data));
    CHECK(fin.encode() == body);
}

TEST_CASE("RFC 8448 §3: NewSessionTicket decodes and re-encodes identically") {
    auto body = body_of(s3::new_session_ticket, HandshakeType::new_session_ticket);
    auto t = NewSessionTicket::decode(body);
    CHECK(t.ticket_lifetime == 30);
    CHECK(t.ticket_age_add == 0xfad6aac5);
    CHECK(t.ticket_nonce == Bytes{0, 0});
    CHECK(to_hex(t.ticket_nonce) == rfc(s3::resumption_psk_hash));  // the context of "tls13 resumption"
    CHECK(t.ticket.size() == 178);
    CHECK(t.max_early_data_size() == std::uint32_t{1024});
    CHECK(t.encode() == body);
}

TEST_CASE("RFC 8448 §6: CertificateRequest decodes and re-encodes identically") {
    auto body = body_of(s6::certificate_request, HandshakeType::certificate_request);
    auto cr = CertificateRequest::decode(body);
    CHECK(cr.certificate_request_context.empty());
    CHECK(cr.signature_algorithms()->size() == 15);
    CHECK(cr.encode() == body);
}

TEST_CASE("RFC 8448 §4: resumption ClientHello carries a pre_shared_key last and re-encodes identically") {
    auto body = body_of(s4::client_hello, HandshakeType::client_hello);
    auto ch = ClientHello::decode(body);
    CHECK(ch.extensions.back().extension_type == ExtensionType::pre_shared_key);
    CHECK(ch.has_extension(ExtensionType::early_data));
    CHECK(ch.has_extension(ExtensionType::padding));
    auto psks = ch.pre_shared_key();
    REQUIRE(psks);
    REQUIRE(psks->identities.size() == 1);
    CHECK(psks->identities[0].identity.size() == 178);  // the ticket of §3's NewSessionTicket
    CHECK(psks->identities[0].obfuscated_ticket_age == 0xfad6aacb);  // §3's ticket_age_add + 6 ms
    REQUIRE(psks->binders.size() == 1);
    CHECK(to_hex(psks->binders[0]) == rfc(s4::binder));
    CHECK(ch.encode() == body);
}

TEST_CASE("RFC 8448 §4: truncated_client_hello cuts the binders off the resumption ClientHello") {
    CHECK(truncated_client_hello(from_hex(s4::client_hello)) == from_hex(s4::client_hello_prefix));
    CHECK(alert_of([] { truncated_client_hello(from_hex(s3::client_hello)); }) == AlertDescription::internal_error);
}

namespace {

// The message decoded as its type says and encoded again, header included.
Bytes reencoded(std::string_view message) {
    const Handshake h = Handshake::decode(from_hex(message));
    switch (h.msg_type) {
    case HandshakeType::client_hello: return encode_handshake(ClientHello::decode(h.body));
    case HandshakeType::server_hello: return encode_handshake(ServerHello::decode(h.body));
    case HandshakeType::new_session_ticket: return encode_handshake(NewSessionTicket::decode(h.body));
    case HandshakeType::end_of_early_data: return encode_handshake(EndOfEarlyData::decode(h.body));
    case HandshakeType::encrypted_extensions: return encode_handshake(EncryptedExtensions::decode(h.body));
    case HandshakeType::certificate: return encode_handshake(Certificate::decode(h.body));
    case HandshakeType::certificate_request: return encode_handshake(CertificateRequest::decode(h.body));
    case HandshakeType::certificate_verify: return encode_handshake(CertificateVerify::decode(h.body));
    case HandshakeType::finished: return encode_handshake(Finished::decode(h.body, 32));
    default: FAIL("no decoder for this message type"); return {};
    }
}

using HelloAndKey = std::initializer_list<std::pair<std::string_view, std::string_view>>;

}  // namespace

TEST_CASE("RFC 8448 §3-§7: every handshake message of the traces decodes and re-encodes byte for byte") {
    const std::pair<const char*, std::string_view> messages[] = {
        {"§3 ClientHello", s3::client_hello}, {"§3 ServerHello", s3::server_hello},
        {"§3 EncryptedExtensions", s3::encrypted_extensions}, {"§3 Certificate", s3::certificate},
        {"§3 CertificateVerify", s3::certificate_verify}, {"§3 server Finished", s3::server_finished},
        {"§3 client Finished", s3::client_finished}, {"§3 NewSessionTicket", s3::new_session_ticket},
        {"§4 ClientHello", s4::client_hello}, {"§4 ServerHello", s4::server_hello},
        {"§4 EncryptedExtensions", s4::encrypted_extensions}, {"§4 server Finished", s4::server_finished},
        {"§4 EndOfEarlyData", s4::end_of_early_data}, {"§4 client Finished", s4::client_finished},
        {"§5 ClientHello1", s5::client_hello_1}, {"§5 HelloRetryRequest", s5::hello_retry_request},
        {"§5 ClientHello2", s5::client_hello_2}, {"§5 ServerHello", s5::server_hello},
        {"§5 EncryptedExtensions", s5::encrypted_extensions}, {"§5 Certificate", s5::certificate},
        {"§5 CertificateVerify", s5::certificate_verify}, {"§5 server Finished", s5::server_finished},
        {"§5 client Finished", s5::client_finished},
        {"§6 ClientHello", s6::client_hello}, {"§6 ServerHello", s6::server_hello},
        {"§6 EncryptedExtensions", s6::encrypted_extensions}, {"§6 CertificateRequest", s6::certificate_request},
        {"§6 Certificate", s6::certificate}, {"§6 CertificateVerify", s6::certificate_verify},
        {"§6 server Finished", s6::server_finished}, {"§6 client Certificate", s6::client_certificate},
        {"§6 client CertificateVerify", s6::client_certificate_verify}, {"§6 client Finished", s6::client_finished},
        {"§7 ClientHello", s7::client_hello}, {"§7 ServerHello", s7::server_hello},
        {"§7 EncryptedExtensions", s7::encrypted_extensions}, {"§7 Certificate", s7::certificate},
        {"§7 CertificateVerify", s7::certificate_verify}, {"§7 server Finished", s7::server_finished},
        {"§7 client Finished", s7::client_finished},
    };
    for (const auto& [what, message] : messages) {
        CAPTURE(what);
        CHECK(to_hex(reencoded(message)) == rfc(message));
    }
}

TEST_CASE("RFC 8448 §3-§7: the key shares carry the trace's ephemeral public keys") {
    auto client_share = [](std::string_view hello) {
        auto shares = ClientHello::decode(body_of(hello, HandshakeType::client_hello)).key_share();
        REQUIRE(shares);
        REQUIRE(shares->size() == 1);
        return (*shares)[0];
    };
    auto server_share = [](std::string_view hello) {
        auto share = ServerHello::decode(body_of(hello, HandshakeType::server_hello)).key_share();
        REQUIRE(share);
        return *share;
    };
    for (auto [hello, key] : HelloAndKey{{s3::client_hello, s3::client_public_key},
                                         {s4::client_hello, s4::client_public_key},
                                         {s5::client_hello_1, s5::client_x25519_public_key},
                                         {s6::client_hello, s6::client_public_key},
                                         {s7::client_hello, s7::client_public_key}}) {
        CHECK(client_share(hello).group == NamedGroup::x25519);
        CHECK(to_hex(client_share(hello).key_exchange) == rfc(key));
    }
    for (auto [hello, key] : HelloAndKey{{s3::server_hello, s3::server_public_key},
                                         {s4::server_hello, s4::server_public_key},
                                         {s6::server_hello, s6::server_public_key},
                                         {s7::server_hello, s7::server_public_key}}) {
        CHECK(server_share(hello).group == NamedGroup::x25519);
        CHECK(to_hex(server_share(hello).key_exchange) == rfc(key));
    }
    // §5: after the HelloRetryRequest, P-256 (uncompressed points, 65 bytes).
    CHECK(client_share(s5::client_hello_2).group == NamedGroup::secp256r1);
    CHECK(to_hex(client_share(s5::client_hello_2).key_exchange) == rfc(s5::client_p256_public_key));
    CHECK(server_share(s5::server_hello).group == NamedGroup::secp256r1);
    CHECK(to_hex(server_share(s5::server_hello).key_exchange) == rfc(s5::server_p256_public_key));
}

TEST_CASE("RFC 8448 §4: the resumed ClientHello offers §3's ticket and the server accepts it with 0-RTT") {
    const auto ticket = NewSessionTicket::decode(body_of(s3::new_session_ticket, HandshakeType::new_session_ticket));
    const auto ch = ClientHello::decode(body_of(s4::client_hello, HandshakeType::client_hello));
    const auto psks = ch.pre_shared_key();
    REQUIRE(psks);
    REQUIRE(psks->identities.size() == 1);
    CHECK(psks->identities[0].identity == ticket.ticket);
    // §4.2.11.1: obfuscated_ticket_age = ticket age in milliseconds + ticket_age_add, mod 2^32.
    CHECK(psks->identities[0].obfuscated_ticket_age - ticket.ticket_age_add == 6u);
    CHECK(ch.has_extension(ExtensionType::early_data));
    CHECK(ch.psk_key_exchange_modes() == std::vector{PskKeyExchangeMode::psk_dhe_ke});

    const auto sh = ServerHello::decode(body_of(s4::server_hello, HandshakeType::server_hello));
    CHECK(sh.pre_shared_key() == std::uint16_t{0});  // selected_identity: the first, and only, PSK
    const auto ee = EncryptedExtensions::decode(body_of(s4::encrypted_extensions, HandshakeType::encrypted_extensions));
    CHECK(ee.has_extension(ExtensionType::early_data));  // 0-RTT accepted
    CHECK(EndOfEarlyData::decode(body_of(s4::end_of_early_data, HandshakeType::end_of_early_data)) == EndOfEarlyData{});
}

TEST_CASE("RFC 8448 §5: ClientHello2 repeats ClientHello1 with the cookie and a P-256 share") {
    const auto hrr = ServerHello::decode(body_of(s5::hello_retry_request, HandshakeType::server_hello));
    const auto ch1 = ClientHello::decode(body_of(s5::client_hello_1, HandshakeType::client_hello));
    const auto ch2 = ClientHello::decode(body_of(s5::client_hello_2, HandshakeType::client_hello));
    CHECK_FALSE(ch1.cookie());
    REQUIRE(hrr.cookie());
    CHECK(ch2.cookie() == hrr.cookie());  // §4.2.2: the cookie comes back in the new ClientHello
    CHECK(ch2.random == ch1.random);
    CHECK(ch2.cipher_suites == ch1.cipher_suites);
    CHECK(hrr.cipher_suite == CipherSuite::TLS_AES_128_GCM_SHA256);
    CHECK(ServerHello::decode(body_of(s5::server_hello, HandshakeType::server_hello)).cipher_suite == hrr.cipher_suite);
}

TEST_CASE("RFC 8448 §6: the server asks for a certificate; ECDSA for the server, RSA-PSS for the client") {
    const auto cr = CertificateRequest::decode(body_of(s6::certificate_request, HandshakeType::certificate_request));
    CHECK(cr.certificate_request_context.empty());
    const auto client_certificate = Certificate::decode(body_of(s6::client_certificate, HandshakeType::certificate));
    CHECK(client_certificate.certificate_request_context == cr.certificate_request_context);  // §4.4.2: echoed
    REQUIRE(client_certificate.certificate_list.size() == 1);
    const auto server_cv =
        CertificateVerify::decode(body_of(s6::certificate_verify, HandshakeType::certificate_verify));
    CHECK(server_cv.algorithm == SignatureScheme::ecdsa_secp256r1_sha256);
    const auto client_cv =
        CertificateVerify::decode(body_of(s6::client_certificate_verify, HandshakeType::certificate_verify));
    CHECK(client_cv.algorithm == SignatureScheme::rsa_pss_rsae_sha256);
    CHECK(client_cv.signature.size() == 128);
}

TEST_CASE("RFC 8448 §7: compatibility mode sends a legacy_session_id the ServerHello echoes") {
    // RFC 8446 §D.4: "the client [...] always provides a non-empty session ID".
    const auto ch = ClientHello::decode(body_of(s7::client_hello, HandshakeType::client_hello));
    CHECK(ch.legacy_session_id.size() == 32);
    const auto sh = ServerHello::decode(body_of(s7::server_hello, HandshakeType::server_hello));
    CHECK(sh.legacy_session_id_echo == ch.legacy_session_id);
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
    auto body = body_of(s3::client_hello, HandshakeType::client_hello);
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
    auto ee = body_of(s3::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto cert = body_of(s3::certificate, HandshakeType::certificate);
    auto cv = body_of(s3::certificate_verify, HandshakeType::certificate_verify);
    auto nst = body_of(s3::new_session_ticket, HandshakeType::new_session_ticket);
    auto cr = body_of(s6::certificate_request, HandshakeType::certificate_request);
    auto sh = body_of(s3::server_hello, HandshakeType::server_hello);
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
    auto ch = body_of(s3::client_hello, HandshakeType::client_hello);
    // cipher_suites says 8 bytes where 6 follow: the rest of the hello no longer lines up.
    CHECK(ch[36] == 0x06);
    CHECK(alert_of([&] { ClientHello::decode(with_byte_at(ch, 36, 0x08)); }) == AlertDescription::decode_error);
    // named_group_list inside supported_groups says 0x14 where 0x12 bytes follow.
    auto ee = body_of(s3::encrypted_extensions, HandshakeType::encrypted_extensions);
    CHECK(ee[7] == 0x12);
    CHECK(alert_of([&] { EncryptedExtensions::decode(with_byte_at(ee, 7, 0x14)); }) == AlertDescription::decode_error);
    // ... or 0x10, leaving two bytes inside the extension unread.
    CHECK(alert_of([&] { EncryptedExtensions::decode(with_byte_at(ee, 7, 0x10)); }) == AlertDescription::decode_error);
    // The certificate_list length one short of its entry.
    auto cert = body_of(s3::certificate, HandshakeType::certificate);
    CHECK(alert_of([&] { Certificate::decode(with_byte_at(cert, 3, 0xb4)); }) == AlertDescription::decode_error);
}

TEST_CASE("decoders reject trailing bytes with decode_error") {
    auto with_extra = [](Bytes b) {
        b.push_back(0);
        return b;
    };
    auto ch = body_of(s3::client_hello, HandshakeType::client_hello);
    auto sh = body_of(s3::server_hello, HandshakeType::server_hello);
    auto ee = body_of(s3::encrypted_extensions, HandshakeType::encrypted_extensions);
    auto cert = body_of(s3::certificate, HandshakeType::certificate);
    auto cv = body_of(s3::certificate_verify, HandshakeType::certificate_verify);
    auto nst = body_of(s3::new_session_ticket, HandshakeType::new_session_ticket);
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
    auto body = body_of(s3::client_hello, HandshakeType::client_hello);
    // cipher_suites of 5 bytes: "1301 1303 13", then 02 is read as the compression length.
    CHECK(alert_of([&] { ClientHello::decode(with_byte_at(body, 36, 0x05)); }) == AlertDescription::decode_error);
    auto ch = built_client_hello();
    ch.legacy_session_id = Bytes(33, 0);
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::decode_error);
    ch.legacy_session_id.clear();
    ch.legacy_compression_methods.clear();  // <1..2^8-1>
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::decode_error);
}

// RFC8446 4.2-5
TEST_CASE("ClientHello decoder rejects a duplicated extension with illegal_parameter") {
    auto ch = built_client_hello();
    ch.extensions.push_back(make_supported_groups({NamedGroup::x448}));
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::illegal_parameter);
    // Unknown extensions may not repeat either.
    auto ch2 = built_client_hello();
    ch2.extensions.push_back(ch2.extensions.back());
    CHECK(alert_of([&] { ClientHello::decode(ch2.encode()); }) == AlertDescription::illegal_parameter);
}

// RFC8446 4.2-5
TEST_CASE("EncryptedExtensions decoder rejects a duplicated extension with illegal_parameter") {
    EncryptedExtensions ee;
    ee.extensions = {make_alpn({"h2"}), make_alpn({"h2"})};
    CHECK(alert_of([&] { EncryptedExtensions::decode(ee.encode()); }) == AlertDescription::illegal_parameter);
}

// RFC8446 4.2-3
TEST_CASE("decoders reject an extension the RFC does not allow in that message with illegal_parameter") {
    EncryptedExtensions ee;
    ee.extensions = {make_key_share_server({NamedGroup::x25519, Bytes(32, 1)})};
    CHECK(alert_of([&] { EncryptedExtensions::decode(ee.encode()); }) == AlertDescription::illegal_parameter);
    ServerHello sh;
    sh.extensions = {make_supported_versions_server(TLS1_3), make_cookie(from_hex("01"))};  // cookie: HRR only
    CHECK(alert_of([&] { ServerHello::decode(sh.encode()); }) == AlertDescription::illegal_parameter);
}

// RFC8446 4.2-4, 4.2.11-15, 4.2.11-16
TEST_CASE("ClientHello decoder rejects a pre_shared_key that is not last with illegal_parameter") {
    auto ch = ClientHello::decode(body_of(s4::client_hello, HandshakeType::client_hello));
    std::swap(ch.extensions[ch.extensions.size() - 1], ch.extensions[ch.extensions.size() - 2]);
    CHECK(alert_of([&] { ClientHello::decode(ch.encode()); }) == AlertDescription::illegal_parameter);
}

// RFC8446 4.2.8-3
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

// RFC8446 4.6.3-4
TEST_CASE("KeyUpdate decoder rejects a request_update other than 0 or 1 with illegal_parameter") {
    CHECK(alert_of([] { KeyUpdate::decode(from_hex("02")); }) == AlertDescription::illegal_parameter);
    CHECK(alert_of([] { KeyUpdate::decode(from_hex("ff")); }) == AlertDescription::illegal_parameter);
}

TEST_CASE("Finished decoder rejects verify_data of the wrong length with decode_error") {
    CHECK(alert_of([] { Finished::decode(Bytes(31, 0), 32); }) == AlertDescription::decode_error);
    CHECK(alert_of([] { Finished::decode(Bytes(48, 0), 32); }) == AlertDescription::decode_error);
    CHECK(alert_of([] { Finished::decode(Bytes(32, 0), 48); }) == AlertDescription::decode_error);
}

// RFC8446 4.3.2-5
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

// RFC8446 4.2.8-1, 4.2.8-4
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
    auto survives = [](std::string_view hex, HandshakeType type, auto decode) {
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
    survives(s3::client_hello, HandshakeType::client_hello, ClientHello::decode);
    survives(s4::client_hello, HandshakeType::client_hello, ClientHello::decode);
    survives(s3::server_hello, HandshakeType::server_hello, ServerHello::decode);
    survives(s5::hello_retry_request, HandshakeType::server_hello, ServerHello::decode);
    survives(s3::encrypted_extensions, HandshakeType::encrypted_extensions, EncryptedExtensions::decode);
    survives(s3::certificate, HandshakeType::certificate, Certificate::decode);
    survives(s6::certificate_request, HandshakeType::certificate_request, CertificateRequest::decode);
    survives(s3::certificate_verify, HandshakeType::certificate_verify, CertificateVerify::decode);
    survives(s3::new_session_ticket, HandshakeType::new_session_ticket, NewSessionTicket::decode);
}

// ---- HandshakeReader (§5.1) --------------------------------------------------------------

TEST_CASE("HandshakeReader reassembles a message split across three fragments") {
    auto whole = from_hex(s3::client_hello);
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
    auto ee = from_hex(s3::encrypted_extensions);
    auto fin = from_hex(s3::server_finished);
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

// RFC8446 6-6
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
    auto ch = ClientHello::decode(body_of(s3::client_hello, HandshakeType::client_hello));
    auto f = ch.describe();
    std::vector<std::string> top;
    for (const auto& x : f)
        if (x.depth == 0) top.push_back(x.name);
    CHECK(top == std::vector<std::string>{"legacy_version", "random", "legacy_session_id", "cipher_suites",
                                          "legacy_compression_methods", "extensions"});
    CHECK(field(f, "legacy_version")->value == "TLS 1.2 (0x0303)");
    CHECK(field(f, "random")->value == "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d … (32 bytes)");
    CHECK(field(f, "legacy_session_id")->value == "(empty)");
    CHECK(field(f, "cipher_suites")->value ==
          "TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_256_GCM_SHA384");
    CHECK(field(f, "extensions")->value == "9 extensions");
    CHECK(field(f, "server_name")->value == "server");
    CHECK(field(f, "server_name")->depth == 1);
    CHECK(field(f, "key_share")->depth == 1);
    CHECK(field(f, "key_share")->value ==
          "x25519 (0x001d) 99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe … (32 bytes)");
    CHECK(field(f, "supported_versions")->value == "TLS 1.3 (0x0304)");
    CHECK(field(f, "supported_groups")->value.starts_with("x25519, secp256r1, secp384r1"));
    CHECK(field(f, "signature_algorithms")->value.starts_with("ecdsa_secp256r1_sha256, "));
    CHECK(field(f, "psk_key_exchange_modes")->value == "psk_dhe_ke");
    CHECK(field(f, "renegotiation_info")->value == "1 byte: 00");
    CHECK(field(f, "record_size_limit")->value == "16385 bytes");  // RFC 8449: 0x4001
}

TEST_CASE("ServerHello describe names the suite and the server share and spots a HelloRetryRequest") {
    auto sh = ServerHello::decode(body_of(s3::server_hello, HandshakeType::server_hello));
    auto f = sh.describe();
    CHECK(field(f, "cipher_suite")->value == "TLS_AES_128_GCM_SHA256 (0x1301)");
    CHECK(field(f, "key_share")->value.starts_with("x25519 (0x001d) c9 82 88 76"));
    CHECK(field(f, "supported_versions")->value == "TLS 1.3 (0x0304)");

    auto hrr = ServerHello::decode(body_of(s5::hello_retry_request, HandshakeType::server_hello));
    auto h = hrr.describe();
    CHECK(field(h, "random")->value.starts_with("HelloRetryRequest"));
    CHECK(field(h, "key_share")->value == "secp256r1 (0x0017)");
    CHECK(field(h, "cookie")->value.ends_with("… (114 bytes)"));
}

TEST_CASE("describe of the other messages lists their fields") {
    auto ee = EncryptedExtensions::decode(body_of(s3::encrypted_extensions, HandshakeType::encrypted_extensions));
    CHECK(field(ee.describe(), "server_name")->value == "(empty: name accepted)");

    auto c = Certificate::decode(body_of(s3::certificate, HandshakeType::certificate));
    auto cf = c.describe();
    CHECK(field(cf, "certificate_list")->value == "1 certificate");
    CHECK(field(cf, "cert_data")->depth == 1);
    CHECK(field(cf, "cert_data")->value.starts_with("30 82 01 ac"));
    CHECK(field(cf, "extensions")->depth == 2);

    auto cv = CertificateVerify::decode(body_of(s3::certificate_verify, HandshakeType::certificate_verify));
    CHECK(field(cv.describe(), "algorithm")->value == "rsa_pss_rsae_sha256 (0x0804)");
    CHECK(field(cv.describe(), "signature")->value.ends_with("(128 bytes)"));

    auto t = NewSessionTicket::decode(body_of(s3::new_session_ticket, HandshakeType::new_session_ticket));
    auto tf = t.describe();
    CHECK(field(tf, "ticket_lifetime")->value == "30 seconds");
    CHECK(field(tf, "ticket_nonce")->value == "00 00");
    CHECK(field(tf, "early_data")->value == "max_early_data_size 1024");

    auto psk = ClientHello::decode(body_of(s4::client_hello, HandshakeType::client_hello));
    CHECK(field(psk.describe(), "pre_shared_key")->value == "1 identity, 1 binder");

    CHECK(field(KeyUpdate{KeyUpdateRequest::update_requested}.describe(), "request_update")->value ==
          "update_requested (1)");
    CHECK(field(Finished{from_hex("0102")}.describe(), "verify_data")->value == "01 02");
    CHECK(field(CertificateRequest::decode(body_of(s6::certificate_request, HandshakeType::certificate_request))
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
