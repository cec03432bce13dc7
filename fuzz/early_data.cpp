// fuzz/early_data.cpp — a whole chapter 13 server connection driven from bytes, as
// server_handshake.cpp does for chapter 09: handshake() then echo() over a
// tls::MemoryTransport, under tls::guarded(), on an io_context run to completion.
//
// What it adds: everything a client reaches with a pre_shared_key (chapters 12 and 13) —
// offered_psks() and the psk_key_exchange_modes checks, TicketKey::open() on the identities,
// the ticket's age, binder_valid() over the truncated ClientHello, early_data_refusal() and
// the store of used tickets, then, once early data is accepted, read_early_data(): records
// under the client_early_traffic_secret, the max_early_data_size limit, EndOfEarlyData.
//
// The server's ticket key is fixed (fuzz_ticket_key below), so tickets sealed by a chapter 13
// server run with the same key (scripts/fuzz-corpus capture-early-data) open here. Those
// seeds are a client's 0-RTT connection: ClientHello with the ticket and a valid binder, early
// data, EndOfEarlyData — all of which depend only on the ClientHello and the PSK. But a seed's
// ticket is older than the freshness window (§8.3) by the time it runs, and after 7 days
// expired (§4.6.1). So before each run the harness refreshes it (refresh_ticket): if the
// ClientHello's first identity opens under our key, it seals the ticket again as made one
// second ago, sets the age to match, recomputes the binders, and seals again, under the new
// client_early_traffic_secret, every record that followed under the old one. The fuzzer's
// mutations of the ticket's contents, the early data and what follows survive; the crypto is
// repaired, so the server gets as far as a real client's 0-RTT would: read_early_data(),
// EndOfEarlyData, then the client's Finished (which cannot verify: the server's key share is
// fresh). An identity that does not open is left as it is (the "ignore the PSK" path).
//
// A fresh store of used tickets for every input (started at time 0, so §8.2's startup rule
// never refuses): each input is one connection to a server that has seen nothing before.
#include "connection.hpp"
#include "fuzz.hpp"
#include "server_connection.hpp"
#include "transport.hpp"

#include <vector>

// The chapter 13 server: Options, Credentials, handshake(), echo() (in an unnamed namespace).
#pragma GCC diagnostic push
#if !defined(__clang__)  // g++ only (see bench/loadgen.cpp); clang has no such warning
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
#define main ch13_server_main
#include "13-early-data/server.cpp"
#undef main
#pragma GCC diagnostic pop

