// common/crypto.cpp — introduced in chapter 03 (random bytes, the client's key share), grown in 04–07;
// the cryptographic primitives every chapter calls, on one page.
// RFC 8446 §4.2.3, §4.2.8.2, §4.4.1-§4.4.3, §5.2, §7.1, §7.4; RFC 5869 (HKDF).
// The only file that talks to Botan 2: each function is a few Botan calls, with
// Botan's exceptions turned into AlertError or std::runtime_error.
#include "crypto.hpp"

#include <botan/aead.h>
#include <botan/bigint.h>
#include <botan/certstor.h>
#include <botan/curve25519.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/ecdh.h>
#include <botan/exceptn.h>
#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/mgf1.h>
#include <botan/numthry.h>
#include <botan/pem.h>
#include <botan/pk_keys.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/rng.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>

#include <fmt/format.h>

#include <arpa/inet.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace tls {

namespace {

// The callers put the file's name and role in front of the reason.
std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

// RFC8446 C.1-1
Bytes random_bytes(std::size_t n) {
    Bytes out(n);
    Botan::system_rng().randomize(out.data(), out.size());
    return out;
}

// ---- Hashes ---------------------------------------------------------------------------

namespace {

// Botan finds a hash function by parsing its name, which costs more than hashing a short
// message. So each is made by name once; every hash object after that is a clone. The
// prototypes are never changed (clone() is const), so sharing them is safe.
const Botan::HashFunction& hash_prototype(HashAlg alg) {
    static const auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    static const auto sha384 = Botan::HashFunction::create_or_throw("SHA-384");
    return alg == HashAlg::sha256 ? *sha256 : *sha384;
}

std::unique_ptr<Botan::HashFunction> new_hash(HashAlg alg) {
    return std::unique_ptr<Botan::HashFunction>(hash_prototype(alg).clone());
}
}  // namespace

std::size_t hash_length(HashAlg alg) { return alg == HashAlg::sha256 ? 32 : 48; }

Bytes hash(HashAlg alg, BytesView data) {
    auto h = new_hash(alg);
    h->update(data.data(), data.size());
    Bytes out(hash_length(alg));
    h->final(out.data());
    return out;
}

struct TranscriptHash::Impl {
    std::unique_ptr<Botan::HashFunction> running;
};

TranscriptHash::TranscriptHash(HashAlg alg) : alg_(alg), impl_(std::make_unique<Impl>(Impl{new_hash(alg)})) {}
TranscriptHash::~TranscriptHash() = default;
TranscriptHash::TranscriptHash(TranscriptHash&&) noexcept = default;
TranscriptHash& TranscriptHash::operator=(TranscriptHash&&) noexcept = default;

TranscriptHash TranscriptHash::copy() const {
    TranscriptHash other(alg_);
    other.impl_->running = impl_->running->copy_state();
    return other;
}

void TranscriptHash::update(BytesView handshake_message_bytes) {
    impl_->running->update(handshake_message_bytes.data(), handshake_message_bytes.size());
}

Bytes TranscriptHash::current() const {
    // Finishing a hash resets it, so finish a copy: the transcript keeps growing.
    Bytes out(hash_length(alg_));
    impl_->running->copy_state()->final(out.data());
    return out;
}

// ANCHOR: restart_with_message_hash
void TranscriptHash::restart_with_message_hash() { restart_with_message_hash(current()); }

void TranscriptHash::restart_with_message_hash(BytesView client_hello1_hash) {
    if (client_hello1_hash.size() != hash_length(alg_))
        throw std::invalid_argument("restart_with_message_hash: not a hash of this transcript's algorithm");
    const Bytes hash_of_client_hello1(client_hello1_hash.begin(), client_hello1_hash.end());
    impl_->running->clear();
    // §4 Handshake header: msg_type message_hash(254), uint24 length = Hash.length.
    const std::uint8_t header[4] = {254, 0, 0, static_cast<std::uint8_t>(hash_of_client_hello1.size())};
    update(header);
    update(hash_of_client_hello1);
}
// ANCHOR_END: restart_with_message_hash

// ---- HMAC and HKDF --------------------------------------------------------------------

// RFC 2104 §2: "(1) append zeros to the end of K to create a B byte string [...] (2) XOR
// [it] with ipad", ipad = 0x36 and opad = 0x5C repeated B times; "Applications that use
// keys longer than B bytes will first hash the key using H". The two padded key blocks are
// made once; each message then runs one hash object over both, reset in between, so a
// message costs no allocation at all.
struct Hmac::Impl {
    Secret pads;                                // K ^ ipad, then K ^ opad: B bytes each
    std::unique_ptr<Botan::HashFunction> hash;  // scratch: reset for every use
};

Hmac::Hmac(HashAlg alg, BytesView key) : alg_(alg), impl_(std::make_unique<Impl>()) {
    impl_->hash = new_hash(alg);
    const std::size_t b = impl_->hash->hash_block_size();  // B: 64 for SHA-256, 128 for SHA-384
    impl_->pads.assign(2 * b, 0);
    std::uint8_t* ipad = impl_->pads.data();
    std::uint8_t* opad = ipad + b;
    if (key.size() > b) {
        impl_->hash->update(key.data(), key.size());
        impl_->hash->final(ipad);
    } else {
        std::copy(key.begin(), key.end(), ipad);
    }
    for (std::size_t i = 0; i < b; ++i) {
        opad[i] = ipad[i] ^ 0x5c;
        ipad[i] ^= 0x36;
    }
}
Hmac::~Hmac() = default;
Hmac::Hmac(const Hmac& other)
    : alg_(other.alg_), impl_(std::make_unique<Impl>(Impl{other.impl_->pads, new_hash(other.alg_)})) {}
Hmac& Hmac::operator=(const Hmac& other) {
    if (this != &other) *this = Hmac(other);
    return *this;
}
Hmac::Hmac(Hmac&&) noexcept = default;
Hmac& Hmac::operator=(Hmac&&) noexcept = default;

Secret Hmac::mac(std::initializer_list<BytesView> parts) const {
    auto& h = *impl_->hash;
    const std::size_t b = impl_->pads.size() / 2;
    Secret digest(hash_length(alg_));
    h.update(impl_->pads.data(), b);  // K ^ ipad
    for (auto part : parts) h.update(part.data(), part.size());
    h.final(digest.data());  // H((K ^ ipad) || m); final() also resets the hash
    h.update(impl_->pads.data() + b, b);  // K ^ opad
    h.update(digest);
    h.final(digest.data());  // H((K ^ opad) || H((K ^ ipad) || m))
    return digest;
}

Secret hmac(HashAlg alg, BytesView key, BytesView data) { return Hmac(alg, key).mac(data); }

// RFC 5869 §2.2:  PRK = HMAC-Hash(salt, IKM)
//   salt: optional salt value; if not provided, it is set to a string of HashLen zeros.
Secret hkdf_extract(HashAlg alg, BytesView salt, BytesView ikm) {
    const Bytes zeros(hash_length(alg), 0);
    return hmac(alg, salt.empty() ? BytesView(zeros) : salt, ikm);
}

// RFC 5869 §2.3:  N = ceil(L/HashLen);  T = T(1) | T(2) | T(3) | ... | T(N)
//   T(0) = empty string;  T(i) = HMAC-Hash(PRK, T(i-1) | info | i);  OKM = first L octets of T
Secret hkdf_expand(const Hmac& prk, BytesView info, std::size_t length) {
    if (length > 255 * hash_length(prk.alg()))
        throw std::invalid_argument("hkdf_expand: length > 255 * HashLen (RFC 5869 §2.3)");
    Secret okm;
    okm.reserve(length + hash_length(prk.alg()));
    Secret t;  // T(i-1)
    for (std::uint8_t i = 1; okm.size() < length; ++i) {
        const std::uint8_t counter[1] = {i};
        t = prk.mac({BytesView(t), info, BytesView(counter)});
        okm.insert(okm.end(), t.begin(), t.end());
    }
    okm.resize(length);
    return okm;
}

Secret hkdf_expand(HashAlg alg, BytesView prk, BytesView info, std::size_t length) {
    return hkdf_expand(Hmac(alg, prk), info, length);
}

bool constant_time_equal(BytesView a, BytesView b) {
    // The lengths are public (Hash.length); only the contents must not leak through timing.
    return a.size() == b.size() && Botan::constant_time_compare(a.data(), b.data(), a.size());
}

// ---- Key exchange ---------------------------------------------------------------------

namespace {

// "Raw": the bare Diffie-Hellman output, no KDF; TLS feeds it to HKDF itself (§7.1).
Secret agree(const Botan::Private_Key& mine, BytesView peer_public) {
    Botan::PK_Key_Agreement ka(mine, Botan::system_rng(), "Raw");
    return ka.derive_key(0, peer_public.data(), peer_public.size()).bits_of();
}

// Botan caches the curve's parameters: constructing a group by name is cheap.
Botan::EC_Group p256() { return Botan::EC_Group("secp256r1"); }

}  // namespace

KeyPair x25519_keypair() {
    Secret private_key(32);  // any 32 bytes: X25519 clamps them itself (RFC 7748 §5)
    Botan::system_rng().randomize(private_key.data(), private_key.size());
    return x25519_keypair_from_private(private_key);
}

// RFC 7748 §6.1: the public key is X25519(private, 9), 9 being the base point's u-coordinate.
KeyPair x25519_keypair_from_private(BytesView private_key) {
    if (private_key.size() != 32) throw std::invalid_argument("x25519 private key must be 32 bytes");
    Bytes public_key(32);
    Botan::curve25519_basepoint(public_key.data(), private_key.data());
    return {std::move(public_key), Secret(private_key.begin(), private_key.end())};
}

// RFC8446 7.4.2-3
// RFC8446 7.4.2-2
// RFC8446 6-7
// RFC 8446 §7.4.2, for X25519 and X448: "For these curves, implementations SHOULD use the
// approach specified in [RFC7748] to calculate the Diffie-Hellman shared secret.
// Implementations MUST check whether the computed Diffie-Hellman shared secret is the all-zero
// value and abort if so".
Secret x25519(BytesView private_key, BytesView peer_public) {
    if (private_key.size() != 32) throw std::invalid_argument("x25519 private key must be 32 bytes");
    if (peer_public.size() != 32)
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("x25519 key share is {} bytes, not 32", peer_public.size()));
    // One scalar multiplication, X25519(private, peer) itself: a Botan key object would first
    // compute our own public key, a second multiplication that costs as much and is not needed.
    Secret shared(32);
    Botan::curve25519_donna(shared.data(), private_key.data(), peer_public.data());
    std::uint8_t any = 0;
    for (auto b : shared) any |= b;  // no early exit: do not leak where the first 1 bit is
    if (any == 0)
        throw AlertError(AlertDescription::illegal_parameter,
                         "x25519 shared secret is all zeros: the peer sent a low-order point (RFC 8446 §7.4.2)");
    return shared;
}

