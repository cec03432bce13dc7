// common/anti_replay.hpp — introduced in chapter 13 (0-RTT).
// RFC 8446 §8 (0-RTT and Anti-Replay), §8.1 (Single-Use Tickets), §8.2 (the startup rule),
// §8.3 (Freshness Checks), §4.2.10 (when a server may accept early data).
//
// 0-RTT data rides in the client's first flight, before the server has said anything, so
// an attacker who records a ClientHello and its early data can send them again: the
// binder still verifies, and the early data still decrypts. TLS cannot stop that by
// itself (§8: "TLS does not provide inherent replay protections for 0-RTT data"), but a
// server can refuse to accept the same 0-RTT twice:
//   - §8.3: the ClientHello says when it was sent (the ticket's age); one that arrives far
//     from that time is refused 0-RTT (fresh()).
//   - §8.1: each ticket gives 0-RTT at most once (UsedTickets::first_use()).
// A refused 0-RTT is not a failed handshake: the server skips the early data and the
// handshake completes in 1-RTT; the client may send the data again afterwards.
#pragma once

#include "bytes.hpp"
#include "enums.hpp"
#include "psk.hpp"
#include "ticket.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tls {

// ---- §8.3 Freshness Checks -----------------------------------------------------------------

// ANCHOR: fresh
// How far a ClientHello's arrival may be from the time its ticket age promises: §8.3,
// "For clients on the Internet, this implies windows on the order of ten seconds to
// account for errors in clocks and variations in measurements". Both sides: a late
// ClientHello was delayed (TCP retransmissions, a slow network) or replayed; an early one
// comes from a client clock running faster than ours. The window is the time in which a
// replay passes this check, so single-use tickets must cover it.
inline constexpr std::uint64_t freshness_window_ms = 10'000;

// §8.3: "expected_arrival_time = adjusted_creation_time + clients_ticket_age", where
// adjusted_creation_time = creation_time + estimated_RTT (kept in the ticket) and the
// client's age is obfuscated_ticket_age - ticket_age_add, modulo 2^32.
std::uint64_t expected_arrival_time_ms(const TicketState& ticket, std::uint32_t obfuscated_ticket_age);

// §8.3: "the expected_arrival_time is then compared against the current server wall clock
// time and if they differ by more than a certain amount, 0-RTT is rejected". A difference
// of exactly `window_ms` is still fresh.
bool fresh(std::uint64_t expected_arrival_time_ms, std::uint64_t now_ms, std::uint64_t window_ms = freshness_window_ms);
// ANCHOR_END: fresh

// ---- §8.1 Single-Use Tickets ---------------------------------------------------------------

// ANCHOR: UsedTickets
// The tickets that have given 0-RTT (§8.1: "the server ... only allow each session ticket
// to be used once"). Our tickets are self-contained, so the server cannot delete a ticket
// once used; it remembers a SHA-256 of each used one instead, until the ticket expires
// (after that, the ticket is refused anyway: keeping it longer is useless, shorter unsafe).
//
// Memory is bounded: at most `capacity` entries (32-byte hash, expiry and table overhead:
// about 100 bytes each, so about 10 MB for the default 100 000). Expired entries are
// dropped when the store is full. A store full of live entries cannot forget one without
// letting its replay through, so it then refuses every new 0-RTT (first_use returns false)
// until entries expire: 1-RTT handshakes go on; only 0-RTT stops.
//
// Only call first_use for a PSK whose binder has been verified (§8.2: "The server MUST
// derive the storage key only from validated sections of the ClientHello"): otherwise
// anyone who saw a ticket on the wire could spend it with a forged binder.
//
// The store lives in memory, so a restarted server has forgotten the tickets used before
// it started. §8.2: "When implementations are freshly started, they SHOULD reject 0-RTT as
// long as any portion of their recording window overlaps the startup time":
// remembers_since() says whether the store has watched since a given time.
//
// One store per server process. With several servers sharing a ticket key, each has its
// own store, so a replay can get 0-RTT once per server (§8: "at most once per server
// instance" is the minimum; a shared store would do better).
class UsedTickets {
public:
    static constexpr std::size_t default_capacity = 100'000;

