// Chapter 11 — KeyUpdate (RFC 8446 §4.6.3, §7.2, §5.1, §5.5), server side.
// The chapter 10 server, plus one step after the handshake: a KeyUpdate from the client moves
// our reading to the next generation of its keys (and, if it asks, we update ours too), and
// with --key-update-every N we update our own write keys every N records we echo. We also
// update before our AEAD's §5.5 limit. Before: HelloRetryRequest (chapter 10) when the client
// sent no key share for our preferred group; --hrr-cookie makes that retry stateless.
#include "connection.hpp"
#include "cookie.hpp"
#include "handshake_steps.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "rfc8448.hpp"

namespace {

struct Options : tls::ServerOptions {
    std::string keylog;
    std::string cert = tls::repo_path("certs/server-ecdsa.pem");
    std::string key = tls::repo_path("certs/server-ecdsa.key");
    int handshake_timeout = 10;  // seconds
    std::vector<std::string> groups = {"x25519", "secp256r1"};  // ours, most preferred first (--groups)
    std::vector<tls::NamedGroup> our_groups;                    // the same, parsed in main()
    bool hrr_cookie = false;
    std::uint64_t key_update_every = 0;  // records we echo between our KeyUpdates; 0: only at §5.5's limit
};

// The server's identity, loaded once at start.
struct Credentials {
    std::vector<tls::Bytes> chain;  // DER, leaf first
    tls::PrivateKey key;
};

// What the server has decided for this connection.
struct Negotiated {
    tls::CipherSuite cipher_suite{};
    tls::NamedGroup group{};                         // the group we chose
    std::optional<tls::KeyShareEntry> client_share;  // the client's share for it, if it sent one
    tls::SignatureScheme signature_scheme{};
};

// Our preference order; the first we implement that the client also offers wins.
// RFC8446 9.1-1, D.5-2, D.5-3
constexpr tls::CipherSuite our_cipher_suites[] = {tls::CipherSuite::TLS_AES_128_GCM_SHA256,
                                                  tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                                                  tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};

void check_client_hello(const tls::ClientHello& hello) {
    // RFC8446 D.5-10
    // Appendix D.5: "Any endpoint receiving a Hello message with ClientHello.legacy_version
    // or ServerHello.legacy_version set to 0x0300 MUST abort the handshake with a
    // "protocol_version" alert" — whatever supported_versions says. (Lower values are SSL 2.)
    if (hello.legacy_version <= 0x0300)
        throw tls::AlertError(tls::AlertDescription::protocol_version,
                              fmt::format("legacy_version {:04x}: SSL 3.0 or older (Appendix D.5)", hello.legacy_version));
    // RFC8446 4.2.1-3, 4.2.1-6
    // §4.2.1: a TLS 1.3 ClientHello MUST carry supported_versions; without 0x0304
    // in it, the client is not offering TLS 1.3 and we offer nothing older.
    auto versions = hello.supported_versions();
    // RFC8446 4.2.1-4, D.2-1, D.2-3, D.5-4, D.5-5
    if (!versions || std::find(versions->begin(), versions->end(), tls::TLS1_3) == versions->end())
        throw tls::AlertError(tls::AlertDescription::protocol_version, "the client does not offer TLS 1.3");
    // ANCHOR: mandatory_extensions
    // RFC8446 9.2-10, 9.2-11, 9.2-12
    // RFC8446 9.2-9
    // §9.2: "If not containing a "pre_shared_key" extension, it MUST contain both a
    // "signature_algorithms" extension and a "supported_groups" extension. If containing a
    // "supported_groups" extension, it MUST also contain a "key_share" extension, and vice
    // versa. [...] Servers receiving a ClientHello which does not conform to these
    // requirements MUST abort the handshake with a "missing_extension" alert."
    using tls::ExtensionType;
    if (!hello.has_extension(ExtensionType::pre_shared_key) &&
        (!hello.has_extension(ExtensionType::signature_algorithms) || !hello.has_extension(ExtensionType::supported_groups)))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "no pre_shared_key, so signature_algorithms and supported_groups are required (§9.2)");
    if (hello.has_extension(ExtensionType::supported_groups) != hello.has_extension(ExtensionType::key_share))
        throw tls::AlertError(tls::AlertDescription::missing_extension,
                              "supported_groups and key_share must come together (§9.2)");
    // ANCHOR_END: mandatory_extensions
    // RFC8446 4.1.2-13, 4.1.2-14
    // §4.1.2: "legacy_compression_methods ... MUST contain exactly one byte, set to zero".
    if (hello.legacy_compression_methods != tls::Bytes{0})
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "legacy_compression_methods must be [0]");
    // §4.2.8: every KeyShareEntry must be for a group offered in supported_groups.
    tls::check_key_shares_match_supported_groups(hello);
}