KeyPair p256_keypair() {
    Botan::ECDH_PrivateKey key(Botan::system_rng(), p256());
    // §4.2.8.2:  struct { uint8 legacy_form = 4; opaque X[coordinate_length];
    //                     opaque Y[coordinate_length]; } UncompressedPointRepresentation;
    return {key.public_value(Botan::PointGFp::UNCOMPRESSED), Botan::BigInt::encode_1363(key.private_value(), 32)};
}

KeyPair p256_keypair_from_private(BytesView private_key) {
    if (private_key.size() != 32) throw std::invalid_argument("P-256 private key must be 32 bytes");
    Botan::ECDH_PrivateKey key(Botan::system_rng(), p256(), Botan::BigInt(private_key.data(), private_key.size()));
    return {key.public_value(Botan::PointGFp::UNCOMPRESSED), Secret(private_key.begin(), private_key.end())};
}

// RFC8446 4.2.8.2-1
// RFC 8446 §4.2.8.2: "For the curves secp256r1, secp384r1, and secp521r1, peers MUST validate
// each other's public value Q by ensuring that the point is a valid point on the elliptic curve." §7.4.2: "the shared secret is the
// x-coordinate of the ECDH shared secret elliptic curve point".
Secret p256_ecdh(BytesView private_key, BytesView peer_public) {
    if (private_key.size() != 32) throw std::invalid_argument("P-256 private key must be 32 bytes");
    if (peer_public.size() != 65 || peer_public[0] != 0x04)
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("secp256r1 key share must be an uncompressed point (65 bytes, 0x04 first), "
                                     "got {} bytes{}",
                                     peer_public.size(),
                                     peer_public.empty() ? "" : fmt::format(" starting 0x{:02x}", peer_public[0])));
    Botan::ECDH_PrivateKey key(Botan::system_rng(), p256(), Botan::BigInt(private_key.data(), private_key.size()));
    Secret shared;
    try {
        shared = agree(key, peer_public);  // Botan decodes the point and checks it is on the curve
    } catch (const Botan::Exception& e) {
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("secp256r1 key share is not a point on the curve ({})", e.what()));
    }
    // RFC8446 7.4.2-1
    // §7.4.2: Z "has constant length for any given field; leading zeros found in this octet
    // string MUST NOT be truncated." Botan's "Raw" agreement encodes x as 32 bytes (FE2OSP); a
    // shorter secret would give both sides different keys one time in 256, so we make sure.
    if (shared.size() != 32)
        throw std::logic_error(fmt::format("P-256 shared secret of {} bytes, not 32: leading zeros lost", shared.size()));
    return shared;
}

