// common/console.cpp — introduced in chapter 09.
#include "console.hpp"

#include <iostream>

namespace tls {

StdinLines::StdinLines(asio::any_io_executor executor) : channel_(executor, 16) {
    reader_ = std::thread([this] {
        std::string line;
        try {
            while (std::getline(std::cin, line)) {
                if (!std::cin.eof()) line += '\n';
                // Blocks while the channel is full, so a fast producer cannot run ahead.
                channel_.async_send(std::error_code{}, line, asio::use_future).get();
            }
            channel_.async_send(asio::error::eof, std::string{}, asio::use_future).get();
        } catch (const std::exception&) {
            // The channel was closed: the connection ended before standard input did.
        }
    });
}

StdinLines::~StdinLines() {
    channel_.close();
    // The thread may be blocked in getline; it holds no resources of ours but the
    // channel, so let it finish on its own when the process exits.
    if (reader_.joinable()) reader_.detach();
}

asio::awaitable<std::optional<std::string>> StdinLines::next() {
    auto [ec, line] = co_await channel_.async_receive(use_tuple);
    if (ec) co_return std::nullopt;
    co_return line;
}

}  // namespace tls