// ANCHOR: choose_signature_scheme
// §4.2.3 / §4.4.2.2: sign with a scheme the client offered in signature_algorithms
// and that fits our key; with none in common the handshake cannot go on.
tls::SignatureScheme choose_signature_scheme(const tls::ClientHello& hello, const tls::PrivateKey& key) {
    auto offered = hello.signature_algorithms();
    // RFC8446 4.2.3-3
    if (!offered) throw tls::AlertError(tls::AlertDescription::missing_extension, "no signature_algorithms (§4.2.3)");
    // RFC8446 4.2.3-1, 4.4.2.2-2, 4.4.3-6
    for (auto scheme : key.schemes())
        if (std::find(offered->begin(), offered->end(), scheme) != offered->end()) return scheme;
    throw tls::AlertError(tls::AlertDescription::handshake_failure,
                          "the client offers no signature scheme for our " + key.algorithm() + " key");
}
// ANCHOR_END: choose_signature_scheme

// ANCHOR: negotiate
// §4.1.1: pick a cipher suite both sides have, a signature scheme for our key, and a
// group: the first of ours (--groups, in our order of preference) that the client lists in
// supported_groups. Without any one of them there is nothing to agree on. If the client sent
// no key share for that group, client_share stays empty and we will ask for one (§4.1.4).
//
// Our order wins even when the client did send a share for another group we could use:
// that costs a round trip, and buys the group we prefer (GnuTLS does the same with
// %SERVER_PRECEDENCE; OpenSSL takes any share it can use). It is also what lets
// `./scripts/run 10 -- --groups secp256r1,x25519 --key-shares x25519` show a retry.
// RFC8446 2.1-1, 4.1.1-1, 4.1.1-3, 4.1.1-4, 4.1.2-11
// RFC8446 9.3-4, 9.3-2, B.3.1.4-1
// What we do not know in the client's lists (GREASE, suites and groups of other versions or
// drafts) is never matched: we only ever look for our own values in them.
Negotiated negotiate(const tls::ClientHello& hello, const tls::PrivateKey& key,
                     const std::vector<tls::NamedGroup>& our_groups) {
    Negotiated n;
    auto suite = std::find_first_of(std::begin(our_cipher_suites), std::end(our_cipher_suites),
                                    hello.cipher_suites.begin(), hello.cipher_suites.end());
    if (suite == std::end(our_cipher_suites))
        throw tls::AlertError(tls::AlertDescription::handshake_failure, "no cipher suite in common");
    n.cipher_suite = *suite;
    n.signature_scheme = choose_signature_scheme(hello, key);

    auto offered = hello.supported_groups().value_or(std::vector<tls::NamedGroup>{});
    auto shares = hello.key_share().value_or(std::vector<tls::KeyShareEntry>{});
    for (auto group : our_groups) {
        if (std::find(offered.begin(), offered.end(), group) == offered.end()) continue;
        n.group = group;
        for (auto& share : shares)
            if (share.group == group) n.client_share = share;
        return n;
    }
    throw tls::AlertError(tls::AlertDescription::handshake_failure, "no group in common");
}
// ANCHOR_END: negotiate


