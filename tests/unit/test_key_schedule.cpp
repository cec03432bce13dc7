// tests/unit/test_key_schedule.cpp — chapter 05 (key schedule).
// RFC 8446 §7.1-§7.3 (key schedule, traffic keys), §4.4.1 (transcript hash), §4.4.4
// (Finished), §4.2.11.2 (PSK binder) and §4.6.1 (resumption PSK) against the traces of the
// published RFC 8448 (rfc8448_vectors.hpp): every secret, key, IV, transcript hash and
// Finished of §3 "Simple 1-RTT Handshake", §4 "Resumed 0-RTT Handshake", §5
// "HelloRetryRequest", §6 "Client Authentication" and §7 "Compatibility Mode", byte for
// byte, each computed from the trace's own private keys and messages; and every
// HKDF-Extract and HKDF-Expand-Label the RFC prints, its HkdfLabel included.
#include "crypto.hpp"
#include "key_schedule.hpp"
#include "messages.hpp"
#include "rfc8448_vectors.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

using namespace tls;

namespace {

namespace s3 = rfc8448::simple;
namespace s4 = rfc8448::resumed;
namespace s5 = rfc8448::hello_retry;
namespace s6 = rfc8448::client_auth;
namespace s7 = rfc8448::compat;

Bytes bytes(std::string_view rfc_hex) { return from_hex(rfc_hex); }
// Hex both sides so that a failure prints two readable values.
std::string rfc(std::string_view rfc_hex) { return to_hex(from_hex(rfc_hex)); }
std::string hex(BytesView bytes) { return to_hex(bytes); }

// Every handshake of RFC 8448 negotiates TLS_AES_128_GCM_SHA256.
const SuiteInfo& aes128() { return *suite_info(CipherSuite::TLS_AES_128_GCM_SHA256); }
constexpr HashAlg sha256 = HashAlg::sha256;
const std::string zeros = std::string(64, '0');  // Hash.length zero bytes, in hex

// §4.4.1: Transcript-Hash(M1, M2, ... Mn) = Hash(M1 || M2 || ... || Mn), read from our
// running TranscriptHash at any point of one handshake's messages.
class Transcript {
public:
    Transcript(std::initializer_list<std::string_view> messages) {
        for (std::string_view m : messages) messages_.push_back(bytes(m));
    }
    explicit Transcript(std::vector<Bytes> messages) : messages_(std::move(messages)) {}

    // The hash of the messages up to and including `message` (a whole message of the trace).
    Bytes through(std::string_view message) const { return hash_until(bytes(message), true); }
    // The hash of the messages before it: what its Finished covers.
    Bytes before(std::string_view message) const { return hash_until(bytes(message), false); }

private:
    Bytes hash_until(const Bytes& message, bool including) const {
        TranscriptHash th(sha256);
        for (const Bytes& m : messages_) {
            if (m == message && !including) return th.current();
            th.update(m);
            if (m == message) return th.current();
        }
        FAIL("the message is not in this transcript");
        return {};
    }
    std::vector<Bytes> messages_;
};

// §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced in the transcript by
//   Handshake { msg_type = message_hash(254), length = Hash.length, Hash(ClientHello1) }.
// TranscriptHash has no restart_with_message_hash() yet (the GUIDE plans it for chapter 10,
// HelloRetryRequest), so the test builds that message from encode_handshake and hash.
Bytes message_hash(std::string_view client_hello_1) {
    return encode_handshake(HandshakeType::message_hash, hash(sha256, bytes(client_hello_1)));
}

// One handshake of the trace through our key schedule, the way its client runs it: the early
// secret from the PSK (or none), the (EC)DHE secret of the trace's private keys mixed in,
// then the master secret; transcript hashes from the trace's messages.
struct Schedule {
    Secret psk;  // empty: no PSK
    Secret shared_secret;
    Transcript transcript;

