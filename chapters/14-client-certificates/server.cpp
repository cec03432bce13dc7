// Chapter 14 — Client certificates (RFC 8446 §4.3.2, §4.4.2, §4.4.3, §4.4.2.4), server side.
// The chapter 13 server, plus one step in a full handshake: with --client-ca FILE we ask the
// client who it is (CertificateRequest, after EncryptedExtensions); it answers, after our
// Finished, with its Certificate and a CertificateVerify signed with the client's context
// string, or with an empty Certificate. We validate its chain against FILE (clientAuth), check
// the signature, and either go on anonymously or, with --require-client-cert, refuse a client
// without a certificate (certificate_required).
// Before: 0-RTT (chapter 13), resumption (chapter 12), KeyUpdate (11), HelloRetryRequest (10).
#include "connection.hpp"
#include "anti_replay.hpp"
#include "cookie.hpp"
#include "handshake_steps.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "psk.hpp"
#include "rfc8448.hpp"
#include "ticket.hpp"

namespace {

struct Options : tls::ServerOptions {
    std::string keylog;
    std::string cert = tls::repo_path("certs/server-ecdsa.pem");
    std::string key = tls::repo_path("certs/server-ecdsa.key");
    int handshake_timeout = 10;  // seconds
    std::vector<std::string> groups = {"x25519", "secp256r1"};  // ours, most preferred first (--groups)
    std::vector<tls::NamedGroup> our_groups;                    // the same, parsed in main()
    bool hrr_cookie = false;
    std::uint64_t key_update_every = 0;  // records we echo between our KeyUpdates; 0: only at §5.5's limit
    int tickets = 2;                     // NewSessionTickets after each handshake (OpenSSL also sends 2)
    std::string ticket_key;              // file of the key that seals our tickets; empty: a random key
    std::uint32_t ticket_lifetime = tls::default_ticket_lifetime;  // seconds (§4.6.1: at most 7 days)
    bool allow_psk_ke = false;           // resume with the PSK alone, without a fresh (EC)DHE (§4.2.9)
    std::uint32_t max_early_data = 16384;  // early data our tickets allow (0: no 0-RTT); OpenSSL's default is 16384 too
    std::string client_ca;                 // trust anchors for client certificates; empty: we ask for none
    bool require_client_cert = false;      // refuse a client without a certificate (certificate_required)
    bool post_handshake_auth = false;      // ask for the client's certificate after the handshake (§4.6.2)
};

// The schemes we accept in the client's CertificateVerify, sent in our CertificateRequest.
// RFC8446 4.3.2-5
const std::vector<tls::SignatureScheme> client_signature_schemes = {
    tls::SignatureScheme::ecdsa_secp256r1_sha256, tls::SignatureScheme::rsa_pss_rsae_sha256, tls::SignatureScheme::ed25519,
    tls::SignatureScheme::rsa_pss_rsae_sha384, tls::SignatureScheme::rsa_pss_rsae_sha512};

// The server's identity, loaded once at start.
struct Credentials {
    std::vector<tls::Bytes> chain;  // DER, leaf first
    // nullopt only with --rfc8448 client-auth: the RFC shows no key for its certificate, and the
    // replay sends the RFC's signature instead (Inputs::signature, rfc8448.hpp).
    std::optional<tls::PrivateKey> key;
    // The schemes we can sign with: our key's (the certificate's public key says the same).
    std::vector<tls::SignatureScheme> schemes() const {
        return key ? key->schemes() : tls::schemes_for_certificate(chain.front());
    }
};

// What the server has decided for this connection.
struct Negotiated {
    tls::CipherSuite cipher_suite{};
    tls::NamedGroup group{};                         // the group we chose
    std::optional<tls::KeyShareEntry> client_share;  // the client's share for it, if it sent one
    bool has_group = true;                           // false: the client offers no groups (a PSK-only ClientHello)
};

// Our preference order; the first we implement that the client also offers wins.
// RFC8446 9.1-1, D.5-2, D.5-3
constexpr tls::CipherSuite our_cipher_suites[] = {tls::CipherSuite::TLS_AES_128_GCM_SHA256,
                                                  tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                                                  tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};

void check_client_hello(const tls::ClientHello& hello) {
    // RFC8446 D.5-10
    // Appendix D.5: "Any endpoint receiving a Hello message with ClientHello.legacy_version
    // or ServerHello.legacy_version set to 0x0300 MUST abort the handshake with a
    // "protocol_version" alert" — whatever supported_versions says. (Lower values are SSL 2.)
    if (hello.legacy_version <= 0x0300)
        throw tls::AlertError(tls::AlertDescription::protocol_version,
                              fmt::format("legacy_version {:04x}: SSL 3.0 or older (Appendix D.5)", hello.legacy_version));
    // RFC8446 4.2.1-3, 4.2.1-6
    // §4.2.1: a TLS 1.3 ClientHello MUST carry supported_versions; without 0x0304
    // in it, the client is not offering TLS 1.3 and we offer nothing older.
    auto versions = hello.supported_versions();
    // RFC8446 4.2.1-4, D.2-1, D.2-3, D.5-4, D.5-5
    if (!versions || std::find(versions->begin(), versions->end(), tls::TLS1_3) == versions->end())
        throw tls::AlertError(tls::AlertDescription::protocol_version, "the client does not offer TLS 1.3");
    // ANCHOR: mandatory_extensions
    // RFC8446 9.2-10, 9.2-11, 9.2-12
    // RFC8446 9.2-9
    // §9.2: "If not containing a "pre_shared_key" extension, it MUST contain both a
    // "signature_algorithms" extension and a "supported_groups" extension. If containing a
    // "supported_groups" extension, it MUST also contain a "key_share" extension, and vice
    // versa. [...] Servers receiving a ClientHello which does not conform to these
    // requirements MUST abort the handshake with a "missing_extension" alert."
    using tls::ExtensionType;
    if (!hello.has_extension(ExtensionType::pre_shared_key) &&
        (!hello.has_extension(ExtensionType::signature_algorithms) || !hello.has_extension(ExtensionType::supported_groups)))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "no pre_shared_key, so signature_algorithms and supported_groups are required (§9.2)");
    if (hello.has_extension(ExtensionType::supported_groups) != hello.has_extension(ExtensionType::key_share))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "supported_groups and key_share must come together (§9.2)");
    // ANCHOR_END: mandatory_extensions
    // RFC8446 4.1.2-13, 4.1.2-14
    // §4.1.2: "legacy_compression_methods ... MUST contain exactly one byte, set to zero".
    if (hello.legacy_compression_methods != tls::Bytes{0})
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "legacy_compression_methods must be [0]");
    // §4.2.8: every KeyShareEntry must be for a group offered in supported_groups.
    tls::check_key_shares_match_supported_groups(hello);
}

// ANCHOR: choose_signature_scheme
// §4.2.3 / §4.4.2.2: sign with a scheme the client offered in signature_algorithms
// and that fits our key; with none in common the handshake cannot go on.
tls::SignatureScheme choose_signature_scheme(const tls::ClientHello& hello, const Credentials& credentials) {
    auto offered = hello.signature_algorithms();
    // RFC8446 4.2.3-3
    if (!offered) throw tls::AlertError(tls::AlertDescription::missing_extension, "no signature_algorithms (§4.2.3)");
    // RFC8446 4.2.3-1, 4.4.2.2-2, 4.4.3-6
    for (auto scheme : credentials.schemes())
        if (std::find(offered->begin(), offered->end(), scheme) != offered->end()) return scheme;
    throw tls::AlertError(tls::AlertDescription::handshake_failure,
                          "the client offers no signature scheme for our certificate's key");
}
// ANCHOR_END: choose_signature_scheme

