// common/record.cpp — introduced in chapter 02. RFC 8446 §5.1.
#include "record.hpp"

#include "alert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace tls {

// ANCHOR: encode
Bytes encode_record(ContentType type, BytesView fragment, std::uint16_t legacy_record_version) {
    if (fragment.size() > max_encrypted_fragment_length) throw std::length_error("record fragment too long");
    ByteWriter w;
    w.u8(static_cast<std::uint8_t>(type));
    w.u16(legacy_record_version);
    w.vec16(fragment);
    return w.take();
}

std::vector<Bytes> encode_records(ContentType type, BytesView data, std::uint16_t legacy_record_version) {
    std::vector<Bytes> records;
    do {
        auto n = std::min(data.size(), max_fragment_length);
        records.push_back(encode_record(type, data.first(n), legacy_record_version));
        data = data.subspan(n);
    } while (!data.empty());
    return records;
}
// ANCHOR_END: encode

void RecordReader::feed(BytesView data) {
    auto room = prepare(data.size());
    std::copy(data.begin(), data.end(), room.begin());
    commit(data.size());
}

namespace {
// While waiting for a header, ask for this much: enough for a small record (an alert, a
// short handshake flight) in one read, little enough for an idle connection to keep.
constexpr std::size_t header_read_size = 512;
// An empty buffer larger than this is given back: a connection that once received a big
// record should not hold on to 16 KiB while it sits idle.
constexpr std::size_t idle_buffer_limit = 4 * 1024;
}  // namespace

std::size_t RecordReader::wanted() const {
    if (buffered() < record_header_length) return header_read_size;
    const std::size_t length = std::size_t{buffer_[start_ + 3]} << 8 | buffer_[start_ + 4];
    const std::size_t through_next_header = record_header_length + length + record_header_length;
    return buffered() < through_next_header ? through_next_header - buffered() : header_read_size;
}

std::span<std::uint8_t> RecordReader::prepare(std::size_t n) {
    if (start_ == end_) {
        // Everything received has been handed out: start again at the front.
        start_ = end_ = 0;
        if (buffer_.capacity() > idle_buffer_limit) buffer_ = Bytes();
    } else if (start_ > 0 && end_ + n > buffer_.size()) {
        // Move the start of the next record to the front, so the buffer stays one record long.
        std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(start_),
                  buffer_.begin() + static_cast<std::ptrdiff_t>(end_), buffer_.begin());
        end_ -= start_;
        start_ = 0;
    }
    if (buffer_.size() < end_ + n) buffer_.resize(end_ + n);
    prepared_ = n;
    return {buffer_.data() + end_, n};
}

void RecordReader::commit(std::size_t n) {
    if (n > prepared_) throw std::logic_error("RecordReader::commit: more bytes than prepare() made room for");
    end_ += n;
    prepared_ = 0;
}

static bool known_content_type(std::uint8_t t) {
    switch (static_cast<ContentType>(t)) {
        case ContentType::change_cipher_spec:
        case ContentType::alert:
        case ContentType::handshake:
        case ContentType::application_data: return true;
        default: return false;
    }
}

// RFC8446 5-5, 5.1-13, 5.2-2, 5.2-5
// ANCHOR: next
std::optional<TLSPlaintext> RecordReader::next() {
    if (buffered() < record_header_length) return std::nullopt;
    BytesView pending(buffer_.data() + start_, buffered());
    ByteReader r(pending, "record header");
    auto type = r.u8();
    // RFC8446 5.1-11, D-1, D.2-4
    // §5.1: legacy_record_version "is deprecated and MUST be ignored for all purposes": kept
    // for the trace and the RFC 8448 replay, never compared with anything, whatever TLS 1.x
    // (or SSL) version a peer writes there.
    auto version = r.u16();
    auto length = r.u16();
    // §5: "If a TLS implementation receives an unexpected record type, it MUST
    // terminate the connection with an "unexpected_message" alert."
    // RFC8446 D.5-7, D.5-8
    // This also refuses an SSL 2.0 compatible CLIENT-HELLO (Appendix D.5): its first byte, the
    // high bit of its two-byte length, reads as content type 128 or more.
    if (!known_content_type(type))
        throw AlertError(AlertDescription::unexpected_message, fmt::format("unknown record content type {}", type));
    // §5.1 / §5.2: "...MUST terminate the connection with a "record_overflow" alert."
    if (length > max_length_)
        throw AlertError(AlertDescription::record_overflow,
                         fmt::format("record length {} exceeds the limit of {} bytes", length, max_length_));
    if (r.remaining() < length) return std::nullopt;

    TLSPlaintext record;
    record.type = static_cast<ContentType>(type);
    record.legacy_record_version = version;
    std::copy_n(pending.begin(), record_header_length, record.header.begin());
    auto fragment = r.bytes(length);
    record.fragment.assign(fragment.begin(), fragment.end());
    start_ += record_header_length + length;
    return record;
}
// ANCHOR_END: next

}  // namespace tls