// ANCHOR: send_server_hello
// §4.1.3: our random, our choices, and our own key share for the chosen group.
asio::awaitable<tls::Bytes> send_server_hello(tls::Connection& conn, const tls::ClientHello& client_hello,
                                              const Negotiated& n, const tls::Random& random,
                                              const tls::KeyPair& our_share) {
    // RFC8446 4.1.3-1, 4.2.1-9
    tls::ServerHello hello;
    // RFC8446 4.1.3-2, 4.1.3-3
    // §4.1.3: 32 bytes from the system's random generator (Inputs::random), drawn for this
    // ServerHello alone, nothing taken from ClientHello.random. We never negotiate TLS 1.2 or
    // 1.1, so no bytes are overwritten. (--rfc8448 replays the RFC's random instead.)
    hello.random = random;
    hello.legacy_session_id_echo = client_hello.legacy_session_id;  // §4.1.3: echoed as sent
    hello.cipher_suite = n.cipher_suite;
    hello.extensions = {
        // RFC8446 4.1.3-7, 4.2.8-8, 4.2.8-9, 9.2-6, 2-1
        tls::make_key_share_server({n.group, our_share.public_key}),  // §4.2.8
        // RFC8446 4.1.3-8, 4.2.1-8, 9.2-3
        tls::make_supported_versions_server(tls::TLS1_3),  // §4.2.1: "this is TLS 1.3"
    };
    co_return co_await conn.write(hello);
}
// ANCHOR_END: send_server_hello

// ANCHOR: send_hello_retry_request
// §4.1.4: "The server will send this message in response to a ClientHello message if it is
// able to find an acceptable set of parameters but the ClientHello does not contain
// sufficient information to proceed with the handshake." A HelloRetryRequest is a ServerHello
// whose random is SHA-256("HelloRetryRequest") (§4.1.3), with our suite, the group we want a
// share for (§4.2.8), supported_versions, and, for a stateless retry, a cookie (§4.2.2).
// RFC8446 4.1.4-2
tls::ServerHello hello_retry_request(const tls::ClientHello& client_hello, tls::CipherSuite suite,
                                     tls::NamedGroup selected_group, const std::optional<tls::Bytes>& cookie) {
    tls::ServerHello hrr;
    hrr.random = tls::hello_retry_request_random;
    hrr.legacy_session_id_echo = client_hello.legacy_session_id;
    hrr.cipher_suite = suite;
    // RFC8446 4.1.4-1, 4.1.4-3, 4.2-1
    hrr.extensions = {tls::make_key_share_hrr(selected_group)};
    if (cookie) hrr.extensions.push_back(tls::make_cookie(*cookie));
    hrr.extensions.push_back(tls::make_supported_versions_server(tls::TLS1_3));
    return hrr;
}
// ANCHOR_END: send_hello_retry_request