// ANCHOR: negotiate
// §4.1.1: pick a cipher suite both sides have and a group: the first of ours (--groups, in our
// order of preference) that the client lists in supported_groups. Without a suite or a group
// in common there is nothing to agree on. If the client sent no key share for that group,
// client_share stays empty and we will ask for one (§4.1.4). The signature scheme waits until
// we know whether the handshake is a resumption, which signs nothing. A client that resumes
// with the PSK alone (psk_ke, §4.2.9) may offer no groups at all (§9.2): has_group is false.
//
// Our order wins even when the client did send a share for another group we could use:
// that costs a round trip, and buys the group we prefer (GnuTLS does the same with
// %SERVER_PRECEDENCE; OpenSSL takes any share it can use). It is also what lets
// `./scripts/run 10 -- --groups secp256r1,x25519 --key-shares x25519` show a retry.
// RFC8446 2.1-1, 4.1.1-1, 4.1.1-3, 4.1.1-4, 4.1.2-11
Negotiated negotiate(const tls::ClientHello& hello, const std::vector<tls::NamedGroup>& our_groups) {
    Negotiated n;
    auto suite = std::find_first_of(std::begin(our_cipher_suites), std::end(our_cipher_suites),
                                    hello.cipher_suites.begin(), hello.cipher_suites.end());
    if (suite == std::end(our_cipher_suites))
        throw tls::AlertError(tls::AlertDescription::handshake_failure, "no cipher suite in common");
    n.cipher_suite = *suite;
    if (!hello.has_extension(tls::ExtensionType::supported_groups)) {  // §9.2: only with a pre_shared_key
        n.has_group = false;
        return n;
    }

    auto offered = hello.supported_groups().value_or(std::vector<tls::NamedGroup>{});
    auto shares = hello.key_share().value_or(std::vector<tls::KeyShareEntry>{});
    for (auto group : our_groups) {
        if (std::find(offered.begin(), offered.end(), group) == offered.end()) continue;
        n.group = group;
        for (auto& share : shares)
            if (share.group == group) n.client_share = share;
        return n;
    }
    throw tls::AlertError(tls::AlertDescription::handshake_failure, "no group in common");
}
// ANCHOR_END: negotiate


// ANCHOR: send_server_hello
// §4.1.3: our random, our choices, and our own key share for the chosen group.
// A resumption adds pre_shared_key with the index of the PSK we took (§4.2.11), and leaves out
// key_share if that PSK is used alone (psk_ke, §4.2.9).
asio::awaitable<tls::Bytes> send_server_hello(tls::Connection& conn, const tls::ClientHello& client_hello,
                                              const Negotiated& n, const tls::Random& random,
                                              const tls::KeyPair* our_share,
                                              std::optional<std::uint16_t> selected_identity,
                                              const tls::Inputs& inputs) {
    // RFC8446 4.1.3-1, 4.2.1-9
    tls::ServerHello hello;
    hello.random = random;
    hello.legacy_session_id_echo = client_hello.legacy_session_id;  // §4.1.3: echoed as sent
    hello.cipher_suite = n.cipher_suite;
    // RFC8446 4.1.3-7, 4.2.8-8, 4.2.8-9, 9.2-6, 2-1, 4.2.9-7, 4.2.9-8, 4.2.9-6
    if (our_share) hello.extensions.push_back(tls::make_key_share_server({n.group, our_share->public_key}));  // §4.2.8
    // RFC8446 4.1.3-8, 4.2.1-8, 9.2-3
    hello.extensions.push_back(tls::make_supported_versions_server(tls::TLS1_3));  // §4.2.1: "this is TLS 1.3"
    if (selected_identity) hello.extensions.push_back(tls::make_pre_shared_key_server(*selected_identity));  // §4.2.11
    hello = inputs.server_hello(std::move(hello));  // §4.2: any order; --rfc8448 resume: the RFC's
    co_return co_await conn.write(hello);
}
// ANCHOR_END: send_server_hello

// ANCHOR: send_hello_retry_request
// §4.1.4: "The server will send this message in response to a ClientHello message if it is
// able to find an acceptable set of parameters but the ClientHello does not contain
// sufficient information to proceed with the handshake." A HelloRetryRequest is a ServerHello
// whose random is SHA-256("HelloRetryRequest") (§4.1.3), with our suite, the group we want a
// share for (§4.2.8), supported_versions, and, for a stateless retry, a cookie (§4.2.2).
// RFC8446 4.1.4-2
tls::ServerHello hello_retry_request(const tls::ClientHello& client_hello, tls::CipherSuite suite,
                                     tls::NamedGroup selected_group, const std::optional<tls::Bytes>& cookie) {
    tls::ServerHello hrr;
    hrr.random = tls::hello_retry_request_random;
    hrr.legacy_session_id_echo = client_hello.legacy_session_id;
    hrr.cipher_suite = suite;
    // RFC8446 4.1.4-1, 4.1.4-3, 4.2-1
    hrr.extensions = {tls::make_key_share_hrr(selected_group)};
    if (cookie) hrr.extensions.push_back(tls::make_cookie(*cookie));
    hrr.extensions.push_back(tls::make_supported_versions_server(tls::TLS1_3));
    return hrr;
}
// ANCHOR_END: send_hello_retry_request

// ANCHOR: check_second_client_hello
// §4.1.2: after a HelloRetryRequest, "the client MUST send the same ClientHello without
// modification, except as follows": key_share becomes "a list containing a single
// KeyShareEntry from the indicated group"; "early_data" is removed ("Early data is not
// permitted after a HelloRetryRequest"); the cookie is added; pre_shared_key may be updated;
// padding may come, go or change. Anything else changed is an illegal_parameter. A new order
// of the same extensions counts as a change: the RFC says "the same ClientHello", and the
// clients we know (OpenSSL, GnuTLS, curl, Chromium) keep their order.
// RFC8446 4.1.2-2
void check_second_client_hello(const tls::ClientHello& first, const tls::ClientHello& second,
                               tls::NamedGroup selected_group, const std::optional<tls::Bytes>& cookie) {
    auto fail = [](const std::string& why) {
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2: " + why + " (§4.1.2)");
    };
    if (second.legacy_version != first.legacy_version || second.random != first.random ||
        second.legacy_session_id != first.legacy_session_id || second.cipher_suites != first.cipher_suites ||
        second.legacy_compression_methods != first.legacy_compression_methods)
        fail("a field of ClientHello1 changed");
    auto shares = second.key_share();
    if (!shares || shares->size() != 1 || shares->front().group != selected_group)
        fail("key_share must hold exactly one share, for " + name(selected_group));
    if (second.has_extension(tls::ExtensionType::early_data)) fail("early_data after a HelloRetryRequest");
    if (second.cookie() != cookie) fail(cookie ? "the cookie is not the one we sent" : "a cookie we did not send");
    // The rest, in order: what may change is compared by type only, what may come and go not at all.
    using T = tls::ExtensionType;
    auto unchanged_part = [](const tls::ClientHello& hello) {
        std::vector<tls::Extension> kept;
        for (const auto& e : hello.extensions) {
            if (e.extension_type == T::padding || e.extension_type == T::cookie || e.extension_type == T::early_data)
                continue;
            if (e.extension_type == T::key_share || e.extension_type == T::pre_shared_key)
                kept.push_back({e.extension_type, {}});
            else
                kept.push_back(e);
        }
        return kept;
    };
    if (unchanged_part(first) != unchanged_part(second)) fail("its extensions changed");
}
// ANCHOR_END: check_second_client_hello

// ANCHOR: after_hello_retry_request
// RFC8446 D.4-1
// Appendix D.4: in compatibility mode, "The server sends a dummy change_cipher_spec record
// immediately after its first handshake message. This may either be after a ServerHello or a
// HelloRetryRequest."
asio::awaitable<void> after_hello_retry_request(tls::Connection& conn, const tls::ClientHello& first) {
    if (!first.legacy_session_id.empty()) co_await conn.records().write_change_cipher_spec();
}
// ANCHOR_END: after_hello_retry_request

// ClientHello2 as received, and what precedes it in the transcript: message_hash(ClientHello1)
// and the HelloRetryRequest. A PSK binder in ClientHello2 covers all three (§4.2.11.2).
struct SecondClientHello {
    tls::ClientHello hello;
    tls::Bytes raw;
    tls::Bytes transcript_prefix;
};

