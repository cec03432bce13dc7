// common/record_layer.cpp — introduced in chapter 02. RFC 8446 §5.1, §6.
#include "record_layer.hpp"

#include <algorithm>

namespace tls {

asio::awaitable<std::optional<TLSPlaintext>> RecordLayer::read_record() {
    for (;;) {
        if (auto record = reader_.next()) {
            trace_.record(Direction::receive, *record);
            // ANCHOR: change_cipher_spec
            if (record->type == ContentType::change_cipher_spec) {
                // Appendix D.4 / §5: drop a single CCS of value 0x01, refuse anything else.
                if (!ccs_allowed_ || ccs_seen_ || record->fragment.size() != 1 || record->fragment[0] != 0x01)
                    throw AlertError(AlertDescription::unexpected_message, "unexpected change_cipher_spec record");
                ccs_seen_ = true;
                trace_.step("change_cipher_spec dropped (middlebox compatibility, Appendix D.4)");
                continue;
            }
            // ANCHOR_END: change_cipher_spec
            // ANCHOR: unprotect
            if (read_protection_) {
                if (record->type == ContentType::application_data) {
                    // §5.2: the real type and content come out of TLSInnerPlaintext.
                    auto inner = read_protection_->open(record->header, record->fragment);
                    record->type = inner.type;
                    record->fragment = std::move(inner.content);
                    trace_.value("decrypted", [&] {  // formatted only if printed: this runs for every record
                        return fmt::format("{}({}) {} bytes, sequence number {}", name(record->type),
                                           static_cast<int>(record->type), record->fragment.size(),
                                           read_protection_->sequence_number() - 1);
                    });
                    trace_.hex(record->fragment, "plaintext");
                    if (record->type == ContentType::change_cipher_spec)
                        throw AlertError(AlertDescription::unexpected_message, "encrypted change_cipher_spec");
                } else if (record->type == ContentType::handshake) {
                    throw AlertError(AlertDescription::unexpected_message, "plaintext handshake record after keys were set");
                }
                // A plaintext alert is still read: a peer that failed before it had our keys
                // can only send it that way.
            }
            // ANCHOR_END: unprotect
            // ANCHOR: close_notify
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
        if (!pending_.empty()) co_await flush();  // chapter 09: never wait for an answer to bytes we hold
        // ANCHOR: read_more
        // Read straight into the reader's buffer (no copy, and no 16 KiB array in this
        // coroutine's frame while it waits): the rest of the record under way and the
        // next header, or a few hundred bytes while no header has arrived.
        auto room = reader_.prepare(reader_.wanted());
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()), use_tuple);
        if (ec == asio::error::eof) {
            // A stream that ends inside a record is an error, never a wait for more.
            if (reader_.buffered() > 0)
                throw AlertError(AlertDescription::decode_error,
                                 fmt::format("stream ended inside a record ({} bytes of it received)", reader_.buffered()));
            co_return std::nullopt;
        }
        if (ec) throw asio::system_error(ec);
        reader_.commit(n);
        // ANCHOR_END: read_more
    }
}

asio::awaitable<void> RecordLayer::write_raw(BytesView bytes) {
    if (holding_) {
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        co_return;
    }
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
}

void RecordLayer::hold_writes() { holding_ = true; }

asio::awaitable<void> RecordLayer::flush() {
    holding_ = false;
    if (pending_.empty()) co_return;
    auto bytes = std::move(pending_);
    pending_.clear();
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<void> RecordLayer::write_records(ContentType type, BytesView data) {
    if (!write_protection_) {
        for (auto& record : encode_records(type, data)) {
            trace_.record(Direction::send, record);
            co_await write_raw(record);
        }
        co_return;
    }
    // ANCHOR: write_protected
    // §5.2: each chunk of at most 2^14 bytes becomes one TLSCiphertext whose outer
    // type is always application_data; the real type travels inside, encrypted.
    do {
        auto n = std::min(data.size(), max_fragment_length);
        trace_.value("encrypting", [&] {  // formatted only if printed: this runs for every record
            return fmt::format("{}({}) {} bytes, sequence number {}", name(type), static_cast<int>(type), n,
                               write_protection_->sequence_number());
        });
        auto record = write_protection_->seal(type, data.first(n));
        trace_.record(Direction::send, record);
        co_await write_raw(record);
        data = data.subspan(n);
    } while (!data.empty());
    // ANCHOR_END: write_protected
}

void RecordLayer::protect_writes(AeadAlg aead, TrafficKeys keys) { write_protection_.emplace(aead, std::move(keys)); }

void RecordLayer::protect_reads(AeadAlg aead, TrafficKeys keys) {
    read_protection_.emplace(aead, std::move(keys));
    reader_.set_max_length(max_encrypted_fragment_length);
}

asio::awaitable<void> RecordLayer::write_change_cipher_spec() {
    auto record = encode_record(ContentType::change_cipher_spec, Bytes{0x01});
    trace_.record(Direction::send, record);
    co_await write_raw(record);
}

// ANCHOR: send_alert
asio::awaitable<void> RecordLayer::send_alert(AlertDescription description, std::string_view why) {
    // §6.1: the closure alerts are warnings; §6.2: every error alert is fatal.
    bool closure = description == AlertDescription::close_notify || description == AlertDescription::user_canceled;
    Alert alert{closure ? AlertLevel::warning : AlertLevel::fatal, description};
    trace_.alert(Direction::send, description, why);
    // §6: alerts are protected like any record once write keys are in place.
    Bytes record;
    try {
        record = write_protection_ ? write_protection_->seal(ContentType::alert, alert.encode())
                                   : encode_record(ContentType::alert, alert.encode());
    } catch (const std::exception&) {
        co_return;
    }
    trace_.record(Direction::send, record);
    // Whatever is held goes out first, in the same write: the alert ends the flight.
    holding_ = false;
    pending_.insert(pending_.end(), record.begin(), record.end());
    auto bytes = std::move(pending_);
    pending_.clear();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), use_tuple);
    (void)ec;
    (void)n;
}
// ANCHOR_END: send_alert

// ANCHOR: guarded
asio::awaitable<bool> guarded(RecordLayer& records, asio::awaitable<void> body) {
    std::optional<AlertError> to_send;
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
        records.trace().error(fmt::format("connection lost: {}", e.code().message()));
    } catch (const std::exception& e) {
        to_send = AlertError(AlertDescription::internal_error, e.what());
    }
    if (to_send) co_await records.send_alert(to_send->description, to_send->what());
    std::error_code ignored;
    records.socket().shutdown(tcp::socket::shutdown_both, ignored);
    records.socket().close(ignored);
    co_return false;
}
// ANCHOR_END: guarded

}  // namespace tls
