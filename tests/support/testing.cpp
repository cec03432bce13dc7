#include "testing.hpp"

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace tlstest {

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has_line(const std::string& text, const std::string& pattern) {
    std::regex re(pattern);
    for (auto& line : lines_of(text))
        if (std::regex_search(line, re)) return true;
    return false;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tls-by-hand-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
}

std::string cert(const std::string& name) { return source("certs/" + name); }

std::vector<std::string> identity(const std::string& kind) {
    return {"--cert", cert(kind + ".pem"), "--key", cert(kind + ".key")};
}

void require_tool(const std::string& name) {
    REQUIRE_MESSAGE(have_program(name), name << " not found: run ./scripts/bootstrap");
}

OpensslServer start_openssl_server(const std::string& kind, const std::vector<std::string>& extra) {
    std::string last_output;
    for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
        auto port = free_port();
        std::vector<std::string> argv{"openssl", "s_server", "-tls1_3", "-accept", std::to_string(port),
                                      "-cert", cert(kind + ".pem"), "-key", cert(kind + ".key")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        Process p(argv);
        if (p.wait_for("ACCEPT", 10s)) return OpensslServer{std::move(p), port};
        p.kill();
        p.wait(2s);
        last_output = p.all();
    }
    throw std::runtime_error("openssl s_server did not start; it printed:\n" + last_output);
}

KeyLog parse_keylog(const std::string& text) {
    KeyLog log;
    std::regex re(R"(^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]+)$)");
    for (auto& line : lines_of(text)) {
        std::smatch m;
        if (std::regex_match(line, m, re)) log[m[2]][m[1]] = m[3];
    }
    return log;
}

std::map<std::string, std::string> keylog_lines(const std::string& path) {
    std::map<std::string, std::string> lines;
    for (auto& [random, secrets] : parse_keylog(read_file(path)))
        for (auto& [label, secret] : secrets) lines[label] = random + " " + secret;
    return lines;
}

// ---- tshark -----------------------------------------------------------------------------

TsharkCapture::TsharkCapture(unsigned short port, std::string file)
    : port_(port),
      file_(std::move(file)),
      tshark_({"tshark", "-i", "lo", "-f", "tcp port " + std::to_string(port), "-w", file_, "-P", "-l"}) {
    REQUIRE_MESSAGE(tshark_.wait_for("Capturing on", 15s), "tshark cannot capture on lo:\n" << tshark_.all());
    REQUIRE_MESSAGE(probe_seen(15s), "tshark shows no packets on lo:\n" << tshark_.all());
}

bool TsharkCapture::probe_seen(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        RawClient probe(port_);
        auto syn = std::to_string(probe.local_port()) + " → " + std::to_string(port_) + " [SYN]";
        if (tshark_.wait_for(syn, 500ms)) return true;
    }
    return false;
}

void TsharkCapture::stop() {
    REQUIRE_MESSAGE(probe_seen(10s), "tshark stopped showing packets:\n" << tshark_.all());
    ::kill(tshark_.pid(), SIGINT);  // tshark finishes the file on SIGINT
    REQUIRE_MESSAGE(tshark_.wait(10s) == 0, "tshark failed:\n" << tshark_.all());
}

CommandResult tshark_read(const std::string& file, const std::string& keylog) {
    std::string command = "tshark -r " + file;
    if (!keylog.empty()) command += " -o tls.keylog_file:" + keylog;
    command += " -Y tls -T fields -e tls.handshake.type -e data.text -o data.show_as_text:TRUE";
    auto result = run_command(command, 30s);
    REQUIRE_MESSAGE(result.code == 0, result.output);
    return result;
}

std::vector<std::string> handshake_types(const std::string& tshark_output) {
    std::vector<std::string> types;
    for (const auto& line : lines_of(tshark_output)) {
        std::istringstream cells(line.substr(0, line.find('\t')));
        for (std::string t; std::getline(cells, t, ',');)
            if (!t.empty()) types.push_back(t);
    }
    return types;
}

}  // namespace tlstest