// ---- AEAD -----------------------------------------------------------------------------

std::size_t aead_key_length(AeadAlg alg) { return alg == AeadAlg::aes_128_gcm ? 16 : 32; }

std::string aead_name(AeadAlg alg) {
    switch (alg) {
    case AeadAlg::aes_128_gcm: return "AES-128-GCM";
    case AeadAlg::aes_256_gcm: return "AES-256-GCM";
    case AeadAlg::chacha20_poly1305: return "ChaCha20-Poly1305";
    }
    return "unknown AEAD";
}

namespace {

const char* botan_aead_name(AeadAlg alg) {
    return alg == AeadAlg::aes_128_gcm   ? "AES-128/GCM"
           : alg == AeadAlg::aes_256_gcm ? "AES-256/GCM"
                                         : "ChaCha20Poly1305";
}

}  // namespace

// Botan's AEAD objects work in one direction, so there is one to seal and one to open,
// each made and keyed the first time it is needed: a RecordProtection only ever uses one.
struct Aead::Impl {
    AeadAlg alg;
    Secret key;
    std::unique_ptr<Botan::AEAD_Mode> sealer;
    std::unique_ptr<Botan::AEAD_Mode> opener;
    Secret tail;  // the last bytes of a message (and the tag) for finish(); kept to reuse its memory

    // The keyed mode for `dir`, ready for one message under `nonce` with `aad`.
    Botan::AEAD_Mode& start(Botan::Cipher_Dir dir, BytesView nonce, BytesView aad) {
        if (nonce.size() != aead_iv_length)
            throw std::invalid_argument(
                fmt::format("{}: nonce must be {} bytes (got {})", aead_name(alg), aead_iv_length, nonce.size()));
        auto& mode = dir == Botan::ENCRYPTION ? sealer : opener;
        if (!mode) {
            mode = Botan::AEAD_Mode::create_or_throw(botan_aead_name(alg), dir);
            mode->set_key(key);
        }
        mode->set_associated_data(aad.data(), aad.size());
        mode->start(nonce.data(), nonce.size());
        return *mode;
    }
};

Aead::Aead(AeadAlg alg, BytesView key) : alg_(alg) {
    if (key.size() != aead_key_length(alg))
        throw std::invalid_argument(
            fmt::format("{}: key must be {} bytes (got {})", aead_name(alg), aead_key_length(alg), key.size()));
    impl_ = std::make_unique<Impl>(Impl{alg, Secret(key.begin(), key.end()), nullptr, nullptr, {}});
}
Aead::~Aead() = default;
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;

// Botan's finish() takes its input in a secure_vector, which a whole record would have to
// be copied into (and zeroed, and scrubbed when freed). So the bulk of the message, whole
// multiples of update_granularity(), goes through process() in place, and only the short
// rest (and, when opening, the tag) goes through finish().
void Aead::seal_in_place(BytesView nonce, BytesView aad, Bytes& buffer, std::size_t offset) {
    if (offset > buffer.size()) throw std::invalid_argument("Aead::seal_in_place: offset past the end of the buffer");
    auto& mode = impl_->start(Botan::ENCRYPTION, nonce, aad);
    const std::size_t length = buffer.size() - offset;
    const std::size_t bulk = offset + length - length % mode.update_granularity();
    mode.process(buffer.data() + offset, bulk - offset);  // encrypts in place
    auto& tail = impl_->tail;
    tail.assign(buffer.begin() + static_cast<std::ptrdiff_t>(bulk), buffer.end());
    mode.finish(tail);  // encrypts the rest in place and appends the tag
    buffer.resize(bulk);
    buffer.insert(buffer.end(), tail.begin(), tail.end());
}

