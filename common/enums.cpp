// common/enums.cpp — the RFC names of the registries in enums.hpp.
#include "enums.hpp"

#include <fmt/format.h>

namespace tls {

std::string name(ContentType v) {
    switch (v) {
        case ContentType::invalid: return "invalid";
        case ContentType::change_cipher_spec: return "change_cipher_spec";
        case ContentType::alert: return "alert";
        case ContentType::handshake: return "handshake";
        case ContentType::application_data: return "application_data";
    }
    return fmt::format("unknown(0x{:02x})", static_cast<unsigned>(v));
}

std::string name(HandshakeType v) {
    switch (v) {
        case HandshakeType::client_hello: return "client_hello";
        case HandshakeType::server_hello: return "server_hello";
        case HandshakeType::new_session_ticket: return "new_session_ticket";
        case HandshakeType::end_of_early_data: return "end_of_early_data";
        case HandshakeType::encrypted_extensions: return "encrypted_extensions";
        case HandshakeType::certificate: return "certificate";
        case HandshakeType::certificate_request: return "certificate_request";
        case HandshakeType::certificate_verify: return "certificate_verify";
        case HandshakeType::finished: return "finished";
        case HandshakeType::key_update: return "key_update";
        case HandshakeType::message_hash: return "message_hash";
    }
    return fmt::format("unknown(0x{:02x})", static_cast<unsigned>(v));
}

std::string name(ExtensionType v) {
    switch (v) {
        case ExtensionType::server_name: return "server_name";
        case ExtensionType::max_fragment_length: return "max_fragment_length";
        case ExtensionType::status_request: return "status_request";
        case ExtensionType::supported_groups: return "supported_groups";
        case ExtensionType::ec_point_formats: return "ec_point_formats";
        case ExtensionType::signature_algorithms: return "signature_algorithms";
        case ExtensionType::use_srtp: return "use_srtp";
        case ExtensionType::heartbeat: return "heartbeat";
        case ExtensionType::application_layer_protocol_negotiation: return "application_layer_protocol_negotiation";
        case ExtensionType::signed_certificate_timestamp: return "signed_certificate_timestamp";
        case ExtensionType::client_certificate_type: return "client_certificate_type";
        case ExtensionType::server_certificate_type: return "server_certificate_type";
        case ExtensionType::padding: return "padding";
        case ExtensionType::encrypt_then_mac: return "encrypt_then_mac";
        case ExtensionType::extended_master_secret: return "extended_master_secret";
        case ExtensionType::record_size_limit: return "record_size_limit";
        case ExtensionType::session_ticket: return "session_ticket";
        case ExtensionType::pre_shared_key: return "pre_shared_key";
        case ExtensionType::early_data: return "early_data";
        case ExtensionType::supported_versions: return "supported_versions";
        case ExtensionType::cookie: return "cookie";
        case ExtensionType::psk_key_exchange_modes: return "psk_key_exchange_modes";
        case ExtensionType::certificate_authorities: return "certificate_authorities";
        case ExtensionType::oid_filters: return "oid_filters";
        case ExtensionType::post_handshake_auth: return "post_handshake_auth";
        case ExtensionType::signature_algorithms_cert: return "signature_algorithms_cert";
        case ExtensionType::key_share: return "key_share";
        case ExtensionType::renegotiation_info: return "renegotiation_info";
    }
    return fmt::format("unknown(0x{:04x})", static_cast<unsigned>(v));
}

std::string name(NamedGroup v) {
    switch (v) {
        case NamedGroup::secp256r1: return "secp256r1";
        case NamedGroup::secp384r1: return "secp384r1";
        case NamedGroup::secp521r1: return "secp521r1";
        case NamedGroup::x25519: return "x25519";
        case NamedGroup::x448: return "x448";
        case NamedGroup::ffdhe2048: return "ffdhe2048";
        case NamedGroup::ffdhe3072: return "ffdhe3072";
        case NamedGroup::ffdhe4096: return "ffdhe4096";
        case NamedGroup::ffdhe6144: return "ffdhe6144";
        case NamedGroup::ffdhe8192: return "ffdhe8192";
    }
    return fmt::format("unknown(0x{:04x})", static_cast<unsigned>(v));
}

std::string name(SignatureScheme v) {
    switch (v) {
        case SignatureScheme::rsa_pkcs1_sha256: return "rsa_pkcs1_sha256";
        case SignatureScheme::rsa_pkcs1_sha384: return "rsa_pkcs1_sha384";
        case SignatureScheme::rsa_pkcs1_sha512: return "rsa_pkcs1_sha512";
        case SignatureScheme::ecdsa_secp256r1_sha256: return "ecdsa_secp256r1_sha256";
        case SignatureScheme::ecdsa_secp384r1_sha384: return "ecdsa_secp384r1_sha384";
        case SignatureScheme::ecdsa_secp521r1_sha512: return "ecdsa_secp521r1_sha512";
        case SignatureScheme::rsa_pss_rsae_sha256: return "rsa_pss_rsae_sha256";
        case SignatureScheme::rsa_pss_rsae_sha384: return "rsa_pss_rsae_sha384";
        case SignatureScheme::rsa_pss_rsae_sha512: return "rsa_pss_rsae_sha512";
        case SignatureScheme::ed25519: return "ed25519";
        case SignatureScheme::ed448: return "ed448";
        case SignatureScheme::rsa_pss_pss_sha256: return "rsa_pss_pss_sha256";
        case SignatureScheme::rsa_pss_pss_sha384: return "rsa_pss_pss_sha384";
        case SignatureScheme::rsa_pss_pss_sha512: return "rsa_pss_pss_sha512";
        case SignatureScheme::rsa_pkcs1_sha1: return "rsa_pkcs1_sha1";
        case SignatureScheme::ecdsa_sha1: return "ecdsa_sha1";
        case SignatureScheme::dsa_sha1_RESERVED: return "dsa_sha1_RESERVED";
        case SignatureScheme::dsa_sha256_RESERVED: return "dsa_sha256_RESERVED";
        case SignatureScheme::dsa_sha384_RESERVED: return "dsa_sha384_RESERVED";
        case SignatureScheme::dsa_sha512_RESERVED: return "dsa_sha512_RESERVED";
    }
    return fmt::format("unknown(0x{:04x})", static_cast<unsigned>(v));
}

std::string name(CipherSuite v) {
    switch (v) {
        case CipherSuite::TLS_AES_128_GCM_SHA256: return "TLS_AES_128_GCM_SHA256";
        case CipherSuite::TLS_AES_256_GCM_SHA384: return "TLS_AES_256_GCM_SHA384";
        case CipherSuite::TLS_CHACHA20_POLY1305_SHA256: return "TLS_CHACHA20_POLY1305_SHA256";
        case CipherSuite::TLS_AES_128_CCM_SHA256: return "TLS_AES_128_CCM_SHA256";
        case CipherSuite::TLS_AES_128_CCM_8_SHA256: return "TLS_AES_128_CCM_8_SHA256";
    }
    return fmt::format("unknown(0x{:04x})", static_cast<unsigned>(v));
}

std::string version_name(std::uint16_t v) {
    switch (v) {
        case 0x0304: return "TLS 1.3 (0x0304)";
        case 0x0303: return "TLS 1.2 (0x0303)";
        case 0x0302: return "TLS 1.1 (0x0302)";
        case 0x0301: return "TLS 1.0 (0x0301)";
        default: return fmt::format("0x{:04x}", v);
    }
}

}  // namespace tls
