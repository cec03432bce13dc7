#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace tlstest {

using Clock = std::chrono::steady_clock;

std::string bin(const std::string& program) { return std::string(TLS_BIN_DIR) + "/" + program; }
std::string source(const std::string& relative) { return std::string(TLS_SOURCE_DIR) + "/" + relative; }

Process::Process(std::vector<std::string> argv, std::vector<std::string> env)
    : Process(std::move(argv), std::move(env), nullptr) {}

Process Process::with_stdin_from(const std::string& path, std::vector<std::string> argv, std::vector<std::string> env) {
    return Process(std::move(argv), std::move(env), &path);
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env, const std::string* stdin_path) {
    int in[2], out[2], err[2];
    if (pipe(in) || pipe(out) || pipe(err)) throw std::runtime_error("pipe failed");
    signal(SIGPIPE, SIG_IGN);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (stdin_path) {
            int fd = open(stdin_path->c_str(), O_RDONLY | O_NOCTTY);
            if (fd < 0) {
                std::fprintf(stderr, "open %s failed: %s\n", stdin_path->c_str(), std::strerror(errno));
                _exit(127);
            }
            dup2(fd, 0);
            close(fd);
        } else {
            dup2(in[0], 0);
        }
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
        setpgid(0, 0);
        for (auto& e : env) putenv(e.data());
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    if (stdin_path) close_stdin();  // the child reads the file; the pipe is not its stdin
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (in_ >= 0) fcntl(in_, F_SETFL, O_NONBLOCK);  // our end only: the child's end is another description
    fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

Process::Process(Process&& o) noexcept
    : pid_(o.pid_), in_(o.in_), out_fd_(o.out_fd_), err_fd_(o.err_fd_), out_(std::move(o.out_)),
      err_(std::move(o.err_)), all_(std::move(o.all_)), status_(o.status_) {
    o.pid_ = -1;
    o.in_ = o.out_fd_ = o.err_fd_ = -1;
}

Process::~Process() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_fd_, err_fd_})
        if (fd >= 0) close(fd);
}

void Process::pump(std::chrono::milliseconds timeout) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) {
        usleep(static_cast<useconds_t>(std::min<long>(timeout.count(), 20) * 1000));
        return;
    }
    if (poll(fds, n, static_cast<int>(timeout.count())) <= 0) return;
    for (int i = 0; i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        ssize_t got = read(fds[i].fd, buf, sizeof buf);
        if (got > 0) {
            (fds[i].fd == out_fd_ ? out_ : err_).append(buf, static_cast<size_t>(got));
            all_.append(buf, static_cast<size_t>(got));
        } else if (got == 0) {
            close(fds[i].fd);
            (fds[i].fd == out_fd_ ? out_fd_ : err_fd_) = -1;
        }
    }
}

bool Process::wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    while (all_.find(needle) == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
        if (left.count() <= 0) return false;
        if (out_fd_ < 0 && err_fd_ < 0) return false;
        pump(std::min(left, std::chrono::milliseconds(50)));
    }
    return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    while (!status_) {
        int st;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (Clock::now() > end) return std::nullopt;
        pump(std::chrono::milliseconds(20));
    }
    // Drain what is left in the pipes.
    auto drain_end = Clock::now() + std::chrono::milliseconds(2000);
    while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_end) pump(std::chrono::milliseconds(20));
    return status_;
}

void Process::write_stdin(const std::string& data) {
    if (in_ < 0) return;
    // The pipe is non-blocking on our side: while the child is not reading, read what it
    // prints. A child that echoes its input would otherwise fill its stdout pipe, stop
    // reading stdin, and block both of us.
    auto end = Clock::now() + std::chrono::seconds(30);
    size_t done = 0;
    while (done < data.size() && Clock::now() < end) {
        ssize_t w = write(in_, data.data() + done, data.size() - done);
        if (w > 0)
            done += static_cast<size_t>(w);
        else if (w < 0 && (errno == EAGAIN || errno == EINTR))
            pump(std::chrono::milliseconds(10));
        else
            break;  // EPIPE: the child closed its standard input
    }
}

