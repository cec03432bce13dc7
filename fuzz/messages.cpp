// fuzz/messages.cpp — every handshake message decoder (messages.hpp, RFC 8446 §4) and,
// through them, every extension body decoder (§4.2): ServerHello (and HelloRetryRequest),
// EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify, Finished,
// EndOfEarlyData, NewSessionTicket, KeyUpdate and ClientHello.
// Input: msg_type (1 byte), then the body. The 24-bit length of the header is left out, so
// every mutation reaches a decoder instead of most failing the framing (the target
// handshake_reader covers the framing). See decode_message.hpp for what is checked.
#include "decode_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const auto type = static_cast<tls::HandshakeType>(input.u8());
    fuzz::decode_message(type, input.rest());
    return 0;
}
