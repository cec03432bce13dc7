// common/psk.hpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.2.9 (psk_key_exchange_modes), §4.2.11 (pre_shared_key), §4.2.11.1 (ticket
// age), §4.2.11.2 (PSK binder), §7.1 (binder_key), §9.2 (mandatory extensions).
//
// The PSK mechanisms both sides share: the obfuscated ticket age, the binders that prove a
// ClientHello's sender holds the PSK, the server's choice among the offered identities and
// the client's check of that choice.
#pragma once

#include "bytes.hpp"
#include "crypto.hpp"
#include "enums.hpp"
#include "messages.hpp"
#include "ticket.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tls {

// ---- §4.2.11.1 Ticket Age ----------------------------------------------------------------

// ANCHOR: obfuscated_ticket_age
// §4.2.11.1: "The "obfuscated_ticket_age" field of each PskIdentity contains an obfuscated
// version of the ticket age formed by taking the age in milliseconds and adding the
// "ticket_age_add" value that was included with the ticket (see Section 4.6.1), modulo
// 2^32." Unsigned arithmetic in C++ is modulo 2^32 already.
constexpr std::uint32_t obfuscated_ticket_age(std::uint32_t ticket_age_ms, std::uint32_t ticket_age_add) {
    return ticket_age_ms + ticket_age_add;
}
// The server's inverse (§4.2.10: "computed by subtracting ticket_age_add from
// PskIdentity.obfuscated_ticket_age modulo 2^32"): the client's view of the age, in ms.
constexpr std::uint32_t ticket_age_from_obfuscated(std::uint32_t obfuscated_ticket_age,
                                                   std::uint32_t ticket_age_add) {
    return obfuscated_ticket_age - ticket_age_add;
}
// ANCHOR_END: obfuscated_ticket_age

// §4.2.11.1: "The client's view of the age of a ticket is the time since the receipt of
// the NewSessionTicket message", in ms; 0 if the clock went backwards; saturates at 2^32-1
// (49 days, far beyond the 7 days a ticket may live).
std::uint32_t client_ticket_age_ms(std::uint64_t receipt_time_ms, std::uint64_t now_ms);

// ANCHOR: ticket_age_plausible
// How much older than the server's own view of a ticket's age the client may say it is.
// The client measures the age from receipt, which is after creation (by half a round
// trip), so an honest age is at most the server's view; only the two clocks running at
// slightly different rates can make it larger. Absolute clock offsets cancel: each side
// subtracts two readings of its own clock. §8.3 puts windows "on the order of ten seconds
// to account for errors in clocks and variations in measurements".
inline constexpr std::uint32_t ticket_age_tolerance_ms = 10'000;

// The server's sanity check of the age a client claims for an opened ticket, before
// resuming: false if the age (de-obfuscated with the ticket's ticket_age_add) is over the
// ticket's lifetime (§4.2.11.1: "Clients MUST NOT attempt to use tickets which have ages
// greater than the "ticket_lifetime"") or more than ticket_age_tolerance_ms over the time
// since the server made the ticket. A wrong ticket_age_add gives an age spread over all of
// 2^32 ms (49 days), almost always caught by the first test.
// A client age well *under* the server's view is not refused here: a ClientHello that
// arrives late cannot complete a 1-RTT handshake without the PSK, so it is harmless.
// For 0-RTT it is not, and §8.3's freshness check (anti_replay.hpp: fresh) refuses it.
bool ticket_age_plausible(const TicketState& ticket, std::uint32_t obfuscated_ticket_age, std::uint64_t now_ms);
// ANCHOR_END: ticket_age_plausible

// ---- §4.2.11.2 PSK Binder ----------------------------------------------------------------

// §7.1: a PSK from a NewSessionTicket uses the binder label "res binder"; one provisioned
// outside TLS, "ext binder" (so that one kind cannot be passed off as the other).
enum class PskType { resumption, external };

// ANCHOR: add_pre_shared_key
// One PSK the client offers: the PskIdentity that goes on the wire (for a ticket: the
// ticket and its obfuscated_ticket_age), the PSK's Hash (§4.2.11: "Each PSK is associated
// with a single Hash algorithm") and the key itself. `psk` is a view: keep the key alive
// while the PskOffer is used.
struct PskOffer {
    PskIdentity identity;
    HashAlg hash = HashAlg::sha256;
    BytesView psk;
    PskType type = PskType::resumption;
};

// The client's pre_shared_key extension with its binders (§4.2.11, §4.2.11.2), appended as
// the last extension of `client_hello` ("The "pre_shared_key" extension MUST be the last
// extension in the ClientHello"), or replacing the pre_shared_key already last (ClientHello2
// after a HelloRetryRequest recomputes it, §4.1.2). Add every other extension first.
//
// It first writes the extension with each binder as Hash.length placeholder bytes, so
// that "The length fields for the message ... are all set as if binders of the correct
// lengths were present", encodes the message, and computes each binder over it:
//
//     binder_key   = Derive-Secret(Early Secret(PSK), "res binder", "")          (§7.1)
//     finished_key = HKDF-Expand-Label(binder_key, "finished", "", Hash.length)   (§4.4.4)
//     binder       = HMAC(finished_key, Transcript-Hash(prefix, Truncate(ClientHello)))
//
// then writes the binders in. Encode the message afterwards (encode_handshake).
// `transcript_prefix` is empty for a first ClientHello. For ClientHello2 after a
// HelloRetryRequest it is the messages before it as the transcript holds them:
// message_hash(ClientHello1) || HelloRetryRequest (§4.2.11.2: "If the server responds with a
// HelloRetryRequest and the client then sends ClientHello2, its binder will be computed
// over: Transcript-Hash(ClientHello1, HelloRetryRequest, Truncate(ClientHello2))"; §4.4.1
// for message_hash). message_hash uses the HelloRetryRequest's suite's hash, so offer only
// PSKs with that hash in ClientHello2 (§4.1.2 allows "removing any PSKs which are
// incompatible with the server's indicated cipher suite").
// Throws std::invalid_argument if `psks` is empty.
void add_pre_shared_key(ClientHello& client_hello, std::span<const PskOffer> psks, BytesView transcript_prefix = {});
// ANCHOR_END: add_pre_shared_key

