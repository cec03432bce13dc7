// common/enums.hpp — introduced in chapter 02 (ContentType), grown in chapter 03.
// The numbered registries of RFC 8446 that every layer shares, named as in
// RFC 8446 Appendix B. `name()` turns any of them into the RFC's name for traces.
#pragma once

#include <cstdint>
#include <string>

namespace tls {

// RFC 8446 §5.1 / §B.1:
//   enum { invalid(0), change_cipher_spec(20), alert(21), handshake(22),
//          application_data(23), (255) } ContentType;
enum class ContentType : std::uint8_t {
    invalid = 0,
    change_cipher_spec = 20,
    alert = 21,
    handshake = 22,
    application_data = 23,
};

// RFC 8446 §4 / §B.3:
//   enum { client_hello(1), server_hello(2), new_session_ticket(4), end_of_early_data(5),
//          encrypted_extensions(8), certificate(11), certificate_request(13),
//          certificate_verify(15), finished(20), key_update(24), message_hash(254), (255) } HandshakeType;
enum class HandshakeType : std::uint8_t {
    client_hello = 1,
    server_hello = 2,
    new_session_ticket = 4,
    end_of_early_data = 5,
    encrypted_extensions = 8,
    certificate = 11,
    certificate_request = 13,
    certificate_verify = 15,
    finished = 20,
    key_update = 24,
    message_hash = 254,
};

// RFC 8446 §4.2 / §B.3.1:  enum { server_name(0), ... (65535) } ExtensionType;
enum class ExtensionType : std::uint16_t {
    server_name = 0,
    max_fragment_length = 1,
    status_request = 5,
    supported_groups = 10,
    ec_point_formats = 11,  // TLS 1.2 (RFC 8422); clients still send it
    signature_algorithms = 13,
    use_srtp = 14,
    heartbeat = 15,
    application_layer_protocol_negotiation = 16,
    signed_certificate_timestamp = 18,
    client_certificate_type = 19,
    server_certificate_type = 20,
    padding = 21,
    encrypt_then_mac = 22,       // TLS 1.2 (RFC 7366)
    extended_master_secret = 23, // TLS 1.2 (RFC 7627)
    record_size_limit = 28,      // RFC 8449 (RFC 8448's client and server send it)
    session_ticket = 35,         // TLS 1.2 (RFC 5077)
    pre_shared_key = 41,
    early_data = 42,
    supported_versions = 43,
    cookie = 44,
    psk_key_exchange_modes = 45,
    certificate_authorities = 47,
    oid_filters = 48,
    post_handshake_auth = 49,
    signature_algorithms_cert = 50,
    key_share = 51,
    renegotiation_info = 0xff01,  // TLS 1.2 (RFC 5746)
};

// RFC 8446 §4.2.7 / §B.3.1.4:  enum { secp256r1(0x0017), ..., x25519(0x001D), ... } NamedGroup;
enum class NamedGroup : std::uint16_t {
    secp256r1 = 0x0017,
    secp384r1 = 0x0018,
    secp521r1 = 0x0019,
    x25519 = 0x001D,
    x448 = 0x001E,
    ffdhe2048 = 0x0100,
    ffdhe3072 = 0x0101,
    ffdhe4096 = 0x0102,
    ffdhe6144 = 0x0103,
    ffdhe8192 = 0x0104,
};

// RFC 8446 §4.2.3 / §B.3.1.3:  enum { rsa_pkcs1_sha256(0x0401), ... } SignatureScheme;
enum class SignatureScheme : std::uint16_t {
    rsa_pkcs1_sha256 = 0x0401,
    rsa_pkcs1_sha384 = 0x0501,
    rsa_pkcs1_sha512 = 0x0601,
    ecdsa_secp256r1_sha256 = 0x0403,
    ecdsa_secp384r1_sha384 = 0x0503,
    ecdsa_secp521r1_sha512 = 0x0603,
    rsa_pss_rsae_sha256 = 0x0804,
    rsa_pss_rsae_sha384 = 0x0805,
    rsa_pss_rsae_sha512 = 0x0806,
    ed25519 = 0x0807,
    ed448 = 0x0808,
    rsa_pss_pss_sha256 = 0x0809,
    rsa_pss_pss_sha384 = 0x080a,
    rsa_pss_pss_sha512 = 0x080b,
    rsa_pkcs1_sha1 = 0x0201,
    ecdsa_sha1 = 0x0203,
    // Reserved: TLS 1.2's DSA, which TLS 1.3 does not use (RFC 8448's client still offers them).
    dsa_sha1_RESERVED = 0x0202,
    dsa_sha256_RESERVED = 0x0402,
    dsa_sha384_RESERVED = 0x0502,
    dsa_sha512_RESERVED = 0x0602,
};

// RFC 8446 §B.4: uint8 CipherSuite[2];
enum class CipherSuite : std::uint16_t {
    TLS_AES_128_GCM_SHA256 = 0x1301,
    TLS_AES_256_GCM_SHA384 = 0x1302,
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
    TLS_AES_128_CCM_SHA256 = 0x1304,
    TLS_AES_128_CCM_8_SHA256 = 0x1305,
};

// RFC 8446 §4.1.2 / §4.2.1: the versions on the wire.
inline constexpr std::uint16_t TLS1_2 = 0x0303;  // legacy_version, legacy_record_version
inline constexpr std::uint16_t TLS1_3 = 0x0304;  // supported_versions

// RFC 8446 §4.2.9:  enum { psk_ke(0), psk_dhe_ke(1), (255) } PskKeyExchangeMode;
enum class PskKeyExchangeMode : std::uint8_t { psk_ke = 0, psk_dhe_ke = 1 };

// The RFC's name for a value, or e.g. "unknown(0x1234)".
std::string name(ContentType v);
std::string name(HandshakeType v);
std::string name(ExtensionType v);
std::string name(NamedGroup v);
std::string name(SignatureScheme v);
std::string name(CipherSuite v);
std::string version_name(std::uint16_t v);  // "TLS 1.3 (0x0304)"

}  // namespace tls
