// common/record_layer.hpp — introduced in chapter 02 (record layer), grown in chapter 06.
// The record layer on a socket (RFC 8446 §5): reads exactly one record at a time
// however TCP splits or merges bytes, writes data as records of at most 2^14 bytes,
// sends and receives alerts (§6). The framing itself lives in record.hpp.
#pragma once

#include "alert.hpp"
#include "net.hpp"
#include "record.hpp"
#include "record_protection.hpp"
#include "trace.hpp"

#include <optional>

namespace tls {

class RecordLayer {
public:
    RecordLayer(tcp::socket& socket, Trace& trace) : socket_(socket), trace_(trace) {}

    // The next record from the peer, traced. Returns nullopt when the peer has
    // finished: a close_notify alert (§6.1), or the end of the stream between records.
    // Throws AlertError for a malformed record or a stream that ends inside one,
    // PeerAlert when the peer sent an error alert.
    asio::awaitable<std::optional<TLSPlaintext>> read_record();

    // Sends `data` as records of `type`, split at 2^14 bytes (§5.1).
    asio::awaitable<void> write_records(ContentType type, BytesView data);

    // Sends a fatal alert (or close_notify, which is a warning, §6.1). Never throws:
    // the peer may already be gone.
    asio::awaitable<void> send_alert(AlertDescription description, std::string_view why = {});

    // ---- Chapter 06: record protection (§5.2–§5.5) ----
    // From now on every record written is sealed as a TLSCiphertext with these keys
    // (a fresh sequence number, §5.3). Before it, records go out as TLSPlaintext.
    void protect_writes(AeadAlg aead, TrafficKeys keys);
    // From now on every application_data record read is opened with these keys; a
    // plaintext handshake or application record is then an unexpected_message.
    void protect_reads(AeadAlg aead, TrafficKeys keys);
    bool reads_protected() const { return read_protection_.has_value(); }
    // Appendix D.4 (middlebox compatibility): while allowed, one change_cipher_spec
    // record holding the single byte 0x01 is dropped; any other CCS is an
    // unexpected_message (§5). Chapter 06 allows it during the handshake.
    void allow_compatibility_ccs(bool allowed) { ccs_allowed_ = allowed; }
    asio::awaitable<void> write_change_cipher_spec();

    // ---- Chapter 09: one write per flight ----
    // Until flush(), records are collected instead of written, so a whole flight
    // (ServerHello ... Finished) leaves in one TCP write: fewer packets and system
    // calls. Reading, flush() and send_alert() all send what is held first.
    void hold_writes();
    asio::awaitable<void> flush();

    // Whether the peer ended with close_notify rather than just closing TCP.
    bool received_close_notify() const { return received_close_notify_; }

    Trace& trace() { return trace_; }
    tcp::socket& socket() { return socket_; }

private:
    asio::awaitable<void> write_raw(BytesView bytes);

    tcp::socket& socket_;
    Trace& trace_;
    RecordReader reader_;
    bool received_close_notify_ = false;
    std::optional<RecordProtection> write_protection_;
    std::optional<RecordProtection> read_protection_;
    bool ccs_allowed_ = false;
    bool holding_ = false;
    Bytes pending_;
    bool ccs_seen_ = false;
};

// §6.1: the stream ended without close_notify, so the data may have been cut short
// by an attacker. Reported, never answered with an alert (the peer is gone).
class Truncated : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runs one protocol exchange and turns its failure into what RFC 8446 §6.2 asks:
// an AlertError becomes that fatal alert to the peer, a PeerAlert ends quietly,
// anything else sends internal_error. Returns true if `body` finished normally.
// (C++ cannot co_await inside a catch block, hence this helper.)
asio::awaitable<bool> guarded(RecordLayer& records, asio::awaitable<void> body);

}  // namespace tls
