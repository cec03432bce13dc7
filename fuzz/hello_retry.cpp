// fuzz/hello_retry.cpp — a whole chapter 10 server connection driven from bytes, as
// server_handshake.cpp does for chapter 09: handshake() then echo() over a
// tls::MemoryTransport, under tls::guarded(), on an io_context run to completion.
//
// The server prefers secp256r1 (--groups secp256r1,x25519), so a ClientHello with only an
// x25519 share gets a HelloRetryRequest and the fuzzer reaches what a client can send after
// one: ClientHello2 (check_second_client_hello), the cookie (CookieKey::open), the change_cipher_spec
// and early data between the two. The first input byte picks the server: even, with state;
// odd, stateless (--hrr-cookie). The rest is the bytes a client sends.
//
// Seeds: the server_handshake seeds (real clients' ClientHellos, RFC 8448's client streams,
// §5 being the HelloRetryRequest trace), each with both first bytes (scripts/fuzz-corpus).
#include "connection.hpp"
#include "fuzz.hpp"
#include "server_connection.hpp"
#include "transport.hpp"


// The chapter 10 server: Options, Credentials, handshake(), echo() (in an unnamed namespace).
#pragma GCC diagnostic push
#if !defined(__clang__)  // g++ only (see bench/loadgen.cpp); clang has no such warning
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
#define main ch10_server_main
#include "10-hello-retry-request/server.cpp"
#undef main
#pragma GCC diagnostic pop

namespace {

// Loaded once: the server's identity (certs/server-ecdsa.*).
struct Server {
    Options options;
    Credentials credentials{tls::load_certificate_chain_pem_file(options.cert),
                            tls::PrivateKey::load_pem_file(options.key)};
    tls::Inputs inputs{tls::Role::server};  // fresh randomness, as without --rfc8448
    tls::CookieKey cookie_key;
    Server() { options.our_groups = {tls::NamedGroup::secp256r1, tls::NamedGroup::x25519}; }
};

Server& server() {
    static Server s;
    return s;
}

// serve_connection() over the transport (a named coroutine: g++ 12 crashes on coroutine lambdas).
asio::awaitable<void> serve(tls::Transport& transport, Server& s, const Options& options, bool& finished) {
    tls::Connection conn(transport, fuzz::server_trace(), tls::Role::server);
    if (co_await tls::guarded(conn.records(), handshake(conn, options, s.credentials, s.inputs, s.cookie_key)))
        co_await tls::guarded(conn.records(), echo(conn));
    finished = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& s = server();
    Options options = s.options;
    options.hrr_cookie = (data[0] & 1) != 0;
    tls::MemoryTransport transport(tls::BytesView(data + 1, size - 1));
    bool finished = false;
    fuzz::run_to_end(transport, serve(transport, s, options, finished), finished);
    return 0;
}
