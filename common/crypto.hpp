// common/crypto.hpp — introduced in chapter 03 (random bytes, the client's key share), grown in 04–07;
// the cryptographic primitives every chapter calls, on one page.
//
// RFC 8446 names the primitives and leaves them to other RFCs: SHA-256/384 for the
// transcript (§4.4.1), HMAC and HKDF (RFC 2104, RFC 5869) for the key schedule (§7.1),
// X25519 and P-256 for key exchange (§4.2.8.2, §7.4), AES-GCM and ChaCha20-Poly1305
// for records (§5.2, RFC 5116), and signatures and certificates for authentication
// (§4.2.3, §4.4.2, §4.4.3).
//
// This pair of files is the only place that includes Botan: everything else calls the
// small named functions below. The one Botan type here is secure_vector, which zeroes
// its memory when freed: secrets live in it (`Secret`).
// Botan's exceptions never escape: they come out as AlertError (a peer sent something
// bad) or std::runtime_error (a local problem, such as a missing key file).
#pragma once

#include "alert.hpp"
#include "bytes.hpp"
#include "enums.hpp"

#include <botan/secmem.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tls {

using Secret = Botan::secure_vector<std::uint8_t>;  // secrets live here (zeroed on free)

// Random bytes from the operating system (ClientHello.random, ephemeral keys).
Bytes random_bytes(std::size_t n);

// ---- Hashes (§4.4.1) --------------------------------------------------------------

enum class HashAlg { sha256, sha384 };
std::size_t hash_length(HashAlg);  // Hash.length: 32 or 48
Bytes hash(HashAlg, BytesView data);

// ANCHOR: transcript_hash
// RFC 8446 §4.4.1: Transcript-Hash(M1, M2, ... Mn) = Hash(M1 || M2 || ... || Mn),
// over each handshake message with its 4-byte header, without record headers.
// It is read at several points of the handshake while messages keep coming, so
// current() hashes a copy of the state and the running hash goes on.
class TranscriptHash {
public:
    explicit TranscriptHash(HashAlg);
    ~TranscriptHash();
    TranscriptHash(TranscriptHash&&) noexcept;
    TranscriptHash& operator=(TranscriptHash&&) noexcept;

    void update(BytesView handshake_message_bytes);
    Bytes current() const;  // hash of everything so far, without finishing
    // Chapter 14: an independent copy of the running hash. Post-handshake authentication
    // (§4.4.1) hashes "ClientHello ... client Finished + CertificateRequest" for each request:
    // each starts from a copy of the handshake's transcript.
    TranscriptHash copy() const;
    HashAlg alg() const { return alg_; }

    // Chapter 10, §4.4.1: "When the server responds to a ClientHello with a
    // HelloRetryRequest, the value of ClientHello1 is replaced with a special synthetic
    // handshake message of handshake type "message_hash" containing Hash(ClientHello1)."
    // Call it with ClientHello1 (and nothing else) in the transcript; it then holds
    //   message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)
    // and the HelloRetryRequest comes next.
    void restart_with_message_hash();
    // The same for a server that kept only Hash(ClientHello1), in a cookie (§4.2.2).
    void restart_with_message_hash(BytesView client_hello1_hash);

private:
    struct Impl;
    HashAlg alg_;
    std::unique_ptr<Impl> impl_;
};
// ANCHOR_END: transcript_hash

// ---- HMAC and HKDF (RFC 2104, RFC 5869; used by §7.1 and §4.4.4) -------------------

// ANCHOR: hkdf
Secret hmac(HashAlg, BytesView key, BytesView data);
// RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM). An empty salt means HashLen zeros.
Secret hkdf_extract(HashAlg, BytesView salt, BytesView ikm);
// RFC 5869 §2.3: OKM = first L octets of T(1) | T(2) | ..., T(i) = HMAC(PRK, T(i-1) | info | i).
Secret hkdf_expand(HashAlg, BytesView prk, BytesView info, std::size_t length);
// ANCHOR_END: hkdf

// One HMAC key for several messages (HKDF-Expand runs one per output block, and the key
// schedule expands one secret into two or three, §7.1, §7.3). RFC 2104:
// HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)). The padded keys are made once and one
// hash object is reused, so a message costs its hash blocks and no allocation. Like
// PrivateKey::sign, mac() is const but uses that object: one Hmac, one thread at a time.
class Hmac {
public:
    Hmac(HashAlg, BytesView key);
    ~Hmac();
    Hmac(const Hmac&);
    Hmac& operator=(const Hmac&);
    Hmac(Hmac&&) noexcept;
    Hmac& operator=(Hmac&&) noexcept;

