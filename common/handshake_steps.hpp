// common/handshake_steps.hpp — introduced in chapter 05 (key schedule), grown in chapter 08 (Finished).
// The steps of the handshake that client and server take alike: both derive the same
// secrets from the same transcript (RFC 8446 §7.1) and compute Finished the same way
// (§4.4.4). Each chapter's flow calls them by name, in its own order, and decides which
// keys to install when; the mechanics are written once, here.
#pragma once

#include "connection.hpp"
#include "crypto.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "trace.hpp"

namespace tls {

// ANCHOR: establish_handshake_keys
struct HandshakeKeys {
    HandshakeSecret handshake_secret;
    ClientTrafficSecret client_handshake_traffic_secret;  // protects what the client sends
    ServerTrafficSecret server_handshake_traffic_secret;  // protects what the server sends
};

// §7.1: Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE),
// then each side's handshake traffic secret over Transcript-Hash(ClientHello...ServerHello).
// Each value is traced, and the two secrets go to the key log (so Wireshark can decrypt).
HandshakeKeys establish_handshake_keys(Trace& trace, const EarlySecret& early, BytesView shared_secret,
                                       const TranscriptHash& transcript, const KeyLog& keylog, BytesView client_random);
// ANCHOR_END: establish_handshake_keys

// ANCHOR: establish_application_keys
struct ApplicationKeys {
    MasterSecret master_secret;
    ClientTrafficSecret client_application_traffic_secret_0;
    ServerTrafficSecret server_application_traffic_secret_0;
    Secret exporter_master_secret;
};

// §7.1: Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0), then
// the application traffic secrets and the exporter secret over
// Transcript-Hash(ClientHello...server Finished). Traced and written to the key log.
ApplicationKeys establish_application_keys(Trace& trace, const HandshakeSecret& handshake_secret,
                                           const TranscriptHash& transcript, const KeyLog& keylog,
                                           BytesView client_random);
// ANCHOR_END: establish_application_keys

// ANCHOR: finished
// §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*,
// CertificateVerify*)), finished_key from base_key: the sender's handshake traffic secret.
// Sends our Finished and returns its bytes for the transcript.
asio::awaitable<Bytes> send_finished(Connection& conn, BytesView base_key, const TranscriptHash& transcript);
// Reads the peer's Finished and adds it to the transcript. "Recipients of Finished messages
// MUST verify that the contents are correct and if incorrect MUST terminate the connection
// with a "decrypt_error" alert." The comparison takes constant time.
asio::awaitable<void> read_finished(Connection& conn, BytesView base_key, TranscriptHash& transcript);
// ANCHOR_END: finished

}  // namespace tls