// ANCHOR: check_second_client_hello
// §4.1.2: after a HelloRetryRequest, "the client MUST send the same ClientHello without
// modification, except as follows": key_share becomes "a list containing a single
// KeyShareEntry from the indicated group"; "early_data" is removed ("Early data is not
// permitted after a HelloRetryRequest"); the cookie is added; pre_shared_key may be updated;
// padding may come, go or change. Anything else changed is an illegal_parameter. A new order
// of the same extensions counts as a change: the RFC says "the same ClientHello", and the
// clients we know (OpenSSL, GnuTLS, curl, Chromium) keep their order.
// RFC8446 4.1.2-2
void check_second_client_hello(const tls::ClientHello& first, const tls::ClientHello& second,
                               tls::NamedGroup selected_group, const std::optional<tls::Bytes>& cookie) {
    auto fail = [](const std::string& why) {
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2: " + why + " (§4.1.2)");
    };
    if (second.legacy_version != first.legacy_version || second.random != first.random ||
        second.legacy_session_id != first.legacy_session_id || second.cipher_suites != first.cipher_suites ||
        second.legacy_compression_methods != first.legacy_compression_methods)
        fail("a field of ClientHello1 changed");
    auto shares = second.key_share();
    if (!shares || shares->size() != 1 || shares->front().group != selected_group)
        fail("key_share must hold exactly one share, for " + name(selected_group));
    if (second.has_extension(tls::ExtensionType::early_data)) fail("early_data after a HelloRetryRequest");
    if (second.cookie() != cookie) fail(cookie ? "the cookie is not the one we sent" : "a cookie we did not send");
    // The rest, in order: what may change is compared by type only, what may come and go not at all.
    using T = tls::ExtensionType;
    auto unchanged_part = [](const tls::ClientHello& hello) {
        std::vector<tls::Extension> kept;
        for (const auto& e : hello.extensions) {
            if (e.extension_type == T::padding || e.extension_type == T::cookie || e.extension_type == T::early_data)
                continue;
            if (e.extension_type == T::key_share || e.extension_type == T::pre_shared_key)
                kept.push_back({e.extension_type, {}});
            else
                kept.push_back(e);
        }
        return kept;
    };
    if (unchanged_part(first) != unchanged_part(second)) fail("its extensions changed");
}
// ANCHOR_END: check_second_client_hello

// ANCHOR: after_hello_retry_request
// RFC8446 D.4-1
// Appendix D.4: in compatibility mode, "The server sends a dummy change_cipher_spec record
// immediately after its first handshake message. This may either be after a ServerHello or a
// HelloRetryRequest."
asio::awaitable<void> after_hello_retry_request(tls::Connection& conn, const tls::ClientHello& first) {
    if (!first.legacy_session_id.empty()) co_await conn.records().write_change_cipher_spec();
}
// ANCHOR_END: after_hello_retry_request