// §4.4.1: message_hash(254), a 3-byte length, Hash(ClientHello1).
tls::Bytes message_hash_message(tls::BytesView client_hello1_hash) {
    return tls::encode_handshake(tls::HandshakeType::message_hash, client_hello1_hash);
}

// ANCHOR: retry_with_state
// §4.4.1: after a HelloRetryRequest, "the value of ClientHello1 is replaced with a special
// synthetic handshake message of handshake type "message_hash" containing Hash(ClientHello1)".
// We keep ClientHello1 itself, to check what ClientHello2 changed.
asio::awaitable<SecondClientHello> retry_with_state(tls::Connection& conn, const tls::ClientHello& first,
                                                    const Negotiated& n, tls::TranscriptHash& transcript,
                                                    const tls::Inputs& inputs) {
    // --rfc8448 hrr: the RFC's server put a cookie in its HelloRetryRequest, opaque bytes that
    // only it can read. Ours cannot, so it keeps its state here as always, sends those bytes,
    // and checks only that ClientHello2 echoes them (§4.2.2). Otherwise: no cookie.
    const auto cookie = inputs.hello_retry_cookie();
    auto prefix = message_hash_message(transcript.current());  // the transcript holds ClientHello1 alone
    transcript.restart_with_message_hash();
    auto hrr_raw = co_await conn.write(hello_retry_request(first, n.cipher_suite, n.group, cookie));
    transcript.update(hrr_raw);
    prefix.insert(prefix.end(), hrr_raw.begin(), hrr_raw.end());
    co_await after_hello_retry_request(conn, first);
    auto [second, second_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(second);
    inputs.check_client_hello(conn.trace(), second_raw, /*second=*/true);  // --rfc8448 hrr: the RFC's
    check_second_client_hello(first, second, n.group, cookie);
    transcript.update(second_raw);
    co_return SecondClientHello{std::move(second), std::move(second_raw), std::move(prefix)};
}
// ANCHOR_END: retry_with_state

// ANCHOR: retry_without_state
// §4.2.2: "When a server is operating statelessly, it may receive an unprotected record of type
// change_cipher_spec between the first and second ClientHello". What we would keep — our suite,
// the group, Hash(ClientHello1) — goes into the cookie, sealed with a key only we have; from
// ClientHello2 on we work from the cookie the client echoes. The price: with ClientHello1
// forgotten, we can no longer check that nothing else in ClientHello2 changed (§4.1.2).
// `n` holds what the HelloRetryRequest asks for; on return, what the cookie says it asked for.
asio::awaitable<SecondClientHello> retry_without_state(tls::Connection& conn, const tls::ClientHello& first,
                                                       Negotiated& n, tls::TranscriptHash& transcript,
                                                       const tls::CookieKey& cookie_key) {
    tls::HelloRetryState kept;
    kept.cipher_suite = n.cipher_suite;
    kept.selected_group = n.group;
    kept.client_hello1_hash = transcript.current();
    kept.issued_ms = tls::unix_time_ms();
    auto cookie = cookie_key.seal(kept);
    conn.trace().value("cookie", fmt::format("{} bytes: suite, group, time, Hash(ClientHello1), HMAC", cookie.size()));
    co_await conn.write(hello_retry_request(first, n.cipher_suite, n.group, cookie));
    co_await after_hello_retry_request(conn, first);

    // From here on, `first`, `kept` and `n` are not read: all we know comes from the client.
    auto [second, second_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(second);
    auto echoed = second.cookie();
    if (!echoed) throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2 has no cookie (§4.2.2)");
    auto state = cookie_key.open(*echoed, tls::unix_time_ms());
    if (!state)
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "the cookie is not ours, altered or too old");
    auto shares = second.key_share();
    if (!shares || shares->size() != 1 || shares->front().group != state->selected_group)
        throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                              "ClientHello2: key_share must hold exactly one share, for " + tls::name(state->selected_group));
    if (second.has_extension(tls::ExtensionType::early_data))
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2: early_data after a HelloRetryRequest");
    n.cipher_suite = state->cipher_suite;  // what we asked for, as the cookie remembers it
    n.group = state->selected_group;
    // The transcript, rebuilt: message_hash(Hash(ClientHello1)), the HelloRetryRequest made
    // again from the cookie (the same bytes we sent), ClientHello2.
    transcript.restart_with_message_hash(state->client_hello1_hash);
    auto prefix = message_hash_message(state->client_hello1_hash);
    auto hrr_raw = tls::encode_handshake(hello_retry_request(second, state->cipher_suite, state->selected_group, *echoed));
    transcript.update(hrr_raw);
    prefix.insert(prefix.end(), hrr_raw.begin(), hrr_raw.end());
    transcript.update(second_raw);
    co_return SecondClientHello{std::move(second), std::move(second_raw), std::move(prefix)};
}
// ANCHOR_END: retry_without_state


// ANCHOR: send_certificate
// §4.4.2: the chain, leaf first, each certificate as a CertificateEntry.
asio::awaitable<tls::Bytes> send_certificate(tls::Connection& conn, const Credentials& credentials) {
    tls::Certificate certificate;  // certificate_request_context is empty in a server's Certificate
    for (auto& der : credentials.chain) {
        certificate.certificate_list.push_back({der, {}});
        conn.trace().value("certificate", [&] { return tls::describe_certificate(der); });  // parsed only if printed
    }
    co_return co_await conn.write(certificate);
}
// ANCHOR_END: send_certificate

// ANCHOR: send_certificate_verify
// §4.4.3: a signature over Transcript-Hash(ClientHello ... Certificate), wrapped so
// it can never be mistaken for a signature made in another context.
// RSA-PSS takes a fresh random salt; with --rfc8448 the one in the RFC's signature (rfc8448.hpp).
// --rfc8448 client-auth has no key: it sends the RFC's signature itself (Inputs::signature), which
// the client verifies as any other, so it passes only if our transcript is the RFC's.
asio::awaitable<tls::Bytes> send_certificate_verify(tls::Connection& conn, const Credentials& credentials,
                                                    tls::SignatureScheme scheme, const tls::TranscriptHash& transcript,
                                                    const tls::Inputs& inputs) {
    auto content = tls::certificate_verify_content(/*server=*/true, transcript.current());
    auto signature = inputs.signature(scheme);
    if (!signature) signature = credentials.key.value().sign(scheme, content, inputs.pss_salt(scheme));
    tls::CertificateVerify verify{scheme, std::move(*signature)};
    co_return co_await conn.write(verify);
}
// ANCHOR_END: send_certificate_verify

// ANCHOR: accept_psk
// A PSK we resume with: which of the client's identities, the key itself, and how it is used.
struct Resumption {
    tls::SelectedPsk psk;  // which identity, and the ticket opened from it: it holds the PSK
    tls::PskKeyExchangeMode mode{};
};