    EarlySecret early() const { return EarlySecret(sha256, psk); }
    HandshakeSecret handshake() const { return early().mix_shared_secret(shared_secret); }
    MasterSecret master() const { return handshake().derive_master_secret(); }
};

// §3: no PSK, X25519, the server authenticated by an RSA certificate.
Schedule simple() {
    return {{},
            x25519(bytes(s3::client_private_key), bytes(s3::server_public_key)),
            Transcript{s3::client_hello, s3::server_hello, s3::encrypted_extensions, s3::certificate,
                       s3::certificate_verify, s3::server_finished, s3::client_finished}};
}

// §3's ticket_nonce, as the client reads it from the NewSessionTicket.
Bytes ticket_nonce() {
    return NewSessionTicket::decode(Handshake::decode(bytes(s3::new_session_ticket)).body).ticket_nonce;
}

// §4.6.1: the PSK that §3's NewSessionTicket makes.
Secret resumption_psk_of_simple() {
    const Schedule first = simple();
    const Bytes through_client_finished = first.transcript.through(s3::client_finished);
    return resumption_psk(sha256, first.master().resumption_master_secret(through_client_finished), ticket_nonce());
}

// §4: §3's PSK with a new X25519 exchange (psk_dhe_ke), 0-RTT data, no certificate.
Schedule resumed() {
    return {resumption_psk_of_simple(),
            x25519(bytes(s4::client_private_key), bytes(s4::server_public_key)),
            Transcript{s4::client_hello, s4::server_hello, s4::encrypted_extensions, s4::server_finished,
                       s4::end_of_early_data, s4::client_finished}};
}

// §5: the server wants P-256 and sends a HelloRetryRequest; ClientHello1 becomes message_hash.
Schedule hello_retry() {
    return {{},
            p256_ecdh(bytes(s5::client_p256_private_key), bytes(s5::server_p256_public_key)),
            Transcript(std::vector<Bytes>{message_hash(s5::client_hello_1), bytes(s5::hello_retry_request),
                                          bytes(s5::client_hello_2), bytes(s5::server_hello),
                                          bytes(s5::encrypted_extensions), bytes(s5::certificate),
                                          bytes(s5::certificate_verify), bytes(s5::server_finished),
                                          bytes(s5::client_finished)})};
}

// §6: the server asks for a certificate (ECDSA server, RSA client).
Schedule client_auth() {
    return {{},
            x25519(bytes(s6::client_private_key), bytes(s6::server_public_key)),
            Transcript{s6::client_hello, s6::server_hello, s6::encrypted_extensions, s6::certificate_request,
                       s6::certificate, s6::certificate_verify, s6::server_finished, s6::client_certificate,
                       s6::client_certificate_verify, s6::client_finished}};
}

// §7: middlebox compatibility mode: a legacy_session_id and change_cipher_spec records,
// which are not handshake messages and stay out of the transcript.
Schedule compat() {
    return {{},
            x25519(bytes(s7::client_private_key), bytes(s7::server_public_key)),
            Transcript{s7::client_hello, s7::server_hello, s7::encrypted_extensions, s7::certificate,
                       s7::certificate_verify, s7::server_finished, s7::client_finished}};
}

// The values every handshake of RFC 8448 prints for its key schedule, under the names of
// rfc8448_vectors.hpp, so that §4-§7 share one check.
struct ScheduleValues {
    std::string_view early_secret_ikm, early_secret;
    std::string_view derived_for_handshake, handshake_secret_salt, handshake_secret_ikm, handshake_secret;
    std::string_view client_handshake_traffic_secret_transcript_hash, client_handshake_traffic_secret;
    std::string_view server_handshake_traffic_secret_transcript_hash, server_handshake_traffic_secret;
    std::string_view derived_for_master, master_secret_salt, master_secret_ikm, master_secret;
    std::string_view client_application_traffic_secret_0_transcript_hash, client_application_traffic_secret_0;
    std::string_view server_application_traffic_secret_0_transcript_hash, server_application_traffic_secret_0;
    std::string_view exporter_master_secret_transcript_hash, exporter_master_secret;
    std::string_view resumption_master_secret_transcript_hash, resumption_master_secret;
    std::string_view server_handshake_write_key, server_handshake_write_iv;
    std::string_view client_handshake_write_key, client_handshake_write_iv;
    std::string_view server_application_write_key, server_application_write_iv;
    std::string_view client_application_write_key, client_application_write_iv;
    std::string_view server_finished_key, server_verify_data, server_finished;
    std::string_view client_finished_key, client_verify_data, client_finished;
    std::string_view server_hello;
};

#define RFC8448_VALUE(ns, name) .name = ns::name
#define RFC8448_SCHEDULE_VALUES(ns)                                                                                  \
    ScheduleValues {                                                                                                 \
        RFC8448_VALUE(ns, early_secret_ikm), RFC8448_VALUE(ns, early_secret),                                        \
            RFC8448_VALUE(ns, derived_for_handshake), RFC8448_VALUE(ns, handshake_secret_salt),                      \
            RFC8448_VALUE(ns, handshake_secret_ikm), RFC8448_VALUE(ns, handshake_secret),                            \
            RFC8448_VALUE(ns, client_handshake_traffic_secret_transcript_hash),                                      \
            RFC8448_VALUE(ns, client_handshake_traffic_secret),                                                      \
            RFC8448_VALUE(ns, server_handshake_traffic_secret_transcript_hash),                                      \
            RFC8448_VALUE(ns, server_handshake_traffic_secret), RFC8448_VALUE(ns, derived_for_master),               \
            RFC8448_VALUE(ns, master_secret_salt), RFC8448_VALUE(ns, master_secret_ikm),                             \
            RFC8448_VALUE(ns, master_secret), RFC8448_VALUE(ns, client_application_traffic_secret_0_transcript_hash), \
            RFC8448_VALUE(ns, client_application_traffic_secret_0),                                                  \
            RFC8448_VALUE(ns, server_application_traffic_secret_0_transcript_hash),                                  \
            RFC8448_VALUE(ns, server_application_traffic_secret_0),                                                  \
            RFC8448_VALUE(ns, exporter_master_secret_transcript_hash), RFC8448_VALUE(ns, exporter_master_secret),    \
            RFC8448_VALUE(ns, resumption_master_secret_transcript_hash),                                             \
            RFC8448_VALUE(ns, resumption_master_secret), RFC8448_VALUE(ns, server_handshake_write_key),              \
            RFC8448_VALUE(ns, server_handshake_write_iv), RFC8448_VALUE(ns, client_handshake_write_key),             \
            RFC8448_VALUE(ns, client_handshake_write_iv), RFC8448_VALUE(ns, server_application_write_key),           \
            RFC8448_VALUE(ns, server_application_write_iv), RFC8448_VALUE(ns, client_application_write_key),         \
            RFC8448_VALUE(ns, client_application_write_iv), RFC8448_VALUE(ns, server_finished_key),                  \
            RFC8448_VALUE(ns, server_verify_data), RFC8448_VALUE(ns, server_finished),                               \
            RFC8448_VALUE(ns, client_finished_key), RFC8448_VALUE(ns, client_verify_data),                           \
            RFC8448_VALUE(ns, client_finished), RFC8448_VALUE(ns, server_hello),                                     \
    }

// §7.1, from the early secret to the resumption master secret, with the transcript hash
// each Derive-Secret reads.
void check_secrets(const Schedule& s, const ScheduleValues& v) {
    CHECK(rfc(v.early_secret_ikm) == (s.psk.empty() ? zeros : hex(s.psk)));
    CHECK(hex(s.early().secret()) == rfc(v.early_secret));

    // Derive-Secret(., "derived", "") is the salt of the next HKDF-Extract.
    const Bytes no_messages = hash(sha256, {});
    CHECK(hex(derive_secret(sha256, s.early().secret(), "derived", no_messages)) == rfc(v.derived_for_handshake));
    CHECK(rfc(v.handshake_secret_salt) == rfc(v.derived_for_handshake));
    CHECK(hex(s.shared_secret) == rfc(v.handshake_secret_ikm));
    CHECK(hex(s.handshake().secret()) == rfc(v.handshake_secret));

    const Bytes hello = s.transcript.through(v.server_hello);
    CHECK(hex(hello) == rfc(v.client_handshake_traffic_secret_transcript_hash));
    CHECK(hex(hello) == rfc(v.server_handshake_traffic_secret_transcript_hash));
    CHECK(hex(s.handshake().client_handshake_traffic_secret(hello)) == rfc(v.client_handshake_traffic_secret));
    CHECK(hex(s.handshake().server_handshake_traffic_secret(hello)) == rfc(v.server_handshake_traffic_secret));

    CHECK(hex(derive_secret(sha256, s.handshake().secret(), "derived", no_messages)) == rfc(v.derived_for_master));
    CHECK(rfc(v.master_secret_salt) == rfc(v.derived_for_master));
    CHECK(rfc(v.master_secret_ikm) == zeros);
    CHECK(hex(s.master().secret()) == rfc(v.master_secret));

    const Bytes server_finished = s.transcript.through(v.server_finished);
    CHECK(hex(server_finished) == rfc(v.client_application_traffic_secret_0_transcript_hash));
    CHECK(hex(server_finished) == rfc(v.server_application_traffic_secret_0_transcript_hash));
    CHECK(hex(server_finished) == rfc(v.exporter_master_secret_transcript_hash));
    CHECK(hex(s.master().client_application_traffic_secret_0(server_finished)) ==
          rfc(v.client_application_traffic_secret_0));
    CHECK(hex(s.master().server_application_traffic_secret_0(server_finished)) ==
          rfc(v.server_application_traffic_secret_0));
    CHECK(hex(s.master().exporter_master_secret(server_finished)) == rfc(v.exporter_master_secret));

    const Bytes client_finished = s.transcript.through(v.client_finished);
    CHECK(hex(client_finished) == rfc(v.resumption_master_secret_transcript_hash));
    CHECK(hex(s.master().resumption_master_secret(client_finished)) == rfc(v.resumption_master_secret));
}

// §7.3: [sender]_write_key and [sender]_write_iv of the handshake and application epochs.
void check_traffic_keys(const Schedule& s, const ScheduleValues& v) {
    const Bytes hello = s.transcript.through(v.server_hello);
    const Bytes server_finished = s.transcript.through(v.server_finished);
    const TrafficKeys server_hs = traffic_keys(aes128(), s.handshake().server_handshake_traffic_secret(hello));
    CHECK(hex(server_hs.key) == rfc(v.server_handshake_write_key));
    CHECK(hex(server_hs.iv) == rfc(v.server_handshake_write_iv));
    const TrafficKeys client_hs = traffic_keys(aes128(), s.handshake().client_handshake_traffic_secret(hello));
    CHECK(hex(client_hs.key) == rfc(v.client_handshake_write_key));
    CHECK(hex(client_hs.iv) == rfc(v.client_handshake_write_iv));
    const TrafficKeys server_ap =
        traffic_keys(aes128(), s.master().server_application_traffic_secret_0(server_finished));
    CHECK(hex(server_ap.key) == rfc(v.server_application_write_key));
    CHECK(hex(server_ap.iv) == rfc(v.server_application_write_iv));
    const TrafficKeys client_ap =
        traffic_keys(aes128(), s.master().client_application_traffic_secret_0(server_finished));
    CHECK(hex(client_ap.key) == rfc(v.client_application_write_key));
    CHECK(hex(client_ap.iv) == rfc(v.client_application_write_iv));
}

// §4.4.4: finished_key and verify_data of both sides, and the Finished message they make.
void check_finished(const Schedule& s, const ScheduleValues& v) {
    const Bytes hello = s.transcript.through(v.server_hello);
    struct Side {
        const char* name;
        Secret base_key;
        std::string_view finished_key, verify_data, finished;
    };
    for (const Side& side : {Side{"server", s.handshake().server_handshake_traffic_secret(hello),
                                  v.server_finished_key, v.server_verify_data, v.server_finished},
                             Side{"client", s.handshake().client_handshake_traffic_secret(hello),
                                  v.client_finished_key, v.client_verify_data, v.client_finished}}) {
        CAPTURE(side.name);
        CHECK(hex(hkdf_expand_label(sha256, side.base_key, "finished", {}, 32)) == rfc(side.finished_key));
        // Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*): every message before it.
        const Bytes verify_data = finished_verify_data(sha256, side.base_key, s.transcript.before(side.finished));
        CHECK(hex(verify_data) == rfc(side.verify_data));
        CHECK(hex(encode_handshake(Finished{verify_data})) == rfc(side.finished));
        CHECK(constant_time_equal(verify_data, Finished::decode(Handshake::decode(bytes(side.finished)).body, 32)
                                                   .verify_data));
    }
}

// One HKDF-Expand-Label the trace prints: its secret (PRK), context ("hash"), HkdfLabel
// ("info") and output ("expanded"), with the value of the trace the PRK must be.
struct Expansion {
    const char* what;
    std::string_view prk, prk_is;
    std::string_view label, context, info, expanded;
};

// §7.1: the HkdfLabel struct, written out here independently of hkdf_expand_label.
Bytes hkdf_label(std::size_t length, std::string_view label, BytesView context) {
    Bytes out{static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length),
              static_cast<std::uint8_t>(6 + label.size())};
    for (char c : "tls13 " + std::string(label)) out.push_back(static_cast<std::uint8_t>(c));
    out.push_back(static_cast<std::uint8_t>(context.size()));
    out.insert(out.end(), context.begin(), context.end());
    return out;
}

