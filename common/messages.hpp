// common/messages.hpp — introduced in chapter 03 (ClientHello), grown in chapters 04–09.
// RFC 8446 §4 (Handshake Protocol) and Appendix B.3: every handshake message as a typed
// struct named as the RFC names it. For each message:
//   encode()        the body, without the 4-byte header of §4 (see encode_handshake)
//   decode(body)    parse, don't validate: a typed message, or AlertError{decode_error}
//   describe()      every field and extension, for the trace; never throws
// Extensions (§4.2) stay in wire order as opaque bytes, so a decoded message re-encodes to
// exactly the bytes it came from (the transcript hash depends on it). One exception: a
// ClientHello or ServerHello with an empty extensions block ("00 00", legal only before
// TLS 1.3) re-encodes without the field, as if it had none; the transcript hashes the bytes
// received, never a re-encoding. Typed accessors such as ClientHello::key_share() parse the
// known ones; make_*() builds them.
#pragma once

#include "alert.hpp"
#include "bytes.hpp"
#include "enums.hpp"
#include "fields.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tls {

// §4.1.2:  opaque Random[32];
using Random = std::array<std::uint8_t, 32>;

// ANCHOR: special_randoms
// §4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest") is a HelloRetryRequest.
inline constexpr Random hello_retry_request_random = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

// §4.1.3: a TLS 1.3 server that negotiates TLS 1.2 (or below) ends its random with
// "DOWNGRD" 01 (or 00); a TLS 1.3 client seeing them aborts with illegal_parameter.
inline constexpr std::array<std::uint8_t, 8> downgrade_tls12 = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
inline constexpr std::array<std::uint8_t, 8> downgrade_tls11 = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};
// ANCHOR_END: special_randoms

// ---- §4.2 Extensions ---------------------------------------------------------------------

// ANCHOR: Extension
// §4.2:
//   struct {
//       ExtensionType extension_type;
//       opaque extension_data<0..2^16-1>;
//   } Extension;
struct Extension {
    ExtensionType extension_type{};
    Bytes extension_data;
    bool operator==(const Extension&) const = default;
};
// ANCHOR_END: Extension

// The extension of that type in a block, or nullptr.
const Extension* find_extension(const std::vector<Extension>& extensions, ExtensionType type);

// ANCHOR: KeyShareEntry
// §4.2.8:
//   struct {
//       NamedGroup group;
//       opaque key_exchange<1..2^16-1>;
//   } KeyShareEntry;
struct KeyShareEntry {
    NamedGroup group{};
    Bytes key_exchange;
    bool operator==(const KeyShareEntry&) const = default;
};
// ANCHOR_END: KeyShareEntry

// §4.2.11:
//   struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;
//   opaque PskBinderEntry<32..255>;
//   struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; } OfferedPsks;
struct PskIdentity {
    Bytes identity;
    std::uint32_t obfuscated_ticket_age = 0;
    bool operator==(const PskIdentity&) const = default;
};
struct OfferedPsks {
    std::vector<PskIdentity> identities;
    std::vector<Bytes> binders;
    bool operator==(const OfferedPsks&) const = default;
};

// ANCHOR: extension_builders
// Builders for the extension_data the client and server send (§4.2.x). The bodies they
// write are the ones the accessors below parse.
Extension make_server_name(std::string_view host_name);                        // RFC 6066 §3
Extension make_supported_groups(const std::vector<NamedGroup>& groups);        // §4.2.7
Extension make_signature_algorithms(const std::vector<SignatureScheme>& schemes);  // §4.2.3
Extension make_supported_versions_client(const std::vector<std::uint16_t>& versions);  // §4.2.1
Extension make_supported_versions_server(std::uint16_t selected_version);      // §4.2.1
Extension make_key_share_client(const std::vector<KeyShareEntry>& client_shares);  // §4.2.8
Extension make_key_share_server(const KeyShareEntry& server_share);            // §4.2.8
Extension make_key_share_hrr(NamedGroup selected_group);                       // §4.2.8
// ANCHOR_END: extension_builders
Extension make_psk_key_exchange_modes(const std::vector<PskKeyExchangeMode>& ke_modes);  // §4.2.9
Extension make_alpn(const std::vector<std::string>& protocol_name_list);       // RFC 7301 §3.1
Extension make_cookie(BytesView cookie);                                       // §4.2.2
// §4.2.10: empty in ClientHello and EncryptedExtensions, max_early_data_size in NewSessionTicket.
Extension make_early_data(std::optional<std::uint32_t> max_early_data_size = std::nullopt);
// §4.2.11: OfferedPsks in ClientHello (it must be the last extension), selected_identity in ServerHello.
Extension make_pre_shared_key_client(const OfferedPsks& offered_psks);
Extension make_pre_shared_key_server(std::uint16_t selected_identity);

