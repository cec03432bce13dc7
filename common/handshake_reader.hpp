// common/handshake_reader.hpp — introduced in chapter 03 (ClientHello).
// RFC 8446 §5.1: handshake messages are a byte stream cut into records any way the sender
// likes — one message may span several records, one record may hold several messages.
// HandshakeReader turns record fragments back into whole §4 messages. Bytes in, messages
// out: no sockets, so tests and fuzzers drive it directly.
#pragma once

#include "bytes.hpp"
#include "enums.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace tls {

struct HandshakeMessage {
    HandshakeType msg_type{};
    Bytes body;  // what ClientHello::decode() etc. take
    Bytes raw;   // header + body: what the transcript hash takes (§4.4.1)
};

// ANCHOR: max_message_length
// The longest body a message of this type can have, from the RFC's own length limits
// (see the .cpp for each), or for Certificate our policy; 0 for a type that is never
// sent (message_hash) or that RFC 8446 does not define. A ClientHello can be large:
// its fixed fields, cipher_suites<2..2^16-2> and extensions<8..2^16-1> add up to
// 131 396 bytes, and a real one may come in several records.
inline constexpr std::size_t max_client_hello_length = 2 + 32 + (1 + 32) + (2 + 65534) + (1 + 255) + (2 + 65535);
std::size_t max_handshake_message_length(HandshakeType type);
// ANCHOR_END: max_message_length

class HandshakeReader {
public:
    // A message is refused as soon as its 4-byte header arrives: a type RFC 8446 does not
    // define with AlertError{unexpected_message}, a length above the type's maximum (or
    // above `cap`, if smaller) with AlertError{decode_error}.
    explicit HandshakeReader(std::size_t cap = SIZE_MAX);

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

    std::size_t cap_;
    Bytes buffer_;  // bytes fed but not yet returned by next()
};

}  // namespace tls