void check_expansions(std::initializer_list<Expansion> expansions) {
    for (const Expansion& e : expansions) {
        CAPTURE(e.what);
        CHECK(rfc(e.prk) == rfc(e.prk_is));
        const std::size_t length = bytes(e.expanded).size();
        CHECK(hex(hkdf_label(length, e.label, bytes(e.context))) == rfc(e.info));
        CHECK(hex(hkdf_expand(sha256, bytes(e.prk), bytes(e.info), length)) == rfc(e.expanded));
        CHECK(hex(hkdf_expand_label(sha256, bytes(e.prk), e.label, bytes(e.context), length)) == rfc(e.expanded));
    }
}

// One HKDF-Extract the trace prints ("salt: 0" is Hash.length zeros).
void check_extract(const char* what, std::string_view salt, std::string_view ikm, std::string_view secret) {
    CAPTURE(what);
    const Bytes salt_bytes = salt.empty() ? Bytes(32, 0) : bytes(salt);
    CHECK(hex(hkdf_extract(sha256, salt_bytes, bytes(ikm))) == rfc(secret));
}

// The extracts and expansions every handshake of the RFC prints.
#define RFC8448_CHECK_COMMON_DERIVATIONS(ns)                                                                         \
    do {                                                                                                             \
        check_extract("early", {}, ns::early_secret_ikm, ns::early_secret);                                          \
        check_extract("handshake", ns::handshake_secret_salt, ns::handshake_secret_ikm, ns::handshake_secret);       \
        check_extract("master", ns::master_secret_salt, ns::master_secret_ikm, ns::master_secret);                   \
        check_expansions({                                                                                           \
            {"derived for handshake", ns::derived_for_handshake_prk, ns::early_secret, "derived",                    \
             ns::derived_for_handshake_hash, ns::derived_for_handshake_info, ns::derived_for_handshake},             \
            {"c hs traffic", ns::client_handshake_traffic_secret_prk, ns::handshake_secret, "c hs traffic",          \
             ns::client_handshake_traffic_secret_transcript_hash, ns::client_handshake_traffic_secret_info,          \
             ns::client_handshake_traffic_secret},                                                                   \
            {"s hs traffic", ns::server_handshake_traffic_secret_prk, ns::handshake_secret, "s hs traffic",          \
             ns::server_handshake_traffic_secret_transcript_hash, ns::server_handshake_traffic_secret_info,          \
             ns::server_handshake_traffic_secret},                                                                   \
            {"derived for master", ns::derived_for_master_prk, ns::handshake_secret, "derived",                      \
             ns::derived_for_master_hash, ns::derived_for_master_info, ns::derived_for_master},                      \
            {"c ap traffic", ns::client_application_traffic_secret_0_prk, ns::master_secret, "c ap traffic",         \
             ns::client_application_traffic_secret_0_transcript_hash, ns::client_application_traffic_secret_0_info,  \
             ns::client_application_traffic_secret_0},                                                               \
            {"s ap traffic", ns::server_application_traffic_secret_0_prk, ns::master_secret, "s ap traffic",         \
             ns::server_application_traffic_secret_0_transcript_hash, ns::server_application_traffic_secret_0_info,  \
             ns::server_application_traffic_secret_0},                                                               \
            {"exp master", ns::exporter_master_secret_prk, ns::master_secret, "exp master",                          \
             ns::exporter_master_secret_transcript_hash, ns::exporter_master_secret_info,                            \
             ns::exporter_master_secret},                                                                            \
            {"res master", ns::resumption_master_secret_prk, ns::master_secret, "res master",                        \
             ns::resumption_master_secret_transcript_hash, ns::resumption_master_secret_info,                        \
             ns::resumption_master_secret},                                                                          \
            {"server finished", ns::server_finished_key_prk, ns::server_handshake_traffic_secret, "finished",        \
             ns::server_finished_key_hash, ns::server_finished_key_info, ns::server_finished_key},                   \
            {"client finished", ns::client_finished_key_prk, ns::client_handshake_traffic_secret, "finished",        \
             ns::client_finished_key_hash, ns::client_finished_key_info, ns::client_finished_key},                   \
            {"server handshake key", ns::server_handshake_write_prk, ns::server_handshake_traffic_secret, "key", "", \
             ns::server_handshake_write_key_info, ns::server_handshake_write_key},                                   \
            {"server handshake iv", ns::server_handshake_write_prk, ns::server_handshake_traffic_secret, "iv", "",   \
             ns::server_handshake_write_iv_info, ns::server_handshake_write_iv},                                     \
            {"client handshake key", ns::client_handshake_write_prk, ns::client_handshake_traffic_secret, "key", "", \
             ns::client_handshake_write_key_info, ns::client_handshake_write_key},                                   \
            {"client handshake iv", ns::client_handshake_write_prk, ns::client_handshake_traffic_secret, "iv", "",   \
             ns::client_handshake_write_iv_info, ns::client_handshake_write_iv},                                     \
            {"server application key", ns::server_application_write_prk, ns::server_application_traffic_secret_0,    \
             "key", "", ns::server_application_write_key_info, ns::server_application_write_key},                    \
            {"server application iv", ns::server_application_write_prk, ns::server_application_traffic_secret_0,     \
             "iv", "", ns::server_application_write_iv_info, ns::server_application_write_iv},                       \
            {"client application key", ns::client_application_write_prk, ns::client_application_traffic_secret_0,    \
             "key", "", ns::client_application_write_key_info, ns::client_application_write_key},                    \
            {"client application iv", ns::client_application_write_prk, ns::client_application_traffic_secret_0,     \
             "iv", "", ns::client_application_write_iv_info, ns::client_application_write_iv},                       \
        });                                                                                                          \
    } while (0)

}  // namespace