bool Aead::open_in_place(BytesView nonce, BytesView aad, Bytes& buffer) {
    if (buffer.size() < aead_tag_length) {
        buffer.clear();
        return false;
    }
    auto& mode = impl_->start(Botan::DECRYPTION, nonce, aad);
    const std::size_t length = buffer.size() - aead_tag_length;
    const std::size_t bulk = length - length % mode.update_granularity();
    // Decrypted, but not yet authenticated: zeroed below unless the tag checks.
    mode.process(buffer.data(), bulk);
    auto& tail = impl_->tail;
    tail.assign(buffer.begin() + static_cast<std::ptrdiff_t>(bulk), buffer.end());
    try {
        mode.finish(tail);  // checks the tag over the whole message, then decrypts the rest and drops the tag
    } catch (const Botan::Invalid_Authentication_Tag&) {
        Botan::secure_scrub_memory(buffer.data(), buffer.size());
        buffer.clear();
        return false;
    }
    buffer.resize(bulk);
    buffer.insert(buffer.end(), tail.begin(), tail.end());
    return true;
}

Bytes Aead::seal(BytesView nonce, BytesView aad, BytesView plaintext) {
    Bytes out;
    out.reserve(plaintext.size() + aead_tag_length);
    out.assign(plaintext.begin(), plaintext.end());
    seal_in_place(nonce, aad, out, 0);
    return out;
}

std::optional<Bytes> Aead::open(BytesView nonce, BytesView aad, BytesView ciphertext_and_tag) {
    if (ciphertext_and_tag.size() < aead_tag_length) return std::nullopt;
    Bytes out(ciphertext_and_tag.begin(), ciphertext_and_tag.end());
    if (!open_in_place(nonce, aad, out)) return std::nullopt;
    return out;
}

Bytes aead_seal(AeadAlg alg, BytesView key, BytesView nonce, BytesView aad, BytesView plaintext) {
    return Aead(alg, key).seal(nonce, aad, plaintext);
}

std::optional<Bytes> aead_open(AeadAlg alg, BytesView key, BytesView nonce, BytesView aad,
                               BytesView ciphertext_and_tag) {
    return Aead(alg, key).open(nonce, aad, ciphertext_and_tag);
}

// ---- Signatures -----------------------------------------------------------------------

namespace {

// RFC 8446 §4.2.3: which key each SignatureScheme needs, and how Botan names its padding.
//   "ECDSA algorithms: Indicates a signature algorithm using ECDSA, the corresponding curve
//    as defined in ANSI X9.62 and FIPS 186-4, and the corresponding hash algorithm"
//   "RSASSA-PSS RSAE algorithms: ... The length of the Salt MUST be equal to the length of
//    the output of the digest algorithm" (the same hash for MGF1)
//   "EdDSA algorithms: ... PureEdDSA"
// RSASSA-PKCS1-v1_5 is absent on purpose: TLS 1.3 never uses it for CertificateVerify (§4.4.3).
struct SchemeInfo {
    SignatureScheme scheme;
    std::string_view key_algorithm;  // Botan's algo_name()
    std::string_view curve;          // ECDSA only: the curve the scheme fixes
    std::string_view padding;        // Botan's EMSA name
    bool der;                        // ECDSA: the signature is a DER ECDSA-Sig-Value
};

// RFC8446 4.2.3-5, 9.1-2, 4.4.2.4-4
// RSA-PSS takes a salt as long as its hash, signing and verifying (Botan checks the salt
// length when it is given); rsa_pss_rsae_sha256 and ecdsa_secp256r1_sha256, which §9.1 makes
// mandatory, are here; every hash is SHA-256 or better.
constexpr SchemeInfo scheme_table[] = {
    {SignatureScheme::ecdsa_secp256r1_sha256, "ECDSA", "secp256r1", "EMSA1(SHA-256)", true},
    {SignatureScheme::ecdsa_secp384r1_sha384, "ECDSA", "secp384r1", "EMSA1(SHA-384)", true},
    {SignatureScheme::ecdsa_secp521r1_sha512, "ECDSA", "secp521r1", "EMSA1(SHA-512)", true},
    {SignatureScheme::rsa_pss_rsae_sha256, "RSA", "", "PSSR(SHA-256,MGF1,32)", false},
    {SignatureScheme::rsa_pss_rsae_sha384, "RSA", "", "PSSR(SHA-384,MGF1,48)", false},
    {SignatureScheme::rsa_pss_rsae_sha512, "RSA", "", "PSSR(SHA-512,MGF1,64)", false},
    {SignatureScheme::ed25519, "Ed25519", "", "Pure", false},
};

std::string curve_of(const Botan::Public_Key& key) {
    const auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key);
    return ec ? ec->domain().get_curve_oid().to_formatted_string() : "";
}

bool fits(const SchemeInfo& s, const Botan::Public_Key& key) {
    return key.algo_name() == s.key_algorithm && curve_of(key) == s.curve;
}

const SchemeInfo* scheme_for_key(SignatureScheme scheme, const Botan::Public_Key& key) {
    for (const auto& s : scheme_table)
        if (s.scheme == scheme && fits(s, key)) return &s;
    return nullptr;
}

