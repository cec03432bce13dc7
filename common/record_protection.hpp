// common/record_protection.hpp — introduced in chapter 06 (encrypted records).
// RFC 8446 §5.2 (record payload protection), §5.3 (per-record nonce), §5.4 (record
// padding), §5.5 (limits on key usage). Bytes in, bytes out: no sockets, so tests and
// fuzzers drive it directly.
#pragma once

#include "bytes.hpp"
#include "crypto.hpp"
#include "enums.hpp"
#include "key_schedule.hpp"
#include "record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace tls {

// The limits of §5.1 and §5.2 under the names this file uses (defined in record.hpp).
inline constexpr std::size_t max_plaintext_length = max_fragment_length;             // 2^14
inline constexpr std::size_t max_ciphertext_length = max_encrypted_fragment_length;  // 2^14 + 256

// ANCHOR: TLSInnerPlaintext
// RFC 8446 §5.2:
//   struct {
//       opaque content[TLSPlaintext.length];
//       ContentType type;
//       uint8 zeros[length_of_padding];
//   } TLSInnerPlaintext;
Bytes encode_inner_plaintext(ContentType type, BytesView content, std::size_t padding = 0);
// The same, appended to `out` (RecordProtection::seal builds a whole record in one buffer).
void append_inner_plaintext(Bytes& out, ContentType type, BytesView content, std::size_t padding = 0);

struct InnerPlaintext {
    ContentType type;
    Bytes content;
};
// Strips the zeros from the end; the last non-zero byte is the type (§5.4).
// All zeros -> AlertError{unexpected_message}.
InnerPlaintext decode_inner_plaintext(BytesView plaintext);
// The same without a copy: the content is `plaintext` itself, cut short.
InnerPlaintext decode_inner_plaintext(Bytes&& plaintext);
// ANCHOR_END: TLSInnerPlaintext

// RFC 8446 §5.3: the 64-bit sequence number, big-endian, left-padded with zeros to
// iv_length, XORed with the static write IV.
Bytes per_record_nonce(BytesView iv, std::uint64_t sequence_number);

// ANCHOR: RecordProtection
// One direction of protection: a traffic key, its IV and the sequence number, which
// starts at 0 for each new key (§5.3). A connection holds one for reading and one for
// writing, and replaces them whenever the key schedule moves on. The AEAD is keyed once
// here, not once per record.
class RecordProtection {
public:
    RecordProtection(AeadAlg aead, TrafficKeys keys);

    // Returns the whole TLSCiphertext record: header (opaque_type = application_data(23),
    // legacy_record_version = 0x0303, length) + encrypted_record. Splitting content into
    // chunks of at most 2^14 bytes is the caller's job: throws std::length_error if
    // content + padding > 2^14.
    Bytes seal(ContentType inner_type, BytesView content, std::size_t padding = 0);

    // `header` is the 5-byte record header as received (it is the additional data);
    // `encrypted_record` the rest. Throws AlertError:
    //   record_overflow     encrypted_record longer than 2^14 + 256, or the inner
    //                       plaintext longer than 2^14 + 1
    //   bad_record_mac      it does not authenticate
    //   unexpected_message  the inner plaintext is all zeros (no content type)
    InnerPlaintext open(BytesView header, BytesView encrypted_record);
    // The same, but nullopt instead of bad_record_mac, and the sequence number stays where
    // it was: trial decryption, for a server skipping early data it cannot read (§4.2.10).
    std::optional<InnerPlaintext> try_open(BytesView header, BytesView encrypted_record);
    // Both again, decrypting the record where it lies (no copy): the content that comes out
    // is `encrypted_record` itself, and a record that does not authenticate is left zeroed.
    InnerPlaintext open(BytesView header, Bytes&& encrypted_record);
    std::optional<InnerPlaintext> try_open(BytesView header, Bytes&& encrypted_record);

    std::uint64_t sequence_number() const { return sequence_number_; }
    AeadAlg aead() const { return aead_; }

private:
    Bytes next_nonce();

    AeadAlg aead_;
    TrafficKeys keys_;
    Aead cipher_;  // keyed with keys_.key
    std::uint64_t sequence_number_ = 0;
};
// ANCHOR_END: RecordProtection

}  // namespace tls
