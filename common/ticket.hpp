// common/ticket.hpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.6.1 (NewSessionTicket: "a self-encrypted and self-authenticated value"),
// §4.2.11 (unusable PSKs "SHOULD simply be ignored"), §4.2.10 (what 0-RTT must match),
// §8.3 (adjusted_creation_time kept in the ticket).
//
// The server keeps no session database. Everything it needs to resume a connection from a
// ticket alone — the PSK, the cipher suite, when the ticket was made, ticket_age_add — is
// a TicketState, sealed with an AEAD under a key only the server (or its siblings behind
// the same load balancer) knows, and handed to the client as NewSessionTicket.ticket. The
// client cannot read or change it; it sends it back as a PskIdentity.identity, and the
// server opens it again. A ticket it cannot open is not an error: it is ignored and the
// handshake falls back to a full one (§4.2.11).
//
//     ticket = key_id (4) || nonce (12) || AEAD-Seal(key, nonce, aad = key_id, TicketState)
//
// Times here, in sessions (session.hpp) and in the anti-replay store (anti_replay.hpp) are
// milliseconds since the Unix epoch, passed in explicitly so that tests control the clock.
#pragma once

#include "bytes.hpp"
#include "cookie.hpp"  // unix_time_ms()
#include "crypto.hpp"
#include "enums.hpp"
#include "messages.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tls {

// §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)" for
// ticket_lifetime. The same week bounds how long a client may cache a ticket: "Clients
// MUST NOT cache tickets for longer than 7 days, regardless of the ticket_lifetime".
inline constexpr std::uint32_t max_ticket_lifetime = 604800;  // seconds
// What our servers put in ticket_lifetime unless told otherwise: two hours, as OpenSSL's
// default session timeout. Short enough that a stolen ticket key or ticket is of little
// use for long (§4.6.1 recommends limiting "the total lifetime of such keying material").
// RFC8446 4.6.1-10
inline constexpr std::uint32_t default_ticket_lifetime = 7200;  // seconds

// ANCHOR: TicketState
// What the server seals into a ticket: everything it needs to resume from the ticket
// alone. Its encoding, in the presentation language of RFC 8446 §3 (our format, not the
// RFC's: the ticket is opaque to everyone but its server):
//
//   struct {
//       uint8 version = 1;
//       CipherSuite cipher_suite;           /* of the connection that made the ticket */
//       uint64 creation_time;               /* ms since the Unix epoch */
//       uint32 estimated_rtt;               /* ms; §8.3 adjusted_creation_time */
//       uint32 ticket_lifetime;             /* seconds, <= 604800 */
//       uint32 ticket_age_add;
//       uint32 max_early_data_size;         /* 0: no 0-RTT with this ticket */
//       opaque resumption_psk<32..48>;      /* Hash.length of cipher_suite */
//       opaque alpn<0..255>;                /* the negotiated ProtocolName; empty: none */
//       opaque server_name<0..2^16-1>;      /* the SNI host_name; empty: none */
//   } TicketState;
struct TicketState {
    static constexpr std::uint8_t current_version = 1;

    std::uint8_t version = current_version;
    CipherSuite cipher_suite{};
    // §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce,
    // Hash.length) (key_schedule.hpp: resumption_psk()). The PSK itself, so the server
    // needs neither the resumption_master_secret nor the nonce to resume.
    Secret resumption_psk;
    std::uint64_t creation_time_ms = 0;
    // §8.3: "adjusted_creation_time = creation_time + estimated_RTT". The server may
    // measure the round trip (its Finished to the client's) or leave 0; the freshness
    // window (anti_replay.hpp) absorbs a round trip on the Internet.
    std::uint32_t estimated_rtt_ms = 0;
    std::uint32_t ticket_lifetime = default_ticket_lifetime;
    // §4.6.1: "A securely generated, random 32-bit value ... The server MUST generate a
    // fresh value for each ticket it sends." The server needs it back to read the age.
    std::uint32_t ticket_age_add = 0;
    // §4.2.10, §4.6.1: the early_data extension of the NewSessionTicket (chapter 13).
    std::uint32_t max_early_data_size = 0;
    // §4.2.10: 0-RTT is only accepted if the suite and "The selected ALPN [RFC7301]
    // protocol, if any" are those of the connection that made the ticket.
    std::string alpn;
    // §4.2.11: the server need not match SNI, but keeps it to report and to log.
    std::string server_name;

    Secret encode() const;  // a Secret: it holds the PSK
    // Parse, don't validate: throws AlertError{decode_error} on anything but a well-formed
    // TicketState of a version, suite and lifetime we know (the PSK Hash.length long).
    static TicketState decode(BytesView encoded);
    bool operator==(const TicketState&) const = default;

    // §4.6.1: the ticket is valid for ticket_lifetime seconds "from the time of ticket
    // issuance"; at creation + lifetime it is expired.
    std::uint64_t expiry_time_ms() const { return creation_time_ms + std::uint64_t{ticket_lifetime} * 1000; }
    bool expired(std::uint64_t now_ms) const { return now_ms >= expiry_time_ms(); }
};
// ANCHOR_END: TicketState