namespace {

// The key scripts/fuzz-corpus gives `ch13-server --ticket-key` when it captures the seeds:
// 00 01 02 ... 1f.
tls::TicketKey fuzz_ticket_key() {
    tls::Bytes key(tls::TicketKey::key_length);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
    return tls::TicketKey(key);
}

// Loaded once: the server's identity (certs/server-ecdsa.*) and its ticket key.
struct Server {
    Options options;
    Credentials credentials{tls::load_certificate_chain_pem_file(options.cert),
                            tls::PrivateKey::load_pem_file(options.key)};
    tls::Inputs inputs{tls::Role::server};  // fresh randomness, as without --rfc8448
    tls::CookieKey cookie_key;
    tls::TicketKeys ticket_keys{fuzz_ticket_key()};
    Server() {
        options.our_groups = {tls::NamedGroup::x25519, tls::NamedGroup::secp256r1};
        options.allow_psk_ke = true;  // both key exchange modes are reachable
        options.tickets = 1;
    }
};

Server& server() {
    static Server s;
    return s;
}

// The length field of the record header at `at` (the caller checks that 5 bytes are there).
std::size_t record_length(tls::BytesView input, std::size_t at) {
    return std::size_t{input[at + 3]} << 8 | input[at + 4];
}

// The input with its first identity's ticket made fresh (see the top of this file), or as it
// is if its first record is not one whole ClientHello whose first identity opens under our key.
tls::Bytes refresh_ticket(tls::BytesView input, tls::TicketKeys& keys) {
    tls::Bytes unchanged(input.begin(), input.end());
    try {
        if (input.size() < 5 || input[0] != static_cast<std::uint8_t>(tls::ContentType::handshake)) return unchanged;
        const std::size_t first_length = record_length(input, 0);
        if (5 + first_length > input.size()) return unchanged;
        const tls::BytesView first_message = input.subspan(5, first_length);
        auto message = tls::Handshake::decode(first_message);
        if (message.msg_type != tls::HandshakeType::client_hello) return unchanged;
        auto hello = tls::ClientHello::decode(message.body);
        auto offered = hello.pre_shared_key();
        if (!offered || offered->identities.empty()) return unchanged;
        auto state = keys.open(offered->identities.front().identity);
        if (!state) return unchanged;
        const auto& suite = *tls::suite_info(state->cipher_suite);
        const auto old_secret = tls::EarlySecret(suite.hash, state->resumption_psk)
                                    .client_early_traffic_secret(tls::hash(suite.hash, first_message));
        // A ticket made a second ago, received by the client at once.
        state->creation_time_ms = tls::unix_time_ms() - 1000;
        std::vector<tls::PskOffer> offers;
        for (std::size_t i = 0; i < offered->identities.size(); ++i) {
            tls::PskOffer offer{offered->identities[i], suite.hash, state->resumption_psk, tls::PskType::resumption};
            if (i == 0) offer.identity = {keys.seal(*state), tls::obfuscated_ticket_age(1000, state->ticket_age_add)};
            offers.push_back(std::move(offer));
        }
        tls::add_pre_shared_key(hello, offers);
        const auto new_message = tls::encode_handshake(hello);
        if (new_message.size() > tls::max_fragment_length) return unchanged;
        const auto new_secret = tls::EarlySecret(suite.hash, state->resumption_psk)
                                    .client_early_traffic_secret(tls::hash(suite.hash, new_message));
        tls::RecordProtection old_keys(suite.aead, tls::traffic_keys(suite, old_secret));
        tls::RecordProtection new_keys(suite.aead, tls::traffic_keys(suite, new_secret));
        auto out = tls::encode_record(tls::ContentType::handshake, new_message);
        // Then every record the old early keys open, sealed with the new ones (a dummy
        // change_cipher_spec as it is), up to the first that does not open: the rest as it was.
        std::size_t at = 5 + first_length;
        while (at + 5 <= input.size()) {
            const std::size_t length = record_length(input, at);
            if (at + 5 + length > input.size()) break;
            const auto record = input.subspan(at, 5 + length);
            if (input[at] == static_cast<std::uint8_t>(tls::ContentType::change_cipher_spec)) {
                out.insert(out.end(), record.begin(), record.end());
            } else if (input[at] == static_cast<std::uint8_t>(tls::ContentType::application_data)) {
                auto inner = old_keys.try_open(record.first(5), record.subspan(5));
                if (!inner) break;
                auto sealed = new_keys.seal(inner->type, inner->content);
                out.insert(out.end(), sealed.begin(), sealed.end());
            } else {
                break;
            }
            at += 5 + length;
        }
        out.insert(out.end(), input.begin() + static_cast<std::ptrdiff_t>(at), input.end());
        return out;
    } catch (const std::exception&) {
        return unchanged;  // the server will meet whatever was wrong with it
    }
}

// serve_connection() over the transport (a named coroutine: g++ 12 crashes on coroutine lambdas).
asio::awaitable<void> serve(tls::Transport& transport, Server& s, bool& finished) {
    tls::Connection conn(transport, fuzz::server_trace(), tls::Role::server);
    tls::UsedTickets used_tickets(0);
    tls::Bytes early_data;
    if (co_await tls::guarded(conn.records(), handshake(conn, s.options, s.credentials, s.inputs, s.cookie_key,
                                                        s.ticket_keys, used_tickets, early_data)))
        co_await tls::guarded(conn.records(), echo(conn, s.options, early_data, s.inputs.echo_early_data()));
    finished = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& s = server();
    const auto input = refresh_ticket(tls::BytesView(data, size), s.ticket_keys);
    tls::MemoryTransport transport(input);
    bool finished = false;
    fuzz::run_to_end(transport, serve(transport, s, finished), finished);
    return 0;
}