// ---- §4.1 Key Exchange Messages ----------------------------------------------------------

// ANCHOR: ClientHello
// §4.1.2:
//   struct {
//       ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//       Random random;
//       opaque legacy_session_id<0..32>;
//       CipherSuite cipher_suites<2..2^16-2>;
//       opaque legacy_compression_methods<1..2^8-1>;
//       Extension extensions<8..2^16-1>;
//   } ClientHello;
struct ClientHello {
    static constexpr HandshakeType msg_type = HandshakeType::client_hello;

    std::uint16_t legacy_version = TLS1_2;
    Random random{};
    Bytes legacy_session_id;
    std::vector<CipherSuite> cipher_suites;
    Bytes legacy_compression_methods{0};  // "the single byte 0" (§4.1.2)
    std::vector<Extension> extensions;

    Bytes encode() const;
    static ClientHello decode(BytesView body);
    Fields describe() const;
    bool operator==(const ClientHello&) const = default;

    // Typed views of the known extensions: nullopt when absent. Decode has already checked
    // their bodies; on a hand-built message a malformed body throws decode_error.
    bool has_extension(ExtensionType type) const { return find_extension(extensions, type) != nullptr; }
    std::optional<std::vector<std::string>> server_name() const;  // host_name entries
    std::optional<std::vector<NamedGroup>> supported_groups() const;
    std::optional<std::vector<SignatureScheme>> signature_algorithms() const;
    std::optional<std::vector<SignatureScheme>> signature_algorithms_cert() const;
    std::optional<std::vector<std::uint16_t>> supported_versions() const;
    std::optional<std::vector<KeyShareEntry>> key_share() const;  // client_shares
    std::optional<std::vector<PskKeyExchangeMode>> psk_key_exchange_modes() const;
    std::optional<std::vector<std::string>> alpn() const;
    std::optional<Bytes> cookie() const;
    std::optional<OfferedPsks> pre_shared_key() const;
};
// ANCHOR_END: ClientHello

// §4.2.11.2: each binder is an HMAC over Transcript-Hash(Truncated(ClientHello1)), "the
// partial ClientHello excluding" the binders list — the whole message, header included and
// its length unchanged, cut before the binders. Takes the encoded message (encode_handshake);
// throws AlertError{internal_error} if it holds no pre_shared_key.
Bytes truncated_client_hello(BytesView client_hello_message);

// ANCHOR: check_key_shares
// §4.2.8: "Each KeyShareEntry value MUST correspond to a group offered in the
// "supported_groups" extension and MUST appear in the same order." Servers MAY check; this
// does, for the server flow: throws AlertError{illegal_parameter} if a share breaks the rule.
void check_key_shares_match_supported_groups(const ClientHello& client_hello);
// ANCHOR_END: check_key_shares

// ANCHOR: ServerHello
// §4.1.3 (and §4.1.4: a HelloRetryRequest is a ServerHello with the special random):
//   struct {
//       ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//       Random random;
//       opaque legacy_session_id_echo<0..32>;
//       CipherSuite cipher_suite;
//       uint8 legacy_compression_method = 0;
//       Extension extensions<6..2^16-1>;
//   } ServerHello;
struct ServerHello {
    static constexpr HandshakeType msg_type = HandshakeType::server_hello;

    std::uint16_t legacy_version = TLS1_2;
    Random random{};
    Bytes legacy_session_id_echo;
    CipherSuite cipher_suite{};
    std::uint8_t legacy_compression_method = 0;
    std::vector<Extension> extensions;

