// Test support: run the real chapter programs and peers (openssl, curl) as child
// processes, read what they print, and talk to servers over raw sockets.
#pragma once

#include "bytes.hpp"

#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tlstest {

using namespace std::chrono_literals;

std::string bin(const std::string& program);     // TLS_BIN_DIR/program
std::string source(const std::string& relative);  // TLS_SOURCE_DIR/relative

// A child process with stdin, stdout and stderr on pipes. Killed when destroyed.
class Process {
public:
    explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {});
    // The same, with standard input read from a file instead of a pipe: a regular file,
    // /dev/null, a terminal (the slave side of a pseudo-terminal)... The child opens it
    // read-only, without making it its controlling terminal. write_stdin() does nothing.
    static Process with_stdin_from(const std::string& path, std::vector<std::string> argv,
                                   std::vector<std::string> env = {});
    Process(Process&&) noexcept;
    Process& operator=(Process&&) = delete;
    ~Process();

    // Waits until `needle` appears in stdout+stderr (combined) or the timeout passes.
    bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s);
    // Waits for the process to exit; returns its exit code (128+signal if killed), nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = 20s);
    void write_stdin(const std::string& data);
    void close_stdin();
    void terminate();  // SIGTERM
    void kill();       // SIGKILL

    std::string out();  // stdout so far
    std::string err();  // stderr so far
    std::string all();  // both, in arrival order
    int pid() const { return pid_; }

private:
    Process(std::vector<std::string> argv, std::vector<std::string> env, const std::string* stdin_path);
    void pump(std::chrono::milliseconds timeout);
    int pid_ = -1;
    int in_ = -1, out_fd_ = -1, err_fd_ = -1;
    std::string out_, err_, all_;
    std::optional<int> status_;
};

// Starts a chapter server on an ephemeral port (--port 0) and returns it with the
// port it printed in its "listening on HOST:PORT" line.
struct Server {
    Process process;
    unsigned short port;
};
// `env` adds variables such as "SSLKEYLOGFILE=/tmp/x".
Server start_server(const std::string& program, std::vector<std::string> args = {}, std::vector<std::string> env = {});

// A port no one listens on right now.
unsigned short free_port();

// A plain TCP connection for sending crafted bytes.
class RawClient {
public:
    explicit RawClient(unsigned short port);
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;
    void send(tls::BytesView data);
    void shutdown_write();
    // TCP_NODELAY: no Nagle, so every send() leaves at once as a segment of its own.
    void set_no_delay();
    unsigned short local_port() const;
    // For a server on this machine (Linux): waits until its kernel has acknowledged all we
    // sent (SIOCOUTQ is 0 here) and the server program has read all of it (the receive
    // queue of its end of the connection, in /proc/net/tcp, is empty). False on timeout.
    bool wait_until_peer_read_all(std::chrono::milliseconds timeout = 5s);
    // Reads until the peer closes or the timeout passes.
    tls::Bytes read_all(std::chrono::milliseconds timeout = 5s);
    // Reads exactly n bytes (fewer if the peer closes or the timeout passes).
    tls::Bytes read_n(std::size_t n, std::chrono::milliseconds timeout = 5s);
    bool peer_closed() const { return closed_; }

private:
    int fd_ = -1;
    unsigned short port_ = 0;
    bool closed_ = false;
};

// Runs a shell command to completion, returning exit code and combined output.
struct CommandResult {
    int code;
    std::string output;
};
CommandResult run_command(const std::string& shell_command, std::chrono::milliseconds timeout = 60s);

bool have_program(const std::string& name);

}  // namespace tlstest
