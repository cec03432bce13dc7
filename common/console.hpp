// common/console.hpp — introduced in chapter 09 (application data).
// Reading standard input line by line without blocking the connection: the same
// io_context that carries the TLS records waits for input too (epoll through
// asio::posix::stream_descriptor), so there is no second thread and nothing that
// can outlive the connection. This is what lets the chapter 09 client work like
// `openssl s_client -quiet`: standard input to the server, the server's data out.
#pragma once

#include "net.hpp"

#include <memory>
#include <optional>
#include <string>

namespace tls {

// Standard input may be a pipe, a terminal, a socket, a regular file or /dev/null;
// each works. One next() at a time.
class StdinLines {
public:
    explicit StdinLines(asio::any_io_executor executor);
    ~StdinLines();  // close()
    StdinLines(const StdinLines&) = delete;
    StdinLines& operator=(const StdinLines&) = delete;

    // The next line, with its "\n"; nullopt at the end of standard input or after close().
    // The last line comes without "\n" if the input does not end with one, and a line
    // longer than max_line comes in pieces of max_line bytes (memory stays bounded).
    // A next() still waiting when close() is called, or when this object is destroyed,
    // completes with nullopt.
    asio::awaitable<std::optional<std::string>> next();
    // Stop waiting for input: the connection has ended first. Standard input itself (fd 0)
    // stays open and unchanged for the rest of the process.
    void close();

    static constexpr std::size_t max_line = 64 * 1024;

private:
    // The descriptor, the bytes read so far and the state, shared with a next() that is
    // waiting, so that destroying this object while it waits frees nothing it still uses.
    struct Source;
    static asio::awaitable<std::optional<std::string>> read_line(std::shared_ptr<Source> source);
    std::shared_ptr<Source> source_;
};

}  // namespace tls
