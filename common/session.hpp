// common/session.hpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.6.1 (NewSessionTicket, the resumption PSK), §4.2.11 and §4.2.11.1 (what the
// client offers), Appendix C.4 (a ticket is used once).
//
// What a client keeps to resume: a plain struct, saved as a text file a reader can open
// (the client's --session-out FILE, read back by --session-in FILE, like
// `openssl s_client -sess_out/-sess_in`). The server kept nothing: its state is inside the
// tickets, which the client cannot read. The client keeps, for each ticket, what the
// server told it in the NewSessionTicket and the PSK it derived from it.
//
// The file format, one `key value` per line, bytes in hex, times in ms since the Unix
// epoch; blank lines and lines starting with '#' are ignored; a `[ticket]` line starts the
// block of one ticket, and the lines before the first block are about the session:
//
//   # tls-by-hand TLS 1.3 session: what a client keeps to resume (RFC 8446 §4.6.1, §4.2.11).
//   # It holds resumption PSKs: whoever reads it can resume as this client. Keep it private.
//   server_name          localhost                     (may be empty: no SNI was sent)
//   cipher_suite         TLS_AES_128_GCM_SHA256        (the suite of the connection)
//
//   [ticket]
//   # received 2026-01-01 00:00:00 UTC, expires 2026-01-01 02:00:00 UTC     (written for readers)
//   receipt_time_ms      1767225600000                 (when the NewSessionTicket arrived)
//   ticket_lifetime      7200                          (seconds, from NewSessionTicket)
//   ticket_age_add       3735928559                    (from NewSessionTicket)
//   ticket_nonce         00                            (from NewSessionTicket; may be empty)
//   ticket               2c035d829359ee5ff7af4ec900... (from NewSessionTicket: the identity)
//   resumption_psk       4ecd0eb6ec3b4d87f5d6028f92... (HKDF-Expand-Label(resumption_master_secret,
//                                                       "resumption", ticket_nonce, Hash.length))
//   max_early_data_size  16384                         (optional: its early_data extension; 0: none)
//   alpn                 http/1.1                      (optional: the ALPN protocol; empty: none)
//
// (The parenthesised notes are not part of the file.) A malformed file — an unknown or
// repeated key, a bad number or hex string, a missing field, a PSK not Hash.length long —
// is a std::runtime_error naming the file and the line.
#pragma once

#include "bytes.hpp"
#include "crypto.hpp"
#include "enums.hpp"
#include "messages.hpp"
#include "psk.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tls {

// ANCHOR: SessionTicket
// One NewSessionTicket as the client keeps it (§4.6.1).
struct SessionTicket {
    Bytes ticket;               // the PskIdentity.identity to offer
    Secret resumption_psk;      // the PSK associated with the ticket
    Bytes ticket_nonce;         // kept so a reader can recompute the PSK by hand
    std::uint64_t receipt_time_ms = 0;  // §4.2.11.1: the age counts "since the receipt"
    std::uint32_t ticket_lifetime = 0;  // seconds
    std::uint32_t ticket_age_add = 0;
    std::uint32_t max_early_data_size = 0;  // 0: the ticket allows no 0-RTT (chapter 13)
    std::string alpn;           // §4.2.10: 0-RTT data must use the ALPN of this connection
    bool operator==(const SessionTicket&) const = default;

    // §4.6.1: "Clients MUST NOT cache tickets for longer than 7 days, regardless of the
    // ticket_lifetime": expired at receipt + min(ticket_lifetime, 604800) seconds. A
    // ticket_lifetime of 0 "indicates that the ticket should be discarded immediately".
    std::uint64_t expiry_time_ms() const;
    bool expired(std::uint64_t now_ms) const { return now_ms >= expiry_time_ms(); }

    // The client's side of a NewSessionTicket: the PSK from the resumption_master_secret
    // and the ticket_nonce (§4.6.1), received at `now_ms`. `alpn` is the protocol this
    // connection negotiated (empty: none).
    static SessionTicket from(const NewSessionTicket& new_session_ticket, HashAlg hash,
                              BytesView resumption_master_secret, std::uint64_t now_ms, std::string alpn = {});
};
// ANCHOR_END: SessionTicket

// ANCHOR: Session
struct Session {
    std::string server_name;  // §4.6.1: resume only "if the SNI value matches"
    CipherSuite cipher_suite{};
    std::vector<SessionTicket> tickets;
    bool operator==(const Session&) const = default;

    // The suite's Hash, the PSKs' Hash (§4.2.11). Throws std::invalid_argument for a suite
    // we do not implement (load() refuses those).
    HashAlg hash() const;

    // Writes the file (see the top of this header), readable by its owner only: it holds
    // PSKs. Written to a temporary file and renamed, so a reader never sees half of it.
    // Throws std::runtime_error if it cannot be written, std::invalid_argument (as format())
    // if server_name or an alpn holds a control character or starts or ends with a space.
    void save(const std::string& path) const;
    // Throws std::runtime_error naming the file, and the line, for anything malformed.
    static Session load(const std::string& path);
    // The same, from the text of a file (`origin` names it in errors).
    static Session parse(const std::string& text, const std::string& origin = "session file");
    std::string format() const;

    // Appendix C.4: "Clients SHOULD NOT reuse a ticket for multiple connections. Reuse of a
    // ticket allows passive observers to correlate different connections." Removes and
    // returns the freshest ticket (the latest receipt_time_ms; of equal ones, the last)
    // that has not expired; expired tickets are dropped too. nullopt if none is left.
    std::optional<SessionTicket> take_ticket(std::uint64_t now_ms);
};
// ANCHOR_END: Session

// ANCHOR: take_ticket_from_file
// The client's --session-in: load the file, take one ticket (Session::take_ticket) and
// save the file without it before the ticket goes on the wire, so the ticket is spent
// even if this connection fails or the program dies. `session` holds what is left (its
// server_name and cipher_suite, the other tickets). nullopt, with the file saved without
// its expired tickets, when no ticket is usable. Throws as load() and save().
struct TakenTicket {
    Session session;
    SessionTicket ticket;
};
std::optional<TakenTicket> take_ticket_from_file(const std::string& path, std::uint64_t now_ms);
// ANCHOR_END: take_ticket_from_file

// The PskOffer for add_pre_shared_key (psk.hpp): the ticket as the identity, its age
// obfuscated with its ticket_age_add (§4.2.11.1), the session's Hash and the PSK. The
// offer views ticket.resumption_psk: keep the ticket alive while the offer is used.
PskOffer psk_offer(const Session& session, const SessionTicket& ticket, std::uint64_t now_ms);

}  // namespace tls