// ---- RFC 8448 §3 "Simple 1-RTT Handshake", value by value ------------------------------------

TEST_CASE("RFC 8448 §3: x25519 public keys from the private keys") {
    CHECK(hex(x25519_keypair_from_private(bytes(s3::client_private_key)).public_key) == rfc(s3::client_public_key));
    CHECK(hex(x25519_keypair_from_private(bytes(s3::server_private_key)).public_key) == rfc(s3::server_public_key));
}

TEST_CASE("RFC 8448 §3: x25519 shared secret, the same from both sides") {
    // The IKM of the RFC's {server} extract secret "handshake".
    CHECK(hex(x25519(bytes(s3::client_private_key), bytes(s3::server_public_key))) == rfc(s3::handshake_secret_ikm));
    CHECK(hex(x25519(bytes(s3::server_private_key), bytes(s3::client_public_key))) == rfc(s3::handshake_secret_ikm));
}

TEST_CASE("RFC 8448 §3: early secret without a PSK") {
    CHECK(rfc(s3::early_secret_ikm) == zeros);
    CHECK(hex(simple().early().secret()) == rfc(s3::early_secret));
}

TEST_CASE("RFC 8448 §3: transcript hashes at every point the key schedule reads them") {
    // One running hash, read three times: current() must not disturb it.
    TranscriptHash th(sha256);
    th.update(bytes(s3::client_hello));
    th.update(bytes(s3::server_hello));
    CHECK(hex(th.current()) == rfc(s3::client_handshake_traffic_secret_transcript_hash));
    CHECK(hex(th.current()) == rfc(s3::server_handshake_traffic_secret_transcript_hash));
    for (std::string_view m : {s3::encrypted_extensions, s3::certificate, s3::certificate_verify, s3::server_finished})
        th.update(bytes(m));
    CHECK(hex(th.current()) == rfc(s3::client_application_traffic_secret_0_transcript_hash));
    CHECK(hex(th.current()) == rfc(s3::server_application_traffic_secret_0_transcript_hash));
    CHECK(hex(th.current()) == rfc(s3::exporter_master_secret_transcript_hash));
    th.update(bytes(s3::client_finished));
    CHECK(hex(th.current()) == rfc(s3::resumption_master_secret_transcript_hash));
}