std::vector<SignatureScheme> schemes_for_key(const Botan::Public_Key& key) {
    std::vector<SignatureScheme> out;
    for (const auto& s : scheme_table)
        if (fits(s, key)) out.push_back(s.scheme);
    return out;
}

// "ECDSA P-256", "RSA-2048", "Ed25519"
std::string describe_key(const Botan::Public_Key& key) {
    const std::string curve = curve_of(key);
    if (curve == "secp256r1") return "ECDSA P-256";
    if (curve == "secp384r1") return "ECDSA P-384";
    if (curve == "secp521r1") return "ECDSA P-521";
    if (key.algo_name() == "RSA") return fmt::format("RSA-{}", key.key_length());
    return curve.empty() ? key.algo_name() : key.algo_name() + " " + curve;
}

Botan::Signature_Format format_of(const SchemeInfo& s) {
    return s.der ? Botan::DER_SEQUENCE : Botan::IEEE_1363;
}

// RSASSA-PSS RSAE (§4.2.3): the hash, which MGF1 uses too, and the salt length, equal to it.
struct PssHash {
    std::string_view botan_name;
    std::size_t length;
};

std::optional<PssHash> pss_hash(SignatureScheme scheme) {
    switch (scheme) {
    case SignatureScheme::rsa_pss_rsae_sha256: return PssHash{"SHA-256", 32};
    case SignatureScheme::rsa_pss_rsae_sha384: return PssHash{"SHA-384", 48};
    case SignatureScheme::rsa_pss_rsae_sha512: return PssHash{"SHA-512", 64};
    default: return std::nullopt;
    }
}

// A "random number generator" that hands out one given salt, once. Botan's PSS encoder takes
// its salt from the generator passed to sign_message (RFC 8017 §9.1.1 step 4: "Generate a
// random octet string salt of length sLen"), and asks it for nothing else: the RSA blinding
// uses the generator the signer was made with. Anything else asked of it is a bug, and throws.
class FixedSalt final : public Botan::RandomNumberGenerator {
public:
    explicit FixedSalt(BytesView salt) : salt_(salt) {}
    void randomize(std::uint8_t output[], std::size_t length) override {
        if (used_ || length != salt_.size())
            throw std::logic_error(fmt::format("the PSS encoder asked for {} random bytes; only the {}-byte salt is here",
                                               length, salt_.size()));
        std::copy(salt_.begin(), salt_.end(), output);
        used_ = true;
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const std::uint8_t[], std::size_t) override {}
    std::string name() const override { return "fixed RSA-PSS salt"; }
    void clear() override {}
    bool is_seeded() const override { return true; }

private:
    BytesView salt_;
    bool used_ = false;
};

}  // namespace

struct PrivateKey::Impl {
    std::unique_ptr<Botan::Private_Key> key;
    std::vector<SignatureScheme> schemes;  // schemes_for_key(*key): asked on every handshake
    // A signer per scheme, made at its first signature and kept: making one is a good part
    // of the cost of an ECDSA signature (its blinding values, its RFC 6979 nonce generator).
    // Hence sign() is const but must not run in two threads at once (a server runs one).
    mutable std::map<SignatureScheme, Botan::PK_Signer> signers;
};

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::~PrivateKey() = default;
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;

PrivateKey PrivateKey::load_pem(std::string_view pem) {
    std::unique_ptr<Botan::Private_Key> key;
    try {
        Botan::DataSource_Memory source{std::string(pem)};
        key = Botan::PKCS8::load_key(source);
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("not an unencrypted PKCS#8 PEM private key ({})", e.what()));
    }
    auto schemes = schemes_for_key(*key);
    if (schemes.empty())
        throw std::runtime_error(fmt::format("{} keys cannot sign here (we sign with ECDSA P-256/P-384/P-521, "
                                             "RSA and Ed25519)",
                                             describe_key(*key)));
    return PrivateKey(std::make_unique<Impl>(Impl{std::move(key), std::move(schemes), {}}));
}

PrivateKey PrivateKey::load_pem_file(const std::string& path) {
    try {
        return load_pem(read_text_file(path));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("private key file {}: {}", path, e.what()));
    }
}

const std::vector<SignatureScheme>& PrivateKey::schemes() const { return impl_->schemes; }

std::string PrivateKey::algorithm() const { return describe_key(*impl_->key); }

// RFC8446 C.3-1
// ECDSA signatures are deterministic: Botan 2's ECDSA takes its nonce k from RFC 6979 (the
// system generator only blinds the computation), so one message signed twice gives one signature.
Bytes PrivateKey::sign(SignatureScheme scheme, BytesView message, const std::optional<Bytes>& pss_salt) const {
    const SchemeInfo* s = scheme_for_key(scheme, *impl_->key);
    if (!s) throw std::invalid_argument(fmt::format("a {} key cannot sign with {}", algorithm(), name(scheme)));
    if (pss_salt) {
        const auto h = pss_hash(scheme);
        if (!h) throw std::invalid_argument(fmt::format("a fixed salt is for RSA-PSS, not {}", name(scheme)));
        if (pss_salt->size() != h->length)
            throw std::invalid_argument(fmt::format("{} takes a {}-byte salt, not {} bytes (§4.2.3)", name(scheme),
                                                    h->length, pss_salt->size()));
    }
    try {
        auto signer = impl_->signers.find(scheme);
        if (signer == impl_->signers.end())
            signer = impl_->signers
                         .try_emplace(scheme, *impl_->key, Botan::system_rng(), std::string(s->padding), format_of(*s))
                         .first;
        if (pss_salt) {
            FixedSalt salt(*pss_salt);
            return signer->second.sign_message(message.data(), message.size(), salt);
        }
        return signer->second.sign_message(message.data(), message.size(), Botan::system_rng());
    } catch (const Botan::Exception& e) {
        throw std::runtime_error(fmt::format("signing with {} failed: {}", name(scheme), e.what()));
    }
}

