// common/handshake_reader.cpp — introduced in chapter 03. RFC 8446 §4 (framing), §5.1.
#include "handshake_reader.hpp"

#include "alert.hpp"

#include <fmt/format.h>

namespace tls {

namespace {
constexpr std::size_t header_length = 4;  // §4: HandshakeType msg_type; uint24 length;

std::size_t body_length(const Bytes& buffer) {
    return std::size_t{buffer[1]} << 16 | std::size_t{buffer[2]} << 8 | buffer[3];
}
}  // namespace

HandshakeReader::HandshakeReader(std::size_t max_message_length) : max_message_length_(max_message_length) {}

// The uint24 length lets a peer announce 16 MiB and make us buffer it. We refuse early,
// as soon as the header is in, instead of waiting for the body. Which alert? RFC 8446 names
// none for this; decode_error ("the length of the message was incorrect", §6.2) says what
// went wrong from our side: we cannot take a message that long. (OpenSSL sends
// illegal_parameter, Go internal_error; any fatal alert ends the handshake the same way.)
void HandshakeReader::check_header() const {
    if (buffer_.size() >= header_length && body_length(buffer_) > max_message_length_)
        throw AlertError(AlertDescription::decode_error,
                         fmt::format("handshake message of {} bytes is longer than the maximum {}",
                                     body_length(buffer_), max_message_length_));
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
