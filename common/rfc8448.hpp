// common/rfc8448.hpp — introduced in chapter 03: --rfc8448, the programs replay RFC 8448.
//
// RFC 8448, "Example Handshake Traces for TLS 1.3", prints every byte of five handshakes: the
// messages, every secret, key and IV, every protected record. Our programs reproduce them.
// The protocol decides almost all of those bytes; the rest comes from outside it:
//   - random values: ClientHello.random, ServerHello.random, each side's ephemeral (EC)DHE
//     private key, and the salt of an RSA-PSS signature;
//   - what each side chose to send where RFC 8446 leaves the choice: the ClientHello's cipher
//     suites and extensions, the server's EncryptedExtensions, an empty legacy_session_id (the
//     RFC's §3 peers do not use middlebox compatibility mode, Appendix D.4, so there is no
//     dummy change_cipher_spec either; §7 is the same handshake with it), and how messages are
//     cut into records (§5.1: RecordFraming);
//   - the server's certificate and key (RFC 8448 §2, certs/rfc8448-rsa.{pem,key}).
// A program takes these from an Inputs object, chosen once in main(): fresh randomness and our
// own choices normally; with --rfc8448, those of a replay::Section of the RFC (read from
// rfc8448_vectors.hpp, which scripts/rfc8448-vectors generates from the RFC's text). Everything
// else follows by the protocol, so if our code is right the trace shows the RFC's bytes;
// tests/chapters/test_rfc8448_replay.cpp checks that, value by value, for each chapter.
//
// The RSA-PSS salt. The RFC's CertificateVerify is an RSA-PSS signature, randomised by a
// salt as long as the hash (RFC 8017 §9.1, RFC 8446 §4.2.3) that the RFC does not print. It
// is inside the signature, though, and the public key reads it: verify the signature, compute
// s^e mod n (the encoded message EM = maskedDB || H || 0xbc), unmask DB = maskedDB XOR
// MGF1(H), and the salt is DB's last 32 bytes (recover_pss_salt in crypto.hpp). Signing the
// same transcript with that salt and the RFC's private key gives the RFC's signature exactly,
// and so the server's Finished and everything after it match too. Only --rfc8448 does this;
// otherwise each signature draws a fresh salt, as RFC 8017 §8.1 intends: a random salt gives
// PSS its tighter security proof, although, it adds, the randomness is not critical to
// security. A replayed salt is not what makes this mode unsafe.
//
// What does not match before chapter 12: the RFC's server sends a NewSessionTicket right after
// the handshake (and both sides derive the resumption secrets); ours does from chapter 12, and
// with --rfc8448 sends the RFC's (Inputs::new_session_ticket). So chapter 09's server seals its
// data and close_notify as records 0 and 1 under its application keys, where the RFC's are 1
// and 2: same keys, same plaintext, other nonces, other bytes. Chapters before 09 stop earlier,
// each as its flow goes (tests/chapters/test_rfc8448_replay.cpp lists them).
//
// None of it is secure: the keys, the randoms and the salt are in the RFC for anyone to read.
// The mode exists so that a reader can put RFC 8448, the book and the live trace side by side
// and see the same bytes. It refuses what it cannot reproduce (another group, suite, signature
// scheme, certificate, or a peer that is not the RFC's) with a message that says so.
//
// §5 "HelloRetryRequest" (chapter 10 on: --rfc8448 hrr; plain --rfc8448 stays §3). Its client
// offers x25519, P-256 and P-384 with one x25519 share; its server prefers P-256 (the group a
// replay::Section's server takes first, server_groups) and answers with a HelloRetryRequest. The
// same kinds of inputs, plus three of the retry:
//   - the HelloRetryRequest's cookie (§4.2.2): 114 opaque bytes that only the RFC's server
//     could open. Ours cannot, as it cannot open the RFC's ticket, so a replaying server keeps
//     its state in the connection (chapter 10's stateful path), sends the RFC's bytes, and
//     checks only that ClientHello2 echoes them (Inputs::hello_retry_cookie); --hrr-cookie,
//     which would put our own sealed state there, is refused;
//   - the client's second key pair, P-256, made when the HelloRetryRequest asks for it;
//   - how the client lays out ClientHello2, where §4.1.2 leaves it free: the cookie goes
//     before psk_key_exchange_modes, not at the end, and a padding extension (RFC 7685) brings
//     the message to 512 bytes (clients such as NSS pad a ClientHello of 256 to 511 bytes so,
//     for servers that once failed on those lengths): Inputs::second_client_hello. Its content
//     is still ours: ClientHello1 with the P-256 share in key_share and the server's cookie.
// The client sends no application data (it closes right after its Finished), and the server no
// NewSessionTicket: from chapter 12 both still derive resumption_master_secret, which §5 prints.
// So chapters 10 and 11 replay §5 to the last record but that secret, 12 to 14 with it, and
// 15 (HTTP) through the client's Finished (tests/chapters/test_rfc8448_replay.cpp compares every
// value the traces print).
//
// §6 "Client Authentication" (chapter 14: --rfc8448 client-auth). Its server asks for the
// client's certificate (CertificateRequest, after EncryptedExtensions) and authenticates with an
// ECDSA P-256 certificate; its client answers with an RSA certificate. "Private keys for the
// certificates used in this example are not shown", neither the server's P-256 key nor the
// client's RSA key, so neither side can SIGN its CertificateVerify again. That does not stop the
// replay: a CertificateVerify signs Transcript-Hash(ClientHello ... Certificate) (§4.4.3), and if
// every message before it is the RFC's, that hash is the RFC's, so the RFC's own signature bytes
// are a valid signature over OUR transcript. So each signature is an input, as §3's salt is: the
// section holds the RFC's signature bytes (the server's ECDSA, the client's RSA-PSS), and each
// side sends them instead of signing (Inputs::signature); neither has a key. The PEER still
// verifies each signature with its normal code (its CertificateVerify check, against the public
// key of the RFC's certificate), so a replay that completes proves that our transcript, up to
// each CertificateVerify, is the RFC's byte for byte: a transcript that differed anywhere would
// make the RFC's signature fail, and the peer would send decrypt_error. The other inputs are
// §3's kind (randoms, x25519 keys, the ClientHello, EncryptedExtensions, the flights each in one
// record) plus the server's CertificateRequest as the RFC sends it (its signature_algorithms
// lists schemes ours would not, Inputs::certificate_request), and both certificates, DER from the
// vectors (no files: no key goes with them). Neither certificate passes validation (both expired
// on 2026-07-30 and are self-signed; the client's is RSA-1024), so the client pins exactly the
// RFC's server certificate, as §3's, and the server exactly the RFC's client certificate
// (Inputs::trust_client_certificate). §6's client sends no data and its server no ticket: after
// the client's Finished, each side's close_notify. Chapter 15 does not replay §6: its server
// does not ask for a client certificate.
//
// §4 "Resumed 0-RTT Handshake" (chapter 13 on: --rfc8448 resume). Its client resumes the
// session §3 gave it and sends 0-RTT data; its server takes the ticket, the PSK and the early
// data, and sends no Certificate. Inputs besides those of §3's kind (randoms, x25519 keys, the
// ClientHello's fields and extensions but pre_shared_key, the EncryptedExtensions but
// early_data, the 6 bytes of early data and the 50 of data):
//   - the client's session: §3's ticket and what the client keeps with it (lifetime,
//     ticket_age_add, max_early_data_size, and the PSK derived from §3's resumption_master_secret
//     and ticket_nonce), taken from §3's vectors, not from a session file (Section::resumed_session);
//   - the client's clock: the ticket is 6 ms old when offered (obfuscated_ticket_age minus
//     ticket_age_add), so pre_shared_key's identity is the RFC's; its binder, an HMAC over the
//     ClientHello keyed from the PSK, is our code's (§4.2.11.2), and must come out as the RFC's;
//   - the order of the ServerHello's extensions (pre_shared_key first: §4.2 leaves it free);
//   - the server's state for the ticket. The RFC's ticket is sealed by the RFC's server, and ours
//     cannot open it (as it cannot open §5's cookie), so a replaying server maps exactly that
//     ticket identity to what §3's vectors say it stands for (Section::resumed_ticket_state: the
//     PSK, lifetime, ticket_age_add, max_early_data_size); any other identity is unknown to it;
//   - what the server does with the early data: our echo server echoes it after the handshake,
//     the RFC's sends nothing for it (its one record of data is the echo of the client's 50 bytes).
// What a replay cannot check: time. The ticket was issued when the RFC's traces were made, years
// ago by our clock, with a lifetime of 30 s; its age says 6 ms. A replaying client offers it
// although it has long expired (its clock input says 6 ms), and a replaying server skips the
// checks that read its own clock: the ticket's expiry and age plausibility (§4.2.11.1), §8.3's
// freshness window and §8.2's startup rule; it says so in its trace. It still requires the first
// identity, a ticket allowing early data, the same suite and ALPN, and single use (§8.1). Only
// the replay skips them (Inputs::replayed_psk, Inputs::early_data_refusal); without --rfc8448
// every check runs.
// Chapter 12 does not replay §4: it has no 0-RTT, and the RFC's ClientHello carries early_data,
// which its client would not send (nor the data behind it); from that ClientHello on, every byte
// would differ. So chapters 13 and 14 replay §4, to the last record; chapter 15 does not: its
// server reads HTTP, and the RFC's early data (ABCDEF) is no request, nor are its 50 bytes.
#pragma once

