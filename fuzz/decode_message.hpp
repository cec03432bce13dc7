// fuzz/decode_message.hpp — one handshake message body through its decoder (messages.hpp),
// as the targets messages, client_hello, handshake_reader and record_protection use it.
// For a message that decodes, what messages.hpp promises must hold:
//   - encode() gives back exactly the body it came from (the transcript hash relies on it);
//   - describe() never throws;
//   - the typed accessors never throw ("decode has already checked their bodies").
#pragma once

#include "fuzz.hpp"
#include "messages.hpp"

#include <cstddef>
#include <type_traits>

namespace fuzz {

template <class Message>
void check_round_trip(const Message& m, tls::BytesView body) {
    tls::Bytes expected(body.begin(), body.end());
    if constexpr (std::is_same_v<Message, tls::ClientHello> || std::is_same_v<Message, tls::ServerHello>) {
        // The one exception messages.hpp states: an empty extensions block ("00 00", legal
        // before TLS 1.3) re-encodes without the field.
        if (m.extensions.empty() && expected.size() >= 2 && expected[expected.size() - 2] == 0 &&
            expected.back() == 0 && m.encode().size() + 2 == expected.size())
            expected.resize(expected.size() - 2);
    }
    FUZZ_CHECK(m.encode() == expected);
    (void)m.describe();
}

// ClientHello, as the server takes it: decode, every accessor, the checks the server makes
// and the PSK binder's truncation (§4.2.11.2).
inline void exercise_client_hello(tls::BytesView body) {
    tls::ClientHello ch;
    if (!accepts([&] { ch = tls::ClientHello::decode(body); })) return;
    check_round_trip(ch, body);
    (void)ch.server_name();
    (void)ch.supported_groups();
    (void)ch.signature_algorithms();
    (void)ch.signature_algorithms_cert();
    (void)ch.supported_versions();
    (void)ch.key_share();
    (void)ch.psk_key_exchange_modes();
    (void)ch.alpn();
    (void)ch.cookie();
    auto psks = ch.pre_shared_key();
    accepts([&] { tls::check_key_shares_match_supported_groups(ch); });
    if (psks) {
        // The truncated hello is the message cut just before the binders list.
        auto message = tls::encode_handshake(ch);
        auto truncated = tls::truncated_client_hello(message);
        FUZZ_CHECK(truncated.size() < message.size());
        FUZZ_CHECK(std::equal(truncated.begin(), truncated.end(), message.begin()));
    }
}

inline void exercise_server_hello(tls::BytesView body) {
    tls::ServerHello sh;
    if (!accepts([&] { sh = tls::ServerHello::decode(body); })) return;
    check_round_trip(sh, body);
    (void)sh.selected_version();
    (void)sh.key_share();
    (void)sh.hrr_selected_group();
    (void)sh.cookie();
    (void)sh.pre_shared_key();
}

template <class Message, class... Args>
void exercise(tls::BytesView body, Args... args) {
    Message m;
    if (accepts([&] { m = Message::decode(body, args...); })) check_round_trip(m, body);
}

// Dispatches on msg_type as a client or server would after reading the header (§4).
inline void decode_message(tls::HandshakeType type, tls::BytesView body) {
    using T = tls::HandshakeType;
    switch (type) {
        case T::client_hello: exercise_client_hello(body); break;
        case T::server_hello: exercise_server_hello(body); break;
        case T::encrypted_extensions: {
            tls::EncryptedExtensions ee;
            if (!accepts([&] { ee = tls::EncryptedExtensions::decode(body); })) break;
            check_round_trip(ee, body);
            (void)ee.supported_groups();
            (void)ee.alpn();
            break;
        }
        case T::certificate_request: {
            tls::CertificateRequest cr;
            if (!accepts([&] { cr = tls::CertificateRequest::decode(body); })) break;
            check_round_trip(cr, body);
            FUZZ_CHECK(cr.signature_algorithms().has_value());
            (void)cr.signature_algorithms_cert();
            break;
        }
        case T::certificate: exercise<tls::Certificate>(body); break;
        case T::certificate_verify: exercise<tls::CertificateVerify>(body); break;
        case T::finished:
            // Hash.length of SHA-256 and SHA-384 suites.
            exercise<tls::Finished>(body, std::size_t{32});
            exercise<tls::Finished>(body, std::size_t{48});
            break;
        case T::end_of_early_data: exercise<tls::EndOfEarlyData>(body); break;
        case T::new_session_ticket: {
            tls::NewSessionTicket nst;
            if (!accepts([&] { nst = tls::NewSessionTicket::decode(body); })) break;
            check_round_trip(nst, body);
            (void)nst.max_early_data_size();
            break;
        }
        case T::key_update: exercise<tls::KeyUpdate>(body); break;
        default: break;  // a type no peer may send us: the connection answers unexpected_message
    }
}

}  // namespace fuzz