// §4.2.11: look for a PSK among the ClientHello's identities, after the suite is chosen (the
// PSK must share its hash). Each step that finds nothing usable means a full handshake, never
// an alert: "Any unknown PSKs (e.g., ones not in the PSK database or encrypted with an unknown
// key) SHOULD simply be ignored." Only a binder that does not verify is fatal, because it says
// the ClientHello was made without the PSK or changed on the way.
// `client_hello_raw` is the ClientHello as received; `transcript_prefix`, what precedes it
// (after a HelloRetryRequest: message_hash(ClientHello1), HelloRetryRequest).
std::optional<Resumption> accept_psk(tls::Trace& trace, const tls::ClientHello& client_hello,
                                     tls::BytesView client_hello_raw, tls::BytesView transcript_prefix,
                                     const Negotiated& n, tls::TicketKeys& ticket_keys, const Options& options,
                                     const tls::Inputs& inputs) {
    // RFC8446 4.2.9-3, 9.2-7, 9.2-8
    // Throws missing_extension (no psk_key_exchange_modes, §4.2.9) or illegal_parameter
    // (not one binder per identity, §4.2.11).
    auto offered = tls::offered_psks(client_hello);
    if (!offered) return std::nullopt;
    // RFC8446 4.1.1-2, 4.2.9-4
    // §4.2.9: psk_dhe_ke, the PSK with a fresh (EC)DHE, whenever the client offers it; psk_ke,
    // the PSK alone, only with --allow-psk-ke.
    auto mode = tls::choose_psk_key_exchange_mode(client_hello, options.allow_psk_ke);
    if (!mode) {
        trace.step("the client offers PSKs, but no key exchange mode we take (§4.2.9): full handshake");
        return std::nullopt;
    }
    if (*mode == tls::PskKeyExchangeMode::psk_dhe_ke && !n.client_share) {
        trace.step("psk_dhe_ke needs a key share, and the client sent none we take: full handshake");
        return std::nullopt;
    }
    // RFC8446 4.2.11-3, 4.2.11-5, 4.2.11-6, 4.6.1-1
    // --rfc8448 resume: the RFC's ticket, sealed by the RFC's server, opens under no key of ours;
    // the replay maps exactly that identity to the state §3's vectors give (rfc8448.hpp).
    auto selected = inputs.rfc8448() ? inputs.replayed_psk(trace, *offered)
                                     : tls::select_psk(*offered, ticket_keys, n.cipher_suite, tls::unix_time_ms());
    if (!selected) {
        trace.step(fmt::format("none of the {} PSK identities is a ticket of ours we can use "
                               "(unknown key, expired, implausible age, other hash): full handshake (§4.2.11)",
                               offered->identities.size()));
        return std::nullopt;
    }
    if (!inputs.rfc8448())  // (a replay traces the RFC's ticket itself)
        trace.value("ticket", fmt::format("identity {} of {}: {}, made {} ms ago by the server's clock, {} ms by the client's",
                                          selected->selected_identity, offered->identities.size(),
                                          name(selected->ticket.cipher_suite),
                                          tls::unix_time_ms() - selected->ticket.creation_time_ms,
                                          selected->client_ticket_age_ms));
    // RFC8446 4.2.11-8, 4.2.11-9, 4.2.11-10
    // §4.2.11: "Prior to accepting PSK key establishment, the server MUST validate the
    // corresponding binder value (see Section 4.2.11.2 below). If this value is not present or
    // does not validate, the server MUST abort the handshake." §6.2 names the alert:
    // decrypt_error, for failing "to validate a Finished message or a PSK binder".
    const auto hash = tls::suite_info(selected->ticket.cipher_suite)->hash;
    if (!tls::binder_valid(client_hello_raw, selected->selected_identity, hash, selected->ticket.resumption_psk,
                           transcript_prefix))
        throw tls::AlertError(tls::AlertDescription::decrypt_error, "the PSK binder does not verify (§4.2.11.2)");
    trace.value("binder", "verified: the client holds the PSK, and the ClientHello is the one it made");
    return Resumption{std::move(*selected), *mode};
}
// ANCHOR_END: accept_psk

// ANCHOR: send_tickets
// §4.6.1: after the client's Finished, tickets to come back with. Each holds, sealed under our
// ticket key, its PSK — HKDF-Expand-Label(resumption_master_secret, "resumption",
// ticket_nonce, Hash.length) — and what resuming needs with it; each has its own ticket_nonce
// (0, 1, ...) and ticket_age_add. The client keeps them; we keep nothing.
// RFC8446 4.6.1-4, 4.6.1-6, C.4-2, C.4-3
asio::awaitable<void> send_tickets(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                   tls::TicketKeys& ticket_keys, tls::CipherSuite suite,
                                   tls::BytesView resumption_master_secret, const tls::ClientHello& client_hello) {
    // --rfc8448 sends the RFC's ticket: its bytes are its server's, not sealed by us, so only
    // its PSK is usable (no server of ours can open it); one ticket, as the RFC's server sends.
    if (auto rfc_ticket = inputs.new_session_ticket()) {
        co_await conn.write(*rfc_ticket);
        co_await conn.records().flush();
        co_return;
    }
    if (options.tickets == 0) co_return;
    // RFC8446 4.2.9-5
    // §4.2.9: "Servers SHOULD NOT send NewSessionTicket with tickets that are not compatible
    // with the advertised modes": none, if the client could not resume with any mode we take.
    if (!tls::choose_psk_key_exchange_mode(client_hello, options.allow_psk_ke)) {
        conn.trace().step("no tickets: the client advertises no PSK key exchange mode we take (§4.2.9)");
        co_return;
    }
    tls::TicketState state;
    state.cipher_suite = suite;
    state.creation_time_ms = tls::unix_time_ms();
    state.ticket_lifetime = options.ticket_lifetime;
    // §4.6.1: the ticket's early_data extension, "the maximum amount of 0-RTT data that the
    // client is allowed to send when using this ticket, in bytes" (issue_ticket adds it).
    state.max_early_data_size = options.max_early_data;
    if (auto names = client_hello.server_name(); names && !names->empty()) state.server_name = names->front();
    conn.records().hold_writes();  // all the tickets in one TCP write
    for (int i = 0; i < options.tickets; ++i) {
        const tls::Bytes nonce{static_cast<std::uint8_t>(i)};
        auto ticket = tls::issue_ticket(ticket_keys, state, resumption_master_secret, nonce);
        co_await conn.write(ticket);
    }
    co_await conn.records().flush();
}
// ANCHOR_END: send_tickets

// ANCHOR: read_early_data
// §4.2.10: early data we accepted arrives right behind the ClientHello, as application_data
// records under the client_early_traffic_secret, until the client's EndOfEarlyData (§4.5),
// which is the last message under those keys: "If the server sent an "early_data" extension
// in EncryptedExtensions, the client MUST send an EndOfEarlyData message after receiving the
// server Finished." At most the ticket's max_early_data_size bytes: "If the server ...
// receives more than max_early_data_size ... it SHOULD abort with unexpected_message".
// Returns the data; EndOfEarlyData goes into the transcript (the client's Finished covers it).
// RFC8446 4.6.1-8, 4.2.10-11, 4.2.10-12
asio::awaitable<tls::Bytes> read_early_data(tls::Connection& conn, std::uint32_t max_early_data_size,
                                            tls::TranscriptHash& transcript) {
    tls::Bytes data;
    tls::HandshakeReader reader;
    for (;;) {
        auto record = co_await conn.records().read_record();
        if (!record) throw tls::AlertError(tls::AlertDescription::decode_error, "the client left before EndOfEarlyData");
        if (record->type == tls::ContentType::application_data) {
            // RFC8446 5.1-2, 5.1-3
            // §5.1: "if a handshake message is split over two or more records, there MUST NOT
            // be any other records between them."
            if (!reader.empty())
                throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                      "early data inside a handshake message split over records (§5.1)");
            if (data.size() + record->fragment.size() > max_early_data_size)
                throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                      fmt::format("more than the {} bytes of early data the ticket allows (§4.2.10)",
                                                  max_early_data_size));
            data.insert(data.end(), record->fragment.begin(), record->fragment.end());
            conn.trace().value("early data", fmt::format("{} bytes, before the handshake is complete: {}",
                                                         record->fragment.size(), tls::text_or_hex(record->fragment)));
            continue;
        }
        if (record->type != tls::ContentType::handshake)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("a {} record among the early data", name(record->type)));
        reader.feed(record->fragment);
        auto message = reader.next();
        if (!message) continue;  // a message may span records
        if (message->msg_type != tls::HandshakeType::end_of_early_data)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  tls::message_name(message->msg_type) + " under the early data keys");
        auto end = tls::EndOfEarlyData::decode(message->body);  // a non-empty body: decode_error
        conn.trace().message(tls::Direction::receive, "EndOfEarlyData", end.describe(), message->raw);
        // RFC8446 5.1-4
        // §5.1: a key change follows, so nothing may come after it in its record.
        if (!reader.empty())
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "data after EndOfEarlyData in its record: handshake messages must not span key changes (§5.1)");
        transcript.update(message->raw);
        co_return data;
    }
}
// ANCHOR_END: read_early_data

