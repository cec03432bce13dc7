// common/record_layer.hpp — introduced in chapter 02 (record layer), grown in chapters 06 and 09.
// The record layer on a connection (RFC 8446 §5): reads exactly one record at a time
// however TCP splits or merges bytes, writes data as records of at most 2^14 bytes,
// sends and receives alerts (§6). The framing itself lives in record.hpp, the byte
// stream underneath in transport.hpp.
#pragma once

#include "alert.hpp"
#include "key_schedule.hpp"
#include "net.hpp"
#include "record.hpp"
#include "record_protection.hpp"
#include "trace.hpp"
#include "transport.hpp"

#include <cstddef>
#include <memory>
#include <optional>

namespace tls {

// §4.2.10 bounds the early data a server skips by its "configured max_early_data_size".
// A server that never issued a ticket has configured none, yet a client may come with a
// ticket from another server (a restarted one, a load-balanced sibling) that allowed it
// any amount. OpenSSL allows 16 KiB by default; we skip up to 64 KiB of ciphertext, four
// full records, before deciding the peer is not a confused 0-RTT client but an attack.
inline constexpr std::size_t max_skipped_early_data = 64 * 1024;

// Which end of the connection we are. It decides which traffic secret protects what we
// write and which what we read (§7.1: the client writes with client_*_traffic_secret).
enum class Role { client, server };

class RecordLayer {
public:
    RecordLayer(Transport& transport, Trace& trace, Role role);
    // Over a TCP socket (the chapters' case): the record layer keeps a SocketTransport for it.
    RecordLayer(tcp::socket& socket, Trace& trace, Role role);

    // ANCHOR: read_record
    // The next record from the peer, traced. Returns nullopt when the peer has
    // finished: a close_notify alert (§6.1), or the end of the stream between records.
    // Throws AlertError for a malformed record or a stream that ends inside one,
    // PeerAlert when the peer sent an error alert.
    asio::awaitable<std::optional<TLSPlaintext>> read_record();
    // ANCHOR_END: read_record

    // Sends `data` as records of `type`, split at 2^14 bytes (§5.1).
    asio::awaitable<void> write_records(ContentType type, BytesView data);

    // Sends bytes exactly as given, in turn with every other write: records the caller
    // encoded itself (tests and fuzzers craft bad ones this way).
    asio::awaitable<void> write_raw(BytesView bytes);
    // The same for bytes the caller gives up (a sealed record): queued without a copy.
    asio::awaitable<void> write_raw(Bytes&& bytes);

    // Sends a fatal alert (or close_notify, which is a warning, §6.1). Never throws:
    // the peer may already be gone.
    asio::awaitable<void> send_alert(AlertDescription description, std::string_view why = {});

    // ---- Chapter 06: record protection (§5.2–§5.5) ----
    // ANCHOR: install
    // From now on, records in one direction are protected with keys from this traffic
    // secret (§7.3), with sequence numbers from 0 (§5.3). The client's secret protects what
    // the client writes: on the client it becomes our write keys, on the server our read
    // keys; the server's secret the other way round. Before the first install in a
    // direction, records there are TLSPlaintext.
    void install(const SuiteInfo& suite, const ClientTrafficSecret& secret);
    void install(const SuiteInfo& suite, const ServerTrafficSecret& secret);
    // ANCHOR_END: install
    bool reads_protected() const { return read_protection_.has_value(); }
    // Appendix D.4 (middlebox compatibility): while allowed, every change_cipher_spec
    // record holding the single byte 0x01 is dropped; any other CCS is an
    // unexpected_message (§5). The chapters allow it from the first ClientHello until
    // the peer's Finished, as §5 says.
    void allow_compatibility_ccs(bool allowed) { ccs_allowed_ = allowed; }
    asio::awaitable<void> write_change_cipher_spec();

    // ---- Chapter 09: one write per flight ----
    // Until flush(), records are collected instead of written, so a whole flight
    // (ServerHello ... Finished) leaves in one TCP write: fewer packets and system
    // calls. Reading, flush() and send_alert() all send what is held first.
    void hold_writes();
    asio::awaitable<void> flush();

    // ---- Chapter 09: early data we cannot read (§4.2.10) ----
    // A server that does not accept the client's early data skips it: until a protected
    // record decrypts with the handshake keys, records that fail to decrypt are dropped,
    // and while no read keys are installed (after a HelloRetryRequest) records of type
    // application_data are dropped, up to `max_bytes` in all; more is unexpected_message.
    void skip_early_data(std::size_t max_bytes) { early_data_to_skip_ = max_bytes; }

    // Whether the peer ended with close_notify rather than just closing TCP.
    bool received_close_notify() const { return received_close_notify_; }

    Role role() const { return role_; }
    Trace& trace() { return trace_; }
    // Ends the connection (after a fatal alert, or when the flow is done).
    void close() { transport_.close(); }

private:
    void install_read(const SuiteInfo& suite, BytesView secret, std::string_view sender);
    void install_write(const SuiteInfo& suite, BytesView secret, std::string_view sender);
    void check_change_cipher_spec(const TLSPlaintext& record) const;
    std::optional<InnerPlaintext> unprotect(TLSPlaintext& record);
    void check_plaintext_alert(const TLSPlaintext& record);
    asio::awaitable<void> drain();

    std::unique_ptr<Transport> owned_transport_;  // set when constructed from a socket
    Transport& transport_;
    Trace& trace_;
    Role role_;
    RecordReader reader_;
    bool received_close_notify_ = false;
    std::optional<RecordProtection> write_protection_;
    std::optional<RecordProtection> read_protection_;
    // §5, Appendix D.4: once the peer's first protected record has arrived, nothing but a
    // CCS may arrive in plaintext.
    bool received_protected_ = false;
    bool ccs_allowed_ = false;
    std::optional<std::size_t> early_data_to_skip_;
    // One writer at a time: Asio allows one write in flight per socket. Bytes to send wait
    // in pending_; the coroutine that finds no write under way writes them, and everything
    // queued meanwhile, while the others wait on write_done_.
    bool holding_ = false;
    bool writing_ = false;
    Bytes pending_;
    std::optional<asio::steady_timer> write_done_;
    std::exception_ptr write_error_;
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
