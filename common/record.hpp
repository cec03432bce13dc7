// common/record.hpp — introduced in chapter 02 (record layer).
// RFC 8446 §5.1: framing a byte stream into TLSPlaintext records and back.
// Bytes in, records out: no sockets here, so tests drive it directly.
#pragma once

#include "bytes.hpp"
#include "enums.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace tls {

// RFC8446 5.1-12
// RFC8446 5.2-1
// ANCHOR: limits
inline constexpr std::size_t record_header_length = 5;
// §5.1: "The length MUST NOT exceed 2^14 bytes."
inline constexpr std::size_t max_fragment_length = 1 << 14;
// §5.2: "The length MUST NOT exceed 2^14 + 256 bytes."
inline constexpr std::size_t max_encrypted_fragment_length = (1 << 14) + 256;
// ANCHOR_END: limits

// ANCHOR: TLSPlaintext
// RFC 8446 §5.1:
//   struct {
//       ContentType type;
//       ProtocolVersion legacy_record_version;
//       uint16 length;
//       opaque fragment[TLSPlaintext.length];
//   } TLSPlaintext;
// Once records are protected (chapter 06) the same header frames a TLSCiphertext,
// whose fragment is the encrypted_record; `header` keeps the five bytes as they
// arrived because they are the AEAD's additional data (§5.2).
struct TLSPlaintext {
    ContentType type = ContentType::invalid;
    std::uint16_t legacy_record_version = TLS1_2;
    Bytes fragment;
    std::array<std::uint8_t, record_header_length> header{};
};
// ANCHOR_END: TLSPlaintext

// One record: header + fragment. Throws std::length_error above 2^14 + 256.
Bytes encode_record(ContentType type, BytesView fragment, std::uint16_t legacy_record_version = TLS1_2);

// §5.1: data longer than 2^14 bytes is split across as many records as it takes.
std::vector<Bytes> encode_records(ContentType type, BytesView data, std::uint16_t legacy_record_version = TLS1_2);

// Takes bytes as TCP delivers them (any split, any merge) and hands out whole records.
class RecordReader {
public:
    // Bytes received from the peer, in order.
    void feed(BytesView data);

    // Or, to receive without copying, straight into the reader's buffer:
    //   auto room = reader.prepare(reader.wanted());
    //   std::size_t n = /* read at most room.size() bytes into room */;
    //   reader.commit(n);
    // wanted() is how much to ask for: the rest of the record under way and the header of
    // the next one (so a stream of records takes one read each), or a small amount while
    // not even a header has arrived.
    std::size_t wanted() const;
    // Room for `n` more bytes after those received; valid until the next call to the reader.
    std::span<std::uint8_t> prepare(std::size_t n);
    // The first `n` bytes of the room from prepare() now hold received data.
    void commit(std::size_t n);

    // The next whole record, or nullopt until enough bytes have arrived. Throws
    // AlertError{unexpected_message} for a content type §5.1 does not define and
    // AlertError{record_overflow} for a length above `max_length` — both judged
    // from the header alone, before waiting for the fragment.
    std::optional<TLSPlaintext> next();

    // §5.1 limits a TLSPlaintext to 2^14 bytes; §5.2 allows a TLSCiphertext 2^14 + 256.
    void set_max_length(std::size_t n) { max_length_ = n; }

    // Bytes of a record that has begun but not finished: at end of stream this
    // means the peer cut a record short.
    std::size_t buffered() const { return end_ - start_; }

private:
    Bytes buffer_;           // [start_, end_): received, not yet handed out; after end_: room
    std::size_t start_ = 0;
    std::size_t end_ = 0;
    std::size_t prepared_ = 0;  // room made by the last prepare(), for commit() to check
    std::size_t max_length_ = max_fragment_length;
};

}  // namespace tls