#include "anti_replay.hpp"
#include "crypto.hpp"
#include "messages.hpp"
#include "psk.hpp"
#include "record_layer.hpp"
#include "session.hpp"
#include "ticket.hpp"
#include "trace.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tls {

namespace replay {

// ANCHOR: Section
// One handshake of RFC 8448 as inputs: what its client and server took from outside the
// protocol. Every value comes from rfc8448_vectors.hpp; none is typed in here.
struct Section {
    std::string title;  // "RFC 8448 §3 Simple 1-RTT Handshake"

    // ---- The client
    // Its ClientHello (§4.1.2) field for field: random, legacy_session_id, cipher_suites and
    // every extension in order, the RFC's not ours. The key_share extension is not copied:
    // it is made from client_private_keys, so the public key in it is our own computation.
    ClientHello client_hello;
    Bytes client_hello_message;  // the RFC's bytes of it, which a replaying server insists on
    std::vector<std::pair<NamedGroup, Bytes>> client_private_keys;  // its ephemeral keys (§4.2.8)
    std::string server_name;                // what its server_name asks for: "server"
    std::vector<std::string> client_groups;  // the groups it sends key shares for, as --groups names them
    Bytes client_application_data;          // what it sends after the handshake (our server echoes it)
    RecordFraming client_framing;           // its ClientHello record says 0x0301 (§5.1)