    Bytes encode() const;
    static ServerHello decode(BytesView body);
    Fields describe() const;
    bool operator==(const ServerHello&) const = default;

    bool is_hello_retry_request() const { return random == hello_retry_request_random; }
    bool has_extension(ExtensionType type) const { return find_extension(extensions, type) != nullptr; }
    std::optional<std::uint16_t> selected_version() const;  // supported_versions
    std::optional<KeyShareEntry> key_share() const;         // server_share; nullopt in a HelloRetryRequest
    std::optional<NamedGroup> hrr_selected_group() const;   // selected_group; only in a HelloRetryRequest
    std::optional<Bytes> cookie() const;                    // only in a HelloRetryRequest
    std::optional<std::uint16_t> pre_shared_key() const;    // selected_identity
};
// ANCHOR_END: ServerHello

// ---- §4.3 Server Parameters --------------------------------------------------------------

// ANCHOR: EncryptedExtensions
// §4.3.1:
//   struct {
//       Extension extensions<0..2^16-1>;
//   } EncryptedExtensions;
struct EncryptedExtensions {
    static constexpr HandshakeType msg_type = HandshakeType::encrypted_extensions;

    std::vector<Extension> extensions;

    Bytes encode() const;
    static EncryptedExtensions decode(BytesView body);
    Fields describe() const;
    bool operator==(const EncryptedExtensions&) const = default;

    bool has_extension(ExtensionType type) const { return find_extension(extensions, type) != nullptr; }
    std::optional<std::vector<NamedGroup>> supported_groups() const;
    std::optional<std::vector<std::string>> alpn() const;  // RFC 7301 §3.1: exactly one name
};
// ANCHOR_END: EncryptedExtensions

// §4.3.2:
//   struct {
//       opaque certificate_request_context<0..2^8-1>;
//       Extension extensions<2..2^16-1>;
//   } CertificateRequest;
// "The "signature_algorithms" extension MUST be specified": decode throws missing_extension.
struct CertificateRequest {
    static constexpr HandshakeType msg_type = HandshakeType::certificate_request;

    Bytes certificate_request_context;
    std::vector<Extension> extensions;

    Bytes encode() const;
    static CertificateRequest decode(BytesView body);
    Fields describe() const;
    bool operator==(const CertificateRequest&) const = default;

    bool has_extension(ExtensionType type) const { return find_extension(extensions, type) != nullptr; }
    std::optional<std::vector<SignatureScheme>> signature_algorithms() const;
    std::optional<std::vector<SignatureScheme>> signature_algorithms_cert() const;
};

// ---- §4.4 Authentication Messages --------------------------------------------------------

// ANCHOR: Certificate
// §4.4.2 (X509 certificates only; RawPublicKey would need server_certificate_type):
//   struct {
//       select (certificate_type) {
//           case RawPublicKey: opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;
//           case X509:         opaque cert_data<1..2^24-1>;
//       };
//       Extension extensions<0..2^16-1>;
//   } CertificateEntry;
struct CertificateEntry {
    Bytes cert_data;  // one DER-encoded X.509 certificate
    std::vector<Extension> extensions;
    bool operator==(const CertificateEntry&) const = default;
};

// §4.4.2:
//   struct {
//       opaque certificate_request_context<0..2^8-1>;
//       CertificateEntry certificate_list<0..2^24-1>;
//   } Certificate;
// An empty certificate_list decodes: it is how a client declines a CertificateRequest.
struct Certificate {
    static constexpr HandshakeType msg_type = HandshakeType::certificate;

    Bytes certificate_request_context;
    std::vector<CertificateEntry> certificate_list;  // the end-entity certificate first

    Bytes encode() const;
    static Certificate decode(BytesView body);
    Fields describe() const;
    bool operator==(const Certificate&) const = default;
};
// ANCHOR_END: Certificate

// ANCHOR: CertificateVerify
// §4.4.3:
//   struct {
//       SignatureScheme algorithm;
//       opaque signature<0..2^16-1>;
//   } CertificateVerify;
struct CertificateVerify {
    static constexpr HandshakeType msg_type = HandshakeType::certificate_verify;

