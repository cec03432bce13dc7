// common/bytes.hpp — introduced in chapter 02 (record layer).
// Implements the presentation language of RFC 8446 §3: fixed-width big-endian
// integers (§3.3), opaque vectors with a length prefix (§3.4), bounds-checked.
// Every read that would run past the input throws AlertError{decode_error}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tls {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;

// Lower-case hex without separators: "0303".
std::string to_hex(BytesView data);
// Parses hex, ignoring white space; throws std::invalid_argument on bad input.
Bytes from_hex(std::string_view hex);
Bytes to_bytes(std::string_view text);
std::string to_string(BytesView data);

// Reads the RFC 8446 §3 presentation language from a span. Never reads past it.
class ByteReader {
public:
    explicit ByteReader(BytesView data, std::string_view what = "message")
        : data_(data), what_(what) {}

    std::uint8_t u8();
    std::uint16_t u16();
    std::uint32_t u24();
    std::uint32_t u32();
    std::uint64_t u64();
    BytesView bytes(std::size_t n);

    // opaque x<floor..2^8-1> etc.: the length prefix, then that many bytes.
    BytesView vec8(std::size_t min = 0);
    BytesView vec16(std::size_t min = 0);
    BytesView vec24(std::size_t min = 0);

    // A reader over the body of a length-prefixed vector, named for errors.
    ByteReader sub8(std::string_view what, std::size_t min = 0) { return ByteReader(vec8(min), what); }
    ByteReader sub16(std::string_view what, std::size_t min = 0) { return ByteReader(vec16(min), what); }
    ByteReader sub24(std::string_view what, std::size_t min = 0) { return ByteReader(vec24(min), what); }

    std::size_t remaining() const { return data_.size() - pos_; }
    bool empty() const { return remaining() == 0; }
    std::size_t position() const { return pos_; }
    BytesView rest() const { return data_.subspan(pos_); }
    // Throws decode_error if bytes are left over: a length that disagrees with its contents.
    void expect_end() const;

private:
    [[noreturn]] void fail(std::string_view why) const;
    void need(std::size_t n) const;

    BytesView data_;
    std::size_t pos_ = 0;
    std::string_view what_;
};

// Writes the RFC 8446 §3 presentation language into a growing buffer.
class ByteWriter {
public:
    void u8(std::uint8_t v);
    void u16(std::uint16_t v);
    void u24(std::uint32_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void bytes(BytesView v);

    void vec8(BytesView v);
    void vec16(BytesView v);
    void vec24(BytesView v);

    // For vectors whose body is written piece by piece:
    //   auto mark = w.open(2); ...write body...; w.close(mark);
    struct Mark { std::size_t at; std::size_t width; };
    Mark open(std::size_t length_width);
    void close(Mark mark);

    const Bytes& data() const { return out_; }
    Bytes take() { return std::move(out_); }
    std::size_t size() const { return out_.size(); }

private:
    Bytes out_;
};

}  // namespace tls