    // ---- The server
    Random server_random;                                           // ServerHello.random (§4.1.3)
    std::vector<std::pair<NamedGroup, Bytes>> server_private_keys;  // its ephemeral keys (§4.2.8)
    std::vector<Extension> encrypted_extensions;                    // what it sends in them (§4.3.1)
    std::string certificate_file;  // certs/rfc8448-rsa.pem: its certificate (§4.4.2) ...
    std::string key_file;          // certs/rfc8448-rsa.key: ... and the key of RFC 8448 §2
    Bytes certificate;             // the DER its Certificate message carries (= certificate_file)
    SignatureScheme signature_scheme{};  // of its CertificateVerify (§4.4.3)
    Bytes server_pss_salt;               // the salt in that signature, recovered (see above)
    RecordFraming server_framing;        // EncryptedExtensions ... Finished in one record (§5.1)
    // What it sends after the handshake (§4.6.1), every field its own choice: ticket_lifetime,
    // ticket_age_add (random), ticket_nonce, the ticket itself (opaque to the client) and the
    // early_data extension. Chapter 09 sends none; chapter 12's server takes this one. nullopt:
    // the RFC's server sends none (§5), and neither does ours.
    std::optional<NewSessionTicket> new_session_ticket;
    std::vector<std::string> server_groups;  // its preference, as --groups names them: the group it took

    // ---- A HelloRetryRequest (§5; empty otherwise)
    std::optional<Bytes> hello_retry_cookie;  // the server's cookie (§4.2.2): opaque, sent as is
    Bytes client_hello_2_message;             // the RFC's ClientHello2, which a replaying server insists on
    std::vector<ExtensionType> client_hello_2_order;  // the order of its extensions (§4.1.2 leaves it free)
    std::size_t client_hello_2_padded_length = 0;      // what padding brings it to (RFC 7685), or 0

