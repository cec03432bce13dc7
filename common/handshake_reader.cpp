// common/handshake_reader.cpp — introduced in chapter 03. RFC 8446 §4 (framing), §5.1.
#include "handshake_reader.hpp"

#include "alert.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tls {

namespace {
constexpr std::size_t header_length = 4;  // §4: HandshakeType msg_type; uint24 length;

std::size_t body_length(const Bytes& buffer) {
    return std::size_t{buffer[1]} << 16 | std::size_t{buffer[2]} << 8 | buffer[3];
}
}  // namespace

// ANCHOR: max_handshake_message_length
// Each maximum adds up the largest value of every field of the RFC's struct (§4, B.3).
std::size_t max_handshake_message_length(HandshakeType type) {
    switch (type) {
        case HandshakeType::client_hello: return max_client_hello_length;
        // legacy_version, random, legacy_session_id_echo<0..32>, cipher_suite,
        // legacy_compression_method, extensions<6..2^16-1>
        case HandshakeType::server_hello: return 2 + 32 + (1 + 32) + 2 + 1 + (2 + 65535);
        // ticket_lifetime, ticket_age_add, ticket_nonce<0..255>, ticket<1..2^16-1>, extensions<0..2^16-2>
        case HandshakeType::new_session_ticket: return 4 + 4 + (1 + 255) + (2 + 65535) + (2 + 65534);
        case HandshakeType::end_of_early_data: return 0;  // struct {}
        case HandshakeType::encrypted_extensions: return 2 + 65535;  // extensions<0..2^16-1>
        // certificate_request_context<0..2^8-1>, extensions<2..2^16-1>
        case HandshakeType::certificate_request: return (1 + 255) + (2 + 65535);
        // The RFC allows certificate_list<0..2^24-1>: 16 MiB a peer could make us hold. Real
        // chains are a few KiB; OpenSSL's default limit is 100 KiB. Ours: 128 KiB.
        case HandshakeType::certificate: return 128 * 1024;
        case HandshakeType::certificate_verify: return 2 + (2 + 65535);  // algorithm, signature<0..2^16-1>
        case HandshakeType::finished: return 64;   // verify_data[Hash.length]: at most SHA-512's 64
        case HandshakeType::key_update: return 1;  // request_update
        case HandshakeType::message_hash: return 0;  // only ever hashed, never sent (§4.4.1)
    }
    return 0;
}
// ANCHOR_END: max_handshake_message_length

HandshakeReader::HandshakeReader(std::size_t cap) : cap_(cap) {}

// The uint24 length lets a peer announce 16 MiB and make us buffer it. We refuse early,
// as soon as the header is in, instead of waiting for the body. Which alert? A length
// beyond what the message's own vectors can add up to is "decode_error" (§6.2: "some
// field was out of the specified range or the length of the message was incorrect"). A
// type RFC 8446 does not define is an "unexpected_message" (§6.2: "an inappropriate
// message ... was received").
// RFC8446 6-6
void HandshakeReader::check_header() const {
    if (buffer_.size() < header_length) return;
    const auto type = static_cast<HandshakeType>(buffer_[0]);
    const std::size_t type_limit = max_handshake_message_length(type);
    if (type_limit == 0 && type != HandshakeType::end_of_early_data)
        throw AlertError(AlertDescription::unexpected_message,
                         fmt::format("handshake message of unknown type {}", static_cast<int>(buffer_[0])));
    const std::size_t limit = std::min(cap_, type_limit);
    if (body_length(buffer_) > limit)
        throw AlertError(AlertDescription::decode_error,
                         fmt::format("{} of {} bytes is longer than the maximum {}", name(type),
                                     body_length(buffer_), limit));
}

void HandshakeReader::feed(BytesView fragment) {
    // Zero-length handshake fragments are forbidden (§5.1), but the record layer sees the
    // record and checks that; an empty span here simply adds nothing.
    buffer_.insert(buffer_.end(), fragment.begin(), fragment.end());
    check_header();
}

std::optional<HandshakeMessage> HandshakeReader::next() {
    if (buffer_.size() < header_length) return std::nullopt;
    check_header();
    std::size_t total = header_length + body_length(buffer_);
    if (buffer_.size() < total) return std::nullopt;

    HandshakeMessage m;
    m.msg_type = static_cast<HandshakeType>(buffer_[0]);
    m.raw.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(total));
    m.body.assign(m.raw.begin() + header_length, m.raw.end());
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(total));
    return m;
}

}  // namespace tls