void Process::close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
}

void Process::terminate() {
    if (pid_ > 0 && !status_) ::kill(pid_, SIGTERM);
}
void Process::kill() {
    if (pid_ > 0 && !status_) ::kill(pid_, SIGKILL);
}

std::string Process::out() {
    pump(std::chrono::milliseconds(0));
    return out_;
}
std::string Process::err() {
    pump(std::chrono::milliseconds(0));
    return err_;
}
std::string Process::all() {
    pump(std::chrono::milliseconds(0));
    return all_;
}

Server start_server(const std::string& program, std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<std::string> argv{bin(program), "--port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, std::move(env));
    if (!p.wait_for("listening on ", 20s))
        throw std::runtime_error(program + " did not start listening; it printed:\n" + p.all());
    // Wait for the whole line.
    std::smatch m;
    static const std::regex re(R"(listening on [^\s:]+:(\d+)\s)");
    auto end = Clock::now() + 5s;
    std::string text;
    while (!std::regex_search(text = p.all(), m, re)) {
        if (Clock::now() > end) throw std::runtime_error("no port in: " + text);
        p.wait_for("\n", 50ms);
    }
    return Server{std::move(p), static_cast<unsigned short>(std::stoi(m[1]))};
}

unsigned short free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

RawClient::RawClient(unsigned short port) : port_(port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect failed: " + std::string(std::strerror(errno)));
    signal(SIGPIPE, SIG_IGN);
}

RawClient::~RawClient() {
    if (fd_ >= 0) close(fd_);
}

void RawClient::send(tls::BytesView data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t w = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (w <= 0) return;
        done += static_cast<size_t>(w);
    }
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawClient::set_no_delay() {
    int on = 1;
    if (setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        throw std::runtime_error("TCP_NODELAY failed: " + std::string(std::strerror(errno)));
}

unsigned short RawClient::local_port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

namespace {

// The receive queue of the TCP socket with this local and remote port, from /proc/net/tcp
// ("sl local_address rem_address st tx_queue:rx_queue ...", addresses as HEXADDR:HEXPORT);
// nullopt if there is no such socket.
std::optional<unsigned long> receive_queue(unsigned short local_port, unsigned short remote_port) {
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // the heading
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues;
        if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
        auto port_of = [](const std::string& address) {
            return static_cast<unsigned short>(std::stoul(address.substr(address.find(':') + 1), nullptr, 16));
        };
        if (port_of(local) != local_port || port_of(remote) != remote_port) continue;
        return std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
    return std::nullopt;
}

}  // namespace

bool RawClient::wait_until_peer_read_all(std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    for (;;) {
        int unacknowledged = 0;
        bool acknowledged = ioctl(fd_, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0;
        if (acknowledged && receive_queue(port_, local_port()) == 0UL) return true;
        if (Clock::now() > end) return false;
        usleep(500);
    }
}

tls::Bytes RawClient::read_n(std::size_t n, std::chrono::milliseconds timeout) {
    tls::Bytes out;
    auto end = Clock::now() + timeout;
    while (out.size() < n && !closed_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        std::uint8_t buf[65536];
        ssize_t got = recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
        if (got <= 0) {
            closed_ = true;
            break;
        }
        out.insert(out.end(), buf, buf + got);
    }
    return out;
}

tls::Bytes RawClient::read_all(std::chrono::milliseconds timeout) {
    return read_n(static_cast<std::size_t>(-1) / 2, timeout);
}

CommandResult run_command(const std::string& shell_command, std::chrono::milliseconds timeout) {
    Process p({"/bin/sh", "-c", shell_command + " 2>&1"});
    p.close_stdin();
    auto code = p.wait(timeout);
    if (!code) {
        p.kill();
        return {124, p.all() + "\n(timed out)"};
    }
    return {*code, p.all()};
}

bool have_program(const std::string& name) {
    return run_command("command -v " + name + " >/dev/null", 5s).code == 0;
}

}  // namespace tlstest
