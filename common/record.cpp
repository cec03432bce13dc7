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
    // Drop what has been consumed before growing, so the buffer stays one record long.
    if (start_ > 0 && start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    } else if (start_ > max_encrypted_fragment_length) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
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

// ANCHOR: next
std::optional<TLSPlaintext> RecordReader::next() {
    if (buffered() < record_header_length) return std::nullopt;
    BytesView pending(buffer_.data() + start_, buffered());
    ByteReader r(pending, "record header");
    auto type = r.u8();
    auto version = r.u16();
    auto length = r.u16();
    // §5: "If a TLS implementation receives an unexpected record type, it MUST
    // terminate the connection with an "unexpected_message" alert."
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
