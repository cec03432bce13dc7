// common/record_layer.cpp — introduced in chapter 02, grown in chapters 03, 06 and 09. RFC 8446 §5, §6.
#include "record_layer.hpp"

#include <algorithm>
#include <stdexcept>

namespace tls {

RecordLayer::RecordLayer(Transport& transport, Trace& trace, Role role)
    : transport_(transport), trace_(trace), role_(role) {}

RecordLayer::RecordLayer(tcp::socket& socket, Trace& trace, Role role)
    : owned_transport_(std::make_unique<SocketTransport>(socket)), transport_(*owned_transport_), trace_(trace),
      role_(role) {}

// RFC8446 5-1, 5-2, 5-3
// ANCHOR: change_cipher_spec
// §5: "An implementation may receive an unencrypted record of type change_cipher_spec
// consisting of the single byte value 0x01 at any time after the first ClientHello message
// has been sent or received and before the peer's Finished message has been received and
// MUST simply drop it without further processing. [...] An implementation which receives
// any other change_cipher_spec value or which receives a protected change_cipher_spec
// record MUST abort the handshake with an "unexpected_message" alert." Appendix D.4 lets
// either side send it "at any time during the handshake", so any number are dropped.
void RecordLayer::check_change_cipher_spec(const TLSPlaintext& record) const {
    if (!ccs_allowed_)
        throw AlertError(AlertDescription::unexpected_message, "change_cipher_spec outside the handshake");
    if (record.fragment.size() != 1 || record.fragment[0] != 0x01)
        throw AlertError(AlertDescription::unexpected_message, "change_cipher_spec record other than the single byte 01");
    trace_.step("change_cipher_spec dropped (middlebox compatibility, Appendix D.4)");
}
// ANCHOR_END: change_cipher_spec

// ANCHOR: unprotect
// §5.2: the real type and content of a protected record come out of TLSInnerPlaintext.
// nullopt: the record was early data we skip (§4.2.10) and is dropped.
std::optional<InnerPlaintext> RecordLayer::unprotect(TLSPlaintext& record) {
    // The fragment is decrypted where it lies (moved, not copied): it becomes the content.
    if (early_data_to_skip_ && !received_protected_) {
        // §4.2.10: "discarding records which fail deprotection (up to the configured
        // max_early_data_size)". Only a record that decrypts ends the skipping.
        const std::size_t size = record.fragment.size();
        auto inner = read_protection_->try_open(record.header, std::move(record.fragment));
        if (!inner) {
            if (size > *early_data_to_skip_)
                throw AlertError(AlertDescription::unexpected_message,
                                 "more early data than we skip (§4.2.10): the peer is not a 0-RTT client");
            *early_data_to_skip_ -= size;
            trace_.step(fmt::format("early data skipped: {} bytes that do not decrypt with the handshake keys (§4.2.10)",
                                    size));
            return std::nullopt;
        }
        early_data_to_skip_.reset();
        received_protected_ = true;
        return inner;
    }
    auto inner = read_protection_->open(record.header, std::move(record.fragment));
    received_protected_ = true;
    return inner;
}
// ANCHOR_END: unprotect

// ANCHOR: plaintext_alert
// A plaintext alert after read keys are installed. §5.2 and §6: once keys are in use,
// alerts travel encrypted like every record. Until the peer's first protected record
// arrives, though, a peer that failed may not have our keys yet (it could not process our
// ServerHello, say) and can only send its fatal alert in plaintext: we report that as the
// peer's failure. Nothing else is believed: after a protected record, or a plaintext
// close_notify at any time, it could be an attacker on the path cutting the connection
// short, so it is an unexpected_message, never a clean close.
void RecordLayer::check_plaintext_alert(const TLSPlaintext& record) {
    if (received_protected_ || record.fragment.empty())
        throw AlertError(AlertDescription::unexpected_message,
                         "plaintext alert after the peer's records were protected: forged, or an attack (§5.2)");
    auto alert = Alert::decode(record.fragment);
    trace_.alert(Direction::receive, alert.description, "in plaintext, before any protected record from the peer");
    if (alert.level != AlertLevel::fatal || alert.description == AlertDescription::close_notify ||
        alert.description == AlertDescription::user_canceled)
        throw AlertError(AlertDescription::unexpected_message,
                         fmt::format("plaintext {} after keys were installed is not a clean close", alert_name(alert.description)));
    throw PeerAlert(alert);
}
// ANCHOR_END: plaintext_alert

asio::awaitable<std::optional<TLSPlaintext>> RecordLayer::read_record() {
    // RFC8446 6.1-1, 6.1-3
    // §6.1: "Any data received after a closure alert has been received MUST be ignored." Once
    // the peer's close_notify is in, whatever follows it stays unread, however often we ask.
    if (received_close_notify_) co_return std::nullopt;
    for (;;) {
        if (auto record = reader_.next()) {
            trace_.record(Direction::receive, *record);
            if (record->type == ContentType::change_cipher_spec) {
                check_change_cipher_spec(*record);
                continue;
            }
            if (read_protection_) {
                if (record->type != ContentType::application_data) {
                    // §5.2: with read keys in place every record arrives as application_data.
                    if (record->type == ContentType::alert) check_plaintext_alert(*record);
                    throw AlertError(AlertDescription::unexpected_message,
                                     fmt::format("plaintext {} record after keys were installed", name(record->type)));
                }
                auto inner = unprotect(*record);
                if (!inner) continue;
                record->type = inner->type;
                record->fragment = std::move(inner->content);
                trace_.value("decrypted", [&] {  // formatted only if printed: this runs for every record
                    return fmt::format("{}({}) {} bytes, sequence number {}", name(record->type),
                                       static_cast<int>(record->type), record->fragment.size(),
                                       read_protection_->sequence_number() - 1);
                });
                trace_.hex(record->fragment, "plaintext");
                if (record->type == ContentType::change_cipher_spec)
                    throw AlertError(AlertDescription::unexpected_message, "encrypted change_cipher_spec");
            } else if (early_data_to_skip_) {
                // RFC8446 4.2.2-3
                // §4.2.10, after a HelloRetryRequest: "skipping all records with an external
                // content type of "application_data" (indicating that they are encrypted)".
                if (record->type == ContentType::application_data) {
                    if (record->fragment.size() > *early_data_to_skip_)
                        throw AlertError(AlertDescription::unexpected_message, "more early data than we skip (§4.2.10)");
                    *early_data_to_skip_ -= record->fragment.size();
                    trace_.step(fmt::format("early data skipped: {} bytes sent before our HelloRetryRequest (§4.2.10)",
                                            record->fragment.size()));
                    continue;
                }
                early_data_to_skip_.reset();
            }
            // ANCHOR: zero_length
            // RFC8446 5.4-2
            // §5.1: "Implementations MUST NOT send zero-length fragments of Handshake types"
            // and an Alert record holds exactly one alert; receiving either empty is an
            // unexpected_message (only application data may be empty).
            if (record->fragment.empty() &&
                (record->type == ContentType::handshake || record->type == ContentType::alert))
                throw AlertError(AlertDescription::unexpected_message,
                                 fmt::format("zero-length {} fragment (§5.1)", name(record->type)));
            // ANCHOR_END: zero_length
            // ANCHOR: close_notify
            // RFC8446 6-1, 6-2, 6-4, 6-5, 6.2-5
            // §6: close_notify is the end of the data (nullopt, as the end of a stream); every
            // other alert, whatever its AlertLevel and whether or not we know its description,
            // is an error that ends the connection: PeerAlert, which guarded() answers with
            // nothing. Both directions are traced (trace_.alert here and in send_alert).
            if (record->type == ContentType::alert) {
                auto alert = Alert::decode(record->fragment);
                trace_.alert(Direction::receive, alert.description);
                if (alert.description == AlertDescription::close_notify) {
                    received_close_notify_ = true;
                    co_return std::nullopt;
                }
                throw PeerAlert(alert);
            }
            // ANCHOR_END: close_notify
            co_return record;
        }
        queue_coalesced();
        if (!pending_.empty() && !writing_) co_await flush();  // never wait for an answer to bytes we hold
        // ANCHOR: read_more
        // Read straight into the reader's buffer (no copy, and no 16 KiB array in this
        // coroutine's frame while it waits): the rest of the record under way and the
        // next header, or a few hundred bytes while no header has arrived.
        auto room = reader_.prepare(reader_.wanted());
        auto n = co_await transport_.read_some(room);
        if (n == 0) {
            // A stream that ends inside a record is an error, never a wait for more.
            if (reader_.buffered() > 0)
                throw AlertError(AlertDescription::decode_error,
                                 fmt::format("stream ended inside a record ({} bytes of it received)", reader_.buffered()));
            co_return std::nullopt;
        }
        reader_.commit(n);
        // ANCHOR_END: read_more
    }
}

// ANCHOR: write_queue
// Asio allows one write in flight per socket, and two coroutines of one connection may
// both write (the chapter 09 client's standard-input reader and its receive loop, say).
// So bytes join a queue, and the one coroutine that finds no write under way writes the
// queue until it is empty; the others wait until their bytes are out. Records are sealed
// before they join the queue, so they go out in sequence-number order.
asio::awaitable<void> RecordLayer::drain() {
    if (!write_done_) write_done_.emplace(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    if (writing_) {
        co_await write_done_->async_wait(use_tuple);  // woken when the writer is done
        if (write_error_) std::rethrow_exception(write_error_);
        co_return;
    }
    writing_ = true;
    try {
        while (!pending_.empty()) {
            auto bytes = std::move(pending_);
            pending_.clear();
            co_await transport_.write(bytes);
        }
    } catch (...) {
        write_error_ = std::current_exception();
    }
    writing_ = false;
    write_done_->expires_at(asio::steady_timer::time_point::max());  // wakes every waiter
    if (write_error_) std::rethrow_exception(write_error_);
}
// ANCHOR_END: write_queue

asio::awaitable<void> RecordLayer::write_raw(BytesView bytes) {
    if (write_error_) std::rethrow_exception(write_error_);
    queue_coalesced();
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    if (holding_) co_return;
    co_await drain();
}

void RecordLayer::hold_writes() { holding_ = true; }

asio::awaitable<void> RecordLayer::flush() {
    queue_coalesced();
    holding_ = false;
    if (pending_.empty() && !writing_) co_return;
    co_await drain();
}

asio::awaitable<void> RecordLayer::write_records(ContentType type, BytesView data) {
    if (write_error_) std::rethrow_exception(write_error_);
    // RFC8446 5-4
    // §5: "Implementations MUST NOT send record types not defined in this document unless
    // negotiated by some extension." We negotiate none: only the four are ever written.
    if (type != ContentType::application_data && type != ContentType::handshake && type != ContentType::alert &&
        type != ContentType::change_cipher_spec)
        throw std::logic_error(fmt::format("write_records: content type {} is not one RFC 8446 defines", static_cast<int>(type)));
    // RFC8446 5.1-7
    // §5.1: "Implementations MUST NOT send zero-length fragments of Handshake types". A handshake
    // message has at least its 4-byte header, so nothing empty comes from us: a caller's bug.
    if (type == ContentType::handshake && data.empty())
        throw std::logic_error("write_records: an empty handshake write would be a zero-length fragment (§5.1)");
    // ANCHOR: coalesce
    // §5.1: "Handshake messages MAY be coalesced into a single TLSPlaintext record". With
    // RecordFraming::coalesce_handshake_messages they wait here for the ones that follow.
    if (framing_.coalesce_handshake_messages && type == ContentType::handshake) {
        coalesced_.insert(coalesced_.end(), data.begin(), data.end());
        co_return;
    }
    // ANCHOR_END: coalesce
    queue_coalesced();
    queue_records(type, data);
    if (!holding_) co_await drain();
}

// Frames or seals `data` as records of `type` and queues them for drain(): records are made
// in the order they are written, so their sequence numbers follow that order (§5.3).
void RecordLayer::queue_records(ContentType type, BytesView data) {
    if (!write_protection_) {
        // RFC8446 5.1-10, D.5-11
        // §5.1: an initial ClientHello may say 0x0301 (RecordFraming); every other record 0x0303.
        // (Protected records say 0x0303 too, RecordProtection::seal; plaintext alerts and
        // change_cipher_spec take encode_record's default, 0x0303.)
        const bool client_hello = role_ == Role::client && type == ContentType::handshake && !sent_handshake_;
        sent_handshake_ = sent_handshake_ || type == ContentType::handshake;
        for (auto& record : encode_records(type, data, client_hello ? framing_.initial_client_hello_version : TLS1_2)) {
            trace_.record(Direction::send, record);
            pending_.insert(pending_.end(), record.begin(), record.end());
        }
        return;
    }
    // ANCHOR: write_protected
    // §5.2: each chunk of at most 2^14 bytes becomes one TLSCiphertext whose outer
    // type is always application_data; the real type travels inside, encrypted.
    do {
        auto n = std::min(data.size(), max_fragment_length);
        trace_sealing(type, data.first(n));
        auto record = write_protection_->seal(type, data.first(n));
        trace_.record(Direction::send, record);
        // An empty queue takes the record itself, not a copy: the echo path's common case.
        if (pending_.empty())
            pending_ = std::move(record);
        else
            pending_.insert(pending_.end(), record.begin(), record.end());
        data = data.subspan(n);
    } while (!data.empty());
    // ANCHOR_END: write_protected
}

// What the next record sealed will hold: its real type, its length, its sequence number (§5.3),
// and with --hex its plaintext.
void RecordLayer::trace_sealing(ContentType type, BytesView plaintext) {
    trace_.value("encrypting", [&] {  // formatted only if printed: this runs for every record
        return fmt::format("{}({}) {} bytes, sequence number {}", name(type), static_cast<int>(type),
                           plaintext.size(), write_protection_->sequence_number());
    });
    trace_.hex(plaintext, "plaintext");
}

// The handshake messages waiting to share a record go into the queue, under the keys they
// were written under: called before anything else is written, before reading, by flush()
// and before the write keys change.
void RecordLayer::queue_coalesced() {
    if (coalesced_.empty()) return;
    auto messages = std::move(coalesced_);
    coalesced_.clear();
    queue_records(ContentType::handshake, messages);
}

// RFC8446 5.3-1
// §5.3: "the first record transmitted under a particular traffic key MUST use sequence number
// 0": each install makes a new RecordProtection, whose sequence number starts at 0.
// ANCHOR: install_by_side
void RecordLayer::install(const SuiteInfo& suite, const ClientTrafficSecret& secret) {
    if (role_ == Role::client)
        install_write(suite, secret, "client");
    else
        install_read(suite, secret, "client");
}

void RecordLayer::install(const SuiteInfo& suite, const ServerTrafficSecret& secret) {
    if (role_ == Role::server)
        install_write(suite, secret, "server");
    else
        install_read(suite, secret, "server");
}

// §7.3: [sender]_write_key and [sender]_write_iv from the sender's traffic secret.
void RecordLayer::install_write(const SuiteInfo& suite, BytesView secret, std::string_view sender) {
    queue_coalesced();  // what was written under the old keys is sealed with them
    auto keys = traffic_keys(suite, secret);
    trace_.value(fmt::format("{}_write_key", sender), keys.key);
    trace_.value(fmt::format("{}_write_iv", sender), keys.iv);
    trace_.step(fmt::format("from now on we write records protected with the {} keys", sender));
    write_protection_.emplace(suite.aead, std::move(keys));
    write_keys_ = DirectionSecret{suite, Secret(secret.begin(), secret.end()), std::string(sender), 0};
}

const Secret& RecordLayer::write_secret() const {
    if (!write_keys_) throw std::logic_error("write_secret: no write keys installed");
    return write_keys_->secret;
}

const Secret& RecordLayer::read_secret() const {
    if (!read_keys_) throw std::logic_error("read_secret: no read keys installed");
    return read_keys_->secret;
}

void RecordLayer::drop_write_protection() {
    queue_coalesced();  // what was written under the old keys is sealed with them
    write_protection_.reset();
    write_keys_.reset();
    trace_.step("from now on we write records unprotected again");
}

void RecordLayer::install_read(const SuiteInfo& suite, BytesView secret, std::string_view sender) {
    auto keys = traffic_keys(suite, secret);
    trace_.value(fmt::format("{}_write_key", sender), keys.key);
    trace_.value(fmt::format("{}_write_iv", sender), keys.iv);
    trace_.step(fmt::format("from now on we read records protected with the {} keys", sender));
    read_protection_.emplace(suite.aead, std::move(keys));
    reader_.set_max_length(max_encrypted_fragment_length);
    read_keys_ = DirectionSecret{suite, Secret(secret.begin(), secret.end()), std::string(sender), 0};
}
// ANCHOR_END: install_by_side

// RFC8446 4.6.3-2, 4.6.3-6
// RFC8446 5.1-4, 5.1-6
// RFC8446 5.3-1, 7.2-1
// §7.2: once the next generation is computed, the one before is gone: its secret is
// overwritten (a Secret zeroes its memory when freed) and its RecordProtection, keys and
// sequence number, replaced by one that starts again at sequence number 0.
// ANCHOR: key_update
// §7.2: the next generation of one direction's traffic secret, then its keys and IV (§7.3),
// traced; sequence numbers start again from 0 (§5.3) in the RecordProtection this returns.
RecordProtection RecordLayer::next_generation(DirectionSecret& k, std::string_view direction) {
    k.secret = next_traffic_secret(k.suite.hash, k.secret);
    ++k.generation;
    trace_.value(fmt::format("{}_application_traffic_secret_{}", k.sender, k.generation), k.secret);
    auto keys = traffic_keys(k.suite, k.secret);
    trace_.value(fmt::format("{}_write_key", k.sender), keys.key);
    trace_.value(fmt::format("{}_write_iv", k.sender), keys.iv);
    trace_.step(fmt::format("from now on we {} records protected with the {} keys of generation {}", direction,
                            k.sender, k.generation));
    return RecordProtection(k.suite.aead, std::move(keys));
}

asio::awaitable<void> RecordLayer::write_key_update(BytesView key_update) {
    if (!write_keys_) throw std::logic_error("write_key_update: no write keys installed");
    queue_coalesced();
    queue_records(ContentType::handshake, key_update);  // sealed now, under the old keys
    write_protection_.emplace(next_generation(*write_keys_, "write"));  // before anything else is queued
    if (!holding_) co_await drain();
}

void RecordLayer::update_read_keys() {
    if (!read_keys_) throw std::logic_error("update_read_keys: no read keys installed");
    read_protection_.emplace(next_generation(*read_keys_, "read"));
}
// ANCHOR_END: key_update

std::uint64_t RecordLayer::records_written_with_current_keys() const {
    return write_protection_ ? write_protection_->sequence_number() : 0;
}

bool RecordLayer::write_keys_at_limit() const {
    return write_keys_ && records_written_with_current_keys() >= records_before_key_update(write_keys_->suite.aead);
}

asio::awaitable<void> RecordLayer::write_change_cipher_spec() {
    auto record = encode_record(ContentType::change_cipher_spec, Bytes{0x01});
    trace_.record(Direction::send, record);
    co_await write_raw(record);
}

// RFC8446 6-4, 5.1-8, 5.1-9
// §6: "All the alerts listed in Section 6.2 MUST be sent with AlertLevel=fatal"; §5.1: one
// alert is one record, never fragmented, never two in one record.
// ANCHOR: send_alert
asio::awaitable<void> RecordLayer::send_alert(AlertDescription description, std::string_view why) {
    // §6.1: the closure alerts are warnings; §6.2: every error alert is fatal.
    bool closure = description == AlertDescription::close_notify || description == AlertDescription::user_canceled;
    if (description == AlertDescription::close_notify) sent_close_notify_ = true;
    Alert alert{closure ? AlertLevel::warning : AlertLevel::fatal, description};
    trace_.alert(Direction::send, description, why);
    // §6: alerts are protected like any record once write keys are in place.
    Bytes record;
    try {
        queue_coalesced();  // handshake messages written before the alert go before it
        if (write_protection_) trace_sealing(ContentType::alert, alert.encode());
        record = write_protection_ ? write_protection_->seal(ContentType::alert, alert.encode())
                                   : encode_record(ContentType::alert, alert.encode());
    } catch (const std::exception&) {
        co_return;
    }
    trace_.record(Direction::send, record);
    // Whatever is held goes out first, in the same write: the alert ends the flight.
    holding_ = false;
    pending_.insert(pending_.end(), record.begin(), record.end());
    try {
        co_await drain();
    } catch (const std::exception&) {
        // The peer is gone; there is no one left to tell.
    }
}
// ANCHOR_END: send_alert

// ANCHOR: guarded
namespace {

// After a write failed because the peer closed: its reason, a fatal alert, may still wait
// unread in our socket (a write does not see it). True if one came (read_record traced it).
asio::awaitable<bool> peer_alert_left(RecordLayer& records) {
    try {
        while (co_await records.read_record()) {
        }
    } catch (const PeerAlert&) {
        co_return true;
    } catch (const std::exception&) {
    }
    co_return false;
}

}  // namespace

// RFC8446 6-2, 6.2-1, 6.2-2, 6.2-3, 6.2-4
// §6.2: "Upon transmission or receipt of a fatal alert message, both parties MUST immediately
// close the connection." Our own error sends exactly the alert its AlertError names (or
// internal_error), then nothing more: close_after_alert() only lets the peer read it, and
// discards unread whatever arrives meanwhile. The peer's error alert (PeerAlert) is answered
// with nothing at all.
asio::awaitable<bool> guarded(RecordLayer& records, asio::awaitable<void> body) {
    std::optional<AlertError> to_send;
    std::optional<std::error_code> lost;
    try {
        co_await std::move(body);
        co_return true;
    } catch (const AlertError& e) {
        to_send = e;
    } catch (const Truncated& e) {
        records.trace().error(e.what());
    } catch (const PeerAlert&) {
        // Already traced when it arrived; §6.2: after a fatal alert, just close.
    } catch (const asio::system_error& e) {
        lost = e.code();
    } catch (const std::exception& e) {
        to_send = AlertError(AlertDescription::internal_error, e.what());
    }
    if (lost) {
        if ((*lost == asio::error::broken_pipe || *lost == asio::error::connection_reset) &&
            co_await peer_alert_left(records)) {
            records.close();
            co_return false;
        }
        records.trace().error(fmt::format("connection lost: {}", lost->message()));
    }
    if (to_send) {
        co_await records.send_alert(to_send->description, to_send->what());
        co_await records.close_after_alert();
    } else {
        records.close();
    }
    co_return false;
}
// ANCHOR_END: guarded

}  // namespace tls
