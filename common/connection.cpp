// common/connection.cpp — introduced in chapter 03. RFC 8446 §4, §5.1.
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
    for (;;) {
        if (auto message = reader_.next()) co_return std::move(*message);
        auto record = co_await records_.read_record();
        if (!record) throw AlertError(AlertDescription::decode_error, "the peer closed the connection mid-handshake");
        if (record->type != ContentType::handshake)
            throw AlertError(AlertDescription::unexpected_message,
                             fmt::format("expected a handshake record, got {}", name(record->type)));
        reader_.feed(record->fragment);  // never empty: the record layer refuses that (§5.1)
    }
}

void Connection::expect_type(const HandshakeMessage& m, HandshakeType expected) {
    if (m.msg_type != expected)
        throw AlertError(AlertDescription::unexpected_message,
                         fmt::format("expected {}, got {}", message_name(expected), message_name(m.msg_type)));
}

void Connection::check_no_partial_message() const {
    if (!reader_.empty())
        throw AlertError(AlertDescription::unexpected_message,
                         "handshake bytes left over at a key change: a message must end its record (§5.1)");
}

}  // namespace tls
