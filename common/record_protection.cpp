// common/record_protection.cpp — introduced in chapter 06 (encrypted records).
// RFC 8446 §5.2, §5.3, §5.4.
#include "record_protection.hpp"

#include "alert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

namespace tls {

// RFC8446 5.4-1
// ANCHOR: encode_inner_plaintext
Bytes encode_inner_plaintext(ContentType type, BytesView content, std::size_t padding) {
    Bytes out;
    append_inner_plaintext(out, type, content, padding);
    return out;
}

void append_inner_plaintext(Bytes& out, ContentType type, BytesView content, std::size_t padding) {
    out.insert(out.end(), content.begin(), content.end());
    out.push_back(static_cast<std::uint8_t>(type));
    out.resize(out.size() + padding, 0);  // §5.4: "padding octets ... all zeros"
}
// ANCHOR_END: encode_inner_plaintext

// RFC8446 5.4-3, 5.4-4
// ANCHOR: decode_inner_plaintext
// RFC 8446 §5.4: "the receiving implementation scans the field from the end toward the
// beginning until it finds a non-zero octet. This non-zero octet is the content type of
// the message. ... If a receiving implementation does not find a non-zero octet in the
// cleartext, it MUST terminate the connection with an "unexpected_message" alert."
InnerPlaintext decode_inner_plaintext(BytesView plaintext) {
    const auto last = std::find_if(plaintext.rbegin(), plaintext.rend(), [](std::uint8_t b) { return b != 0; });
    if (last == plaintext.rend())
        throw AlertError(AlertDescription::unexpected_message,
                         fmt::format("protected record has no content type: its plaintext is {} zero bytes",
                                     plaintext.size()));
    const std::size_t type_at = static_cast<std::size_t>(plaintext.rend() - last) - 1;
    return {static_cast<ContentType>(plaintext[type_at]), Bytes(plaintext.begin(), plaintext.begin() + type_at)};
}

InnerPlaintext decode_inner_plaintext(Bytes&& plaintext) {
    const auto last = std::find_if(plaintext.rbegin(), plaintext.rend(), [](std::uint8_t b) { return b != 0; });
    if (last == plaintext.rend()) return decode_inner_plaintext(BytesView(plaintext));  // throws
    const std::size_t type_at = static_cast<std::size_t>(plaintext.rend() - last) - 1;
    const auto type = static_cast<ContentType>(plaintext[type_at]);
    plaintext.resize(type_at);  // the content stays where it was decrypted
    return {type, std::move(plaintext)};
}
// ANCHOR_END: decode_inner_plaintext

// ANCHOR: nonce
// RFC 8446 §5.3:
//   1. The 64-bit record sequence number is encoded in network byte order and padded to
//      the left with zeros to iv_length.
//   2. The padded sequence number is XORed with either the static client_write_iv or
//      server_write_iv (depending on the role).
Bytes per_record_nonce(BytesView iv, std::uint64_t sequence_number) {
    if (iv.size() < 8) throw std::invalid_argument("per_record_nonce: iv_length must be at least 8");
    Bytes nonce(iv.begin(), iv.end());
    for (std::size_t i = 0; i < 8; ++i)
        nonce[nonce.size() - 1 - i] ^= static_cast<std::uint8_t>(sequence_number >> (8 * i));
    return nonce;
}
// ANCHOR_END: nonce

namespace {
// Checked before the AEAD is keyed with them, so that a wrong length is reported as ours.
TrafficKeys checked(AeadAlg aead, TrafficKeys keys) {
    if (keys.key.size() != aead_key_length(aead) || keys.iv.size() != aead_iv_length)
        throw std::invalid_argument(fmt::format("RecordProtection: {} needs a {}-byte key and a {}-byte iv",
                                                aead_name(aead), aead_key_length(aead), aead_iv_length));
    return keys;
}
}  // namespace

RecordProtection::RecordProtection(AeadAlg aead, TrafficKeys keys)
    : aead_(aead), keys_(checked(aead, std::move(keys))), cipher_(aead, keys_.key) {}

// ANCHOR: next_nonce
// The nonce for this record, then one step on (§5.3: "incremented by one after reading or
// writing each record"). "If a TLS implementation would need to wrap a sequence number,
// it MUST either rekey (Section 4.6.3) or terminate the connection."
Bytes RecordProtection::next_nonce() {
    if (sequence_number_ == std::numeric_limits<std::uint64_t>::max())
        throw std::overflow_error("record sequence number would wrap: a KeyUpdate was due long ago (§5.3, §5.5)");
    return per_record_nonce(keys_.iv, sequence_number_++);
}
// ANCHOR_END: next_nonce

// ANCHOR: seal
// RFC 8446 §5.2:
//   struct {
//       ContentType opaque_type = application_data; /* 23 */
//       ProtocolVersion legacy_record_version = 0x0303; /* TLS v1.2 */
//       uint16 length;
//       opaque encrypted_record[TLSCiphertext.length];
//   } TLSCiphertext;
//
//   additional_data = TLSCiphertext.opaque_type || TLSCiphertext.legacy_record_version ||
//                     TLSCiphertext.length
//   AEADEncrypted = AEAD-Encrypt(write_key, nonce, additional_data, plaintext)
Bytes RecordProtection::seal(ContentType inner_type, BytesView content, std::size_t padding) {
    if (content.size() + padding > max_plaintext_length)
        throw std::length_error(fmt::format("record content + padding is {} bytes; a record holds at most 2^14 (§5.4)",
                                            content.size() + padding));
    const std::size_t inner_length = content.size() + 1 + padding;  // TLSInnerPlaintext
    const auto length = static_cast<std::uint16_t>(inner_length + aead_tag_length);
    // The header first: it is the additional data.
    const std::array<std::uint8_t, record_header_length> header{
        static_cast<std::uint8_t>(ContentType::application_data), TLS1_2 >> 8, TLS1_2 & 0xff,
        static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length & 0xff)};
    // The whole record is built in one buffer, and TLSInnerPlaintext encrypted where it lies.
    Bytes record;
    record.reserve(record_header_length + length);
    record.assign(header.begin(), header.end());
    append_inner_plaintext(record, inner_type, content, padding);
    cipher_.seal_in_place(next_nonce(), header, record, record_header_length);  // appends the tag
    return record;
}
// ANCHOR_END: seal