// ANCHOR: send_certificate_request
// §4.3.2: "A server which is authenticating with a certificate MAY optionally request a
// certificate from the client." The certificate_request_context is empty in the handshake
// ("This field SHALL be zero length unless used for the post-handshake authentication
// exchanges"); signature_algorithms says which signatures we can check.
// (--rfc8448 client-auth sends the RFC's: Inputs::certificate_request.)
// RFC8446 4.3.2-1, 4.3.2-3, 4.3.2-5
asio::awaitable<tls::Bytes> send_certificate_request(tls::Connection& conn, const tls::Inputs& inputs) {
    tls::CertificateRequest request;
    request.extensions = {tls::make_signature_algorithms(client_signature_schemes)};
    if (auto rfc = inputs.certificate_request()) request = std::move(*rfc);
    co_return co_await conn.write(request);
}
// ANCHOR_END: send_certificate_request

// ANCHOR: read_client_certificate
// §4.4.2: the client's Certificate, in answer to our CertificateRequest: its chain, or an empty
// one. Returns the chain (empty: the client declined, and we go on without it).
// RFC8446 4.4.2-9, 4.4.2.4-2, 4.4.2.4-3
std::vector<tls::Bytes> check_client_certificate(tls::Trace& trace, const Options& options, const tls::Inputs& inputs,
                                                 const tls::Certificate& certificate, tls::BytesView context) {
    // §4.4.2: "If this message is in response to a CertificateRequest, the value of
    // certificate_request_context in that message."
    if (certificate.certificate_request_context != tls::Bytes(context.begin(), context.end()))
        throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                              "certificate_request_context differs from our CertificateRequest's");
    // §4.4.2.4: "If the client does not send any certificates (i.e., it sends an empty
    // Certificate message), the server MAY at its discretion either continue the handshake
    // without client authentication or abort the handshake with a "certificate_required" alert."
    std::vector<tls::Bytes> chain;
    if (certificate.certificate_list.empty()) {
        if (options.require_client_cert)
            throw tls::AlertError(tls::AlertDescription::certificate_required, "the client sent no certificate");
        return chain;
    }
    for (auto& entry : certificate.certificate_list) {
        trace.value("certificate", [&] { return tls::describe_certificate(entry.cert_data); });
        chain.push_back(entry.cert_data);
    }
    // The rules a client applies to a server's chain (§4.4.2.4), for clientAuth: each
    // failure names its alert (bad_certificate, unknown_ca, certificate_expired...).
    // (--rfc8448 client-auth pins the RFC's client certificate instead, which could pass none.)
    trace.value("certificate chain", inputs.trust_client_certificate(chain, options.client_ca));
    return chain;
}

// §4.4.3: the signature over Transcript-Hash(... client Certificate), with the client's context
// string, so that it can never pass for a server's, in a scheme we offered.
// RFC8446 4.4.3-5, 4.4.3-9, 4.4.3-10
void check_client_certificate_verify(const tls::CertificateVerify& verify, tls::BytesView leaf,
                                     tls::BytesView transcript_hash) {
    if (std::find(client_signature_schemes.begin(), client_signature_schemes.end(), verify.algorithm) ==
        client_signature_schemes.end())
        throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                              "CertificateVerify uses a scheme we did not offer: " + name(verify.algorithm));
    auto content = tls::certificate_verify_content(/*server=*/false, transcript_hash);
    if (!tls::verify_signature(leaf, verify.algorithm, content, verify.signature))
        throw tls::AlertError(tls::AlertDescription::decrypt_error, "the client's CertificateVerify does not verify");
}

// In the handshake: Certificate, then CertificateVerify unless the Certificate was empty.
// Returns a line for the trace: who the client is, or that it is anonymous.
// (--rfc8448 client-auth: the client's signature is the RFC's, checked here as any other.)
asio::awaitable<std::string> read_client_certificate(tls::Connection& conn, const Options& options,
                                                     const tls::Inputs& inputs, tls::TranscriptHash& transcript) {
    auto [certificate, raw] = co_await conn.read<tls::Certificate>();
    transcript.update(raw);
    auto chain = check_client_certificate(conn.trace(), options, inputs, certificate, {});  // ours was empty
    if (chain.empty()) co_return "anonymous: the client sent an empty Certificate, and we go on without it";
    const auto hash = transcript.current();
    auto [verify, verify_raw] = co_await conn.read<tls::CertificateVerify>();
    check_client_certificate_verify(verify, chain.front(), hash);
    conn.trace().value("CertificateVerify", name(verify.algorithm) + " signature verified (client context)");
    transcript.update(verify_raw);
    co_return "authenticated: " + tls::describe_certificate(chain.front());
}
// ANCHOR_END: read_client_certificate

// ANCHOR: PostHandshakeAuth
// §4.6.2: "When the client has sent the "post_handshake_auth" extension (see Section 4.2.6), a
// server MAY request client authentication at any time after the handshake has completed by
// sending a CertificateRequest message." Its context is not empty, and the answer — Certificate,
// CertificateVerify, Finished — is hashed after "ClientHello ... client Finished +
// CertificateRequest" (§4.4.1), its Finished keyed from client_application_traffic_secret_N
// (§4.4.4). The client may send other data before it answers.
struct PostHandshakeAuth {
    enum class Expect { nothing, certificate, certificate_verify, finished };
    Expect expect = Expect::nothing;
    std::optional<tls::TranscriptHash> transcript;  // the handshake's, then the exchange's messages
    tls::Bytes context;                              // our CertificateRequest's
    std::vector<tls::Bytes> chain;                   // the client's, once its Certificate came
    // "All of the client's messages for a given response MUST appear consecutively on the wire
    // with no intervening messages of other types": between its Certificate and its Finished.
    bool answering() const { return expect == Expect::certificate_verify || expect == Expect::finished; }
};

// RFC8446 4.3.2-2, 4.3.2-4, 4.3.2-7
asio::awaitable<void> request_client_certificate(tls::Connection& conn, const tls::TranscriptHash& transcript,
                                                 PostHandshakeAuth& pha) {
    tls::CertificateRequest request;
    request.certificate_request_context = tls::random_bytes(8);
    request.extensions = {tls::make_signature_algorithms(client_signature_schemes)};
    pha.transcript = transcript.copy();  // ClientHello ... client Finished
    pha.context = request.certificate_request_context;
    pha.transcript->update(co_await conn.write(request));
    pha.expect = PostHandshakeAuth::Expect::certificate;
}

// One message of the client's answer, in its turn.
void answer_message(tls::Connection& conn, const Options& options, const tls::HandshakeMessage& message,
                    PostHandshakeAuth& pha) {
    using Expect = PostHandshakeAuth::Expect;
    auto& transcript = *pha.transcript;
    if (pha.expect == Expect::certificate) {
        auto certificate = tls::Certificate::decode(message.body);
        conn.trace().message(tls::Direction::receive, "Certificate", certificate.describe(), message.raw);
        transcript.update(message.raw);
        // (Validated against --client-ca: no replay asks after the handshake, as --rfc8448 refuses
        // --post-handshake-auth; so our own inputs, not a section's.)
        pha.chain = check_client_certificate(conn.trace(), options, tls::Inputs(tls::Role::server), certificate,
                                             pha.context);
        pha.expect = pha.chain.empty() ? Expect::finished : Expect::certificate_verify;
    } else if (pha.expect == Expect::certificate_verify) {
        auto verify = tls::CertificateVerify::decode(message.body);
        conn.trace().message(tls::Direction::receive, "CertificateVerify", verify.describe(), message.raw);
        check_client_certificate_verify(verify, pha.chain.front(), transcript.current());
        transcript.update(message.raw);
        pha.expect = Expect::finished;
    } else {
        // RFC8446 4.4.4-1
        auto finished = tls::Finished::decode(message.body, tls::hash_length(transcript.alg()));
        conn.trace().message(tls::Direction::receive, "Finished", finished.describe(), message.raw);
        auto expected = tls::finished_verify_data(transcript.alg(), conn.records().read_secret(), transcript.current());
        if (!tls::constant_time_equal(finished.verify_data, expected))
            throw tls::AlertError(tls::AlertDescription::decrypt_error, "the client's post-handshake Finished does not match");
        conn.trace().result(pha.chain.empty() ? std::string("client declined to authenticate after the handshake")
                                              : "client authenticated after the handshake: " +
                                                    tls::describe_certificate(pha.chain.front()));
        pha = PostHandshakeAuth{};
    }
}
// ANCHOR_END: PostHandshakeAuth

