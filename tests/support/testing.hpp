// Test support shared by the suites: the alert a call throws, reading traces and files, temporary
// directories, the bundled certificates, NSS key logs and `openssl s_server`.
#pragma once

#include "alert.hpp"
#include "process.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

// Shows the whole output when a line is missing from it.
#define CHECK_CONTAINS(text, needle)                                                                 \
    do {                                                                                             \
        const std::string text_ = (text);                                                            \
        const std::string needle_ = (needle);                                                        \
        CHECK_MESSAGE(text_.find(needle_) != std::string::npos, "expected \"" << needle_ << "\" in:\n" \
                                                                              << text_);             \
    } while (0)

namespace tlstest {

// ---- Alerts ------------------------------------------------------------------------------

// The AlertDescription that `f()` throws; fails the test if it throws none.
template <class F>
tls::AlertDescription alert_of(F&& f) {
    try {
        f();
    } catch (const tls::AlertError& e) {
        return e.description;
    }
    FAIL("no AlertError thrown");
    return tls::AlertDescription::internal_error;
}

// The name of the alert `f()` throws ("bad_record_mac"), or "none".
template <class F>
std::string alert_from(F&& f) {
    try {
        f();
    } catch (const tls::AlertError& e) {
        return tls::alert_name(e.description);
    }
    return "none";
}

// ---- Text and files --------------------------------------------------------------------

bool contains(const std::string& text, const std::string& needle);
// How many times `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle);
std::vector<std::string> lines_of(const std::string& text);
// True if some line of `text` matches `pattern` (a regex searched within the line).
bool has_line(const std::string& text, const std::string& pattern);
std::string read_file(const std::string& path);  // "" if it cannot be read
void write_file(const std::string& path, const std::string& text);

// A fresh directory under the temporary directory, removed with its contents when destroyed.
struct TempDir {
    std::string path;
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return path + "/" + name; }
};

// ---- Certificates and peers ------------------------------------------------------------

std::string cert(const std::string& name);  // TLS_SOURCE_DIR/certs/name
// Server arguments for one of the bundled identities: "server-ecdsa", "expired-ecdsa", ...
std::vector<std::string> identity(const std::string& kind);

// Fails the test, saying how to get it, when a peer tool (openssl, curl, tshark) is missing.
void require_tool(const std::string& name);

// `openssl s_server -tls1_3` on a free port with a bundled identity, once it prints ACCEPT.
// Its stdin stays open: at end of stdin s_server would stop.
struct OpensslServer {
    Process process;
    unsigned short port;
};
OpensslServer start_openssl_server(const std::string& kind, const std::vector<std::string>& extra = {});

// ---- NSS key logs (SSLKEYLOGFILE): "LABEL CLIENT_RANDOM SECRET" lines ------------------

// client random -> {label -> secret}; comment and malformed lines are skipped.
using KeyLog = std::map<std::string, std::map<std::string, std::string>>;
KeyLog parse_keylog(const std::string& text);
// The key log file of one connection by label: "CLIENT_TRAFFIC_SECRET_0" -> "<client random> <secret>".
std::map<std::string, std::string> keylog_lines(const std::string& path);

// ---- tshark: capture a session on lo, then decrypt it with a key log ----------------------

// `tshark -i lo` writing the packets to or from `port` into `file`. Started, it has proved
// that it captures: "Capturing on" comes a little before packets are really captured, so a
// connection opened for the purpose must show its SYN in tshark's live output (-P -l). The
// server takes these empty connections for clients that left before their ClientHello.
class TsharkCapture {
public:
    TsharkCapture(unsigned short port, std::string file);
    // Packets on lo are captured in the order they are sent: a probe opened after the session
    // proves the whole session is captured. Then tshark finishes the file (SIGINT).
    void stop();

private:
    bool probe_seen(std::chrono::milliseconds timeout);
    unsigned short port_;
    std::string file_;
    Process tshark_;
};

// `tshark -r FILE` (with `keylog` as tls.keylog_file unless empty): one line per TLS packet,
// "<handshake types, comma-separated>\t<data text>".
CommandResult tshark_read(const std::string& file, const std::string& keylog);
// The handshake types of that output, in order ("1" ClientHello, "2" ServerHello, ...).
std::vector<std::string> handshake_types(const std::string& tshark_output);

}  // namespace tlstest
