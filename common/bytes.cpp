// common/bytes.cpp — introduced in chapter 02. RFC 8446 §3.3, §3.4.
#include "bytes.hpp"

#include "alert.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace tls {

std::string to_hex(BytesView data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

Bytes from_hex(std::string_view hex) {
    Bytes out;
    int high = -1;
    for (char c : hex) {
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
        else throw std::invalid_argument("from_hex: not a hex digit");
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0) throw std::invalid_argument("from_hex: odd number of digits");
    return out;
}

Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }
std::string to_string(BytesView data) { return std::string(data.begin(), data.end()); }

void ByteReader::fail(std::string_view why) const {
    throw AlertError(AlertDescription::decode_error,
                     fmt::format("{}: {} (at byte {} of {})", what_, why, pos_, data_.size()));
}

void ByteReader::need(std::size_t n) const {
    if (remaining() < n) fail(fmt::format("truncated: need {} more bytes, have {}", n, remaining()));
}

std::uint8_t ByteReader::u8() {
    need(1);
    return data_[pos_++];
}

std::uint16_t ByteReader::u16() {
    need(2);
    std::uint16_t v = static_cast<std::uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
}

std::uint32_t ByteReader::u24() {
    need(3);
    std::uint32_t v = std::uint32_t{data_[pos_]} << 16 | std::uint32_t{data_[pos_ + 1]} << 8 | data_[pos_ + 2];
    pos_ += 3;
    return v;
}

std::uint32_t ByteReader::u32() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += 4;
    return v;
}

std::uint64_t ByteReader::u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += 8;
    return v;
}

BytesView ByteReader::bytes(std::size_t n) {
    need(n);
    auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

static void check_min(std::size_t len, std::size_t min, const ByteReader& r, std::string_view what) {
    if (len < min)
        throw AlertError(AlertDescription::decode_error,
                         fmt::format("{}: vector of {} bytes is shorter than its minimum {} (at byte {})",
                                     what, len, min, r.position()));
}

BytesView ByteReader::vec8(std::size_t min) {
    auto n = u8();
    check_min(n, min, *this, what_);
    return bytes(n);
}

BytesView ByteReader::vec16(std::size_t min) {
    auto n = u16();
    check_min(n, min, *this, what_);
    return bytes(n);
}

BytesView ByteReader::vec24(std::size_t min) {
    auto n = u24();
    check_min(n, min, *this, what_);
    return bytes(n);
}

void ByteReader::expect_end() const {
    if (!empty()) fail(fmt::format("{} unexpected trailing bytes", remaining()));
}

void ByteWriter::u8(std::uint8_t v) { out_.push_back(v); }
void ByteWriter::u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
}
void ByteWriter::u24(std::uint32_t v) {
    if (v > 0xffffff) throw std::length_error("u24 value out of range");
    out_.push_back(static_cast<std::uint8_t>(v >> 16));
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
}
void ByteWriter::u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<std::uint8_t>(v >> s));
}
void ByteWriter::u64(std::uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out_.push_back(static_cast<std::uint8_t>(v >> s));
}
void ByteWriter::bytes(BytesView v) { out_.insert(out_.end(), v.begin(), v.end()); }

void ByteWriter::vec8(BytesView v) {
    auto m = open(1);
    bytes(v);
    close(m);
}
void ByteWriter::vec16(BytesView v) {
    auto m = open(2);
    bytes(v);
    close(m);
}
void ByteWriter::vec24(BytesView v) {
    auto m = open(3);
    bytes(v);
    close(m);
}

ByteWriter::Mark ByteWriter::open(std::size_t width) {
    Mark m{out_.size(), width};
    out_.insert(out_.end(), width, 0);
    return m;
}

void ByteWriter::close(Mark m) {
    std::size_t len = out_.size() - m.at - m.width;
    if (m.width < 8 && len >> (8 * m.width) != 0) throw std::length_error("vector too long for its length prefix");
    for (std::size_t i = 0; i < m.width; ++i)
        out_[m.at + i] = static_cast<std::uint8_t>(len >> (8 * (m.width - 1 - i)));
}

}  // namespace tls
