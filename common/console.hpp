// common/console.hpp — introduced in chapter 09 (application data).
// Reading standard input line by line without blocking the connection: a thread
// does the blocking reads and hands each line to the coroutine that awaits it.
// This is what lets the chapter 09 client work like `openssl s_client -quiet`.
#pragma once

#include "net.hpp"

#include <asio/experimental/concurrent_channel.hpp>

#include <optional>
#include <string>
#include <thread>

namespace tls {

class StdinLines {
public:
    explicit StdinLines(asio::any_io_executor executor);
    ~StdinLines();
    StdinLines(const StdinLines&) = delete;
    StdinLines& operator=(const StdinLines&) = delete;

    // The next line, with its "\n"; nullopt at the end of standard input or after close().
    asio::awaitable<std::optional<std::string>> next();
    // Stop waiting for input: the connection has ended first.
    void close() { channel_.close(); }

private:
    asio::experimental::concurrent_channel<void(std::error_code, std::string)> channel_;
    std::thread reader_;
};


}  // namespace tls