    // ---- Resumption with early data (§4; empty otherwise)
    // The client: the session §3 left it (server name, suite; the ticket with its PSK, lifetime,
    // ticket_age_add, max_early_data_size), received at time 0 by its clock, which reads
    // client_ticket_age_ms when it offers the ticket. Its ClientHello above has no
    // pre_shared_key: our client adds it, identity and binder (§4.2.11).
    std::optional<TakenTicket> resumed_session;
    std::uint32_t client_ticket_age_ms = 0;
    Bytes client_early_data;  // its 0-RTT data (§4.2.10)
    // The server: what the RFC's ticket stands for, which only the RFC's server could open.
    std::optional<TicketState> resumed_ticket_state;
    std::vector<ExtensionType> server_hello_order;  // the order of its ServerHello's extensions; empty: ours

    // ---- Client authentication (§6; empty otherwise)
    // Neither side has a key (the RFC shows none): each sends the RFC's signature, which its peer
    // verifies as any other (see above). certificate_file and key_file are then empty.
    Bytes server_signature;                                 // the server's CertificateVerify signature
    std::optional<CertificateRequest> certificate_request;  // the server's (§4.3.2), as the RFC sends it
    Bytes client_certificate;                               // the DER of the client's Certificate (§4.4.2)
    SignatureScheme client_signature_scheme{};              // of the client's CertificateVerify ...
    Bytes client_signature;                                 // ... and its signature
};

// §3 "Simple 1-RTT Handshake": x25519, TLS_AES_128_GCM_SHA256, rsa_pss_rsae_sha256. Made on
// first use (the salt recovery verifies the RFC's signature); throws if the vectors disagree.
const Section& simple_1rtt();
// §5 "HelloRetryRequest": an x25519 share, a retry for P-256 with a cookie, then as §3 with P-256.
const Section& hello_retry();
// §4 "Resumed 0-RTT Handshake": §3's ticket and PSK, x25519, 6 bytes of early data, no Certificate.
const Section& resumed_0rtt();
// §6 "Client Authentication": x25519, a CertificateRequest, the server's ECDSA certificate and the
// client's RSA one, each CertificateVerify the RFC's signature. Throws if the vectors disagree.
const Section& client_auth();
// ANCHOR_END: Section

}  // namespace replay

// ANCHOR: Inputs
// Where a program takes what the protocol does not decide. Chosen once in main() and passed to
// the flow, which asks it at a handful of marked places ("our random", "our key share").
class Inputs {
public:
    explicit Inputs(Role role) : role_(role) {}  // fresh randomness, our own choices
    Inputs(Role role, const replay::Section& section) : role_(role), section_(&section) {}  // --rfc8448

    Role role() const { return role_; }
    // The section replayed with --rfc8448, or nullptr.
    const replay::Section* rfc8448() const { return section_; }

    // ---- Random values
    Random random() const;                        // our ClientHello.random or ServerHello.random
    KeyPair key_share(NamedGroup group) const;    // our ephemeral (EC)DHE key pair (§4.2.8)
    std::optional<Bytes> pss_salt(SignatureScheme scheme) const;  // nullopt: a fresh salt
    // The signature of our CertificateVerify (§4.4.3) when a replay takes it as an input instead
    // of signing: §6's, whose keys the RFC does not show. nullopt: we sign, with pss_salt().
    // The peer verifies it as any signature, so it passes only over the RFC's transcript.
    std::optional<Bytes> signature(SignatureScheme scheme) const;

    // ---- Our choices where RFC 8446 leaves one
    RecordFraming framing() const;                       // §5.1
    std::vector<Extension> encrypted_extensions() const;  // §4.3.1: ours are none yet
    // Server (chapter 12 on): the NewSessionTicket to send after the handshake (§4.6.1) instead
    // of sealing our own, or nullopt. A replay sends the RFC's one ticket, opaque bytes and all:
    // its PSK is the RFC's, but no server of ours could open it to resume. (A replay of a
    // section without one sets the chapter's --tickets to 0 in main().)
    std::optional<NewSessionTicket> new_session_ticket() const;
    // Server (chapter 10 on): the cookie of our HelloRetryRequest (§4.2.2) when we keep our
    // state in the connection: none normally; a replay of §5 sends the RFC's, opaque to us.
    std::optional<Bytes> hello_retry_cookie() const;
    // Server (chapter 14): the CertificateRequest to send in the handshake (§4.3.2) whatever our
    // options say: none normally (ours, with --client-ca); a replay of §6 sends the RFC's.
    std::optional<CertificateRequest> certificate_request() const;
    // Client (chapter 10 on): ClientHello2 as §4.1.2 makes it from ClientHello1, laid out where
    // §4.1.2 leaves the choice: ours as it is; a replay puts the extensions in the RFC's order
    // and pads the message to the RFC's length (RFC 7685), the padding length being ours to
    // compute. Everything in the extensions stays ours.
    ClientHello second_client_hello(ClientHello hello) const;
    // Server: the ServerHello laid out where §4.2 leaves the order of extensions free: ours as
    // it is; a replay of §4 in the RFC's order (pre_shared_key first).
    ServerHello server_hello(ServerHello hello) const;