// ANCHOR: retry_with_state
// §4.4.1: after a HelloRetryRequest, "the value of ClientHello1 is replaced with a special
// synthetic handshake message of handshake type "message_hash" containing Hash(ClientHello1)".
// We keep ClientHello1 itself, to check what ClientHello2 changed.
asio::awaitable<tls::ClientHello> retry_with_state(tls::Connection& conn, const tls::ClientHello& first,
                                                   const Negotiated& n, tls::TranscriptHash& transcript,
                                                   const tls::Inputs& inputs) {
    // --rfc8448 hrr: the RFC's server put a cookie in its HelloRetryRequest, opaque bytes that
    // only it can read. Ours cannot, so it keeps its state here as always, sends those bytes,
    // and checks only that ClientHello2 echoes them (§4.2.2). Otherwise: no cookie.
    const auto cookie = inputs.hello_retry_cookie();
    transcript.restart_with_message_hash();
    transcript.update(co_await conn.write(hello_retry_request(first, n.cipher_suite, n.group, cookie)));
    co_await after_hello_retry_request(conn, first);
    auto [second, second_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(second);
    inputs.check_client_hello(conn.trace(), second_raw, /*second=*/true);  // --rfc8448 hrr: the RFC's
    check_second_client_hello(first, second, n.group, cookie);
    transcript.update(second_raw);
    co_return second;
}
// ANCHOR_END: retry_with_state

// ANCHOR: retry_without_state
// §4.2.2: "When a server is operating statelessly, it may receive an unprotected record of type
// change_cipher_spec between the first and second ClientHello". What we would keep — our suite,
// the group, Hash(ClientHello1) — goes into the cookie, sealed with a key only we have; from
// ClientHello2 on we work from the cookie the client echoes. The price: with ClientHello1
// forgotten, we can no longer check that nothing else in ClientHello2 changed (§4.1.2).
// `n` holds what the HelloRetryRequest asks for; on return, what the cookie says it asked for.
asio::awaitable<tls::ClientHello> retry_without_state(tls::Connection& conn, const tls::ClientHello& first,
                                                      Negotiated& n, tls::TranscriptHash& transcript,
                                                      const tls::CookieKey& cookie_key) {
    tls::HelloRetryState kept;
    kept.cipher_suite = n.cipher_suite;
    kept.selected_group = n.group;
    kept.client_hello1_hash = transcript.current();
    kept.issued_ms = tls::unix_time_ms();
    auto cookie = cookie_key.seal(kept);
    conn.trace().value("cookie", fmt::format("{} bytes: suite, group, time, Hash(ClientHello1), HMAC", cookie.size()));
    co_await conn.write(hello_retry_request(first, n.cipher_suite, n.group, cookie));
    co_await after_hello_retry_request(conn, first);

    // From here on, `first`, `kept` and `n` are not read: all we know comes from the client.
    auto [second, second_raw] = co_await conn.read<tls::ClientHello>();
    check_client_hello(second);
    auto echoed = second.cookie();
    if (!echoed) throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2 has no cookie (§4.2.2)");
    auto state = cookie_key.open(*echoed, tls::unix_time_ms());
    if (!state)
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "the cookie is not ours, altered or too old");
    auto shares = second.key_share();
    if (!shares || shares->size() != 1 || shares->front().group != state->selected_group)
        throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                              "ClientHello2: key_share must hold exactly one share, for " + tls::name(state->selected_group));
    if (second.has_extension(tls::ExtensionType::early_data))
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ClientHello2: early_data after a HelloRetryRequest");
    n.cipher_suite = state->cipher_suite;  // what we asked for, as the cookie remembers it
    n.group = state->selected_group;
    // The transcript, rebuilt: message_hash(Hash(ClientHello1)), the HelloRetryRequest made
    // again from the cookie (the same bytes we sent), ClientHello2.
    transcript.restart_with_message_hash(state->client_hello1_hash);
    transcript.update(tls::encode_handshake(
        hello_retry_request(second, state->cipher_suite, state->selected_group, *echoed)));
    transcript.update(second_raw);
    co_return second;
}
// ANCHOR_END: retry_without_state


// ANCHOR: send_certificate
// §4.4.2: the chain, leaf first, each certificate as a CertificateEntry.
asio::awaitable<tls::Bytes> send_certificate(tls::Connection& conn, const Credentials& credentials) {
    // RFC8446 4.4.2-5
    tls::Certificate certificate;  // certificate_request_context is empty in a server's Certificate
    for (auto& der : credentials.chain) {
        certificate.certificate_list.push_back({der, {}});
        conn.trace().value("certificate", [&] { return tls::describe_certificate(der); });  // parsed only if printed
    }
    co_return co_await conn.write(certificate);
}
// ANCHOR_END: send_certificate

// ANCHOR: send_certificate_verify
// §4.4.3: a signature over Transcript-Hash(ClientHello ... Certificate), wrapped so
// it can never be mistaken for a signature made in another context.
// RSA-PSS takes a fresh random salt; with --rfc8448 the one in the RFC's signature (rfc8448.hpp).
asio::awaitable<tls::Bytes> send_certificate_verify(tls::Connection& conn, const Credentials& credentials,
                                                    tls::SignatureScheme scheme, const tls::TranscriptHash& transcript,
                                                    const tls::Inputs& inputs) {
    auto content = tls::certificate_verify_content(/*server=*/true, transcript.current());
    tls::CertificateVerify verify{scheme, credentials.key.sign(scheme, content, inputs.pss_salt(scheme))};
    co_return co_await conn.write(verify);
}
// ANCHOR_END: send_certificate_verify