// RFC8446 4.1.2-3
// ANCHOR: post_handshake
// §4.6: after the handshake a client may still send handshake messages. We take KeyUpdate
// (§4.6.3) and the answer to our post-handshake CertificateRequest (§4.6.2); anything else is
// an unexpected_message. A KeyUpdate must end its record (§5.1). Data may come before the answer.
// RFC8446 4.6.2-6
asio::awaitable<void> handle_post_handshake(tls::Connection& conn, const Options& options, const tls::TLSPlaintext& record,
                                            tls::HandshakeReader& reader, PostHandshakeAuth& pha) {
    reader.feed(record.fragment);
    while (auto message = reader.next()) {
        using Expect = PostHandshakeAuth::Expect;
        const auto expected = pha.expect == Expect::certificate          ? tls::HandshakeType::certificate
                              : pha.expect == Expect::certificate_verify ? tls::HandshakeType::certificate_verify
                                                                         : tls::HandshakeType::finished;
        if (pha.expect != Expect::nothing && message->msg_type == expected) {
            answer_message(conn, options, *message, pha);
            continue;
        }
        if (message->msg_type != tls::HandshakeType::key_update || pha.answering())
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "post-handshake " + tls::message_name(message->msg_type) + " from a client");
        auto update = tls::KeyUpdate::decode(message->body);  // a bad request_update: illegal_parameter
        conn.trace().message(tls::Direction::receive, "KeyUpdate", update.describe(), message->raw);
        co_await conn.receive_key_update(update, reader);
    }
}
// ANCHOR_END: post_handshake