    // ---- Resumption and early data (chapter 13 on)
    // Client: the session to resume without --session-in: none; a replay of §4, §3's.
    std::optional<TakenTicket> session_to_resume() const;
    // Client: the time by our clock at which we offer `ticket` (§4.2.11.1: its age is that time
    // minus its receipt): now; a replay of §4, the RFC client's, receipt + 6 ms.
    std::uint64_t ticket_offer_time_ms(const SessionTicket& ticket) const;
    // Server: whether to echo the client's early data once the handshake is complete, as our
    // echo server does all data: yes; a replay of §4 no, as the RFC's server sends nothing for it.
    bool echo_early_data() const { return section_ == nullptr; }
    // Server, --rfc8448 resume: the PSK of the RFC's ticket among `offered`, as select_psk
    // (psk.hpp) finds ours, from the state §3's vectors give (the RFC's ticket opens under no key
    // of ours); the ticket's expiry and age plausibility are not checked, and the trace says why.
    // nullopt if the identity is not the RFC's ticket. Throws logic_error without --rfc8448 resume.
    std::optional<SelectedPsk> replayed_psk(Trace& trace, const OfferedPsks& offered) const;
    // Server: whether to refuse the client's early data, and why (anti_replay.hpp:
    // early_data_refusal). A replay of §4 skips the checks that read our clock (§8.3 freshness,
    // §8.2 startup rule): the RFC's ticket is years old. It says so in the trace; the rest is checked.
    std::optional<std::string> early_data_refusal(Trace& trace, const SelectedPsk& psk, BytesView ticket_identity,
                                                  CipherSuite negotiated_suite, std::string_view negotiated_alpn,
                                                  UsedTickets& used_tickets, std::uint64_t now_ms) const;

    // ---- What a replay insists on
    // Server: a replay answers only the RFC's ClientHello (any other makes other bytes); says so
    // in the trace, or throws AlertError{handshake_failure} naming the first byte that differs.
    // After a HelloRetryRequest, `second` says this is ClientHello2, which must be the RFC's too.
    void check_client_hello(Trace& trace, BytesView client_hello_message, bool second = false) const;
    // Client: validates the server's chain against the anchors in `ca` for `server_name` and
    // returns how it is trusted, for the trace; a replay instead trusts exactly the RFC's
    // certificate, which no validation would pass (RSA-1024, expired 2026-07-30, self-signed,
    // for "rsa"). Throws AlertError saying what is wrong.
    std::string trust_server_certificate(const std::vector<Bytes>& chain, const std::string& ca,
                                         const std::string& server_name) const;

    // Server (chapter 14): validates the client's chain against the anchors in `ca` (clientAuth)
    // and returns how it is trusted, for the trace; a replay of §6 instead trusts exactly the
    // RFC's client certificate, which no validation would pass (RSA-1024, expired 2026-07-30,
    // self-signed). Throws AlertError saying what is wrong.
    std::string trust_client_certificate(const std::vector<Bytes>& chain, const std::string& ca) const;

private:
    Role role_;
    const replay::Section* section_ = nullptr;
};
// ANCHOR_END: Inputs

// ANCHOR: add_rfc8448_option
// --rfc8448 for a chapter program (03 onward): with it, `inputs` becomes RFC 8448 §3's for its
// role, and each option of `conflicting` (--groups, --cert...) is refused, saying why, before
// anything connects: it would change a value the RFC fixes. A chapter that can replay more
// names them in `sections`: "hrr" (chapter 10 on) makes `--rfc8448 hrr` replay §5, "resume"
// (chapter 13 on) `--rfc8448 resume` §4, "client-auth" (chapter 14) `--rfc8448 client-auth` §6.
void add_rfc8448_option(CLI::App& app, Inputs& inputs, std::vector<std::string> conflicting,
                        std::vector<std::string> sections = {});
// ANCHOR_END: add_rfc8448_option

}  // namespace tls