// RFC8446 4.1.2-3
// ANCHOR: post_handshake
// §4.6: after the handshake a client may still send handshake messages. We take KeyUpdate
// (§4.6.3); anything else is an unexpected_message. A KeyUpdate must end its record (§5.1).
asio::awaitable<void> handle_post_handshake(tls::Connection& conn, const tls::TLSPlaintext& record,
                                            tls::HandshakeReader& reader) {
    reader.feed(record.fragment);
    while (auto message = reader.next()) {
        if (message->msg_type != tls::HandshakeType::key_update)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "post-handshake " + tls::message_name(message->msg_type) + " from a client");
        auto update = tls::KeyUpdate::decode(message->body);  // a bad request_update: illegal_parameter
        conn.trace().message(tls::Direction::receive, "KeyUpdate", update.describe(), message->raw);
        co_await conn.receive_key_update(update, reader);
    }
}
// ANCHOR_END: post_handshake

// ANCHOR: echo
// §5: application data, protected with the application traffic keys, until the client's
// close_notify, which we answer with our own (§6.1). Between records, the KeyUpdates.
asio::awaitable<void> echo(tls::Connection& conn, const Options& options) {
    std::size_t total = 0;
    std::uint64_t since_update = 0;
    tls::HandshakeReader post_handshake;
    while (auto record = co_await conn.records().read_record()) {
        if (record->type == tls::ContentType::handshake) {
            co_await handle_post_handshake(conn, *record, post_handshake);
            continue;
        }
        if (record->type != tls::ContentType::application_data)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  fmt::format("unexpected {} record after the handshake", name(record->type)));
        total += record->fragment.size();
        conn.trace().value("echo", fmt::format("{} bytes", record->fragment.size()));
        co_await conn.records().write_records(tls::ContentType::application_data, record->fragment);
        // ANCHOR: start_key_update
        // Our own KeyUpdate: every --key-update-every records, and always before the §5.5 limit
        // of our AEAD. We ask the client to update too (update_requested), as OpenSSL's "K" does.
        ++since_update;
        if ((options.key_update_every != 0 && since_update >= options.key_update_every) ||
            conn.records().write_keys_at_limit()) {
            since_update = 0;
            co_await conn.send_key_update(tls::KeyUpdateRequest::update_requested);
        }
        // ANCHOR_END: start_key_update
    }
    if (conn.records().received_close_notify()) {
        co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        conn.trace().result(fmt::format("connection closed cleanly after echoing {} bytes", total));
    } else {
        // §6.1: without close_notify we cannot tell an ending from an attacker's cut.
        conn.trace().error(fmt::format("the client closed without close_notify: possible truncation after {} bytes", total));
    }
}
// ANCHOR_END: echo

