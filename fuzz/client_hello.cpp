// fuzz/client_hello.cpp — the ClientHello, the message the server decodes from anyone who
// connects (messages.hpp, RFC 8446 §4.1.2, §4.2): ClientHello::decode, describe(), every
// typed accessor (server_name, supported_groups, signature_algorithms(_cert),
// supported_versions, key_share, psk_key_exchange_modes, alpn, cookie, pre_shared_key),
// the key_share/supported_groups order check and truncated_client_hello (§4.2.11.2).
// Input: a ClientHello body. Seeds: RFC 8448's ClientHellos and those of OpenSSL, GnuTLS,
// curl and Chromium (GREASE, ECH, a 1216-byte X25519MLKEM768 share), captured by
// scripts/fuzz-corpus.
#include "decode_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::exercise_client_hello(tls::BytesView(data, size));
    return 0;
}