    // HMAC(key, parts[0] || parts[1] || ...)
    Secret mac(std::initializer_list<BytesView> parts) const;
    Secret mac(BytesView data) const { return mac({data}); }
    HashAlg alg() const { return alg_; }

private:
    struct Impl;
    HashAlg alg_;
    std::unique_ptr<Impl> impl_;
};
// hkdf_expand with the PRK already keyed.
Secret hkdf_expand(const Hmac& prk, BytesView info, std::size_t length);

// Compares in time that depends only on the length (Finished, binders: §4.4.4).
bool constant_time_equal(BytesView a, BytesView b);

// ---- Key exchange (§4.2.8.2, §7.4) -------------------------------------------------

// ANCHOR: key_exchange
struct KeyPair {
    Bytes public_key;    // what goes into KeyShareEntry.key_exchange
    Secret private_key;  // X25519: 32 bytes; P-256: the 32-byte scalar
};

KeyPair x25519_keypair();
KeyPair x25519_keypair_from_private(BytesView private_key);  // fixed keys, for RFC 8448 tests
// X25519(private, peer). Throws AlertError{illegal_parameter} if the peer's key is not
// 32 bytes or the result is all zeros (a low-order point, §7.4.2).
Secret x25519(BytesView private_key, BytesView peer_public);

// public_key = the uncompressed point 0x04 || X || Y, 65 bytes (§4.2.8.2).
KeyPair p256_keypair();
KeyPair p256_keypair_from_private(BytesView private_key);  // fixed keys (the 32-byte scalar), for RFC 8448
// Throws AlertError{illegal_parameter} if the peer's point is not 65 bytes, not
// uncompressed or not on the curve (§4.2.8.2). The result is the X coordinate (§7.4.2).
Secret p256_ecdh(BytesView private_key, BytesView peer_public);
// ANCHOR_END: key_exchange

// ---- AEAD (§5.2, RFC 5116) ---------------------------------------------------------

enum class AeadAlg { aes_128_gcm, aes_256_gcm, chacha20_poly1305 };
inline constexpr std::size_t aead_iv_length = 12;   // all three: 96-bit nonce (§5.3)
inline constexpr std::size_t aead_tag_length = 16;  // all three: 128-bit tag
std::size_t aead_key_length(AeadAlg);                // 16 or 32
std::string aead_name(AeadAlg);                      // "AES-128-GCM", for traces

// One AEAD key, set up once and used for many messages. A connection seals or opens
// every record under the same key with a fresh nonce (§5.3), and setting a key up (the
// cipher object, AES's key schedule, GHASH's tables) costs more than a small record.
// Throws std::invalid_argument if the key or a nonce has the wrong length.
class Aead {
public:
    Aead(AeadAlg alg, BytesView key);
    ~Aead();
    Aead(Aead&&) noexcept;
    Aead& operator=(Aead&&) noexcept;

    // Returns ciphertext || tag.
    Bytes seal(BytesView nonce, BytesView aad, BytesView plaintext);
    // nullopt if the input is shorter than a tag or does not authenticate; the plaintext
    // is only handed out once the tag has been checked.
    std::optional<Bytes> open(BytesView nonce, BytesView aad, BytesView ciphertext_and_tag);

    // The same without copying a record: seal_in_place encrypts buffer[offset..] where it is
    // and appends the tag; open_in_place decrypts buffer (ciphertext || tag) where it is and
    // drops the tag, or returns false and zeroes the buffer if it does not authenticate.
    void seal_in_place(BytesView nonce, BytesView aad, Bytes& buffer, std::size_t offset);
    bool open_in_place(BytesView nonce, BytesView aad, Bytes& buffer);

    AeadAlg alg() const { return alg_; }

private:
    struct Impl;
    AeadAlg alg_;
    std::unique_ptr<Impl> impl_;
};

// One message under a key used once (tests, vectors): Aead(alg, key).seal(...) / .open(...).
Bytes aead_seal(AeadAlg, BytesView key, BytesView nonce, BytesView aad, BytesView plaintext);
std::optional<Bytes> aead_open(AeadAlg, BytesView key, BytesView nonce, BytesView aad,
                               BytesView ciphertext_and_tag);

// ---- Signatures (§4.2.3, §4.4.3) ---------------------------------------------------

class PrivateKey {
public:
    // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", as `openssl genpkey` writes).
    // Throws std::runtime_error saying which file and what was wrong.
    static PrivateKey load_pem_file(const std::string& path);
    static PrivateKey load_pem(std::string_view pem);

    ~PrivateKey();
    PrivateKey(PrivateKey&&) noexcept;
    PrivateKey& operator=(PrivateKey&&) noexcept;