// ANCHOR: handshake
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const Credentials& credentials,
                                const tls::Inputs& inputs, const tls::CookieKey& cookie_key) {
    auto [client_hello, client_hello_raw] = co_await conn.read<tls::ClientHello>();
    conn.records().allow_compatibility_ccs(true);  // §5: any time after the first ClientHello
    check_client_hello(client_hello);
    inputs.check_client_hello(conn.trace(), client_hello_raw);  // --rfc8448 answers only the RFC's
    // ANCHOR: decline_early_data
    // §4.2.10: a client resuming a session may send early data right after its ClientHello.
    // We take no pre-shared key, so we take no early data either: we "ignore the extension
    // and return a regular 1-RTT response", and skip the early data records, which will
    // not decrypt with the handshake keys.
    if (client_hello.has_extension(tls::ExtensionType::early_data)) {
        conn.trace().step("the client offers early data: declined, and skipped when it arrives (§4.2.10)");
        conn.records().skip_early_data(tls::max_skipped_early_data);
    }
    // ANCHOR_END: decline_early_data
    auto negotiated = negotiate(client_hello, credentials.key, options.our_groups);
    // §4.4.1: the suite's hash runs over every handshake message, in order.
    const auto& suite = *tls::suite_info(negotiated.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    transcript.update(client_hello_raw);

    // ANCHOR: hello_retry
    bool sent_change_cipher_spec = false;
    if (!negotiated.client_share) {
        conn.trace().step(fmt::format("the client sent no key share for {}: we ask for one (§4.1.4)", name(negotiated.group)));
        auto asked = negotiated;  // what we ask for (a stateless retry takes it back from the cookie)
        if (options.hrr_cookie)
            client_hello = co_await retry_without_state(conn, client_hello, asked, transcript, cookie_key);
        else
            client_hello = co_await retry_with_state(conn, client_hello, asked, transcript, inputs);
        sent_change_cipher_spec = !client_hello.legacy_session_id.empty();  // after_hello_retry_request sent it
        // The same choices as before, now with the share we asked for (§4.1.4).
        negotiated = negotiate(client_hello, credentials.key, options.our_groups);
        // RFC8446 4.1.4-9
        if (negotiated.cipher_suite != asked.cipher_suite || negotiated.group != asked.group || !negotiated.client_share)
            throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                                  "ClientHello2 does not give what the HelloRetryRequest asked for (§4.1.4)");
    }
    // ANCHOR_END: hello_retry
    conn.trace().value("negotiated", fmt::format("{}, {}, {}", name(negotiated.cipher_suite), name(negotiated.group),
                                                 name(negotiated.signature_scheme)));

    auto our_share = inputs.key_share(negotiated.group);  // fresh, or the RFC's (--rfc8448)
    // §7.4: both sides will hold the same secret, though it never crosses the wire.
    // Computed before answering, so a bad client share (§7.4.2) gets only an alert.
    auto shared = tls::shared_secret(negotiated.group, our_share.private_key, negotiated.client_share->key_exchange);
    conn.trace().value("shared_secret", shared);
    // The whole flight, ServerHello through Finished, leaves in one TCP write.
    conn.records().hold_writes();
    transcript.update(co_await send_server_hello(conn, client_hello, negotiated, inputs.random(), our_share));
    tls::KeyLog keylog(options.keylog);
    // §7.1: no PSK, so the Early Secret is HKDF-Extract(0, 0).
    tls::EarlySecret early(suite.hash);
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, keylog, client_hello.random);

    // ANCHOR: protect
    // Appendix D.4: in middlebox compatibility mode, which the client asks for with a non-empty
    // legacy_session_id, a dummy change_cipher_spec right after ServerHello makes the handshake
    // look like a TLS 1.2 resumption to middleboxes. (RFC 8448 §3 is the trace without it.)
    // Only one: after a HelloRetryRequest it went out right behind that (Appendix D.4).
    // RFC8446 D.4-1
    if (!client_hello.legacy_session_id.empty() && !sent_change_cipher_spec)
        co_await conn.records().write_change_cipher_spec();
    // §5.2: from here on, records are protected with the handshake traffic keys.
    conn.install(suite, keys.server_handshake_traffic_secret);  // what we send
    conn.install(suite, keys.client_handshake_traffic_secret);  // what the client sends
    // ANCHOR_END: protect

    // §4.3.1: the extensions that need no key exchange, now hidden from eavesdroppers.
    // RFC8446 4.3.1-1
    tls::EncryptedExtensions encrypted_extensions{inputs.encrypted_extensions()};  // ours: none yet
    transcript.update(co_await conn.write(encrypted_extensions));

    // RFC8446 4-1, 4.4.2-1, 4.4.3-1, 4.4.3-3
    transcript.update(co_await send_certificate(conn, credentials));
    transcript.update(co_await send_certificate_verify(conn, credentials, negotiated.signature_scheme, transcript, inputs));
    transcript.update(co_await tls::send_finished(conn, keys.server_handshake_traffic_secret, transcript));
    co_await conn.records().flush();

    // ANCHOR: switch_to_application_keys
    // §7.1: the server may send application data right after its Finished, so its
    // application keys come now; it reads the client's Finished with handshake keys.
    auto app_keys = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, keylog,
                                                    client_hello.random);
    // RFC8446 4.4.4-2
    conn.install(suite, app_keys.server_application_traffic_secret_0);
    // RFC8446 4.4.4-1
    co_await tls::read_finished(conn, keys.client_handshake_traffic_secret, transcript);
    conn.install(suite, app_keys.client_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);  // Appendix D.4: only before the peer's Finished
    // ANCHOR_END: switch_to_application_keys
    conn.trace().result(fmt::format("handshake complete: {}, {}, {}", name(negotiated.cipher_suite),
                                    name(negotiated.group), name(negotiated.signature_scheme)));
}
// ANCHOR_END: handshake