// ANCHOR: echo
// §5: application data, protected with the application traffic keys, until the client's
// close_notify, which we answer with our own (§6.1). Between records, the KeyUpdates.
asio::awaitable<void> echo(tls::Connection& conn, const Options& options, const tls::Bytes& early_data,
                           bool echo_early_data,
                           PostHandshakeAuth& pha) {
    std::size_t total = 0;
    // ANCHOR: echo_early_data
    // RFC8446 E.5-4
    // The early data, echoed now that the handshake is complete. It was read before: before the
    // client's Finished proved this is a live connection and not a recording played back (§8).
    // (--rfc8448 resume: not echoed, as the RFC's server sends nothing for it: Inputs::echo_early_data.)
    if (!early_data.empty() && echo_early_data) {
        conn.trace().step(fmt::format("echoing the {} bytes of early data, which arrived before the handshake "
                                      "completed: a replay of it would not have been accepted twice (§8)",
                                      early_data.size()));
        co_await conn.records().write_records(tls::ContentType::application_data, early_data);
        total += early_data.size();
    }
    // ANCHOR_END: echo_early_data
    std::uint64_t since_update = 0;
    tls::HandshakeReader post_handshake;
    while (auto record = co_await conn.records().read_record()) {
        if (record->type == tls::ContentType::handshake) {
            co_await handle_post_handshake(conn, options, *record, post_handshake, pha);
            continue;
        }
        if (record->type != tls::ContentType::application_data)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("unexpected {} record after the handshake", name(record->type)));
        // RFC8446 4.6.2-4
        // §4.6.2: the client's answer comes "consecutively on the wire with no intervening
        // messages of other types"; and a handshake message may not be cut by data (§5.1).
        if (pha.answering() || !post_handshake.empty())
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "application data inside a handshake message or the client's certificate answer");
        total += record->fragment.size();
        conn.trace().value("echo", fmt::format("{} bytes", record->fragment.size()));
        co_await conn.records().write_records(tls::ContentType::application_data, record->fragment);
        // ANCHOR: start_key_update
        // Our own KeyUpdate: every --key-update-every records, and always before the §5.5 limit
        // of our AEAD. We ask the client to update too (update_requested), as OpenSSL's "K" does.
        ++since_update;
        if ((options.key_update_every != 0 && since_update >= options.key_update_every) ||
            conn.records().write_keys_at_limit()) {
            since_update = 0;
            co_await conn.send_key_update(tls::KeyUpdateRequest::update_requested);
        }
        // ANCHOR_END: start_key_update
    }
    if (conn.records().received_close_notify()) {
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        conn.trace().result(fmt::format("connection closed cleanly after echoing {} bytes", total));
    } else {
        // §6.1: without close_notify we cannot tell an ending from an attacker's cut.
        conn.trace().error(fmt::format("the client closed without close_notify: possible truncation after {} bytes", total));
    }
}
// ANCHOR_END: echo

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const Credentials& credentials,
                                const tls::Inputs& inputs, const tls::CookieKey& cookie_key,
                                tls::TicketKeys& ticket_keys, tls::UsedTickets& used_tickets, tls::Bytes& early_data,
                                PostHandshakeAuth& pha) {
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    conn.records().allow_compatibility_ccs(true);  // §5: any time after the first ClientHello
    check_client_hello(client_hello);
    inputs.check_client_hello(conn.trace(), client_hello_raw);  // --rfc8448 answers only the RFC's
    auto negotiated = negotiate(client_hello, options.our_groups);
    // §4.4.1: the suite's hash runs over every handshake message, in order.
    const auto& suite = *tls::suite_info(negotiated.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);

    // ANCHOR: hello_retry
    bool sent_change_cipher_spec = false;
    tls::Bytes transcript_prefix;  // what precedes the ClientHello we answer: empty, or after a retry
    if (negotiated.has_group && !negotiated.client_share) {
        conn.trace().step(fmt::format("the client sent no key share for {}: we ask for one (§4.1.4)", name(negotiated.group)));
        auto asked = negotiated;  // what we ask for (a stateless retry takes it back from the cookie)
        // §4.2.10: "A server which receives an "early_data" extension MUST behave in one of
        // three ways": ignore it, request a retry, or accept it. A retry refuses it; what the
        // client sent under the early keys is skipped.
        if (client_hello.has_extension(tls::ExtensionType::early_data)) {
            conn.trace().step("early data declined: we ask for another ClientHello, and early data is "
                              "not permitted after a HelloRetryRequest (§4.2.10)");
            conn.records().skip_early_data(tls::max_skipped_early_data);
        }
        // (An if, not `?:` with a co_await in each branch: g++ 12 destroys the result twice.)
        SecondClientHello second;
        if (options.hrr_cookie)
            second = co_await retry_without_state(conn, client_hello, asked, transcript, cookie_key);
        else
            second = co_await retry_with_state(conn, client_hello, asked, transcript, inputs);
        client_hello = std::move(second.hello);
        client_hello_raw = std::move(second.raw);
        transcript_prefix = std::move(second.transcript_prefix);
        sent_change_cipher_spec = !client_hello.legacy_session_id.empty();  // after_hello_retry_request sent it
        // The same choices as before, now with the share we asked for (§4.1.4).
        negotiated = negotiate(client_hello, options.our_groups);
        // RFC8446 4.1.4-9
        if (negotiated.cipher_suite != asked.cipher_suite || negotiated.group != asked.group || !negotiated.client_share)
            throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                                  "ClientHello2 does not give what the HelloRetryRequest asked for (§4.1.4)");
    }
    // ANCHOR_END: hello_retry

    // ANCHOR: resume_or_not
    // §2.2: a ClientHello with a ticket of ours and a binder that proves the client holds its
    // PSK resumes; anything less is a full handshake, with our certificate.
    auto resumption = accept_psk(conn.trace(), client_hello, client_hello_raw, transcript_prefix, negotiated,
                                 ticket_keys, options, inputs);
    const bool with_ecdhe = !resumption || resumption->mode == tls::PskKeyExchangeMode::psk_dhe_ke;
    std::optional<tls::SignatureScheme> signature_scheme;
    if (!resumption) {
        // RFC8446 9.2-9
        if (!negotiated.client_share)
            throw tls::AlertError(tls::AlertDescription::missing_extension,
                                  "no key share and no PSK we can resume with (§9.2)");
        signature_scheme = choose_signature_scheme(client_hello, credentials);
    }
    const std::string how = !resumption ? fmt::format("full handshake, {}", name(*signature_scheme))
                            : with_ecdhe ? "resumed with a PSK and (EC)DHE (psk_dhe_ke)"
                                         : "resumed with the PSK alone (psk_ke): no forward secrecy";
    const std::string group = with_ecdhe ? name(negotiated.group) : std::string("no group");
    conn.trace().value("negotiated", fmt::format("{}, {}, {}", name(negotiated.cipher_suite), group, how));
    // ANCHOR_END: resume_or_not

    // ANCHOR: accept_early_data
    // §4.2.10: early data only with the first PSK offered, a ticket that allows it, the same
    // suite and ALPN as the ticket's connection, a fresh ticket age (§8.3), and a ticket that
    // has never given early data before (§8.1). Otherwise we "ignore the extension and return
    // a regular 1-RTT response", skipping "past early data by attempting to deprotect received
    // records using the handshake traffic key, discarding records which fail deprotection".
    // RFC8446 4.2.10-3, 4.2.10-4, 4.2.10-5, 4.2.10-7, 4.2.10-8, 4.2.10-10, 8-1, 8-3, 8-4, 8.2-2, 8.2-3
    bool accept_early_data = false;
    if (client_hello.has_extension(tls::ExtensionType::early_data)) {
        std::optional<std::string> refusal = "we do not resume this connection";
        if (resumption) {
            const auto offered = client_hello.pre_shared_key();
            const auto& identity = offered->identities.at(resumption->psk.selected_identity).identity;
            // (--rfc8448 resume skips the checks of time, saying why: Inputs::early_data_refusal.)
            refusal = inputs.early_data_refusal(conn.trace(), resumption->psk, identity, negotiated.cipher_suite,
                                                /*alpn=*/"", used_tickets, tls::unix_time_ms());
        }
        if (refusal) {
            conn.trace().step("early data declined: " + *refusal + "; skipped when it arrives (§4.2.10)");
            conn.records().skip_early_data(tls::max_skipped_early_data);
        } else {
            accept_early_data = true;
            conn.trace().step(inputs.rfc8448() ? "early data accepted: first identity, never used before (§4.2.10, §8.1)"
                                               : "early data accepted: first identity, fresh, never used before (§4.2.10, §8)");
        }
    }
    // §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).
    const auto client_hello_hash = transcript.current();  // no retry when we accept: ClientHello alone
    // ANCHOR_END: accept_early_data

    // §7.4: both sides will hold the same secret, though it never crosses the wire.
    // Computed before answering, so a bad client share (§7.4.2) gets only an alert.
    // With psk_ke there is no (EC)DHE: §7.1 puts "a string of Hash.length bytes set to zeros" in its place.
    std::optional<tls::KeyPair> our_share;
    tls::Secret shared(tls::hash_length(suite.hash), 0);
    if (with_ecdhe) {
        our_share = inputs.key_share(negotiated.group);  // fresh, or the RFC's (--rfc8448)
        shared = tls::shared_secret(negotiated.group, our_share->private_key, negotiated.client_share->key_exchange);
        conn.trace().value("shared_secret", shared);
    }
    // The whole flight, ServerHello through Finished, leaves in one TCP write.
    conn.records().hold_writes();
    std::optional<std::uint16_t> selected_identity;
    if (resumption) selected_identity = resumption->psk.selected_identity;
    transcript.update(co_await send_server_hello(conn, client_hello, negotiated, inputs.random(),
                                                 our_share ? &*our_share : nullptr, selected_identity, inputs));
    tls::KeyLog keylog(options.keylog);
    // ANCHOR: early_secret
    // §7.1: the PSK, if we resume, is the input of the Early Secret; without one, zeros.
    // Everything after it — handshake, application and resumption secrets — depends on it.
    tls::EarlySecret early(suite.hash, resumption ? tls::BytesView(resumption->psk.ticket.resumption_psk) : tls::BytesView{});
    // ANCHOR_END: early_secret
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, keylog, client_hello.random);
    std::optional<tls::ClientTrafficSecret> client_early_traffic_secret;
    if (accept_early_data) {
        client_early_traffic_secret = early.client_early_traffic_secret(client_hello_hash);
        conn.trace().value("client_early_traffic_secret", *client_early_traffic_secret);
        keylog.write("CLIENT_EARLY_TRAFFIC_SECRET", client_hello.random, *client_early_traffic_secret);
    }

    // ANCHOR: protect
    // Appendix D.4: in middlebox compatibility mode, which the client asks for with a non-empty
    // legacy_session_id, a dummy change_cipher_spec right after ServerHello makes the handshake
    // look like a TLS 1.2 resumption to middleboxes. (RFC 8448 §3 is the trace without it.)
    // Only one: after a HelloRetryRequest it went out right behind that (Appendix D.4).
    // RFC8446 D.4-1
    if (!client_hello.legacy_session_id.empty() && !sent_change_cipher_spec)
        co_await conn.records().write_change_cipher_spec();
    // §5.2: from here on, records are protected with the handshake traffic keys.
    conn.install(suite, keys.server_handshake_traffic_secret);  // what we send
    // What the client sends: its early data first, if we take it; else its handshake flight.
    if (client_early_traffic_secret)
        conn.install(suite, *client_early_traffic_secret);
    else
        conn.install(suite, keys.client_handshake_traffic_secret);
    // ANCHOR_END: protect

    // §4.3.1: the extensions that need no key exchange, now hidden from eavesdroppers.
    // RFC8446 4.3.1-1
    tls::EncryptedExtensions encrypted_extensions{inputs.encrypted_extensions()};
    // RFC8446 4.2-1
    // §4.2.10: to accept, "Return its own "early_data" extension in EncryptedExtensions,
    // indicating that it intends to process the early data."
    if (accept_early_data) encrypted_extensions.extensions.push_back(tls::make_early_data());
    transcript.update(co_await conn.write(encrypted_extensions));
    // ANCHOR: request_client_certificate
    // §4.3.2: "Servers which are authenticating with a PSK MUST NOT send the CertificateRequest
    // message in the main handshake": only a full handshake asks.
    // RFC8446 4.3.2-7
    // (--rfc8448 client-auth asks, as the RFC's server does: Inputs::certificate_request.)
    const bool ask_client = !resumption && (!options.client_ca.empty() || inputs.certificate_request());
    if (ask_client) transcript.update(co_await send_certificate_request(conn, inputs));
    // ANCHOR_END: request_client_certificate

    // ANCHOR: authenticate
    // §2.2: "As the server is authenticating via a PSK, it does not send a Certificate or a
    // CertificateVerify message." The PSK came from a handshake in which we did; the binder
    // showed the client holds it, and our Finished shows we do.
    // RFC8446 4-1, 4.4.2-1, 4.4.3-1, 4.4.3-3
    if (!resumption) {
        transcript.update(co_await send_certificate(conn, credentials));
        transcript.update(co_await send_certificate_verify(conn, credentials, *signature_scheme, transcript, inputs));
    }
    // ANCHOR_END: authenticate
    transcript.update(co_await tls::send_finished(conn, keys.server_handshake_traffic_secret, transcript));
    co_await conn.records().flush();

    // ANCHOR: switch_to_application_keys
    // §7.1: the server may send application data right after its Finished, so its
    // application keys come now; it reads the client's Finished with handshake keys.
    auto app_keys = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, keylog,
                                                    client_hello.random);
    // RFC8446 4.4.4-2
    conn.install(suite, app_keys.server_application_traffic_secret_0);
    // RFC8446 4.2.11.3-1
    // The early data, read now: our flight is out, and the client sends it before its own.
    if (accept_early_data) {
        early_data = co_await read_early_data(conn, resumption->psk.ticket.max_early_data_size, transcript);
        conn.install(suite, keys.client_handshake_traffic_secret);
    }
    // The client's Certificate and CertificateVerify come before its Finished, which covers them.
    std::string client_identity = "not asked for a certificate";
    if (ask_client) client_identity = co_await read_client_certificate(conn, options, inputs, transcript);
    // RFC8446 4.4.4-1
    co_await tls::read_finished(conn, keys.client_handshake_traffic_secret, transcript);
    conn.install(suite, app_keys.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);  // Appendix D.4: only before the peer's Finished
    // ANCHOR_END: switch_to_application_keys
    conn.trace().result(fmt::format("handshake complete: {}, {}, {}", name(negotiated.cipher_suite), group, how));
    conn.trace().result("client " + client_identity);

    // ANCHOR: resumption_master_secret
    // §7.1: resumption_master_secret = Derive-Secret(Master Secret, "res master",
    // ClientHello...client Finished): the root of the PSKs our tickets carry.
    auto resumption_master_secret = app_keys.master_secret.resumption_master_secret(transcript.current());
    conn.trace().value("resumption_master_secret", resumption_master_secret);
    co_await send_tickets(conn, options, inputs, ticket_keys, negotiated.cipher_suite, resumption_master_secret,
                          client_hello);
    // ANCHOR_END: resumption_master_secret

    // ANCHOR: request_after_handshake
    // §4.6.2: with --post-handshake-auth, our CertificateRequest after the handshake, to a
    // client that offered post_handshake_auth (§4.2.6); its answer comes in the echo loop.
    // RFC8446 4.2.6-1
    if (options.post_handshake_auth) {
        if (!client_hello.has_extension(tls::ExtensionType::post_handshake_auth))
            conn.trace().step("the client did not offer post_handshake_auth: we cannot ask for its certificate now (§4.6.2)");
        else
            co_await request_client_certificate(conn, transcript, pha);
    }
    // ANCHOR_END: request_after_handshake
}
// ANCHOR_END: handshake

