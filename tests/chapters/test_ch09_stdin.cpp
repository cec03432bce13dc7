// End to end: the chapter 09 client without --message reads standard input (common/console.*)
// and sends it to the ch09 server, whatever standard input is: a pipe, a regular file,
// /dev/null or a terminal. And it stops reading, without touching freed memory, when the
// connection ends first.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <regex>

using namespace tlstest;

// The servers run with --quiet: nothing reads their output until the end, and the trace of
// some thousand records would fill the pipe and stop the server in mid-echo.

namespace {

// The echo of `input` went out and came back exactly, and both sides closed cleanly.
void check_echoed(Process& client, Server& server, const std::string& input) {
    CHECK(client.out() == input);  // the trace goes to stderr
    CHECK_CONTAINS(client.err(), "connection closed");
    CHECK(server.process.wait_for("connection closed cleanly after echoing " + std::to_string(input.size()) + " bytes", 5s));
}

// The file status flags of the process's standard input, from /proc/PID/fdinfo/0 ("flags: 0100002").
int stdin_flags(int pid) {
    std::smatch m;
    auto info = read_file("/proc/" + std::to_string(pid) + "/fdinfo/0");
    static const std::regex flags(R"(flags:\s*([0-7]+))");
    REQUIRE_MESSAGE(std::regex_search(info, m, flags), info);
    return static_cast<int>(std::stol(m[1], nullptr, 8));
}

// Lines of different lengths, more than the client reads at once, the last one unfinished.
std::string many_lines() {
    std::string text;
    for (int i = 0; text.size() < 100'000; ++i) text += "line " + std::to_string(i) + std::string(i % 97, '.') + "\n";
    return text + "and a last line without a newline";
}

// A pseudo-terminal: the test types on the master side; the slave is a terminal to the client.
struct PseudoTerminal {
    int master = -1;
    std::string slave;
    PseudoTerminal() {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE_MESSAGE(master >= 0, "posix_openpt failed");
        REQUIRE(grantpt(master) == 0);
        REQUIRE(unlockpt(master) == 0);
        slave = ptsname(master);
    }
    ~PseudoTerminal() { close(master); }
    PseudoTerminal(const PseudoTerminal&) = delete;
    PseudoTerminal& operator=(const PseudoTerminal&) = delete;
    void type(const std::string& keys) const { REQUIRE(write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size())); }
};

}  // namespace

TEST_CASE("ch09 client reads standard input from a pipe, the last line without a newline") {
    auto server = start_server("ch09-server", {"--quiet"});
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    auto input = many_lines();
    client.write_stdin(input);
    client.close_stdin();
    CHECK(client.wait() == 0);
    check_echoed(client, server, input);
}

TEST_CASE("ch09 client reads standard input from a regular file") {
    // epoll cannot wait on a regular file (EPERM): the client must read it another way.
    TempDir temp;
    auto input = many_lines();
    std::ofstream(temp.file("input.txt")) << input;
    auto server = start_server("ch09-server", {"--quiet"});
    auto client = Process::with_stdin_from(temp.file("input.txt"), {bin("ch09-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    check_echoed(client, server, input);
}

TEST_CASE("ch09 client reads an empty standard input from /dev/null and closes cleanly") {
    auto server = start_server("ch09-server", {"--quiet"});
    auto client = Process::with_stdin_from("/dev/null", {bin("ch09-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    check_echoed(client, server, "");
    CHECK_CONTAINS(client.err(), "-> Alert close_notify(0)");
}

TEST_CASE("ch09 client reads standard input from a terminal and leaves it blocking") {
    PseudoTerminal terminal;
    auto server = start_server("ch09-server", {"--quiet"});
    auto client = Process::with_stdin_from(terminal.slave, {bin("ch09-client"), "--port", std::to_string(server.port)});
    REQUIRE_MESSAGE(client.wait_for("handshake complete", 10s), client.all());
    terminal.type("typed on a terminal\n");
    REQUIRE_MESSAGE(client.wait_for("typed on a terminal\n", 10s), client.all());
    // The client is now waiting for the next line. On a terminal, standard input and output are
    // usually one open file description: O_NONBLOCK set on it for reading standard input would
    // make writes to standard output fail with EAGAIN, and outlive the client in the shell.
    CHECK((stdin_flags(client.pid()) & O_NONBLOCK) == 0);
    terminal.type("and a second line\n");
    REQUIRE(client.wait_for("and a second line\n", 10s));
    terminal.type("\x04");  // Ctrl-D at the start of a line: the end of input
    CHECK(client.wait() == 0);
    check_echoed(client, server, "typed on a terminal\nand a second line\n");
}

TEST_CASE("ch09 client ignores standard input that arrives after the server went away") {
    auto server = start_server("ch09-server", {"--quiet"});
    Process client({bin("ch09-client"), "--port", std::to_string(server.port)});
    client.write_stdin("before the server goes\n");
    REQUIRE(client.wait_for("before the server goes\n", 10s));
    server.process.kill();  // no close_notify: the connection just ends, standard input stays open
    REQUIRE_MESSAGE(client.wait_for("error: the server closed without close_notify", 5s), client.all());
    // Input that comes once the connection is over, while the client exits. The reader of
    // standard input (once a thread, now on the connection's io_context) must not wake up to
    // hand it to the connection's freed state: with the thread, AddressSanitizer reported a
    // heap-use-after-free here every time.
    for (int i = 0; i < 200; ++i) client.write_stdin("after the end of the connection\n");
    auto code = client.wait(5s);
    REQUIRE_MESSAGE(code.has_value(), "the client still runs after the server went away:\n" << client.all());
    CHECK(*code == 1);
    CHECK(client.out() == "before the server goes\n");
    CHECK_MESSAGE(client.err().find("AddressSanitizer") == std::string::npos, client.err());
}
