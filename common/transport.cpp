// common/transport.cpp — introduced in chapter 02 (record layer).
#include "transport.hpp"

#include <algorithm>
#include <array>

namespace tls {

asio::awaitable<std::size_t> SocketTransport::read_some(std::span<std::uint8_t> buffer) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_tuple);
    if (ec == asio::error::eof) co_return 0;
    if (ec) throw asio::system_error(ec);
    co_return n;
}

asio::awaitable<void> SocketTransport::write(BytesView bytes) {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
}

void SocketTransport::close() {
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

asio::awaitable<void> SocketTransport::close_after_alert(std::chrono::milliseconds linger) {
    std::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);  // our alert was the last thing we send
    if (!ec) {
        // The timer cuts the wait short by cancelling the read; it is cancelled in turn when the
        // peer closes first (its handler then sees operation_aborted and touches nothing).
        asio::steady_timer timer(socket_.get_executor(), linger);
        timer.async_wait([&socket = socket_](std::error_code e) {
            if (!e) {
                std::error_code ignored;
                socket.cancel(ignored);
            }
        });
        std::array<std::uint8_t, 4096> sink;
        for (std::size_t drained = 0; drained < (1u << 20);) {
            auto [e, n] = co_await socket_.async_read_some(asio::buffer(sink), use_tuple);
            if (e || n == 0) break;
            drained += n;
        }
        timer.cancel();
    }
    close();
}

asio::awaitable<std::size_t> MemoryTransport::read_some(std::span<std::uint8_t> buffer) {
    if (closed_) throw asio::system_error(asio::error::bad_descriptor);
    auto n = std::min({buffer.size(), input_.size(), chunk_});
    std::copy_n(input_.begin(), n, buffer.begin());
    input_ = input_.subspan(n);
    co_return n;
}

asio::awaitable<void> MemoryTransport::write(BytesView bytes) {
    if (closed_) throw asio::system_error(asio::error::bad_descriptor);
    written_.insert(written_.end(), bytes.begin(), bytes.end());
    co_return;
}

}  // namespace tls
