// fuzz/record_protection.cpp — record unprotection (record_protection.hpp, RFC 8446 §5.2–§5.4):
// RecordProtection::open and decode_inner_plaintext, then what the record layer does with
// the content (Alert::decode, handshake reassembly and the message decoders).
//
// Input: config (1 byte), sequence (1 byte), then the rest.
//   config bits 0-1  which traffic key of RFC 8448 §3 (the table below)
//   config bits 2-3  the AEAD: 0 AES-128-GCM with that key, 1 AES-256-GCM, 2 ChaCha20-Poly1305
//                    (both keyed with the 16-byte key twice), 3 AES-128-GCM
//   config bit 4     0: the rest is records as received (header + encrypted_record, back to
//                       back), opened in turn until one fails, as the record layer does;
//                    1: the rest is a record header (5 bytes, the additional data), a padding
//                       count c, then a TLSInnerPlaintext to which 128*c zeros are added. It is
//                       sealed here with the same key, so the fuzzer controls what decrypts:
//                       open() must give exactly the result §5.2/§5.4 define for it, and
//                       seal() then open() must give back the content.
//   sequence         XORed into the IV: the first record is opened as if at that sequence number.
// Seeds: RFC 8448 §3's protected records with their key and sequence number (they
// authenticate, so the fuzzer starts from real plaintext) and one sealed seed per AEAD.
#include "decode_message.hpp"
#include "handshake_reader.hpp"
#include "record.hpp"
#include "record_protection.hpp"

#include <algorithm>

namespace {

// RFC 8448 §3: {server}/{client} derive write traffic keys for handshake/application data.
struct Rfc8448Key {
    const char* key;
    const char* iv;
};
constexpr Rfc8448Key rfc8448_keys[4] = {
    {"3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},  // server handshake
    {"dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},  // client handshake
    {"9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},  // server application
    {"17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},  // client application
};

tls::TrafficKeys keys_for(std::uint8_t config, tls::AeadAlg aead, std::uint8_t sequence) {
    const auto& k = rfc8448_keys[config & 3];
    auto key = tls::from_hex(k.key);
    if (tls::aead_key_length(aead) == 32) key.insert(key.end(), key.begin(), key.end());
    auto iv = tls::from_hex(k.iv);
    iv.back() ^= sequence;
    return {tls::Secret(key.begin(), key.end()), tls::Secret(iv.begin(), iv.end())};
}

tls::AeadAlg aead_for(std::uint8_t config) {
    switch ((config >> 2) & 3) {
        case 1: return tls::AeadAlg::aes_256_gcm;
        case 2: return tls::AeadAlg::chacha20_poly1305;
        default: return tls::AeadAlg::aes_128_gcm;
    }
}

// What the record layer does with a record's content once it is decrypted.
void use_content(const tls::InnerPlaintext& inner, tls::HandshakeReader& handshake) {
    FUZZ_CHECK(inner.type != tls::ContentType::invalid);
    FUZZ_CHECK(inner.content.size() <= tls::max_plaintext_length);
    if (inner.type == tls::ContentType::alert) {
        fuzz::accepts([&] { (void)tls::Alert::decode(inner.content); });
    } else if (inner.type == tls::ContentType::handshake) {
        fuzz::accepts([&] {
            handshake.feed(inner.content);
            while (auto m = handshake.next()) fuzz::decode_message(m->msg_type, m->body);
        });
    }
}

void open_records(std::uint8_t config, std::uint8_t sequence, tls::BytesView records) {
    const auto aead = aead_for(config);
    tls::RecordProtection protection(aead, keys_for(config, aead, sequence));
    tls::RecordReader reader;
    reader.set_max_length(tls::max_encrypted_fragment_length);
    tls::HandshakeReader handshake;
    fuzz::accepts([&] {
        reader.feed(records);
        while (auto record = reader.next()) {
            if (record->type != tls::ContentType::application_data) continue;  // plaintext: record.cpp's part
            use_content(protection.open(record->header, record->fragment), handshake);
        }
    });
}

// The result §5.2 and §5.4 define for an inner plaintext that authenticates.
void seal_then_open(std::uint8_t config, std::uint8_t sequence, fuzz::Input& input) {
    const auto aead = aead_for(config);
    const auto header = input.take(tls::record_header_length);
    const std::size_t padding = 128 * std::size_t{input.u8()};
    const auto inner = input.rest();
    tls::Bytes plaintext(inner.begin(), inner.end());
    plaintext.resize(plaintext.size() + padding, 0);

    auto keys = keys_for(config, aead, sequence);
    tls::Aead cipher(aead, keys.key);
    const auto encrypted = cipher.seal(tls::per_record_nonce(keys.iv, 0), header, plaintext);

    tls::RecordProtection protection(aead, keys_for(config, aead, sequence));
    std::optional<tls::AlertDescription> error;
    tls::InnerPlaintext opened{};
    try {
        opened = protection.open(header, encrypted);
    } catch (const tls::AlertError& e) {
        error = e.description;
    }
    const auto last = std::find_if(plaintext.rbegin(), plaintext.rend(), [](std::uint8_t b) { return b != 0; });
    if (encrypted.size() > tls::max_ciphertext_length || plaintext.size() > tls::max_plaintext_length + 1) {
        FUZZ_CHECK(error == tls::AlertDescription::record_overflow);
    } else if (last == plaintext.rend()) {
        FUZZ_CHECK(error == tls::AlertDescription::unexpected_message);
    } else {
        FUZZ_CHECK(!error);
        const auto type_at = static_cast<std::size_t>(plaintext.rend() - last) - 1;
        FUZZ_CHECK(opened.type == static_cast<tls::ContentType>(plaintext[type_at]));
        FUZZ_CHECK(opened.content == tls::Bytes(plaintext.begin(), plaintext.begin() + static_cast<std::ptrdiff_t>(type_at)));
        tls::HandshakeReader handshake;
        use_content(opened, handshake);
    }

    // seal() then open(): the content and type come back, whatever the padding.
    const auto type = static_cast<tls::ContentType>(header.empty() ? 0 : header[0]);
    if (type != tls::ContentType::invalid && inner.size() + padding <= tls::max_plaintext_length) {
        tls::RecordProtection sealer(aead, keys_for(config, aead, sequence));
        tls::RecordProtection opener(aead, keys_for(config, aead, sequence));
        const auto record = sealer.seal(type, inner, padding);
        const auto back = opener.open(tls::BytesView(record).first(5), tls::BytesView(record).subspan(5));
        FUZZ_CHECK(back.type == type && back.content == tls::Bytes(inner.begin(), inner.end()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::uint8_t config = input.u8();
    const std::uint8_t sequence = input.u8();
    if (config & 0x10)
        seal_then_open(config, sequence, input);
    else
        open_records(config, sequence, input.rest());
    return 0;
}