    SignatureScheme algorithm{};
    Bytes signature;

    Bytes encode() const;
    static CertificateVerify decode(BytesView body);
    Fields describe() const;
    bool operator==(const CertificateVerify&) const = default;
};

// §4.4.3: what the signature covers — 64 spaces (0x20), the context string
// "TLS 1.3, server CertificateVerify" (or client), a 0 byte, then Transcript-Hash.
Bytes certificate_verify_content(bool server, BytesView transcript_hash);
// ANCHOR_END: CertificateVerify

// ANCHOR: Finished
// §4.4.4:
//   struct {
//       opaque verify_data[Hash.length];
//   } Finished;
// Hash.length comes from the cipher suite, so decode needs it.
struct Finished {
    static constexpr HandshakeType msg_type = HandshakeType::finished;

    Bytes verify_data;

    Bytes encode() const;
    static Finished decode(BytesView body, std::size_t hash_length);
    Fields describe() const;
    bool operator==(const Finished&) const = default;
};
// ANCHOR_END: Finished

// ---- §4.5, §4.6 End of Early Data, Post-Handshake Messages -------------------------------

// §4.5:  struct {} EndOfEarlyData;
struct EndOfEarlyData {
    static constexpr HandshakeType msg_type = HandshakeType::end_of_early_data;

    Bytes encode() const { return {}; }
    static EndOfEarlyData decode(BytesView body);
    Fields describe() const { return {}; }
    bool operator==(const EndOfEarlyData&) const = default;
};

// ANCHOR: NewSessionTicket
// §4.6.1:
//   struct {
//       uint32 ticket_lifetime;
//       uint32 ticket_age_add;
//       opaque ticket_nonce<0..255>;
//       opaque ticket<1..2^16-1>;
//       Extension extensions<0..2^16-2>;
//   } NewSessionTicket;
struct NewSessionTicket {
    static constexpr HandshakeType msg_type = HandshakeType::new_session_ticket;

    std::uint32_t ticket_lifetime = 0;  // seconds; at most 604800 (7 days)
    std::uint32_t ticket_age_add = 0;
    Bytes ticket_nonce;
    Bytes ticket;
    std::vector<Extension> extensions;

    Bytes encode() const;
    static NewSessionTicket decode(BytesView body);
    Fields describe() const;
    bool operator==(const NewSessionTicket&) const = default;

    std::optional<std::uint32_t> max_early_data_size() const;  // the early_data extension
};
// ANCHOR_END: NewSessionTicket

// §4.6.3:
//   enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest;
//   struct { KeyUpdateRequest request_update; } KeyUpdate;
enum class KeyUpdateRequest : std::uint8_t { update_not_requested = 0, update_requested = 1 };

struct KeyUpdate {
    static constexpr HandshakeType msg_type = HandshakeType::key_update;

    KeyUpdateRequest request_update = KeyUpdateRequest::update_not_requested;

    Bytes encode() const;
    static KeyUpdate decode(BytesView body);  // any other value: illegal_parameter
    Fields describe() const;
    bool operator==(const KeyUpdate&) const = default;
};

// ---- §4 Handshake framing ----------------------------------------------------------------

// ANCHOR: Handshake
// §4:
//   struct {
//       HandshakeType msg_type;    /* handshake type */
//       uint24 length;             /* remaining bytes in message */
//       select (Handshake.msg_type) { case client_hello: ClientHello; ... };
//   } Handshake;
// The whole of it (header and body) is what the transcript hash takes (§4.4.1).
struct Handshake {
    HandshakeType msg_type{};
    Bytes body;

    Bytes encode() const;
    static Handshake decode(BytesView message);  // exactly one whole message
    bool operator==(const Handshake&) const = default;
};
// ANCHOR_END: Handshake

Bytes encode_handshake(HandshakeType msg_type, BytesView body);

// encode_handshake(client_hello): header and body of any message type above.
template <class Message>
Bytes encode_handshake(const Message& message) {
    return encode_handshake(Message::msg_type, message.encode());
}

}  // namespace tls
