// fuzz/session_file.cpp — the client's session file (common/session.hpp): what
// `--session-in FILE` reads. Not a peer's bytes, but a file on disk that anything with write
// access to it can change, and that holds keys: a malformed one must be refused with
// std::runtime_error naming the line, never crash or be half-read.
//
// Checks: Session::parse() returns or throws std::runtime_error, nothing else; a session it
// accepts formats to a file that parses to the same session (format() never throws on what
// parse() accepted); take_ticket() on it keeps its promises (an unexpired ticket, one fewer).
#include "fuzz.hpp"
#include "session.hpp"

#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    tls::Session session;
    try {
        session = tls::Session::parse(text, "fuzz input");
    } catch (const std::runtime_error&) {
        return 0;
    }
    const auto again = tls::Session::parse(session.format(), "formatted");
    FUZZ_CHECK(again == session);
    const std::uint64_t now = 1'767'225'600'000;  // 2026-01-01, a fixed clock
    const auto before = session.tickets.size();
    if (auto ticket = session.take_ticket(now)) {
        FUZZ_CHECK(!ticket->expired(now));
        FUZZ_CHECK(session.tickets.size() < before);
    }
    return 0;
}