// ANCHOR: TicketKey
// One server ticket key: 32 bytes for AES-256-GCM (crypto.hpp's Aead).
//
// The key file (`--ticket-key FILE`) is 64 hex digits, the 32 bytes of the key; white space
// and lines starting with '#' are ignored. Make one with
//     openssl rand -hex 32 > ticket.key        (or: head -c 32 /dev/urandom | xxd -p -c 32)
// or let the server write it (load_or_create_file). Servers that share the file accept each
// other's tickets, and a restarted server accepts the tickets it issued before.
//
// Each sealed ticket starts with the key's key_id, the first 4 bytes of
// SHA-256("tls-by-hand ticket key id" || key): a server that holds several keys knows
// which one to try, and one that holds none of them ignores the ticket at once. The 12-byte
// nonce is random; for AES-GCM, random 96-bit nonces stay safe up to 2^32 seals under one
// key (NIST SP 800-38D §8.3), another reason to rotate keys.
class TicketKey {
public:
    static constexpr std::size_t key_length = 32;
    static constexpr std::size_t key_id_length = 4;
    static constexpr std::size_t nonce_length = aead_iv_length;  // 12

    // Throws std::invalid_argument unless the key is 32 bytes.
    explicit TicketKey(BytesView key);
    static TicketKey random();
    // Throws std::runtime_error naming the file if it cannot be read or is not 64 hex digits.
    static TicketKey load_file(const std::string& path);
    // Writes a new random key to `path` (readable by its owner only); throws
    // std::runtime_error if the file exists or cannot be written.
    static TicketKey create_file(const std::string& path);
    // load_file if the file exists, create_file otherwise.
    static TicketKey load_or_create_file(const std::string& path);

    ~TicketKey();
    TicketKey(TicketKey&&) noexcept;
    TicketKey& operator=(TicketKey&&) noexcept;

    const std::array<std::uint8_t, key_id_length>& key_id() const { return key_id_; }
    std::string hex() const;  // the 64 hex digits of the file format

    // key_id || nonce || AEAD(TicketState) with the key_id as additional data. Throws
    // std::invalid_argument if the state's ticket_lifetime exceeds max_ticket_lifetime or
    // its PSK does not fit its suite (a server bug: a ticket must never carry either).
    Bytes seal(const TicketState& state);
    // The state, or nullopt for anything it cannot use: another key's id, too short,
    // tampered with (the tag does not verify), an unknown version or suite. Never throws:
    // §4.2.11 "Any unknown PSKs (e.g., ... encrypted with an unknown key) SHOULD simply be
    // ignored", so a bad ticket means a full handshake, not an alert. Reachable by a peer
    // (PskIdentity.identity).
    std::optional<TicketState> open(BytesView ticket);

private:
    Secret key_;
    std::array<std::uint8_t, key_id_length> key_id_{};
    Aead aead_;
};
// ANCHOR_END: TicketKey

// ANCHOR: TicketKeys
// How real servers rotate ticket keys: every few hours a new key becomes the current one,
// which seals every new ticket; the keys before it stay for a while only to open the
// tickets they sealed, until those tickets expire (one ticket_lifetime); then they are
// destroyed. Destroying old keys is what gives resumption forward secrecy at all: whoever
// steals a ticket key can open every ticket it sealed, and with it every PSK, so a key
// must not outlive its tickets by much (RFC 5077 §5.5; RFC 8446 §8.1 contrasts this with
// database tickets deleted on use, which do give forward secrecy). Fleets of
// servers share the schedule of keys (nginx's ssl_session_ticket_key files, OpenSSL's
// ticket key callback, Go's tls.Config.SetSessionTicketKeys: the first key seals, all open).
//
// TicketKeys keeps that minimal shape: one current key, and up to max_previous_keys before
// it. Not thread-safe: a server on one io_context thread shares one TicketKeys.
class TicketKeys {
public:
    static constexpr std::size_t max_previous_keys = 2;

    explicit TicketKeys(TicketKey current);

    // `next` becomes the current key; the old current one joins the previous keys, and the
    // oldest previous key is destroyed when there are more than max_previous_keys.
    void rotate(TicketKey next);

    Bytes seal(const TicketState& state) { return keys_.front().seal(state); }  // current key
    // Tries the key whose key_id starts the ticket; nullopt as TicketKey::open.
    std::optional<TicketState> open(BytesView ticket);

    const TicketKey& current() const { return keys_.front(); }
    std::size_t size() const { return keys_.size(); }

private:
    std::vector<TicketKey> keys_;  // current first, then newest to oldest
};
// ANCHOR_END: TicketKeys

// ANCHOR: issue_ticket
// The server's NewSessionTicket (§4.6.1) for one connection: `state` holds what all the
// connection's tickets share (suite, creation time, lifetime, max_early_data_size, ALPN,
// SNI); issue_ticket fills in what each ticket has of its own — the PSK for this
// ticket_nonce from the resumption_master_secret, and a fresh random ticket_age_add ("The
// server MUST generate a fresh value for each ticket it sends") — seals it, and adds the
// early_data extension when max_early_data_size > 0 (§4.2.10). `ticket_nonce` must differ
// for each ticket of the connection ("unique across all tickets issued on this
// connection"): 0, 1, 2... as one byte will do.
//
// In a coroutine, build `state` as a named variable, not as a braced temporary inside a
// co_await expression (g++ 12 destroys such a temporary's members twice).
NewSessionTicket issue_ticket(TicketKeys& keys, TicketState state, BytesView resumption_master_secret,
                              BytesView ticket_nonce);
// ANCHOR_END: issue_ticket

}  // namespace tls