namespace {

Botan::X509_Certificate parse_certificate(BytesView der, std::string_view what) {
    // Botan would also take PEM here; on the wire (§4.4.2) it is DER, a SEQUENCE (0x30).
    if (der.empty() || der[0] != 0x30)
        throw AlertError(AlertDescription::bad_certificate, fmt::format("{} is not DER (no SEQUENCE first)", what));
    try {
        return Botan::X509_Certificate(der.data(), der.size());
    } catch (const std::exception& e) {
        throw AlertError(AlertDescription::bad_certificate, fmt::format("{} is malformed ({})", what, e.what()));
    }
}

}  // namespace

bool verify_signature(BytesView leaf_der, SignatureScheme scheme, BytesView message, BytesView signature) {
    try {
        const auto key = parse_certificate(leaf_der, "the certificate").load_subject_public_key();
        const SchemeInfo* s = scheme_for_key(scheme, *key);
        if (!s) return false;
        Botan::PK_Verifier verifier(*key, std::string(s->padding), format_of(*s));
        return verifier.verify_message(message.data(), message.size(), signature.data(), signature.size());
    } catch (const std::exception&) {
        return false;  // an unreadable certificate or signature encoding is a failed verification
    }
}

// RFC 8017 §9.1.2 (EMSA-PSS-VERIFY), run only as far as the salt, on a signature known good.
Bytes recover_pss_salt(BytesView leaf_der, SignatureScheme scheme, BytesView message, BytesView signature) {
    const auto h = pss_hash(scheme);
    if (!h) throw std::invalid_argument(fmt::format("{} is not RSA-PSS: it has no salt", name(scheme)));
    if (!verify_signature(leaf_der, scheme, message, signature))
        throw AlertError(AlertDescription::decrypt_error, fmt::format("the {} signature does not verify", name(scheme)));
    const auto key = parse_certificate(leaf_der, "the certificate").load_subject_public_key();
    const auto& rsa = dynamic_cast<const Botan::RSA_PublicKey&>(*key);  // verify_signature checked it is RSA
    // §8.1.2 step 2: m = RSAVP1((n, e), s) = s^e mod n; EM = I2OSP(m, emLen), emLen = ceil((modBits - 1) / 8).
    const std::size_t em_bits = rsa.get_n().bits() - 1;
    const std::size_t em_len = (em_bits + 7) / 8;
    const Botan::BigInt s(signature.data(), signature.size());
    const auto em = Botan::BigInt::encode_1363(Botan::power_mod(s, rsa.get_e(), rsa.get_n()), em_len);
    // §9.1.2 steps 5-9: EM = maskedDB || H || 0xbc, maskedDB being emLen - hLen - 1 octets;
    // DB = maskedDB XOR MGF1(H, emLen - hLen - 1), its leftmost 8 * emLen - emBits bits set to zero.
    const std::size_t db_len = em_len - h->length - 1;
    Botan::secure_vector<std::uint8_t> db(em.begin(), em.begin() + static_cast<std::ptrdiff_t>(db_len));
    const auto mgf_hash = Botan::HashFunction::create_or_throw(std::string(h->botan_name));
    Botan::mgf1_mask(*mgf_hash, em.data() + db_len, h->length, db.data(), db.size());
    db[0] &= static_cast<std::uint8_t>(0xff >> (8 * em_len - em_bits));
    // Step 10: DB = PS || 0x01 || salt, PS all zeros; the salt is as long as the hash (§4.2.3).
    return Bytes(db.end() - static_cast<std::ptrdiff_t>(h->length), db.end());
}

std::vector<SignatureScheme> schemes_for_certificate(BytesView leaf_der) {
    const auto cert = parse_certificate(leaf_der, "the certificate");
    try {
        return schemes_for_key(*cert.load_subject_public_key());
    } catch (const std::exception& e) {
        throw AlertError(AlertDescription::unsupported_certificate,
                         fmt::format("cannot use the certificate's public key ({})", e.what()));
    }
}

// ---- Certificates ---------------------------------------------------------------------

