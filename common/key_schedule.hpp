// common/key_schedule.hpp — introduced in chapter 05 (key schedule).
// RFC 8446 §7.1 (the key schedule), §7.2 (traffic key update), §7.3 (traffic keys),
// §4.4.4 (Finished), §4.6.1 (resumption PSK).
//
// The schedule is a chain of HKDF-Extract steps, each followed by Derive-Secret calls:
//
//              0
//              |
//              v
//    PSK ->  HKDF-Extract = Early Secret      -> binder_key, c e traffic, e exp master
//              |
//              v
//        Derive-Secret(., "derived", "")
//              |
//              v
//    (EC)DHE -> HKDF-Extract = Handshake Secret -> c hs traffic, s hs traffic
//              |
//              v
//        Derive-Secret(., "derived", "")
//              |
//              v
//    0 -> HKDF-Extract = Master Secret        -> c ap traffic, s ap traffic,
//                                                 exp master, res master
//
// The types carry that order (as rustls does): a HandshakeSecret only comes out of
// EarlySecret::mix_shared_secret, a MasterSecret only out of
// HandshakeSecret::derive_master_secret. So code that needs handshake traffic secrets
// cannot run before the shared secret is mixed in, and no stage can be skipped.
#pragma once

#include "bytes.hpp"
#include "crypto.hpp"
#include "enums.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace tls {

// ANCHOR: SuiteInfo
// What a cipher suite means to the key schedule and the record layer (§B.4).
struct SuiteInfo {
    CipherSuite suite;
    HashAlg hash;
    AeadAlg aead;
    std::size_t key_length;
    std::size_t iv_length = 12;
};
// nullptr for a suite we do not implement (we implement 0x1301, 0x1302, 0x1303).
const SuiteInfo* suite_info(CipherSuite);
// ANCHOR_END: SuiteInfo

// ANCHOR: hkdf_expand_label
// RFC 8446 §7.1:
//   HKDF-Expand-Label(Secret, Label, Context, Length) =
//        HKDF-Expand(Secret, HkdfLabel, Length)
//   struct {
//       uint16 length = Length;
//       opaque label<7..255> = "tls13 " + Label;
//       opaque context<0..255> = Context;
//   } HkdfLabel;
Secret hkdf_expand_label(HashAlg, BytesView secret, std::string_view label, BytesView context, std::size_t length);
// ANCHOR_END: hkdf_expand_label
// The same with the secret already keyed as an HMAC key, for several labels from one secret.
Secret hkdf_expand_label(const Hmac& secret, std::string_view label, BytesView context, std::size_t length);

// ANCHOR: derive_secret
// RFC 8446 §7.1:
//   Derive-Secret(Secret, Label, Messages) =
//        HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length)
// Takes the transcript hash already computed (TranscriptHash::current()).
Secret derive_secret(HashAlg, BytesView secret, std::string_view label, BytesView transcript_hash);
// ANCHOR_END: derive_secret

// ANCHOR: traffic_keys
// RFC 8446 §7.3:
//   [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
//   [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
struct TrafficKeys {
    Secret key;
    Secret iv;
};
TrafficKeys traffic_keys(const SuiteInfo&, BytesView traffic_secret);
// ANCHOR_END: traffic_keys

// ANCHOR: traffic_secret_sides
// §7.1 derives every traffic secret twice, once per sender: client_*_traffic_secret
// protects what the client writes, server_*_traffic_secret what the server writes. The
// two types keep them apart: the record layer installs a ClientTrafficSecret as its write
// keys on the client and as its read keys on the server (RecordLayer::install), so a
// client/server swap does not compile. Both are still a Secret for everything else.
struct ClientTrafficSecret : Secret {
    ClientTrafficSecret() = default;
    explicit ClientTrafficSecret(Secret s) : Secret(std::move(s)) {}
};
struct ServerTrafficSecret : Secret {
    ServerTrafficSecret() = default;
    explicit ServerTrafficSecret(Secret s) : Secret(std::move(s)) {}
};
// ANCHOR_END: traffic_secret_sides

