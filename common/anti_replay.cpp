// common/anti_replay.cpp — introduced in chapter 13 (0-RTT).
// RFC 8446 §8.1, §8.2, §8.3, §4.2.10 (see anti_replay.hpp).
#include "anti_replay.hpp"

#include "crypto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace tls {

// ---- §8.3 ----------------------------------------------------------------------------------

std::uint64_t expected_arrival_time_ms(const TicketState& ticket, std::uint32_t obfuscated_ticket_age) {
    const std::uint64_t adjusted_creation_time = ticket.creation_time_ms + ticket.estimated_rtt_ms;
    const std::uint64_t clients_ticket_age = ticket_age_from_obfuscated(obfuscated_ticket_age, ticket.ticket_age_add);
    return adjusted_creation_time + clients_ticket_age;
}

bool fresh(std::uint64_t expected_arrival_time_ms, std::uint64_t now_ms, std::uint64_t window_ms) {
    const std::uint64_t difference = now_ms > expected_arrival_time_ms ? now_ms - expected_arrival_time_ms
                                                                        : expected_arrival_time_ms - now_ms;
    return difference <= window_ms;
}

// ---- §8.1 ----------------------------------------------------------------------------------

std::size_t UsedTickets::DigestHash::operator()(const Digest& d) const {
    // The digest is already uniformly distributed: its first bytes are a good hash.
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

UsedTickets::UsedTickets(std::uint64_t started_ms, std::size_t capacity)
    : started_ms_(started_ms), capacity_(capacity) {}

void UsedTickets::forget_expired(std::uint64_t now_ms) {
    if (now_ms < next_expiry_ms_) return;  // nothing can have expired yet
    std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
    std::erase_if(used_, [&](const auto& entry) {
        if (entry.second <= now_ms) return true;
        next = std::min(next, entry.second);
        return false;
    });
    next_expiry_ms_ = next;
}

UsedTickets::Digest UsedTickets::digest_of(BytesView ticket_identity) {
    const Bytes h = hash(HashAlg::sha256, ticket_identity);
    Digest digest{};
    std::copy_n(h.begin(), digest.size(), digest.begin());
    return digest;
}

bool UsedTickets::seen(BytesView ticket_identity, std::uint64_t now_ms) const {
    const auto it = used_.find(digest_of(ticket_identity));
    return it != used_.end() && it->second > now_ms;
}

bool UsedTickets::first_use(BytesView ticket_identity, std::uint64_t now_ms, std::uint64_t expiry_ms) {
    const Digest digest = digest_of(ticket_identity);

    if (auto it = used_.find(digest); it != used_.end()) {
        if (it->second > now_ms) return false;  // used, and still valid: a replay
        it->second = expiry_ms;                 // an expired entry not yet swept: reuse it
        next_expiry_ms_ = std::min(next_expiry_ms_, expiry_ms);
        return true;
    }
    if (expiry_ms <= now_ms) return true;  // nothing left to protect
    if (used_.size() >= capacity_) {
        forget_expired(now_ms);
        // Fail closed: forgetting a live entry would let its replay through.
        if (used_.size() >= capacity_) return false;
    }
    used_.emplace(digest, expiry_ms);
    next_expiry_ms_ = std::min(next_expiry_ms_, expiry_ms);
    return true;
}

// ---- §4.2.10 -------------------------------------------------------------------------------

std::optional<std::string> early_data_refusal(const SelectedPsk& psk, BytesView ticket_identity,
                                              CipherSuite negotiated_suite, std::string_view negotiated_alpn,
                                              UsedTickets& used_tickets, std::uint64_t now_ms, ClockChecks clock) {
    const TicketState& ticket = psk.ticket;
    if (psk.selected_identity != 0)
        return fmt::format("the PSK selected is identity {}, not the first (RFC 8446 §4.2.10)", psk.selected_identity);
    if (ticket.max_early_data_size == 0) return "the ticket does not allow early data (no early_data in its NewSessionTicket)";
    if (ticket.cipher_suite != negotiated_suite)
        return fmt::format("the ticket's cipher suite is {}, this connection's {} (RFC 8446 §4.2.10)",
                           name(ticket.cipher_suite), name(negotiated_suite));
    if (ticket.alpn != negotiated_alpn)
        return fmt::format("the ticket's ALPN protocol is \"{}\", this connection's \"{}\" (RFC 8446 §4.2.10)",
                           ticket.alpn, negotiated_alpn);
    if (clock == ClockChecks::skip_for_rfc8448_replay) {
        if (used_tickets.seen(ticket_identity, now_ms))
            return "the ticket has already been used for early data: a replay (RFC 8446 §8.1)";
        if (!used_tickets.first_use(ticket_identity, now_ms, now_ms + std::uint64_t{ticket.ticket_lifetime} * 1000))
            return "the store of used tickets is full of unexpired tickets (RFC 8446 §8.1)";
        return std::nullopt;
    }
    // §8.3, as expected_arrival_time_ms(), from the age select_psk already de-obfuscated.
    const std::uint64_t expected = ticket.creation_time_ms + ticket.estimated_rtt_ms + psk.client_ticket_age_ms;
    if (!fresh(expected, now_ms))
        return fmt::format("not fresh: the ticket age says it was sent {} ms {} it arrived (window {} ms, RFC 8446 §8.3)",
                           now_ms > expected ? now_ms - expected : expected - now_ms,
                           now_ms > expected ? "before" : "after", freshness_window_ms);
    // A replay passes fresh() until expected + window; the original may have come as early
    // as expected - window, but not before the ticket existed. Only if the store was recording
    // from the later of the two can it tell (a ticket this process made is always covered).
    const std::uint64_t earliest_original =
        std::max(ticket.creation_time_ms, expected < freshness_window_ms ? 0 : expected - freshness_window_ms);
    if (!used_tickets.remembers_since(earliest_original))
        return "the server started too recently to know whether this ClientHello was seen before (RFC 8446 §8.2)";
    if (used_tickets.seen(ticket_identity, now_ms))
        return "the ticket has already been used for early data: a replay (RFC 8446 §8.1)";
    if (!used_tickets.first_use(ticket_identity, now_ms, ticket.expiry_time_ms()))
        return "the store of used tickets is full of unexpired tickets (RFC 8446 §8.1)";
    return std::nullopt;
}

}  // namespace tls