namespace {

// Every "-----BEGIN CERTIFICATE-----" block of a PEM text, as DER; other blocks are skipped.
std::vector<Bytes> pem_certificates(const std::string& text) {
    static constexpr std::string_view begin = "-----BEGIN CERTIFICATE-----";
    static constexpr std::string_view end = "-----END CERTIFICATE-----";
    std::vector<Bytes> out;
    std::size_t at = text.find(begin);
    while (at != std::string::npos) {
        const std::size_t stop = text.find(end, at);
        if (stop == std::string::npos) throw std::runtime_error("a certificate has no END line");
        const auto der = Botan::PEM_Code::decode_check_label(text.substr(at, stop + end.size() - at), "CERTIFICATE");
        out.emplace_back(der.begin(), der.end());
        at = text.find(begin, stop);
    }
    return out;
}

std::string date(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char out[16];
    std::strftime(out, sizeof out, "%Y-%m-%d", &utc);
    return out;
}

std::string short_dn(const Botan::X509_DN& dn) {
    const std::string cn = dn.get_first_attribute("CN");
    return cn.empty() ? dn.to_string() : "CN=" + cn;
}

// A certificate's date as YYYY-MM-DD. From the ASN.1 fields themselves: a peer's certificate
// may say 1950 (UTCTime goes back to it), which std::chrono's time_point cannot hold
// (Botan's to_std_timepoint() throws for years before 1970; found by fuzz/certificate.cpp).
std::string date(const Botan::X509_Time& t) {
    try {
        auto text = t.readable_string();  // "YYYY/MM/DD HH:MM:SS UTC"
        std::replace(text.begin(), text.end(), '/', '-');
        return text.substr(0, 10);
    } catch (const std::exception&) {
        return "(no date)";
    }
}

std::string describe(const Botan::X509_Certificate& cert) {
    std::string key;
    try {
        key = describe_key(*cert.load_subject_public_key());
    } catch (const std::exception&) {
        key = "unsupported (" + cert.subject_public_key_algo().get_oid().to_formatted_string() + ")";
    }
    return fmt::format("subject {}, issuer {}, valid {} .. {}, key {}", short_dn(cert.subject_dn()),
                       short_dn(cert.issuer_dn()), date(cert.not_before()),
                       date(cert.not_after()), key);
}

// The names a certificate is for, for error messages: "DNS:localhost, IP:127.0.0.1".
std::string names_of(const Botan::X509_Certificate& cert) {
    std::string out;
    for (const auto& [kind, value] : cert.subject_alt_name().contents())
        if (kind == "DNS" || kind == "IP") out += (out.empty() ? "" : ", ") + kind + ":" + value;
    return out.empty() ? "no subject alternative names, " + short_dn(cert.subject_dn()) : out;
}

// RFC 6125 / RFC 5280: an IP address literal matches only an iPAddress SAN, never a DNS name.
std::optional<in_addr> ipv4_literal(const std::string& name) {
    in_addr a{};
    if (inet_pton(AF_INET, name.c_str(), &a) == 1) return a;
    return std::nullopt;
}

bool is_ipv6_literal(const std::string& name) {
    in6_addr a{};
    return inet_pton(AF_INET6, name.c_str(), &a) == 1;
}

bool has_ip_san(const Botan::X509_Certificate& cert, in_addr wanted) {
    for (const auto& ip : cert.subject_alt_name().get_attribute("IP")) {
        auto got = ipv4_literal(ip);
        if (got && got->s_addr == wanted.s_addr) return true;
    }
    return false;
}

// RFC 8446 §6.2 names the alerts; which Botan path validation result means which.
AlertDescription alert_for(Botan::Certificate_Status_Code code) {
    using C = Botan::Certificate_Status_Code;
    switch (code) {
    case C::CERT_NOT_YET_VALID:
    case C::CERT_HAS_EXPIRED: return AlertDescription::certificate_expired;
    case C::CERT_ISSUER_NOT_FOUND:
    case C::CANNOT_ESTABLISH_TRUST:
    case C::CHAIN_LACKS_TRUST_ROOT:
    case C::CERT_CHAIN_LOOP: return AlertDescription::unknown_ca;
    case C::SIGNATURE_ALGO_UNKNOWN:
    case C::SIGNATURE_ALGO_BAD_PARAMS:
    case C::SIGNATURE_METHOD_TOO_WEAK:
    case C::UNTRUSTED_HASH:
    case C::UNKNOWN_CRITICAL_EXTENSION: return AlertDescription::unsupported_certificate;
    case C::CERT_IS_REVOKED: return AlertDescription::certificate_revoked;
    default: return AlertDescription::bad_certificate;
    }
}

// Plain words for a failed validation: what, about which certificate.
std::string explain(const Botan::Path_Validation_Result& result, const std::vector<Botan::X509_Certificate>& chain,
                    const std::string& anchors_file, const std::string& server_name,
                    std::chrono::system_clock::time_point now) {
    using C = Botan::Certificate_Status_Code;
    const C code = result.result();
    // Which certificate it is about: the first in the built path with that status.
    const Botan::X509_Certificate* cert = &chain.front();
    const auto& path = result.cert_path();
    const auto& statuses = result.all_statuses();
    for (std::size_t i = 0; i < statuses.size() && i < path.size(); ++i)
        if (statuses[i].count(code)) {
            cert = path[i].get();
            break;
        }
    const std::string about = describe(*cert);
    switch (code) {
    case C::CERT_HAS_EXPIRED:
        return fmt::format("certificate has expired (checked on {}): {}", date(now), about);
    case C::CERT_NOT_YET_VALID:
        return fmt::format("certificate is not yet valid (checked on {}): {}", date(now), about);
    case C::CERT_ISSUER_NOT_FOUND:
    case C::CANNOT_ESTABLISH_TRUST:
    case C::CHAIN_LACKS_TRUST_ROOT:
        return fmt::format("no path to a trust anchor in {}: {}", anchors_file, about);
    case C::CERT_NAME_NOMATCH:
        return fmt::format("certificate is for {}, not for '{}'", names_of(chain.front()), server_name);
    case C::SIGNATURE_ERROR: return fmt::format("bad signature in the chain, on: {}", about);
    default: return fmt::format("certificate rejected: {}: {}", result.result_string(), about);
    }
}

}  // namespace

std::vector<Bytes> load_certificate_chain_pem_file(const std::string& path) {
    std::vector<Bytes> chain;
    try {
        chain = pem_certificates(read_text_file(path));
        for (const auto& der : chain) Botan::X509_Certificate(der.data(), der.size());  // fail here, not mid-handshake
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("certificate file {}: {}", path, e.what()));
    }
    if (chain.empty()) throw std::runtime_error(fmt::format("certificate file {} holds no CERTIFICATE block", path));
    return chain;
}

