// common/console.cpp — introduced in chapter 09.
#include "console.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace tls {

// How standard input is read depends on what it is (fstat):
//
// - A regular file (or a block device): epoll cannot wait on it (epoll_ctl fails with
//   EPERM), and it never needs to, since a read from it never waits for input. We read
//   fd 0 itself, so the file offset we leave is right for whoever reads after us.
// - Anything else (pipe, FIFO, terminal, socket, /dev/null): the io_context waits for it
//   with async_read_some, and Asio sets O_NONBLOCK to do that. O_NONBLOCK belongs to the
//   open file description, which fd 0 shares with its dups and with other processes: on a
//   terminal, fds 0, 1 and 2 are usually one description, so O_NONBLOCK on fd 0 would make
//   our own writes to stdout fail with EAGAIN, and the shell would inherit it if we died.
//   So Asio gets a description of our own: /proc/self/fd/0 opened anew (Linux), the same
//   pipe or terminal with file status flags of its own. fd 0 is never touched.
// - Where that cannot be done (a socket cannot be reopened so), a dup of fd 0 whose flags
//   we put back when we stop.
struct StdinLines::Source {
    explicit Source(asio::any_io_executor executor) : descriptor(std::move(executor)) {}
    asio::posix::stream_descriptor descriptor;
    bool read_fd0 = false;   // a regular file: plain read(0)
    int restore_flags = -1;  // a dup of fd 0: its file status flags before Asio set O_NONBLOCK
    bool at_end = false;     // end of input (or a read error): what is pending is the last line
    bool closed = false;     // close(): nothing more, not even what is pending
    std::string pending;     // read, not yet returned
    std::array<char, 16384> chunk{};

    // Out of epoll (release() does EPOLL_CTL_DEL and fails a waiting read with
    // operation_aborted; close() would rely on the kernel to drop the registration when the
    // fd closes, which it does only once no other fd shares the description), then closed.
    void release() {
        if (!descriptor.is_open()) return;
        int fd = descriptor.release();
        if (restore_flags >= 0) ::fcntl(fd, F_SETFL, restore_flags);
        ::close(fd);
    }
};

StdinLines::StdinLines(asio::any_io_executor executor) : source_(std::make_shared<Source>(std::move(executor))) {
    auto& s = *source_;
    struct stat st {};
    if (::fstat(STDIN_FILENO, &st) != 0) {
        s.at_end = true;  // no standard input at all: as if it were empty
        return;
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        s.read_fd0 = true;
        return;
    }
    // O_NONBLOCK from the start: opening a FIFO for reading would otherwise wait for a writer.
    int fd = ::open("/proc/self/fd/0", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
        if (fd >= 0) s.restore_flags = ::fcntl(fd, F_GETFL);
    }
    std::error_code ec;
    if (fd >= 0) s.descriptor.assign(fd, ec);
    if (fd < 0 || ec) {
        if (fd >= 0) ::close(fd);
        s.at_end = true;
    }
}

StdinLines::~StdinLines() { close(); }

void StdinLines::close() {
    source_->closed = true;
    source_->pending.clear();
    source_->release();
}

asio::awaitable<std::optional<std::string>> StdinLines::next() { return read_line(source_); }

// A coroutine with its own shared_ptr to the source: it may still be waiting in
// async_read_some when the StdinLines is destroyed (the read then fails with
// operation_aborted, and we return nullopt without touching the StdinLines).
asio::awaitable<std::optional<std::string>> StdinLines::read_line(std::shared_ptr<Source> source) {
    auto& s = *source;
    for (;;) {
        if (s.closed) co_return std::nullopt;
        auto newline = s.pending.find('\n');
        std::size_t take = 0;
        if (newline != std::string::npos)
            take = newline + 1;
        else if (s.pending.size() >= max_line || s.at_end)
            take = std::min(s.pending.size(), max_line);
        if (take > 0) {
            std::string line = s.pending.substr(0, take);
            s.pending.erase(0, take);
            co_return line;
        }
        if (s.at_end) co_return std::nullopt;

        std::size_t got = 0;
        if (s.read_fd0) {
            ssize_t n;
            do n = ::read(STDIN_FILENO, s.chunk.data(), s.chunk.size());
            while (n < 0 && errno == EINTR);
            if (n > 0) got = static_cast<std::size_t>(n);
            else s.at_end = true;
            // A file never makes us wait; let the connection's own work run between chunks.
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        } else {
            auto [ec, n] = co_await s.descriptor.async_read_some(asio::buffer(s.chunk), use_tuple);
            if (s.closed) co_return std::nullopt;  // close() while we waited
            got = n;
            // asio::error::eof, or an error such as EIO from a terminal that hung up: the end
            // either way, after whatever was already read.
            if (ec) {
                s.at_end = true;
                s.release();
            }
        }
        s.pending.append(s.chunk.data(), got);
    }
}

}  // namespace tls