// ANCHOR: binder_valid
// The server's check of one binder (§4.2.11: "Prior to accepting PSK key establishment, the
// server MUST validate the corresponding binder value"): the binder at `index` of the
// ClientHello's pre_shared_key, recomputed from `psk` and compared in constant time.
// `client_hello_message` is the whole message as received, header included (the binder
// covers its exact bytes); `transcript_prefix` as in add_pre_shared_key. False if it does not
// match, is missing or has the wrong length: the caller aborts with decrypt_error
// ("If this value is not present or does not validate, the server MUST abort the
// handshake"; §6.2: decrypt_error, "A handshake (not record layer) cryptographic operation
// failed, including being unable to ... validate a Finished message or a PSK binder").
// Validate only the binder of the PSK selected: "Servers SHOULD NOT attempt to validate
// multiple binders". Throws AlertError{decode_error} only if the bytes are not a
// well-formed ClientHello (the server has decoded it already, so it will not).
bool binder_valid(BytesView client_hello_message, std::size_t index, HashAlg hash, BytesView psk,
                  BytesView transcript_prefix = {}, PskType type = PskType::resumption);
// ANCHOR_END: binder_valid

// The binder itself, as both sides compute it: HMAC(finished_key(binder_key(psk)),
// Transcript-Hash(transcript_prefix || truncated_client_hello)). For tests and traces.
Bytes psk_binder(HashAlg hash, BytesView psk, PskType type, BytesView transcript_prefix,
                 BytesView truncated_client_hello);

// ---- The server: checking the offer and choosing a PSK ------------------------------------

// ANCHOR: offered_psks
// The ClientHello's OfferedPsks after the checks RFC 8446 makes of their form, or nullopt
// if it has no pre_shared_key. Throws AlertError:
//   missing_extension  pre_shared_key without psk_key_exchange_modes (§4.2.9: "If clients
//                      offer "pre_shared_key" without a "psk_key_exchange_modes" extension,
//                      servers MUST abort the handshake"; §9.2 makes both "REQUIRED for
//                      PSK key agreement" and names the alert)
//   illegal_parameter  not as many binders as identities (§4.2.11: binders are "one for
//                      each value in the identities list and in the same order")
// (ClientHello::decode already refuses a pre_shared_key that is not the last extension.)
std::optional<OfferedPsks> offered_psks(const ClientHello& client_hello);
// ANCHOR_END: offered_psks

// §4.2.9: the key exchange mode for a resumed handshake, or nullopt (no PSK: full
// handshake) if the client offers none we take. psk_dhe_ke — the PSK and a fresh (EC)DHE,
// so that stealing the ticket key later does not reveal this connection's traffic — is
// preferred whenever offered; psk_ke (PSK only: no forward secrecy for this connection)
// only if `allow_psk_ke` (the servers' --allow-psk-ke).
std::optional<PskKeyExchangeMode> choose_psk_key_exchange_mode(const ClientHello& client_hello,
                                                               bool allow_psk_ke = false);

// ANCHOR: select_psk
// The identity the server resumes with.
struct SelectedPsk {
    std::uint16_t selected_identity = 0;  // index into OfferedPsks.identities, for ServerHello
    TicketState ticket;                   // the opened ticket
    std::uint32_t client_ticket_age_ms = 0;  // the client's view of the age (de-obfuscated)
};

// §4.2.11: the first offered identity that is a ticket the server can use with the cipher
// suite already negotiated: it opens under one of `keys`, its suite has the same hash ("Any
// ticket MUST only be resumed with a cipher suite that has the same KDF hash algorithm",
// §4.6.1), it has not expired and its age is plausible (ticket_age_plausible). Anything
// else is skipped ("Any unknown PSKs ... SHOULD simply be ignored"); nullopt means a full
// handshake. The binder is not checked here: check the selected one next (binder_valid).
std::optional<SelectedPsk> select_psk(const OfferedPsks& offered, TicketKeys& keys, CipherSuite negotiated_suite,
                                      std::uint64_t now_ms);
// ANCHOR_END: select_psk

// ---- The client: checking the server's choice ----------------------------------------------

// ANCHOR: check_selected_identity
// §4.2.11: "Clients MUST verify that the server's selected_identity is within the range
// supplied by the client, that the server selected a cipher suite indicating a Hash
// associated with the PSK, and that a server "key_share" extension is present if required
// by the ClientHello "psk_key_exchange_modes" extension. If these values are not
// consistent, the client MUST abort the handshake with an "illegal_parameter" alert."
// `offered` is what add_pre_shared_key took; `key_share_required` is true when the client
// offered psk_dhe_ke only. Returns the selected index, or nullopt when the ServerHello has
// no pre_shared_key (the server declined: a full handshake with a Certificate follows).
// Throws AlertError{illegal_parameter}, or unsupported_extension for a pre_shared_key
// answering a ClientHello that offered none (§4.2).
std::optional<std::uint16_t> check_selected_identity(const ServerHello& server_hello,
                                                     std::span<const PskOffer> offered,
                                                     bool key_share_required = true);
// ANCHOR_END: check_selected_identity

}  // namespace tls
