// common/cookie.hpp — introduced in chapter 10 (HelloRetryRequest).
// RFC 8446 §4.2.2: the cookie a server may put in its HelloRetryRequest. "Cookies serve two
// primary purposes: - Allowing the server to force the client to demonstrate reachability
// at their apparent network address [...] - Allowing the server to offload state to the
// client, thus allowing it to send a HelloRetryRequest without storing any state." For the
// second, the cookie carries what the server would otherwise keep — Hash(ClientHello1) and
// its choices — and a MAC with a key only the server has, so a client cannot forge one.
#pragma once

#include "bytes.hpp"
#include "crypto.hpp"
#include "enums.hpp"

#include <cstdint>
#include <optional>

namespace tls {

// ANCHOR: HelloRetryState
// What a stateless server needs to go on with ClientHello2 after forgetting ClientHello1.
struct HelloRetryState {
    CipherSuite cipher_suite{};   // the suite the HelloRetryRequest named
    NamedGroup selected_group{};  // the group it asked a share for
    Bytes client_hello1_hash;     // Hash(ClientHello1): the transcript restarts from it (§4.4.1)
    std::uint64_t issued_ms = 0;  // when, in ms since the Unix epoch
};
// ANCHOR_END: HelloRetryState

// Now, in milliseconds since the Unix epoch: when a cookie was issued, and (chapter 12) the unit
// of TicketState::creation_time_ms, SessionTicket::receipt_time_ms and obfuscated_ticket_age.
std::uint64_t unix_time_ms();

// A client answers a HelloRetryRequest at once; an older cookie is refused.
inline constexpr std::uint64_t max_cookie_age_ms = 60'000;

class CookieKey {
public:
    CookieKey();  // a fresh random key: cookies are good for this server process only

    // version(1) || cipher_suite(2) || selected_group(2) || issued_ms(8) || hash<1..255> || HMAC-SHA256(key, all before)
    Bytes seal(const HelloRetryState& state) const;
    // nullopt if the cookie was not made with this key (forged, altered, truncated) or is
    // older than max_cookie_age_ms at `now_ms`.
    std::optional<HelloRetryState> open(BytesView cookie, std::uint64_t now_ms) const;

private:
    Secret key_;
};

}  // namespace tls