// RFC 8446 §7.2:
//   application_traffic_secret_N+1 =
//       HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
Secret next_traffic_secret(HashAlg, BytesView current);

// ANCHOR: finished_verify_data
// RFC 8446 §4.4.4:
//   finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)
//   verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*))
// base_key is the sender's *_handshake_traffic_secret (or a binder_key, §4.2.11.2).
// Compare a received one with constant_time_equal.
Bytes finished_verify_data(HashAlg, BytesView base_key, BytesView transcript_hash);
// ANCHOR_END: finished_verify_data

// RFC 8446 §4.6.1:
//   HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
// The PSK a NewSessionTicket makes, for EarlySecret on the next connection.
Secret resumption_psk(HashAlg, BytesView resumption_master_secret, BytesView ticket_nonce);

class HandshakeSecret;
class MasterSecret;

// ANCHOR: EarlySecret
// Early Secret = HKDF-Extract(salt = 0, IKM = PSK), where both default to Hash.length
// zero bytes when there is no PSK (§7.1: "If a given secret is not available, then the
// 0-value consisting of a string of Hash.length bytes set to zeros is used").
class EarlySecret {
public:
    explicit EarlySecret(HashAlg, BytesView psk = {});
    const Secret& secret() const { return secret_; }
    HashAlg hash() const { return hash_; }

    // Derive-Secret(., "ext binder" | "res binder", "") (§4.2.11.2: the binder's BaseKey)
    Secret external_binder_key() const;
    Secret resumption_binder_key() const;
    // Derive-Secret(., "c e traffic", ClientHello) and (., "e exp master", ClientHello)
    ClientTrafficSecret client_early_traffic_secret(BytesView client_hello_transcript_hash) const;
    Secret early_exporter_master_secret(BytesView client_hello_transcript_hash) const;

    // Handshake Secret = HKDF-Extract(salt = Derive-Secret(., "derived", ""), IKM = (EC)DHE)
    HandshakeSecret mix_shared_secret(BytesView ecdhe) const;

private:
    HashAlg hash_;
    Secret secret_;
};
// ANCHOR_END: EarlySecret

// ANCHOR: HandshakeSecret
class HandshakeSecret {
public:
    const Secret& secret() const { return secret_; }
    HashAlg hash() const { return hash_; }

    // Derive-Secret(., "c hs traffic" | "s hs traffic", ClientHello...ServerHello)
    ClientTrafficSecret client_handshake_traffic_secret(BytesView hello_transcript_hash) const;
    ServerTrafficSecret server_handshake_traffic_secret(BytesView hello_transcript_hash) const;

    // Master Secret = HKDF-Extract(salt = Derive-Secret(., "derived", ""), IKM = 0)
    MasterSecret derive_master_secret() const;

private:
    friend class EarlySecret;
    HandshakeSecret(HashAlg hash, Secret secret) : hash_(hash), secret_(std::move(secret)) {}
    HashAlg hash_;
    Secret secret_;
};
// ANCHOR_END: HandshakeSecret

// ANCHOR: MasterSecret
class MasterSecret {
public:
    const Secret& secret() const { return secret_; }
    HashAlg hash() const { return hash_; }

    // Derive-Secret(., label, ClientHello...server Finished)
    ClientTrafficSecret client_application_traffic_secret_0(BytesView transcript_through_server_finished) const;  // "c ap traffic"
    ServerTrafficSecret server_application_traffic_secret_0(BytesView transcript_through_server_finished) const;  // "s ap traffic"
    Secret exporter_master_secret(BytesView transcript_through_server_finished) const;               // "exp master"
    // Derive-Secret(., "res master", ClientHello...client Finished)
    Secret resumption_master_secret(BytesView transcript_through_client_finished) const;

private:
    friend class HandshakeSecret;
    MasterSecret(HashAlg hash, Secret secret) : hash_(hash), secret_(std::move(secret)) {}
    HashAlg hash_;
    Secret secret_;
};
// ANCHOR_END: MasterSecret

}  // namespace tls
