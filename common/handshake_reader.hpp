// common/handshake_reader.hpp — introduced in chapter 03 (ClientHello).
// RFC 8446 §5.1: handshake messages are a byte stream cut into records any way the sender
// likes — one message may span several records, one record may hold several messages.
// HandshakeReader turns record fragments back into whole §4 messages. Bytes in, messages
// out: no sockets, so tests and fuzzers drive it directly.
#pragma once

#include "bytes.hpp"
#include "enums.hpp"

#include <cstddef>
#include <optional>

namespace tls {

struct HandshakeMessage {
    HandshakeType msg_type{};
    Bytes body;  // what ClientHello::decode() etc. take
    Bytes raw;   // header + body: what the transcript hash takes (§4.4.1)
};

class HandshakeReader {
public:
    // A message whose header announces more than max_message_length body bytes is refused
    // with AlertError{decode_error} as soon as its 4-byte header arrives (see the .cpp).
    explicit HandshakeReader(std::size_t max_message_length = 1 << 16);

    // The payload of one handshake record (after decryption, for protected records).
    void feed(BytesView fragment);
    // The next whole message, or nullopt if more bytes are needed.
    std::optional<HandshakeMessage> next();
    // True when no partial message is buffered. §5.1: "Handshake messages MUST NOT span
    // key changes" — before a key change the caller checks this and otherwise sends
    // unexpected_message.
    bool empty() const { return buffer_.empty(); }

private:
    void check_header() const;

    std::size_t max_message_length_;
    Bytes buffer_;  // bytes fed but not yet returned by next()
};

}  // namespace tls