TEST_CASE("RFC 8448 §3: derived salt of the handshake secret") {
    // §7.1: Derive-Secret(., "derived", "") - the context is Hash(""), e3 b0 c4 42...
    CHECK(hex(hash(sha256, {})) == rfc(s3::derived_for_handshake_hash));
    CHECK(hex(derive_secret(sha256, simple().early().secret(), "derived", hash(sha256, {}))) ==
          rfc(s3::derived_for_handshake));
}

TEST_CASE("RFC 8448 §3: handshake secret") {
    CHECK(hex(simple().handshake().secret()) == rfc(s3::handshake_secret));
}

TEST_CASE("RFC 8448 §3: client handshake traffic secret") {
    const Schedule s = simple();
    CHECK(hex(s.handshake().client_handshake_traffic_secret(s.transcript.through(s3::server_hello))) ==
          rfc(s3::client_handshake_traffic_secret));
}

TEST_CASE("RFC 8448 §3: server handshake traffic secret") {
    const Schedule s = simple();
    CHECK(hex(s.handshake().server_handshake_traffic_secret(s.transcript.through(s3::server_hello))) ==
          rfc(s3::server_handshake_traffic_secret));
}

TEST_CASE("RFC 8448 §3: handshake write keys and IVs") {
    const Schedule s = simple();
    const Bytes hello = s.transcript.through(s3::server_hello);
    const TrafficKeys server = traffic_keys(aes128(), s.handshake().server_handshake_traffic_secret(hello));
    CHECK(hex(server.key) == rfc(s3::server_handshake_write_key));
    CHECK(hex(server.iv) == rfc(s3::server_handshake_write_iv));
    const TrafficKeys client = traffic_keys(aes128(), s.handshake().client_handshake_traffic_secret(hello));
    CHECK(hex(client.key) == rfc(s3::client_handshake_write_key));
    CHECK(hex(client.iv) == rfc(s3::client_handshake_write_iv));
}

TEST_CASE("RFC 8448 §3: derived salt of the master secret, and the master secret") {
    const Schedule s = simple();
    CHECK(hex(derive_secret(sha256, s.handshake().secret(), "derived", hash(sha256, {}))) ==
          rfc(s3::derived_for_master));
    CHECK(rfc(s3::master_secret_ikm) == zeros);
    CHECK(hex(s.master().secret()) == rfc(s3::master_secret));
}

TEST_CASE("RFC 8448 §3: server Finished") {
    const Schedule s = simple();
    const Secret base_key = s.handshake().server_handshake_traffic_secret(s.transcript.through(s3::server_hello));
    CHECK(hex(hkdf_expand_label(sha256, base_key, "finished", {}, 32)) == rfc(s3::server_finished_key));
    const Bytes verify_data =
        finished_verify_data(sha256, base_key, s.transcript.through(s3::certificate_verify));
    CHECK(hex(verify_data) == rfc(s3::server_verify_data));
    // §4.4.4: struct { opaque verify_data[Hash.length]; } Finished; behind the 4-byte header.
    CHECK(hex(encode_handshake(Finished{verify_data})) == rfc(s3::server_finished));
}

TEST_CASE("RFC 8448 §3: client Finished") {
    const Schedule s = simple();
    const Secret base_key = s.handshake().client_handshake_traffic_secret(s.transcript.through(s3::server_hello));
    CHECK(hex(hkdf_expand_label(sha256, base_key, "finished", {}, 32)) == rfc(s3::client_finished_key));
    const Bytes verify_data = finished_verify_data(sha256, base_key, s.transcript.through(s3::server_finished));
    CHECK(hex(verify_data) == rfc(s3::client_verify_data));
    CHECK(constant_time_equal(verify_data, BytesView(bytes(s3::client_finished)).subspan(4)));
}

TEST_CASE("RFC 8448 §3: application traffic secrets") {
    const Schedule s = simple();
    const Bytes th = s.transcript.through(s3::server_finished);
    CHECK(hex(s.master().client_application_traffic_secret_0(th)) == rfc(s3::client_application_traffic_secret_0));
    CHECK(hex(s.master().server_application_traffic_secret_0(th)) == rfc(s3::server_application_traffic_secret_0));
}