// RFC8446 5.2-3, 5.2-5, 5.4-5
// ANCHOR: open
InnerPlaintext RecordProtection::open(BytesView header, Bytes&& encrypted_record) {
    // §5.2: "If the decryption fails, the receiver MUST terminate the connection with a
    // "bad_record_mac" alert."
    auto inner = try_open(header, std::move(encrypted_record));
    if (!inner)
        throw AlertError(AlertDescription::bad_record_mac,
                         fmt::format("record {} does not authenticate under the {} key: it was changed, or "
                                     "the keys or sequence numbers of the two sides disagree",
                                     sequence_number_, aead_name(aead_)));
    return std::move(*inner);
}

std::optional<InnerPlaintext> RecordProtection::try_open(BytesView header, Bytes&& encrypted_record) {
    // §5.2: "An endpoint that receives a record from its peer with TLSCiphertext.length
    // larger than 2^14 + 256 octets MUST terminate the connection with a "record_overflow" alert."
    if (encrypted_record.size() > max_ciphertext_length)
        throw AlertError(AlertDescription::record_overflow,
                         fmt::format("protected record is {} bytes; the limit is 2^14 + 256 = {}",
                                     encrypted_record.size(), max_ciphertext_length));
    if (sequence_number_ == std::numeric_limits<std::uint64_t>::max())
        throw std::overflow_error("record sequence number would wrap: a KeyUpdate was due long ago (§5.3, §5.5)");
    // Decrypted where it lies; a record that does not authenticate is zeroed.
    Bytes& plaintext = encrypted_record;
    if (!cipher_.open_in_place(per_record_nonce(keys_.iv, sequence_number_), header, plaintext)) return std::nullopt;
    ++sequence_number_;  // §5.3: one step on for each record read
    // §5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets."
    if (plaintext.size() > max_plaintext_length + 1)
        throw AlertError(AlertDescription::record_overflow,
                         fmt::format("decrypted record is {} bytes; the limit is 2^14 + 1", plaintext.size()));
    return decode_inner_plaintext(std::move(plaintext));
}
// ANCHOR_END: open

InnerPlaintext RecordProtection::open(BytesView header, BytesView encrypted_record) {
    return open(header, Bytes(encrypted_record.begin(), encrypted_record.end()));
}

std::optional<InnerPlaintext> RecordProtection::try_open(BytesView header, BytesView encrypted_record) {
    return try_open(header, Bytes(encrypted_record.begin(), encrypted_record.end()));
}

}  // namespace tls
