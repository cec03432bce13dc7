// fuzz/server_handshake.cpp — a whole chapter 09 server connection driven from bytes: the
// server's handshake() and then echo(), over a tls::MemoryTransport (common/transport.hpp)
// whose input is the fuzz input, on an io_context run to completion. No sockets.
//
// The chapter's source is compiled in (its main() renamed), as bench/loadgen.cpp does with
// the chapter 09 client, so every step below is chapters/09-application-data/server.cpp's
// own code: read_client_hello ... read_finished, then the echo loop, each under
// tls::guarded() exactly as serve_connection() runs them (less the Watchdog, which needs a
// socket; a MemoryTransport never stalls).
//
// Checks beyond the sanitizers: no exception escapes guarded() (every failure becomes an
// alert or a quiet close), the run ends (the input is finite, so the stream ends), and
// everything the server wrote is whole, well-formed records.
//
// Input: the bytes a client sends. Seeds: the records carrying the ClientHellos of OpenSSL,
// GnuTLS, curl and Chromium (scripts/fuzz-corpus). The server's random and key share are
// fresh for every run, so nothing after its ServerHello can be predicted: a client
// Finished in the input never verifies, and the fuzzer reaches read_finished's failure but
// not echo() with real data. Going further needs a deterministic mode (a fixed random and
// key share for the server, as RFC 8448's traces use), which the lead may add to
// crypto.*; with it, RFC 8448 §3's client records would become seeds that get through.
#include "connection.hpp"
#include "fuzz.hpp"
#include "server_connection.hpp"
#include "transport.hpp"


// The chapter 09 server: Options, Credentials, handshake(), echo() (in an unnamed namespace).
#pragma GCC diagnostic push
#if !defined(__clang__)  // g++ only (see bench/loadgen.cpp); clang has no such warning
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
#define main ch09_server_main
#include "09-application-data/server.cpp"
#undef main
#pragma GCC diagnostic pop

namespace {

// Loaded once: the server's identity (certs/server-ecdsa.*).
struct Server {
    Options options;
    Credentials credentials{tls::load_certificate_chain_pem_file(options.cert),
                            tls::PrivateKey::load_pem_file(options.key)};
    tls::Inputs inputs{tls::Role::server};  // fresh randomness, as without --rfc8448
};

Server& server() {
    static Server s;
    return s;
}

// serve_connection() over the transport (a named coroutine: g++ 12 crashes on coroutine lambdas).
asio::awaitable<void> serve(tls::Transport& transport, Server& s, bool& finished) {
    tls::Connection conn(transport, fuzz::server_trace(), tls::Role::server);
    if (co_await tls::guarded(conn.records(), handshake(conn, s.options, s.credentials, s.inputs)))
        co_await tls::guarded(conn.records(), echo(conn));
    finished = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& s = server();
    tls::MemoryTransport transport(tls::BytesView(data, size));
    bool finished = false;
    fuzz::run_to_end(transport, serve(transport, s, finished), finished);
    return 0;
}