TEST_CASE("RFC 8448 §3: application write keys and IVs") {
    const Schedule s = simple();
    const Bytes th = s.transcript.through(s3::server_finished);
    const TrafficKeys server = traffic_keys(aes128(), s.master().server_application_traffic_secret_0(th));
    CHECK(hex(server.key) == rfc(s3::server_application_write_key));
    CHECK(hex(server.iv) == rfc(s3::server_application_write_iv));
    const TrafficKeys client = traffic_keys(aes128(), s.master().client_application_traffic_secret_0(th));
    CHECK(hex(client.key) == rfc(s3::client_application_write_key));
    CHECK(hex(client.iv) == rfc(s3::client_application_write_iv));
}

TEST_CASE("RFC 8448 §3: exporter master secret") {
    const Schedule s = simple();
    CHECK(hex(s.master().exporter_master_secret(s.transcript.through(s3::server_finished))) ==
          rfc(s3::exporter_master_secret));
}

TEST_CASE("RFC 8448 §3: resumption master secret") {
    const Schedule s = simple();
    CHECK(hex(s.master().resumption_master_secret(s.transcript.through(s3::client_finished))) ==
          rfc(s3::resumption_master_secret));
}

TEST_CASE("RFC 8448 §3: resumption PSK from the NewSessionTicket's ticket_nonce") {
    // §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
    CHECK(hex(ticket_nonce()) == rfc(s3::resumption_psk_hash));
    CHECK(hex(resumption_psk_of_simple()) == rfc(s3::resumption_psk));
}

TEST_CASE("RFC 8448 §3: every HKDF-Extract and HKDF-Expand-Label of the trace, HkdfLabel included") {
    RFC8448_CHECK_COMMON_DERIVATIONS(s3);
    check_expansions({{"resumption", s3::resumption_psk_prk, s3::resumption_master_secret, "resumption",
                       s3::resumption_psk_hash, s3::resumption_psk_info, s3::resumption_psk}});
}

TEST_CASE("RFC 8448 §3: the whole schedule through the check §4-§7 share") {
    // The same values as above, read through the shared check, so that check is known to work.
    check_secrets(simple(), RFC8448_SCHEDULE_VALUES(s3));
    check_traffic_keys(simple(), RFC8448_SCHEDULE_VALUES(s3));
    check_finished(simple(), RFC8448_SCHEDULE_VALUES(s3));
}

// ---- RFC 8448 §4 "Resumed 0-RTT Handshake" ----------------------------------------------------

TEST_CASE("RFC 8448 §4: x25519 keys and shared secret of the resumed handshake") {
    CHECK(hex(x25519_keypair_from_private(bytes(s4::client_private_key)).public_key) == rfc(s4::client_public_key));
    CHECK(hex(x25519_keypair_from_private(bytes(s4::server_private_key)).public_key) == rfc(s4::server_public_key));
    CHECK(hex(x25519(bytes(s4::server_private_key), bytes(s4::client_public_key))) == rfc(s4::handshake_secret_ikm));
}

TEST_CASE("RFC 8448 §4: early secret from §3's resumption PSK") {
    // The IKM of the early secret is the PSK §3's NewSessionTicket made.
    CHECK(rfc(s4::early_secret_ikm) == rfc(s3::resumption_psk));
    CHECK(hex(EarlySecret(sha256, resumption_psk_of_simple()).secret()) == rfc(s4::early_secret));
}

TEST_CASE("RFC 8448 §4: binder key, its finished key and the PSK binder over the truncated ClientHello") {
    const EarlySecret early(sha256, resumption_psk_of_simple());
    // §4.2.11.2: binder_key = Derive-Secret(early_secret, "res binder", ""), the binder's BaseKey.
    const Secret binder_key = early.resumption_binder_key();
    CHECK(hex(binder_key) == rfc(s4::binder_key));
    // The binder is a Finished over Truncated(ClientHello): the whole message, cut before its binders.
    const Bytes truncated = truncated_client_hello(bytes(s4::client_hello));
    CHECK(hex(truncated) == rfc(s4::client_hello_prefix));
    CHECK(hex(truncated) == rfc(s4::client_hello_before_binders));
    const Bytes binder_hash = hash(sha256, truncated);
    CHECK(hex(binder_hash) == rfc(s4::binder_hash));
    CHECK(hex(hkdf_expand_label(sha256, binder_key, "finished", {}, 32)) == rfc(s4::binder_finished_key));
    const Bytes binder = finished_verify_data(sha256, binder_key, binder_hash);
    CHECK(hex(binder) == rfc(s4::binder));
    // ... and it is the binder the ClientHello carries.
    const auto psks = ClientHello::decode(Handshake::decode(bytes(s4::client_hello)).body).pre_shared_key();
    REQUIRE(psks);
    REQUIRE(psks->binders.size() == 1);
    CHECK(hex(psks->binders[0]) == rfc(s4::binder));
}

TEST_CASE("RFC 8448 §4: client early traffic secret, early exporter and 0-RTT write key") {
    const Schedule s = resumed();
    const Bytes client_hello = s.transcript.through(s4::client_hello);
    CHECK(hex(client_hello) == rfc(s4::client_early_traffic_secret_transcript_hash));
    CHECK(hex(client_hello) == rfc(s4::early_exporter_master_secret_transcript_hash));
    const Secret early_traffic = s.early().client_early_traffic_secret(client_hello);
    CHECK(hex(early_traffic) == rfc(s4::client_early_traffic_secret));
    CHECK(hex(s.early().early_exporter_master_secret(client_hello)) == rfc(s4::early_exporter_master_secret));
    const TrafficKeys keys = traffic_keys(aes128(), early_traffic);
    CHECK(hex(keys.key) == rfc(s4::client_early_write_key));
    CHECK(hex(keys.iv) == rfc(s4::client_early_write_iv));
}

TEST_CASE("RFC 8448 §4: handshake, master and resumption secrets on top of the PSK") {
    check_secrets(resumed(), RFC8448_SCHEDULE_VALUES(s4));
}

TEST_CASE("RFC 8448 §4: handshake and application write keys and IVs") {
    check_traffic_keys(resumed(), RFC8448_SCHEDULE_VALUES(s4));
}

