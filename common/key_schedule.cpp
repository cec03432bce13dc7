// common/key_schedule.cpp — introduced in chapter 05 (key schedule).
// RFC 8446 §7.1, §7.2, §7.3, §4.4.4, §4.6.1.
#include "key_schedule.hpp"

#include <stdexcept>

namespace tls {

// RFC 8446 §B.4 (and Appendix B.4's table of Hash and AEAD per suite).
const SuiteInfo* suite_info(CipherSuite suite) {
    static constexpr SuiteInfo suites[] = {
        {CipherSuite::TLS_AES_128_GCM_SHA256, HashAlg::sha256, AeadAlg::aes_128_gcm, 16},
        {CipherSuite::TLS_AES_256_GCM_SHA384, HashAlg::sha384, AeadAlg::aes_256_gcm, 32},
        {CipherSuite::TLS_CHACHA20_POLY1305_SHA256, HashAlg::sha256, AeadAlg::chacha20_poly1305, 32},
    };
    for (const auto& s : suites)
        if (s.suite == suite) return &s;
    return nullptr;
}

// ANCHOR: hkdf_expand_label
// RFC 8446 §7.1:
//   struct {
//       uint16 length = Length;
//       opaque label<7..255> = "tls13 " + Label;
//       opaque context<0..255> = Context;
//   } HkdfLabel;
Secret hkdf_expand_label(const Hmac& secret, std::string_view label, BytesView context, std::size_t length) {
    if (length > 0xffff || 6 + label.size() > 255 || context.size() > 255)
        throw std::invalid_argument("hkdf_expand_label: a field does not fit HkdfLabel");
    ByteWriter hkdf_label;
    hkdf_label.u16(static_cast<std::uint16_t>(length));
    hkdf_label.vec8(to_bytes("tls13 " + std::string(label)));
    hkdf_label.vec8(context);
    return hkdf_expand(secret, hkdf_label.data(), length);
}

Secret hkdf_expand_label(HashAlg alg, BytesView secret, std::string_view label, BytesView context,
                         std::size_t length) {
    return hkdf_expand_label(Hmac(alg, secret), label, context, length);
}
// ANCHOR_END: hkdf_expand_label

// ANCHOR: derive_secret
Secret derive_secret(HashAlg alg, BytesView secret, std::string_view label, BytesView transcript_hash) {
    return hkdf_expand_label(alg, secret, label, transcript_hash, hash_length(alg));
}
// ANCHOR_END: derive_secret

// ANCHOR: traffic_keys
TrafficKeys traffic_keys(const SuiteInfo& suite, BytesView traffic_secret) {
    const Hmac secret(suite.hash, traffic_secret);  // keyed once for both
    return {hkdf_expand_label(secret, "key", {}, suite.key_length),
            hkdf_expand_label(secret, "iv", {}, suite.iv_length)};
}
// ANCHOR_END: traffic_keys

Secret next_traffic_secret(HashAlg alg, BytesView current) {
    return hkdf_expand_label(alg, current, "traffic upd", {}, hash_length(alg));
}

Bytes finished_verify_data(HashAlg alg, BytesView base_key, BytesView transcript_hash) {
    const Secret finished_key = hkdf_expand_label(alg, base_key, "finished", {}, hash_length(alg));
    const Secret verify_data = hmac(alg, finished_key, transcript_hash);
    return Bytes(verify_data.begin(), verify_data.end());  // it goes on the wire: not a secret
}

Secret resumption_psk(HashAlg alg, BytesView resumption_master_secret, BytesView ticket_nonce) {
    return hkdf_expand_label(alg, resumption_master_secret, "resumption", ticket_nonce, hash_length(alg));
}

namespace {

// Hash(""): the same every time, so computed once per hash function.
BytesView empty_hash(HashAlg alg) {
    static const Bytes sha256 = hash(HashAlg::sha256, {});
    static const Bytes sha384 = hash(HashAlg::sha384, {});
    return alg == HashAlg::sha256 ? sha256 : sha384;
}

// ANCHOR: derived_salt
// §7.1: Derive-Secret(secret, "derived", "") is the salt of the next HKDF-Extract.
// "" means no messages: the context is Hash("") (e3b0c442... for SHA-256).
Secret derived_salt(HashAlg alg, BytesView secret) {
    return derive_secret(alg, secret, "derived", empty_hash(alg));
}
// ANCHOR_END: derived_salt

}  // namespace

// ---- Early Secret ---------------------------------------------------------------------

// ANCHOR: early_secret
EarlySecret::EarlySecret(HashAlg alg, BytesView psk) : hash_(alg) {
    const Bytes zeros(hash_length(alg), 0);
    secret_ = hkdf_extract(alg, zeros, psk.empty() ? BytesView(zeros) : psk);
}
// ANCHOR_END: early_secret

// tls::hash: inside these classes a bare `hash` names the member function.
Secret EarlySecret::external_binder_key() const {
    return derive_secret(hash_, secret_, "ext binder", tls::hash(hash_, {}));
}

Secret EarlySecret::resumption_binder_key() const {
    return derive_secret(hash_, secret_, "res binder", tls::hash(hash_, {}));
}

ClientTrafficSecret EarlySecret::client_early_traffic_secret(BytesView client_hello_transcript_hash) const {
    return ClientTrafficSecret(derive_secret(hash_, secret_, "c e traffic", client_hello_transcript_hash));
}

Secret EarlySecret::early_exporter_master_secret(BytesView client_hello_transcript_hash) const {
    return derive_secret(hash_, secret_, "e exp master", client_hello_transcript_hash);
}

// ANCHOR: mix_shared_secret
HandshakeSecret EarlySecret::mix_shared_secret(BytesView ecdhe) const {
    return HandshakeSecret(hash_, hkdf_extract(hash_, derived_salt(hash_, secret_), ecdhe));
}
// ANCHOR_END: mix_shared_secret

// ---- Handshake Secret -----------------------------------------------------------------

// ANCHOR: handshake_secret
ClientTrafficSecret HandshakeSecret::client_handshake_traffic_secret(BytesView hello_transcript_hash) const {
    return ClientTrafficSecret(derive_secret(hash_, secret_, "c hs traffic", hello_transcript_hash));
}

ServerTrafficSecret HandshakeSecret::server_handshake_traffic_secret(BytesView hello_transcript_hash) const {
    return ServerTrafficSecret(derive_secret(hash_, secret_, "s hs traffic", hello_transcript_hash));
}

MasterSecret HandshakeSecret::derive_master_secret() const {
    const Bytes zeros(hash_length(hash_), 0);
    return MasterSecret(hash_, hkdf_extract(hash_, derived_salt(hash_, secret_), zeros));
}
// ANCHOR_END: handshake_secret

// ---- Master Secret --------------------------------------------------------------------

ClientTrafficSecret MasterSecret::client_application_traffic_secret_0(BytesView transcript_through_server_finished) const {
    return ClientTrafficSecret(derive_secret(hash_, secret_, "c ap traffic", transcript_through_server_finished));
}

ServerTrafficSecret MasterSecret::server_application_traffic_secret_0(BytesView transcript_through_server_finished) const {
    return ServerTrafficSecret(derive_secret(hash_, secret_, "s ap traffic", transcript_through_server_finished));
}

Secret MasterSecret::exporter_master_secret(BytesView transcript_through_server_finished) const {
    return derive_secret(hash_, secret_, "exp master", transcript_through_server_finished);
}

Secret MasterSecret::resumption_master_secret(BytesView transcript_through_client_finished) const {
    return derive_secret(hash_, secret_, "res master", transcript_through_client_finished);
}

}  // namespace tls