    // `started_ms`: when this store began recording (unix_time_ms() at server start).
    explicit UsedTickets(std::uint64_t started_ms, std::size_t capacity = default_capacity);

    // True the first time `ticket_identity` is offered for 0-RTT, recording it until
    // `expiry_ms` (the ticket's TicketState::expiry_time_ms()). False if it was recorded
    // before and has not expired (a replay, or a client reusing a ticket against Appendix
    // C.4), or if the store is full of live entries.
    bool first_use(BytesView ticket_identity, std::uint64_t now_ms, std::uint64_t expiry_ms);

    // True if `ticket_identity` was recorded and has not expired (first_use would refuse it
    // as a replay). Records nothing.
    bool seen(BytesView ticket_identity, std::uint64_t now_ms) const;

    // True if every first_use() since `since_ms` went through this store: false for times
    // before it started (a ticket used then may have been used already).
    bool remembers_since(std::uint64_t since_ms) const { return since_ms >= started_ms_; }

    std::size_t size() const { return used_.size(); }
    std::size_t capacity() const { return capacity_; }

private:
    using Digest = std::array<std::uint8_t, 32>;
    struct DigestHash {
        std::size_t operator()(const Digest& d) const;
    };
    static Digest digest_of(BytesView ticket_identity);
    void forget_expired(std::uint64_t now_ms);

    std::uint64_t started_ms_;
    std::size_t capacity_;
    std::unordered_map<Digest, std::uint64_t, DigestHash> used_;  // SHA-256(ticket) -> expiry
    std::uint64_t next_expiry_ms_ = 0;  // no entry expires before this: skip scanning until then
};
// ANCHOR_END: UsedTickets

// ---- §4.2.10 Accepting early data ----------------------------------------------------------

// ANCHOR: early_data_refusal
// The server's decision on a ClientHello's early_data, after it has selected a PSK
// (select_psk) and verified its binder (binder_valid): nullopt to accept 0-RTT, or why
// not, in words for the trace. In order:
//   - §4.2.10: "the server MUST have accepted a PSK cipher suite and selected the first key
//     offered in the client's "pre_shared_key" extension";
//   - the ticket allows early data (its NewSessionTicket carried early_data, §4.6.1);
//   - "the following values are the same as those associated with the selected PSK: The
//     TLS version number, The selected cipher suite, The selected ALPN [RFC7301] protocol,
//     if any" (the version is always TLS 1.3 here);
//   - §8.3 freshness of the ticket age (and §4.2.10: "a server MUST validate that the
//     ticket age for the selected PSK identity ... is within a small tolerance");
//   - §8.2 the startup rule: the store must have been recording for the whole freshness
//     window of this ClientHello (or since the ticket was made, if that is later), or a
//     replay of one accepted before a restart gets in;
//   - §8.1 single use, last, because it records: a ClientHello refused for another reason
//     does not spend the ticket.
// If it refuses, the server "MUST NOT respond with the extension" and skips the early data
// (§4.2.10) — the handshake itself goes on.
// `clock`: ClockChecks::enforce, always, but in a replay of RFC 8448 §4 (rfc8448.hpp:
// Inputs::early_data_refusal), whose ticket was made by the RFC's server years ago by our clock:
// there the freshness check and the startup rule are skipped, and single use records the ticket
// for its lifetime from now.
enum class ClockChecks { enforce, skip_for_rfc8448_replay };
std::optional<std::string> early_data_refusal(const SelectedPsk& psk, BytesView ticket_identity,
                                              CipherSuite negotiated_suite, std::string_view negotiated_alpn,
                                              UsedTickets& used_tickets, std::uint64_t now_ms,
                                              ClockChecks clock = ClockChecks::enforce);
// ANCHOR_END: early_data_refusal

}  // namespace tls