TEST_CASE("RFC 8448 §4: Finished both ways, the client's over EndOfEarlyData") {
    check_finished(resumed(), RFC8448_SCHEDULE_VALUES(s4));
}

TEST_CASE("RFC 8448 §4: every HKDF-Extract and HKDF-Expand-Label of the trace, HkdfLabel included") {
    RFC8448_CHECK_COMMON_DERIVATIONS(s4);
    check_expansions({
        {"c e traffic", s4::client_early_traffic_secret_prk, s4::early_secret, "c e traffic",
         s4::client_early_traffic_secret_transcript_hash, s4::client_early_traffic_secret_info,
         s4::client_early_traffic_secret},
        {"e exp master", s4::early_exporter_master_secret_prk, s4::early_secret, "e exp master",
         s4::early_exporter_master_secret_transcript_hash, s4::early_exporter_master_secret_info,
         s4::early_exporter_master_secret},
        {"binder finished", s4::binder_key, s4::binder_key, "finished", s4::binder_finished_key_hash,
         s4::binder_finished_key_info, s4::binder_finished_key},
        {"client early key", s4::client_early_write_prk, s4::client_early_traffic_secret, "key", "",
         s4::client_early_write_key_info, s4::client_early_write_key},
        {"client early iv", s4::client_early_write_prk, s4::client_early_traffic_secret, "iv", "",
         s4::client_early_write_iv_info, s4::client_early_write_iv},
    });
}

// ---- RFC 8448 §5 "HelloRetryRequest" ----------------------------------------------------------

TEST_CASE("RFC 8448 §5: the transcript restarts with message_hash(ClientHello1) after a HelloRetryRequest") {
    // §4.4.1: Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
    //     Hash(message_hash || HelloRetryRequest || ... || Mn)
    // With TranscriptHash as it is: hash ClientHello1, read it, start a new hash with the
    // synthetic message_hash message. restart_with_message_hash() would do these steps.
    TranscriptHash first(sha256);
    first.update(bytes(s5::client_hello_1));
    const Bytes client_hello_1_hash = first.current();
    const Bytes synthetic = encode_handshake(HandshakeType::message_hash, client_hello_1_hash);
    CHECK(hex(BytesView(synthetic).first(4)) == "fe000020");  // message_hash(254), 32 bytes

    TranscriptHash th(sha256);
    th.update(synthetic);
    th.update(bytes(s5::hello_retry_request));
    th.update(bytes(s5::client_hello_2));
    th.update(bytes(s5::server_hello));
    CHECK(hex(th.current()) == rfc(s5::client_handshake_traffic_secret_transcript_hash));
    CHECK(hex(th.current()) == rfc(s5::server_handshake_traffic_secret_transcript_hash));
    for (std::string_view m : {s5::encrypted_extensions, s5::certificate, s5::certificate_verify, s5::server_finished})
        th.update(bytes(m));
    CHECK(hex(th.current()) == rfc(s5::client_application_traffic_secret_0_transcript_hash));
    CHECK(hex(th.current()) == rfc(s5::server_application_traffic_secret_0_transcript_hash));
    CHECK(hex(th.current()) == rfc(s5::exporter_master_secret_transcript_hash));
    th.update(bytes(s5::client_finished));
    CHECK(hex(th.current()) == rfc(s5::resumption_master_secret_transcript_hash));

    // Without the replacement the hashes would differ: ClientHello1 is not hashed as itself.
    TranscriptHash naive(sha256);
    for (std::string_view m : {s5::client_hello_1, s5::hello_retry_request, s5::client_hello_2, s5::server_hello})
        naive.update(bytes(m));
    CHECK(hex(naive.current()) != rfc(s5::client_handshake_traffic_secret_transcript_hash));
}

TEST_CASE("RFC 8448 §5: x25519 key of ClientHello1 and the P-256 shared secret of ClientHello2") {
    CHECK(hex(x25519_keypair_from_private(bytes(s5::client_x25519_private_key)).public_key) ==
          rfc(s5::client_x25519_public_key));
    // p256_keypair() has no from-private variant: the public keys are checked through ECDH,
    // which only gives the trace's secret if each private key belongs to its public key.
    CHECK(hex(p256_ecdh(bytes(s5::client_p256_private_key), bytes(s5::server_p256_public_key))) ==
          rfc(s5::handshake_secret_ikm));
    CHECK(hex(p256_ecdh(bytes(s5::server_p256_private_key), bytes(s5::client_p256_public_key))) ==
          rfc(s5::handshake_secret_ikm));
}

TEST_CASE("RFC 8448 §5: key schedule secrets after a HelloRetryRequest") {
    check_secrets(hello_retry(), RFC8448_SCHEDULE_VALUES(s5));
}

TEST_CASE("RFC 8448 §5: handshake and application write keys and IVs") {
    check_traffic_keys(hello_retry(), RFC8448_SCHEDULE_VALUES(s5));
}

TEST_CASE("RFC 8448 §5: Finished both ways over the message_hash transcript") {
    check_finished(hello_retry(), RFC8448_SCHEDULE_VALUES(s5));
}

TEST_CASE("RFC 8448 §5: every HKDF-Extract and HKDF-Expand-Label of the trace, HkdfLabel included") {
    RFC8448_CHECK_COMMON_DERIVATIONS(s5);
}

// ---- RFC 8448 §6 "Client Authentication" ------------------------------------------------------

TEST_CASE("RFC 8448 §6: x25519 keys and shared secret") {
    CHECK(hex(x25519_keypair_from_private(bytes(s6::client_private_key)).public_key) == rfc(s6::client_public_key));
    CHECK(hex(x25519_keypair_from_private(bytes(s6::server_private_key)).public_key) == rfc(s6::server_public_key));
    CHECK(hex(x25519(bytes(s6::server_private_key), bytes(s6::client_public_key))) == rfc(s6::handshake_secret_ikm));
}

TEST_CASE("RFC 8448 §6: key schedule secrets with CertificateRequest and the client's certificate") {
    check_secrets(client_auth(), RFC8448_SCHEDULE_VALUES(s6));
}

