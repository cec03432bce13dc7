// common/connection.cpp — introduced in chapter 03, grown in chapter 11 (KeyUpdate). RFC 8446 §4, §5.1, §4.6.3.
#include "connection.hpp"

namespace tls {

std::string message_name(HandshakeType type) {
    switch (type) {
        case HandshakeType::client_hello: return "ClientHello";
        case HandshakeType::server_hello: return "ServerHello";
        case HandshakeType::new_session_ticket: return "NewSessionTicket";
        case HandshakeType::end_of_early_data: return "EndOfEarlyData";
        case HandshakeType::encrypted_extensions: return "EncryptedExtensions";
        case HandshakeType::certificate: return "Certificate";
        case HandshakeType::certificate_request: return "CertificateRequest";
        case HandshakeType::certificate_verify: return "CertificateVerify";
        case HandshakeType::finished: return "Finished";
        case HandshakeType::key_update: return "KeyUpdate";
        case HandshakeType::message_hash: return "message_hash";
    }
    return name(type);
}

asio::awaitable<HandshakeMessage> Connection::read_handshake() {
    if (pending_) {
        auto message = std::move(*pending_);
        pending_.reset();
        co_return message;
    }
    for (;;) {
        if (auto message = reader_.next()) co_return std::move(*message);
        auto record = co_await records_.read_record();
        if (!record) throw AlertError(AlertDescription::decode_error, "the peer closed the connection mid-handshake");
        // RFC8446 5.1-2, 5.1-3
        if (record->type != ContentType::handshake)
            throw AlertError(AlertDescription::unexpected_message,
                             fmt::format("expected a handshake record, got {}", name(record->type)));
        reader_.feed(record->fragment);  // never empty: the record layer refuses that (§5.1)
    }
}

// RFC8446 4-2, 4.6.3-1
void Connection::expect_type(const HandshakeMessage& m, HandshakeType expected) {
    if (m.msg_type != expected)
        throw AlertError(AlertDescription::unexpected_message,
                         fmt::format("expected {}, got {}", message_name(expected), message_name(m.msg_type)));
}

// RFC8446 5.1-5
void Connection::check_no_partial_message() const {
    if (!reader_.empty() || pending_)
        throw AlertError(AlertDescription::unexpected_message,
                         "handshake bytes left over at a key change: a message must end its record (§5.1)");
}

// ANCHOR: send_key_update
asio::awaitable<void> Connection::send_key_update(KeyUpdateRequest request) {
    KeyUpdate update{request};
    auto raw = encode_handshake(update);
    if (!trace().options().quiet) trace().message(Direction::send, "KeyUpdate", update.describe(), raw);
    co_await records_.write_key_update(raw);
}
// ANCHOR_END: send_key_update

// RFC8446 5.1-5, 4.6.3-3, 4.6.3-5, 4.6.3-7
// ANCHOR: receive_key_update
asio::awaitable<void> Connection::receive_key_update(const KeyUpdate& update, const HandshakeReader& rest) {
    // §5.1: "Handshake messages MUST NOT span key changes. Implementations MUST verify that all
    // messages immediately preceding a key change align with a record boundary; if not, then
    // they MUST terminate the connection with an "unexpected_message" alert."
    if (!rest.empty())
        throw AlertError(AlertDescription::unexpected_message, "KeyUpdate not at the end of its record (§5.1)");
    // §4.6.3: "Upon receiving a KeyUpdate, the receiver MUST update its receiving keys."
    records_.update_read_keys();
    // "If the request_update field is set to "update_requested", then the receiver MUST send a
    // KeyUpdate of its own with request_update set to "update_not_requested" prior to sending
    // its next Application Data record."
    // After our close_notify no answer is due (no data will follow) nor allowed (§6.1: we
    // "will not send any more messages on this connection").
    if (update.request_update == KeyUpdateRequest::update_requested && !records_.sent_close_notify())
        co_await send_key_update(KeyUpdateRequest::update_not_requested);
}
// ANCHOR_END: receive_key_update

}  // namespace tls
