// fuzz/server_connection.hpp — what the whole-server targets share (server_handshake.cpp,
// hello_retry.cpp): the trace they format into, and running one connection to its end.
#pragma once

#include "fuzz.hpp"
#include "record.hpp"
#include "trace.hpp"
#include "transport.hpp"

#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace fuzz {

// A trace that formats every message, as a chapter does without --quiet, into /dev/null (or
// onto standard error with TLS_FUZZ_TRACE=1 in the environment, to watch what one input does).
inline tls::Trace& server_trace() {
    static std::FILE* out = std::getenv("TLS_FUZZ_TRACE") ? stderr : std::fopen("/dev/null", "w");
    static tls::Trace trace{tls::TraceOptions{}, out};
    return trace;
}

// Runs `connection` (the server's flow over `transport`, setting `finished` at its end) on an
// io_context to completion. No exception may escape tls::guarded() — libFuzzer reports one
// that does — the run must end (the input is finite), and what the server wrote must be whole
// records, none over the TLSCiphertext limit.
inline void run_to_end(const tls::MemoryTransport& transport, asio::awaitable<void> connection, const bool& finished) {
    asio::io_context io;
    asio::co_spawn(io, std::move(connection), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    FUZZ_CHECK(finished);
    tls::RecordReader written;
    written.set_max_length(tls::max_encrypted_fragment_length);
    written.feed(transport.written());
    while (written.next()) {
    }
    FUZZ_CHECK(written.buffered() == 0);
}

}  // namespace fuzz
