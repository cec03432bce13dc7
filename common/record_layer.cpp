// common/record_layer.cpp — introduced in chapter 02. RFC 8446 §5.1, §6.
#include "record_layer.hpp"

namespace tls {

asio::awaitable<std::optional<TLSPlaintext>> RecordLayer::read_record() {
    for (;;) {
        if (auto record = reader_.next()) {
            trace_.record(Direction::receive, *record);
            if (record->type == ContentType::alert) {
                auto alert = Alert::decode(record->fragment);
                trace_.alert(Direction::receive, alert.description);
                if (alert.description == AlertDescription::close_notify) {
                    received_close_notify_ = true;
                    co_return std::nullopt;
                }
                throw PeerAlert(alert);
            }
            co_return record;
        }
        std::array<std::uint8_t, 16 * 1024> buffer;
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
        if (ec == asio::error::eof) {
            // A stream that ends inside a record is an error, never a wait for more.
            if (reader_.buffered() > 0)
                throw AlertError(AlertDescription::decode_error,
                                 fmt::format("stream ended inside a record ({} bytes of it received)", reader_.buffered()));
            co_return std::nullopt;
        }
        if (ec) throw asio::system_error(ec);
        reader_.feed(BytesView(buffer.data(), n));
    }
}

asio::awaitable<void> RecordLayer::write_raw(BytesView bytes) {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
}

asio::awaitable<void> RecordLayer::write_records(ContentType type, BytesView data) {
    for (auto& record : encode_records(type, data)) {
        trace_.record(Direction::send, record);
        co_await write_raw(record);
    }
}

asio::awaitable<void> RecordLayer::send_alert(AlertDescription description, std::string_view why) {
    Alert alert{description == AlertDescription::close_notify ? AlertLevel::warning : AlertLevel::fatal, description};
    trace_.alert(Direction::send, description, why);
    auto record = encode_record(ContentType::alert, alert.encode());
    trace_.record(Direction::send, record);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(record), use_tuple);
    (void)ec;
    (void)n;
}

asio::awaitable<bool> guarded(RecordLayer& records, asio::awaitable<void> body) {
    std::optional<AlertError> to_send;
    try {
        co_await std::move(body);
        co_return true;
    } catch (const AlertError& e) {
        to_send = e;
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

}  // namespace tls