    // ECDSA P-256 -> {ecdsa_secp256r1_sha256} (likewise P-384, P-521);
    // RSA -> {rsa_pss_rsae_sha256, rsa_pss_rsae_sha384, rsa_pss_rsae_sha512};
    // Ed25519 -> {ed25519}.
    const std::vector<SignatureScheme>& schemes() const;
    std::string algorithm() const;  // "ECDSA P-256", "RSA-2048", "Ed25519"
    // ECDSA signatures come out DER-encoded, as TLS sends them. Throws
    // std::invalid_argument if `scheme` is not one of schemes(). Keeps a signer per scheme
    // from one call to the next, so one key must not sign in two threads at once.
    // `pss_salt` (RSA-PSS only, as long as the hash, §4.2.3): the salt to use instead of a
    // fresh random one. Only --rfc8448 gives one: the salt recover_pss_salt() read out of
    // the RFC's signature, so that ours comes out identical (see common/rfc8448.hpp).
    Bytes sign(SignatureScheme scheme, BytesView message, const std::optional<Bytes>& pss_salt = std::nullopt) const;

private:
    struct Impl;
    explicit PrivateKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Verifies `signature` over `message` with the leaf certificate's public key. False when
// it does not verify, the scheme does not fit the key (TLS 1.3 allows no RSA PKCS#1
// v1.5 here, §4.4.3) or the certificate cannot be read. ECDSA signatures are DER;
// RSA-PSS uses MGF1 with the same hash and a salt as long as the hash (§4.2.3).
bool verify_signature(BytesView leaf_der, SignatureScheme scheme, BytesView message,
                      BytesView signature);
// The salt inside an RSA-PSS signature (RFC 8017 §9.1), read with the public key alone: once
// the signature verifies, s^e mod n is the encoded message EM = maskedDB || H || 0xbc, and
// maskedDB XOR MGF1(H) is DB = 00 ... 00 01 || salt. A salt is random, not secret: it makes
// each signature of the same message different. Throws AlertError{decrypt_error} if the
// signature does not verify, std::invalid_argument if `scheme` is not rsa_pss_rsae_*.
Bytes recover_pss_salt(BytesView leaf_der, SignatureScheme scheme, BytesView message, BytesView signature);
// The schemes verify_signature accepts for this certificate's key.
// Throws AlertError{bad_certificate} if the certificate cannot be read.
std::vector<SignatureScheme> schemes_for_certificate(BytesView leaf_der);

// ---- Certificates (§4.4.2, §4.4.2.4) -----------------------------------------------

// The DER of each "CERTIFICATE" block in a PEM file, in file order (leaf first).
// Throws std::runtime_error if the file cannot be read or holds no certificate.
std::vector<Bytes> load_certificate_chain_pem_file(const std::string& path);

// Validates a chain (leaf first) against the trust anchors in a PEM bundle file, at time
// `now`, for `server_name`: a DNS name, or an IP address literal that must match an IP
// SAN (IPv4 only: Botan 2 ignores IPv6 SANs). An empty server_name skips the name check.
// The leaf must be usable for TLS server authentication (keyUsage, extendedKeyUsage).
// Throws AlertError saying in plain words what was wrong:
//   certificate_expired      a certificate is expired or not yet valid
//   unknown_ca               no path to a trust anchor
//   bad_certificate          a bad signature in the chain, a malformed certificate, the
//                            name does not match, an empty chain
//   unsupported_certificate  an unknown algorithm or critical extension, a weak hash
//   internal_error           the trust anchor file cannot be read (our problem, not the peer's)
void validate_certificate_chain(const std::vector<Bytes>& chain_der,
                                const std::string& trust_anchor_pem_file,
                                const std::string& server_name,
                                std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Chapter 14: the same rules for a client's chain (§4.4.2.4), without a name to match; the
// leaf must be usable for TLS client authentication (extendedKeyUsage clientAuth, if it has one).
void validate_client_certificate_chain(const std::vector<Bytes>& chain_der, const std::string& trust_anchor_pem_file,
                                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Chapter 15: whether a certificate is for this DNS name (its SANs, as validation matches them);
// false for a certificate that cannot be read. Servers pick among their certificates with it
// by the client's server_name (RFC 6066 §3).
bool certificate_matches_name(BytesView der, std::string_view dns_name);

// One line for traces: "subject CN=localhost, issuer CN=tls-by-hand test CA,
// valid 2026-01-01 .. 2036-01-01, key ECDSA P-256". Never throws: a certificate that
// cannot be read gives "malformed certificate (<why>)".
std::string describe_certificate(BytesView der);

}  // namespace tls
