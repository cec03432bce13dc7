// common/transport.hpp — introduced in chapter 02 (record layer), for tests and fuzzers.
// The byte stream under the record layer. On the wire it is a TCP socket; in a fuzzer or
// a test that drives a whole handshake without a network it is a buffer in memory. The
// record layer and everything above it (RFC 8446 §4, §5) only see this interface, so the
// same protocol code runs in both places.
#pragma once

#include "bytes.hpp"
#include "net.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tls {

class Transport {
public:
    virtual ~Transport() = default;
    // Up to buffer.size() bytes from the peer; 0 at the end of the stream.
    // Throws asio::system_error when the connection fails.
    virtual asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) = 0;
    // All of `bytes`, or asio::system_error. The record layer never has two writes in flight.
    virtual asio::awaitable<void> write(BytesView bytes) = 0;
    // Ends the connection in both directions; never throws.
    virtual void close() = 0;
    // Ends the connection after a fatal alert so that the peer reads the alert: we stop
    // sending, then read and drop what the peer still sends (for at most `linger`, 1 MiB) until
    // it closes, then close. Closing a TCP socket with unread data in it sends a reset, and
    // a reset can overtake the alert: the peer would see "connection reset" instead of why.
    // Never throws.
    virtual asio::awaitable<void> close_after_alert(std::chrono::milliseconds linger) {
        (void)linger;
        close();
        co_return;
    }
};

// A connected TCP socket (not owned: the chapter's flow keeps it).
class SocketTransport final : public Transport {
public:
    explicit SocketTransport(tcp::socket& socket) : socket_(socket) {}
    asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override;
    asio::awaitable<void> write(BytesView bytes) override;
    void close() override;
    asio::awaitable<void> close_after_alert(std::chrono::milliseconds linger) override;

private:
    tcp::socket& socket_;
};

// Bytes in memory: reads hand out `input` (at most `chunk` bytes at a time, so tests can
// split records), then the end of the stream; writes are collected in written().
class MemoryTransport final : public Transport {
public:
    explicit MemoryTransport(BytesView input, std::size_t chunk = SIZE_MAX) : input_(input), chunk_(chunk) {}
    asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override;
    asio::awaitable<void> write(BytesView bytes) override;
    void close() override { closed_ = true; }

    const Bytes& written() const { return written_; }
    bool closed() const { return closed_; }

private:
    BytesView input_;
    std::size_t chunk_;
    Bytes written_;
    bool closed_ = false;
};

}  // namespace tls