asio::awaitable<void> serve_connection(const Options& options, const Credentials& credentials, const tls::Inputs& inputs,
                                       const tls::CookieKey& cookie_key, tls::TicketKeys& ticket_keys,
                                       tls::UsedTickets& used_tickets, tls::tcp::socket socket, tls::Trace& trace) {
    tls::Connection conn(socket, trace, tls::Role::server);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    // ANCHOR: serve
    // A client that stalls mid-handshake is cut off after --handshake-timeout seconds;
    // every connection has its own coroutine, so the others never wait for it.
    tls::Bytes early_data;  // what the client sent as 0-RTT, if we accepted it
    PostHandshakeAuth pha;  // a certificate we asked for after the handshake (§4.6.2)
    tls::Watchdog watchdog(socket, std::chrono::seconds(options.handshake_timeout), trace);
    if (!co_await tls::guarded(conn.records(), handshake(conn, options, credentials, inputs, cookie_key, ticket_keys, used_tickets, early_data, pha))) co_return;
    watchdog.disarm();
    co_await tls::guarded(conn.records(), echo(conn, options, early_data, inputs.echo_early_data(), pha));
    // ANCHOR_END: serve
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 14 server: a TLS 1.3 echo server that can ask the client for a certificate."};
    tls::add_options(app, options);
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    app.add_option("--cert", options.cert, "PEM file: our certificate first, then any intermediates")->capture_default_str();
    app.add_option("--key", options.key, "PKCS#8 PEM file: the certificate's private key")->capture_default_str();
    app.add_option("--handshake-timeout", options.handshake_timeout, "Seconds a client may take to finish the handshake")
        ->capture_default_str();
    app.add_option("--groups", options.groups, "Groups we accept, most preferred first (x25519, secp256r1)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}))
        ->capture_default_str();
    app.add_flag("--hrr-cookie", options.hrr_cookie,
                 "Stateless HelloRetryRequest: put what we would keep in a cookie and forget it (§4.2.2)");
    app.add_option("--key-update-every", options.key_update_every,
                   "Send a KeyUpdate (update_requested) after every N records we echo (0: only at the §5.5 limit)");
    app.add_option("--tickets", options.tickets, "NewSessionTickets to send after each handshake (0: none)")
        ->check(CLI::Range(0, 255))
        ->capture_default_str();
    app.add_option("--ticket-key", options.ticket_key,
                   "File of the key that seals our tickets (64 hex digits; made if missing); shared, it lets "
                   "other servers and restarts resume our tickets (default: a random key for this process)");
    app.add_option("--ticket-lifetime", options.ticket_lifetime, "Seconds a ticket may be used (§4.6.1: at most 604800)")
        ->check(CLI::Range(std::uint32_t{0}, tls::max_ticket_lifetime))
        ->capture_default_str();
    app.add_option("--max-early-data", options.max_early_data,
                   "Bytes of 0-RTT data our tickets allow (0: no early data)")
        ->capture_default_str();
    app.add_option("--client-ca", options.client_ca,
                   "Ask clients for a certificate, and trust those that chain to this PEM bundle")
        ->check(CLI::ExistingFile);
    app.add_flag("--require-client-cert", options.require_client_cert,
                 "Refuse a client that sends no certificate (certificate_required); needs --client-ca")
        ->needs("--client-ca");
    app.add_flag("--post-handshake-auth", options.post_handshake_auth,
                 "Ask for the client's certificate after the handshake, if it offers post_handshake_auth (§4.6.2)")
        ->needs("--client-ca");
    app.add_flag("--allow-psk-ke", options.allow_psk_ke,
                 "Resume with the PSK alone when the client offers only psk_ke: no (EC)DHE, no forward secrecy (§4.2.9)");
    tls::Inputs inputs(tls::Role::server);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--cert", "--key", "--key-update-every", "--tickets", "--ticket-key",
                                          "--ticket-lifetime", "--allow-psk-ke", "--max-early-data", "--client-ca",
                                          "--require-client-cert", "--post-handshake-auth", "--groups", "--hrr-cookie"},
                            {"hrr", "resume", "client-auth"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's server: its RSA certificate and key, its groups
        options.cert = rfc->certificate_file;  // (§6's: none, see below)
        options.key = rfc->key_file;
        options.groups = rfc->server_groups;  // §5's prefers P-256: a HelloRetryRequest for it
        if (!rfc->new_session_ticket) options.tickets = 0;  // §5's and §6's send none
    }
    // --rfc8448 client-auth: the RFC's ECDSA certificate, from the vectors, and no key (none is shown).
    const auto* rfc = inputs.rfc8448();
    Credentials credentials = rfc && rfc->certificate_file.empty()
                                  ? Credentials{{rfc->certificate}, std::nullopt}
                                  : Credentials{tls::load_certificate_chain_pem_file(options.cert),
                                                tls::PrivateKey::load_pem_file(options.key)};
    for (auto& g : options.groups) options.our_groups.push_back(tls::group_from_name(g));
    const tls::CookieKey cookie_key;  // a fresh key: our cookies are good for this process only
    // Our tickets are good for as long as their key lives: this process, or the key file's life.
    tls::TicketKeys ticket_keys(options.ticket_key.empty() ? tls::TicketKey::random()
                                                           : tls::TicketKey::load_or_create_file(options.ticket_key));
    // §8.1: the tickets that have given early data, remembered until they expire (in memory:
    // a restarted server refuses 0-RTT for tickets it cannot vouch for, §8.2).
    tls::UsedTickets used_tickets(tls::unix_time_ms());
    return tls::serve(options, [&](tls::tcp::socket socket, tls::Trace& trace) {
        return serve_connection(options, credentials, inputs, cookie_key, ticket_keys, used_tickets, std::move(socket), trace);
    });
}