asio::awaitable<void> serve_connection(const Options& options, const Credentials& credentials, const tls::Inputs& inputs,
                                       const tls::CookieKey& cookie_key, tls::tcp::socket socket, tls::Trace& trace) {
    tls::Connection conn(socket, trace, tls::Role::server);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    // ANCHOR: serve
    // A client that stalls mid-handshake is cut off after --handshake-timeout seconds;
    // every connection has its own coroutine, so the others never wait for it.
    tls::Watchdog watchdog(socket, std::chrono::seconds(options.handshake_timeout), trace);
    // RFC8446 2-2, 5.1-15
    // No application data before our Finished, nor before our application keys: the echo
    // starts only once handshake() has sent the one and installed the others.
    // RFC8446 6-3
    // A failed connection forgets its keys and secrets when this coroutine returns: they all
    // live in `conn` and in the handshake's coroutine frame, and are zeroed as they are freed
    // (Secret is a Botan::secure_vector). Nothing of it outlives the connection.
    if (!co_await tls::guarded(conn.records(), handshake(conn, options, credentials, inputs, cookie_key))) co_return;
    watchdog.disarm();
    co_await tls::guarded(conn.records(), echo(conn, options));
    // ANCHOR_END: serve
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 11 server: a TLS 1.3 echo server that takes and makes KeyUpdates."};
    tls::add_options(app, options);
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    app.add_option("--cert", options.cert, "PEM file: our certificate first, then any intermediates")->capture_default_str();
    app.add_option("--key", options.key, "PKCS#8 PEM file: the certificate's private key")->capture_default_str();
    app.add_option("--handshake-timeout", options.handshake_timeout, "Seconds a client may take to finish the handshake")
        ->capture_default_str();
    app.add_option("--groups", options.groups, "Groups we accept, most preferred first (x25519, secp256r1)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}))
        ->capture_default_str();
    app.add_flag("--hrr-cookie", options.hrr_cookie,
                 "Stateless HelloRetryRequest: put what we would keep in a cookie and forget it (§4.2.2)");
    app.add_option("--key-update-every", options.key_update_every,
                   "Send a KeyUpdate (update_requested) after every N records we echo (0: only at the §5.5 limit)");
    tls::Inputs inputs(tls::Role::server);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs, {"--cert", "--key", "--key-update-every", "--groups", "--hrr-cookie"},
                            {"hrr"});
    CLI11_PARSE(app, argc, argv);
    if (auto rfc = inputs.rfc8448()) {  // the RFC's server: its RSA certificate and key, its groups
        options.cert = rfc->certificate_file;
        options.key = rfc->key_file;
        options.groups = rfc->server_groups;  // §5's prefers P-256: a HelloRetryRequest for it
    }
    Credentials credentials{tls::load_certificate_chain_pem_file(options.cert), tls::PrivateKey::load_pem_file(options.key)};
    for (auto& g : options.groups) options.our_groups.push_back(tls::group_from_name(g));
    const tls::CookieKey cookie_key;  // a fresh key: our cookies are good for this process only
    return tls::serve(options, [&](tls::tcp::socket socket, tls::Trace& trace) {
        return serve_connection(options, credentials, inputs, cookie_key, std::move(socket), trace);
    });
}
