// common/connection.hpp — introduced in chapter 03 (ClientHello), grown in 06, 09 and 11.
// Handshake messages over the record layer (RFC 8446 §4, §5.1): messages are
// reassembled from however many records carry them, decoded into the types of
// messages.hpp, and traced with the RFC's field names. From chapter 06 the
// record layer underneath protects records once keys are installed.
#pragma once

#include "handshake_reader.hpp"
#include "messages.hpp"
#include "record_layer.hpp"

#include <utility>

namespace tls {

// "ClientHello", "EncryptedExtensions": the RFC's name of a message type.
std::string message_name(HandshakeType type);

// The name a trace gives a message: its type's, except that a ServerHello with the special
// random is a "HelloRetryRequest" (§4.1.4: it has the same structure, and type server_hello).
template <class Message>
std::string message_label(const Message&) {
    return message_name(Message::msg_type);
}
inline std::string message_label(const ServerHello& hello) {
    return hello.is_hello_retry_request() ? "HelloRetryRequest" : "ServerHello";
}

class Connection {
public:
    Connection(tcp::socket& socket, Trace& trace, Role role) : records_(socket, trace, role) {}
    // Over any byte stream: tests and fuzzers run a whole handshake in memory this way.
    Connection(Transport& transport, Trace& trace, Role role) : records_(transport, trace, role) {}

    RecordLayer& records() { return records_; }
    Trace& trace() { return records_.trace(); }

    // §4: the next whole handshake message. A record of another type here is an
    // unexpected_message; the end of the stream is a decode_error (a cut-short handshake).
    asio::awaitable<HandshakeMessage> read_handshake();

    // Reads the next message, which must be a `Message` (else unexpected_message, §6.2),
    // decodes it (decode_error on malformed bytes) and traces every field.
    // Returns the message and its raw bytes, which the transcript hash takes.
    template <class Message, class... DecodeArgs>
    asio::awaitable<std::pair<Message, Bytes>> read(DecodeArgs... args) {
        auto m = co_await read_handshake();
        expect_type(m, Message::msg_type);
        auto message = Message::decode(m.body, args...);
        if (!trace().options().quiet)
            trace().message(Direction::receive, message_label(message), message.describe(), m.raw);
        co_return std::pair<Message, Bytes>{std::move(message), std::move(m.raw)};
    }

    // Chapter 14: the next message if it is a `Message` (decoded and traced, as read() does),
    // else nullopt, and the message waits for the next read: for a message the peer may or may
    // not send, such as the server's CertificateRequest (§4.3.2).
    template <class Message>
    asio::awaitable<std::optional<std::pair<Message, Bytes>>> read_if() {
        auto m = co_await read_handshake();
        if (m.msg_type != Message::msg_type) {
            pending_ = std::move(m);
            co_return std::nullopt;
        }
        auto message = Message::decode(m.body);
        if (!trace().options().quiet)
            trace().message(Direction::receive, message_label(message), message.describe(), m.raw);
        co_return std::pair<Message, Bytes>{std::move(message), std::move(m.raw)};
    }

    // Encodes, traces and sends one message in handshake records; returns its raw
    // bytes for the transcript hash.
    template <class Message>
    asio::awaitable<Bytes> write(const Message& message) {
        auto raw = encode_handshake(message);
        if (!trace().options().quiet)
            trace().message(Direction::send, message_label(message), message.describe(), raw);
        co_await records_.write_records(ContentType::handshake, raw);
        co_return raw;
    }

    // ANCHOR: install
    // Installs a traffic secret in the record layer (RecordLayer::install), by side. When it
    // becomes our read keys, §5.1 applies first: "Handshake messages MUST NOT span key
    // changes. Implementations MUST verify that all messages immediately preceding a key
    // change align with a record boundary; if not, then they MUST terminate the connection
    // with an "unexpected_message" alert."
    void install(const SuiteInfo& suite, const ClientTrafficSecret& secret) {
        if (records_.role() == Role::server) check_no_partial_message();
        records_.install(suite, secret);
    }
    void install(const SuiteInfo& suite, const ServerTrafficSecret& secret) {
        if (records_.role() == Role::client) check_no_partial_message();
        records_.install(suite, secret);
    }
    // ANCHOR_END: install
    void check_no_partial_message() const;

    // ---- Chapter 11: KeyUpdate (§4.6.3) ----
    // Sends KeyUpdate(request) and moves our writing to the next key generation at once.
    asio::awaitable<void> send_key_update(KeyUpdateRequest request);
    // After the handshake, on the peer's KeyUpdate: `rest` is what its record held after it
    // (the reader the record was fed to). Checks §5.1, moves our reading to the next
    // generation and answers a request (§4.6.3).
    asio::awaitable<void> receive_key_update(const KeyUpdate& update, const HandshakeReader& rest);

    static void expect_type(const HandshakeMessage& m, HandshakeType expected);

private:
    RecordLayer records_;
    HandshakeReader reader_;
    std::optional<HandshakeMessage> pending_;  // read by read_if() for another type: next in line
};

}  // namespace tls