TEST_CASE("RFC 8448 §6: handshake and application write keys and IVs") {
    check_traffic_keys(client_auth(), RFC8448_SCHEDULE_VALUES(s6));
}

TEST_CASE("RFC 8448 §6: Finished both ways, the client's over its Certificate and CertificateVerify") {
    check_finished(client_auth(), RFC8448_SCHEDULE_VALUES(s6));
}

TEST_CASE("RFC 8448 §6: every HKDF-Extract and HKDF-Expand-Label of the trace, HkdfLabel included") {
    RFC8448_CHECK_COMMON_DERIVATIONS(s6);
}

// ---- RFC 8448 §7 "Compatibility Mode" ---------------------------------------------------------

TEST_CASE("RFC 8448 §7: x25519 keys and shared secret") {
    CHECK(hex(x25519_keypair_from_private(bytes(s7::client_private_key)).public_key) == rfc(s7::client_public_key));
    CHECK(hex(x25519_keypair_from_private(bytes(s7::server_private_key)).public_key) == rfc(s7::server_public_key));
    CHECK(hex(x25519(bytes(s7::server_private_key), bytes(s7::client_public_key))) == rfc(s7::handshake_secret_ikm));
}

TEST_CASE("RFC 8448 §7: key schedule secrets, change_cipher_spec left out of the transcript") {
    check_secrets(compat(), RFC8448_SCHEDULE_VALUES(s7));
}

TEST_CASE("RFC 8448 §7: handshake and application write keys and IVs") {
    check_traffic_keys(compat(), RFC8448_SCHEDULE_VALUES(s7));
}

TEST_CASE("RFC 8448 §7: Finished both ways") {
    check_finished(compat(), RFC8448_SCHEDULE_VALUES(s7));
}

TEST_CASE("RFC 8448 §7: every HKDF-Extract and HKDF-Expand-Label of the trace, HkdfLabel included") {
    RFC8448_CHECK_COMMON_DERIVATIONS(s7);
}

// ---- The functions of the schedule, beyond the traces -----------------------------------------

TEST_CASE("hkdf_expand_label refuses a label or context that does not fit HkdfLabel") {
    // label<7..255> holds "tls13 " + Label; context<0..255>.
    const Bytes secret(32, 0x42);
    CHECK(hkdf_expand_label(sha256, secret, std::string(249, 'x'), {}, 16).size() == 16);
    CHECK_THROWS_AS(hkdf_expand_label(sha256, secret, std::string(250, 'x'), {}, 16), std::invalid_argument);
    CHECK_THROWS_AS(hkdf_expand_label(sha256, secret, "key", Bytes(256, 0), 16), std::invalid_argument);
}

TEST_CASE("next_traffic_secret applies traffic upd to the current secret") {
    // §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)
    const Secret secret_0 = simple().master().client_application_traffic_secret_0(
        simple().transcript.through(s3::server_finished));
    const Secret secret_1 = next_traffic_secret(sha256, secret_0);
    CHECK(secret_1.size() == 32);
    CHECK(hex(secret_1) == hex(hkdf_expand_label(sha256, secret_0, "traffic upd", {}, 32)));
    CHECK(hex(secret_1) != hex(secret_0));
    CHECK(hex(next_traffic_secret(sha256, secret_1)) != hex(secret_1));
}

TEST_CASE("suite_info describes the three suites we implement and no other") {
    const SuiteInfo* a = suite_info(CipherSuite::TLS_AES_128_GCM_SHA256);
    REQUIRE(a);
    CHECK(a->hash == HashAlg::sha256);
    CHECK(a->aead == AeadAlg::aes_128_gcm);
    CHECK(a->key_length == 16);
    CHECK(a->iv_length == 12);
    const SuiteInfo* b = suite_info(CipherSuite::TLS_AES_256_GCM_SHA384);
    REQUIRE(b);
    CHECK(b->hash == HashAlg::sha384);
    CHECK(b->aead == AeadAlg::aes_256_gcm);
    CHECK(b->key_length == 32);
    const SuiteInfo* c = suite_info(CipherSuite::TLS_CHACHA20_POLY1305_SHA256);
    REQUIRE(c);
    CHECK(c->hash == HashAlg::sha256);
    CHECK(c->aead == AeadAlg::chacha20_poly1305);
    CHECK(c->key_length == 32);
    CHECK(suite_info(CipherSuite::TLS_AES_128_CCM_SHA256) == nullptr);
    CHECK(suite_info(static_cast<CipherSuite>(0x1234)) == nullptr);
}

TEST_CASE("a SHA-384 suite gives 48-byte secrets and 32-byte keys") {
    const SuiteInfo& suite = *suite_info(CipherSuite::TLS_AES_256_GCM_SHA384);
    const EarlySecret early(suite.hash);
    CHECK(early.secret().size() == 48);
    const HandshakeSecret hs = early.mix_shared_secret(Bytes(32, 0x42));
    const Bytes th = hash(suite.hash, to_bytes("ClientHello...ServerHello"));
    const Secret client = hs.client_handshake_traffic_secret(th);
    CHECK(client.size() == 48);
    const TrafficKeys keys = traffic_keys(suite, client);
    CHECK(keys.key.size() == 32);
    CHECK(keys.iv.size() == 12);
    CHECK(finished_verify_data(suite.hash, client, th).size() == 48);
    CHECK(hs.derive_master_secret().secret().size() == 48);
}

TEST_CASE("handshake and master secrets can only come from the stage before") {
    // The key schedule's order is in the types: no public constructor to skip a stage.
    static_assert(!std::is_constructible_v<HandshakeSecret, HashAlg, Secret>);
    static_assert(!std::is_default_constructible_v<HandshakeSecret>);
    static_assert(!std::is_constructible_v<MasterSecret, HashAlg, Secret>);
    static_assert(!std::is_default_constructible_v<MasterSecret>);
    static_assert(std::is_constructible_v<EarlySecret, HashAlg>);
    CHECK(true);
}
