// common/cookie.cpp — introduced in chapter 10. RFC 8446 §4.2.2.
#include "cookie.hpp"

#include <chrono>

namespace tls {

namespace {
constexpr std::uint8_t cookie_version = 1;
constexpr std::size_t mac_length = 32;  // HMAC-SHA256
}  // namespace

std::uint64_t unix_time_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

CookieKey::CookieKey() {
    auto key = random_bytes(32);
    key_.assign(key.begin(), key.end());
}

// ANCHOR: seal
Bytes CookieKey::seal(const HelloRetryState& state) const {
    ByteWriter w;
    w.u8(cookie_version);
    w.u16(static_cast<std::uint16_t>(state.cipher_suite));
    w.u16(static_cast<std::uint16_t>(state.selected_group));
    w.u64(state.issued_ms);
    w.vec8(state.client_hello1_hash);
    auto mac = hmac(HashAlg::sha256, key_, w.data());
    w.bytes(mac);
    return w.take();
}
// ANCHOR_END: seal

// ANCHOR: open
std::optional<HelloRetryState> CookieKey::open(BytesView cookie, std::uint64_t now_ms) const {
    if (cookie.size() < mac_length) return std::nullopt;
    auto body = cookie.first(cookie.size() - mac_length);
    auto mac = hmac(HashAlg::sha256, key_, body);
    if (!constant_time_equal(mac, cookie.last(mac_length))) return std::nullopt;  // not ours, or altered
    // Authentic: we wrote these bytes, so they parse.
    ByteReader r(body, "cookie");
    if (r.u8() != cookie_version) return std::nullopt;
    HelloRetryState state;
    state.cipher_suite = static_cast<CipherSuite>(r.u16());
    state.selected_group = static_cast<NamedGroup>(r.u16());
    state.issued_ms = r.u64();
    auto hash = r.vec8();
    state.client_hello1_hash.assign(hash.begin(), hash.end());
    if (!r.empty() || now_ms < state.issued_ms || now_ms - state.issued_ms > max_cookie_age_ms) return std::nullopt;
    return state;
}
// ANCHOR_END: open

}  // namespace tls
