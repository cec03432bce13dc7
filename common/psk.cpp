// common/psk.cpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.2.9, §4.2.11, §4.2.11.1, §4.2.11.2 (see psk.hpp).
#include "psk.hpp"

#include "alert.hpp"
#include "key_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace tls {

std::uint32_t client_ticket_age_ms(std::uint64_t receipt_time_ms, std::uint64_t now_ms) {
    if (now_ms <= receipt_time_ms) return 0;
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(now_ms - receipt_time_ms, std::numeric_limits<std::uint32_t>::max()));
}

bool ticket_age_plausible(const TicketState& ticket, std::uint32_t obfuscated_ticket_age, std::uint64_t now_ms) {
    const std::uint64_t client_age = ticket_age_from_obfuscated(obfuscated_ticket_age, ticket.ticket_age_add);
    if (client_age > std::uint64_t{ticket.ticket_lifetime} * 1000) return false;
    const std::uint64_t server_age = now_ms > ticket.creation_time_ms ? now_ms - ticket.creation_time_ms : 0;
    return client_age <= server_age + ticket_age_tolerance_ms;
}

// ---- Binders -------------------------------------------------------------------------------

Bytes psk_binder(HashAlg hash, BytesView psk, PskType type, BytesView transcript_prefix,
                 BytesView truncated_client_hello) {
    const EarlySecret early(hash, psk);
    // §7.1: "binder_key" from "ext binder" or "res binder" (EarlySecret names both).
    const Secret binder_key =
        type == PskType::resumption ? early.resumption_binder_key() : early.external_binder_key();
    // §4.2.11.2: the transcript is the messages before this ClientHello (none, or
    // message_hash(ClientHello1) and HelloRetryRequest) and the truncated ClientHello.
    TranscriptHash transcript(hash);
    transcript.update(transcript_prefix);
    transcript.update(truncated_client_hello);
    // "The PskBinderEntry is computed in the same way as the Finished message (Section
    // 4.4.4) but with the BaseKey being the binder_key".
    return finished_verify_data(hash, binder_key, transcript.current());
}

void add_pre_shared_key(ClientHello& client_hello, std::span<const PskOffer> psks, BytesView transcript_prefix) {
    if (psks.empty()) throw std::invalid_argument("add_pre_shared_key: no PSK to offer");
    auto& extensions = client_hello.extensions;
    if (!extensions.empty() && extensions.back().extension_type == ExtensionType::pre_shared_key)
        extensions.pop_back();  // ClientHello2: recomputed below

    OfferedPsks offered;
    for (const PskOffer& p : psks) {
        offered.identities.push_back(p.identity);
        offered.binders.emplace_back(hash_length(p.hash), 0);  // placeholders of the right length
    }
    extensions.push_back(make_pre_shared_key_client(offered));

    const Bytes truncated = truncated_client_hello(encode_handshake(client_hello));
    for (std::size_t i = 0; i < psks.size(); ++i)
        offered.binders[i] = psk_binder(psks[i].hash, psks[i].psk, psks[i].type, transcript_prefix, truncated);
    // The binders have the placeholders' lengths, so the bytes before them do not change.
    extensions.back() = make_pre_shared_key_client(offered);
}

bool binder_valid(BytesView client_hello_message, std::size_t index, HashAlg hash, BytesView psk,
                  BytesView transcript_prefix, PskType type) {
    const auto psks = ClientHello::decode(Handshake::decode(client_hello_message).body).pre_shared_key();
    if (!psks || index >= psks->binders.size()) return false;
    const Bytes expected =
        psk_binder(hash, psk, type, transcript_prefix, truncated_client_hello(client_hello_message));
    // §4.4.4 and the GUIDE: MAC checks compare in constant time, so that the time taken
    // does not tell an attacker how many leading bytes of a forged binder were right.
    return constant_time_equal(expected, psks->binders[index]);
}

// ---- The server ----------------------------------------------------------------------------

