// common/handshake_steps.cpp — introduced in chapter 05, grown in chapter 08. RFC 8446 §7.1, §4.4.4.
#include "handshake_steps.hpp"

namespace tls {

// ANCHOR: establish_handshake_keys_body
// §7.1: the Handshake Secret mixes the (EC)DHE shared secret into the Early Secret; the two
// handshake traffic secrets derive from it and Transcript-Hash(ClientHello...ServerHello).
HandshakeKeys establish_handshake_keys(Trace& trace, const EarlySecret& early, BytesView shared_secret,
                                       const TranscriptHash& transcript, const KeyLog& keylog, BytesView client_random) {
    trace.value("early_secret", early.secret());
    auto handshake_secret = early.mix_shared_secret(shared_secret);
    trace.value("handshake_secret", handshake_secret.secret());
    // Transcript-Hash(ClientHello...ServerHello), §4.4.1.
    auto hello_hash = transcript.current();
    trace.value("transcript_hash", hello_hash);
    auto c_hs = handshake_secret.client_handshake_traffic_secret(hello_hash);
    auto s_hs = handshake_secret.server_handshake_traffic_secret(hello_hash);
    trace.value("client_handshake_traffic_secret", c_hs);
    trace.value("server_handshake_traffic_secret", s_hs);
    keylog.write("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_random, c_hs);
    keylog.write("SERVER_HANDSHAKE_TRAFFIC_SECRET", client_random, s_hs);
    return {std::move(handshake_secret), std::move(c_hs), std::move(s_hs)};
}
// ANCHOR_END: establish_handshake_keys_body

// ANCHOR: establish_application_keys_body
// §7.1: the application traffic secrets and the exporter secret, from the Master Secret and
// Transcript-Hash(ClientHello...server Finished).
ApplicationKeys establish_application_keys(Trace& trace, const HandshakeSecret& handshake_secret,
                                           const TranscriptHash& transcript, const KeyLog& keylog,
                                           BytesView client_random) {
    auto master = handshake_secret.derive_master_secret();
    trace.value("master_secret", master.secret());
    auto hash = transcript.current();
    auto c_ap = master.client_application_traffic_secret_0(hash);
    auto s_ap = master.server_application_traffic_secret_0(hash);
    auto exporter = master.exporter_master_secret(hash);
    trace.value("client_application_traffic_secret_0", c_ap);
    trace.value("server_application_traffic_secret_0", s_ap);
    trace.value("exporter_master_secret", exporter);
    keylog.write("CLIENT_TRAFFIC_SECRET_0", client_random, c_ap);
    keylog.write("SERVER_TRAFFIC_SECRET_0", client_random, s_ap);
    keylog.write("EXPORTER_SECRET", client_random, exporter);
    return {std::move(master), std::move(c_ap), std::move(s_ap), std::move(exporter)};
}
// ANCHOR_END: establish_application_keys_body

// RFC8446 4.4.4-1
// ANCHOR: finished_body
// §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*,
// CertificateVerify*)), finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length).
asio::awaitable<Bytes> send_finished(Connection& conn, BytesView base_key, const TranscriptHash& transcript) {
    Finished finished{finished_verify_data(transcript.alg(), base_key, transcript.current())};
    co_return co_await conn.write(finished);
}

// §4.4.4: "Recipients of Finished messages MUST verify that the contents are correct and if
// incorrect MUST terminate the connection with a "decrypt_error" alert."
asio::awaitable<void> read_finished(Connection& conn, BytesView base_key, TranscriptHash& transcript) {
    auto expected = finished_verify_data(transcript.alg(), base_key, transcript.current());
    auto [finished, raw] = co_await conn.read<Finished>(hash_length(transcript.alg()));
    if (!constant_time_equal(finished.verify_data, expected))
        throw AlertError(AlertDescription::decrypt_error, "the peer's Finished does not match the transcript");
    conn.trace().value("Finished", "verify_data matches the transcript");
    transcript.update(raw);
}
// ANCHOR_END: finished_body

}  // namespace tls