// RFC 8446 §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
// abort the handshake with a "decode_error" alert" (the caller checks that); otherwise a
// chain that does not validate is rejected with the alert that says why (§6.2).
// RFC8446 4.4.2.2-8
// RFC8446 4.4.2-11, 9.1-2
// The first certificate is the end-entity one, as §4.4.2 requires; Botan builds the path from
// the others in whatever order they come, and leaves out any it does not need. Certificates
// signed with rsa_pkcs1_sha256, rsa_pss_rsae_sha256 or ecdsa_secp256r1_sha256 (§9.1) verify.
namespace {

void validate_chain(const std::vector<Bytes>& chain_der, const std::string& trust_anchor_pem_file,
                    const std::string& server_name, Botan::Usage_Type usage, std::chrono::system_clock::time_point now) {
    if (chain_der.empty()) throw AlertError(AlertDescription::bad_certificate, "the certificate chain is empty");
    std::vector<Botan::X509_Certificate> chain;
    for (std::size_t i = 0; i < chain_der.size(); ++i)
        chain.push_back(parse_certificate(chain_der[i], fmt::format("certificate {} of the chain", i)));

    Botan::Certificate_Store_In_Memory anchors;
    try {
        const auto anchor_ders = pem_certificates(read_text_file(trust_anchor_pem_file));
        if (anchor_ders.empty()) throw std::runtime_error("no CERTIFICATE block in it");
        for (const auto& der : anchor_ders) anchors.add_certificate(Botan::X509_Certificate(der.data(), der.size()));
    } catch (const std::exception& e) {
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("cannot load trust anchors from {}: {}", trust_anchor_pem_file, e.what()));
    }

    // Botan matches host names against DNS SANs only; an IP literal is checked below.
    const auto ipv4 = ipv4_literal(server_name);
    const bool ip_literal = ipv4 || is_ipv6_literal(server_name);
    // Defaults: no revocation checks, keys and signature hashes of at least 110 bits of
    // strength (so RSA-2048 passes and SHA-1 signatures fail).
    const Botan::Path_Validation_Restrictions restrictions;
    const auto result = [&] {
        try {
            // TLS_SERVER_AUTH: a leaf restricted to other uses (extendedKeyUsage without
            // serverAuth, keyUsage without digitalSignature) is not a server certificate;
            // TLS_CLIENT_AUTH the same for clientAuth.
            return Botan::x509_path_validate(chain, restrictions, anchors, ip_literal ? "" : server_name, usage, now);
        } catch (const std::exception& e) {
            throw AlertError(AlertDescription::bad_certificate,
                             fmt::format("certificate chain rejected ({})", e.what()));
        }
    }();
    if (!result.successful_validation())
        throw AlertError(alert_for(result.result()), explain(result, chain, trust_anchor_pem_file, server_name, now));

    // RFC8446 4.4.2.2-3
    // §4.4.2.2: "the digitalSignature bit MUST be set if the Key Usage extension is present".
    // Botan's TLS_SERVER_AUTH also takes keyEncipherment or keyAgreement without it (the key
    // exchanges of TLS 1.2): not enough for a key that signs a CertificateVerify.
    if (usage == Botan::Usage_Type::TLS_SERVER_AUTH) {
        // RFC8446 4.4.2.2-1
        // §4.4.2.2: "The certificate type MUST be X.509v3 [RFC5280], unless explicitly negotiated
        // otherwise". Botan also reads versions 1 and 2; we negotiate no other type.
        if (chain.front().x509_version() != 3)
            throw AlertError(AlertDescription::unsupported_certificate,
                             fmt::format("the certificate is X.509 version {}, not 3 (§4.4.2.2)",
                                         chain.front().x509_version()));
        const auto constraints = chain.front().constraints();
        if (constraints != Botan::NO_CONSTRAINTS && !(constraints & Botan::DIGITAL_SIGNATURE))
            throw AlertError(AlertDescription::bad_certificate,
                             fmt::format("the certificate's keyUsage ({}) lacks digitalSignature: its key may not "
                                         "sign a CertificateVerify (§4.4.2.2)",
                                         Botan::key_constraints_to_string(constraints)));
    }

    if (ip_literal && !(ipv4 && has_ip_san(chain.front(), *ipv4)))
        throw AlertError(AlertDescription::bad_certificate,
                         fmt::format("certificate is for {}, not for IP address {}", names_of(chain.front()),
                                     server_name));
}

}  // namespace

void validate_certificate_chain(const std::vector<Bytes>& chain_der, const std::string& trust_anchor_pem_file,
                                const std::string& server_name, std::chrono::system_clock::time_point now) {
    validate_chain(chain_der, trust_anchor_pem_file, server_name, Botan::Usage_Type::TLS_SERVER_AUTH, now);
}

void validate_client_certificate_chain(const std::vector<Bytes>& chain_der, const std::string& trust_anchor_pem_file,
                                       std::chrono::system_clock::time_point now) {
    validate_chain(chain_der, trust_anchor_pem_file, "", Botan::Usage_Type::TLS_CLIENT_AUTH, now);
}

bool certificate_matches_name(BytesView der, std::string_view dns_name) {
    try {
        return parse_certificate(der, "the certificate").matches_dns_name(std::string(dns_name));
    } catch (const std::exception&) {
        return false;
    }
}

std::string describe_certificate(BytesView der) {
    try {
        return describe(parse_certificate(der, "the certificate"));
    } catch (const std::exception& e) {
        return fmt::format("malformed certificate ({})", e.what());
    }
}

}  // namespace tls