std::optional<OfferedPsks> offered_psks(const ClientHello& client_hello) {
    auto offered = client_hello.pre_shared_key();
    if (!offered) return std::nullopt;
    if (!client_hello.has_extension(ExtensionType::psk_key_exchange_modes))
        throw AlertError(AlertDescription::missing_extension,
                         "ClientHello: pre_shared_key without psk_key_exchange_modes (RFC 8446 §4.2.9)");
    if (offered->binders.size() != offered->identities.size())
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("ClientHello: {} PSK identit{} but {} binder{} (RFC 8446 §4.2.11)",
                                     offered->identities.size(), offered->identities.size() == 1 ? "y" : "ies",
                                     offered->binders.size(), offered->binders.size() == 1 ? "" : "s"));
    return offered;
}

std::optional<PskKeyExchangeMode> choose_psk_key_exchange_mode(const ClientHello& client_hello, bool allow_psk_ke) {
    const auto modes = client_hello.psk_key_exchange_modes();
    if (!modes) return std::nullopt;
    const auto offers = [&](PskKeyExchangeMode m) { return std::find(modes->begin(), modes->end(), m) != modes->end(); };
    if (offers(PskKeyExchangeMode::psk_dhe_ke)) return PskKeyExchangeMode::psk_dhe_ke;
    if (allow_psk_ke && offers(PskKeyExchangeMode::psk_ke)) return PskKeyExchangeMode::psk_ke;
    return std::nullopt;
}

std::optional<SelectedPsk> select_psk(const OfferedPsks& offered, TicketKeys& keys, CipherSuite negotiated_suite,
                                      std::uint64_t now_ms) {
    const SuiteInfo* negotiated = suite_info(negotiated_suite);
    if (negotiated == nullptr) return std::nullopt;
    // A PskIdentity list is at most 2^16-1 bytes, each identity at least 7: the index fits.
    for (std::size_t i = 0; i < offered.identities.size() && i <= 0xffff; ++i) {
        const PskIdentity& id = offered.identities[i];
        std::optional<TicketState> ticket = keys.open(id.identity);
        if (!ticket) continue;
        if (suite_info(ticket->cipher_suite)->hash != negotiated->hash) continue;  // open() checked the suite
        if (ticket->expired(now_ms)) continue;
        if (!ticket_age_plausible(*ticket, id.obfuscated_ticket_age, now_ms)) continue;
        SelectedPsk selected;
        selected.selected_identity = static_cast<std::uint16_t>(i);
        selected.client_ticket_age_ms = ticket_age_from_obfuscated(id.obfuscated_ticket_age, ticket->ticket_age_add);
        selected.ticket = std::move(*ticket);
        return selected;
    }
    return std::nullopt;
}

// ---- The client ----------------------------------------------------------------------------

std::optional<std::uint16_t> check_selected_identity(const ServerHello& server_hello,
                                                     std::span<const PskOffer> offered, bool key_share_required) {
    const auto selected = server_hello.pre_shared_key();
    if (!selected) return std::nullopt;
    if (offered.empty())
        throw AlertError(AlertDescription::unsupported_extension, "ServerHello: pre_shared_key, but we offered no PSK");
    if (*selected >= offered.size())
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("ServerHello: selected_identity {} but we offered {} PSK{}", *selected,
                                     offered.size(), offered.size() == 1 ? "" : "s"));
    const SuiteInfo* suite = suite_info(server_hello.cipher_suite);
    if (suite == nullptr || suite->hash != offered[*selected].hash)
        throw AlertError(AlertDescription::illegal_parameter,
                         fmt::format("ServerHello: {} does not use the hash of PSK {}", name(server_hello.cipher_suite),
                                     *selected));
    if (key_share_required && !server_hello.has_extension(ExtensionType::key_share))
        throw AlertError(AlertDescription::illegal_parameter,
                         "ServerHello: a PSK without key_share, but we offered only psk_dhe_ke");
    return selected;
}

}  // namespace tls
