// Chapter 14 — Client certificates (RFC 8446 §4.3.2, §4.4.2, §4.4.3), client side.
// The chapter 13 client, plus one step in a full handshake: a server may ask who we are with a
// CertificateRequest. With --cert and --key we answer, after its Finished, with our Certificate
// and a CertificateVerify signed with the client's context string; without them, with an empty
// Certificate, which is how a client says "I have none" (§4.4.2) — the server then decides.
// Before: 0-RTT (chapter 13), resumption (chapter 12), KeyUpdate (11), HelloRetryRequest (10).
#include "connection.hpp"
#include "handshake_steps.hpp"
#include "console.hpp"
#include "key_exchange.hpp"
#include "key_schedule.hpp"
#include "keylog.hpp"
#include "paths.hpp"
#include "psk.hpp"
#include "rfc8448.hpp"
#include "session.hpp"

#include <fstream>
#include <iterator>

#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>

namespace {

struct Options : tls::ClientOptions {
    std::string server_name = "localhost";
    std::vector<std::string> groups = {"x25519", "secp256r1"};  // offered in supported_groups
    std::vector<std::string> key_shares;  // groups we send a share for at once; default: the first of groups
    std::string keylog;
    std::string ca = tls::repo_path("certs/ca.pem");
    std::optional<std::string> message;
    int repeat = 3;                      // --message: how many times, one record each
    std::uint64_t key_update_every = 0;  // records we send between our KeyUpdates; 0: never
    std::string session_in;              // a session file to resume from (one of its tickets)
    std::string session_out;             // where to save the tickets the server sends
    bool reconnect = false;              // connect again, resuming with a ticket just received
    std::vector<std::string> psk_modes = {"psk_dhe_ke"};  // offered in psk_key_exchange_modes (§4.2.9)
    std::string early_data;              // sent as 0-RTT data when a ticket allows it, else after the handshake
    bool replay = false;                 // send the last 0-RTT ClientHello and early data again (§8)
    std::string cert;                    // our certificate chain (PEM), for a server that asks; empty: none
    std::string key;                     // its private key
    std::vector<tls::Bytes> client_chain;     // --cert, loaded in main() (--rfc8448 client-auth: the RFC's)
    std::optional<tls::PrivateKey> client_key;  // --key, loaded in main() (--rfc8448 client-auth: none)
};

// ANCHOR: FirstFlight
// What we sent first on a connection that offered early data: ClientHello (and the key shares
// behind it), then the early data under keys that depend only on that ClientHello and the PSK.
// Sent again unchanged, it is byte for byte what an attacker who recorded it could replay (§8):
// --replay does exactly that. Unlike the attacker, we hold the private keys, so the handshake can
// still complete.
struct FirstFlight {
    tls::ClientHello client_hello;
    std::vector<std::pair<tls::NamedGroup, tls::KeyPair>> shares;
    tls::TakenTicket ticket;
};
// ANCHOR_END: FirstFlight

// The line that, in stdin mode, sends a KeyUpdate instead of data (as "K" does in openssl s_client).
const std::string key_update_command = "/keyupdate\n";

// The schemes we offer in signature_algorithms, and so the only ones we accept.
// RFC8446 4.2.3-11, 4.2.3-15, 4.2.3-16, 4.4.3-7, 4.4.3-8
const std::vector<tls::SignatureScheme> our_signature_schemes = {
    tls::SignatureScheme::ecdsa_secp256r1_sha256, tls::SignatureScheme::rsa_pss_rsae_sha256, tls::SignatureScheme::ed25519,
    tls::SignatureScheme::rsa_pss_rsae_sha384, tls::SignatureScheme::rsa_pss_rsae_sha512};

// Our key shares, for the --key-shares groups, kept until the server picks one.
using KeyShares = std::vector<std::pair<tls::NamedGroup, tls::KeyPair>>;

const tls::KeyPair* find_share(const KeyShares& shares, tls::NamedGroup group) {
    for (auto& [g, pair] : shares)
        if (g == group) return &pair;
    return nullptr;
}

tls::NamedGroup parse_group(const std::string& text) {
    if (text == "x25519") return tls::NamedGroup::x25519;
    if (text == "secp256r1" || text == "P-256") return tls::NamedGroup::secp256r1;
    throw CLI::ValidationError("--groups", "unknown group " + text + " (x25519, secp256r1)");
}

// §4.1.2: everything the server needs to choose the connection's parameters.
// RFC8446 4.2.2-2, 9.2-1, 9.2-2
tls::ClientHello build_client_hello(const Options& options, const KeyShares& shares) {
    tls::ClientHello hello;
    // RFC8446 4.1.2-6
    // RFC8446 D.5-9
    hello.legacy_version = tls::TLS1_2;  // §4.1.2: always 0x0303; the real version is in supported_versions
    auto random = tls::random_bytes(32);
    std::copy(random.begin(), random.end(), hello.random.begin());
    // Appendix D.4: a non-empty session id makes middleboxes see a familiar TLS 1.2 resumption.
    // RFC8446 4.1.2-8, 4.1.2-9
    hello.legacy_session_id = tls::random_bytes(32);
    hello.cipher_suites = {tls::CipherSuite::TLS_AES_128_GCM_SHA256, tls::CipherSuite::TLS_AES_256_GCM_SHA384,
                           tls::CipherSuite::TLS_CHACHA20_POLY1305_SHA256};
    // RFC8446 4.1.2-13
    hello.legacy_compression_methods = {0};  // §4.1.2: exactly one byte, "null"
    std::vector<tls::NamedGroup> groups;
    for (auto& g : options.groups)
        if (std::find(groups.begin(), groups.end(), parse_group(g)) == groups.end()) groups.push_back(parse_group(g));
    std::vector<tls::KeyShareEntry> entries;
    for (auto& [group, pair] : shares) entries.push_back({group, pair.public_key});
    hello.extensions = {
        // RFC8446 9.2-13, 4.4.2.2-4
        tls::make_server_name(options.server_name),  // RFC 6066 §3: which host we want
        // RFC8446 9.2-5
        tls::make_supported_groups(groups),          // §4.2.7
        // RFC8446 4.2.3-2, 9.2-4
        tls::make_signature_algorithms(our_signature_schemes),  // §4.2.3
        // RFC8446 4.2.1-1, 9.2-3
        tls::make_supported_versions_client({tls::TLS1_3}),  // §4.2.1: TLS 1.3 only
        // RFC8446 9.2-6
        tls::make_key_share_client(entries),                 // §4.2.8: shares for some of the groups
    };
    return hello;
}

// ANCHOR: check_hello
// §4.1.3: what a client MUST check in a ServerHello, and (§4.1.4) in a HelloRetryRequest:
// "the client MUST check the legacy_version, legacy_session_id_echo, cipher_suite, and
// legacy_compression_method as specified in Section 4.1.3 and then process the extensions,
// starting with determining the version using "supported_versions"."
void check_hello(const tls::ServerHello& hello, const tls::ClientHello& sent) {
    using tls::AlertDescription;
    using tls::AlertError;
    // RFC8446 D.5-10
    // Appendix D.5: a Hello with legacy_version 0x0300 (SSL 3.0) or lower is a protocol_version.
    if (hello.legacy_version <= 0x0300)
        throw AlertError(AlertDescription::protocol_version,
                         fmt::format("legacy_version {:04x}: SSL 3.0 or older (Appendix D.5)", hello.legacy_version));
    // RFC8446 4.1.3-4
    if (hello.legacy_session_id_echo != sent.legacy_session_id)
        throw AlertError(AlertDescription::illegal_parameter, "legacy_session_id_echo differs from our legacy_session_id");
    // RFC8446 4.1.3-5
    if (std::find(sent.cipher_suites.begin(), sent.cipher_suites.end(), hello.cipher_suite) == sent.cipher_suites.end())
        throw AlertError(AlertDescription::illegal_parameter, "the server chose a cipher suite we did not offer");
    // RFC8446 4.1.3-6
    if (hello.legacy_compression_method != 0)
        throw AlertError(AlertDescription::illegal_parameter, "legacy_compression_method must be 0");
    // RFC8446 4.2.1-10, 4.2.1-12
    // §4.2.1: without supported_versions the server chose TLS 1.2 or older.
    // RFC8446 4.2.1-11, D.1-3, D.3-1
    auto version = hello.selected_version();
    if (!version) throw AlertError(AlertDescription::protocol_version, "the server did not select TLS 1.3");
    if (*version != tls::TLS1_3)
        throw AlertError(AlertDescription::illegal_parameter, "supported_versions selects " + tls::version_name(*version));
}
// ANCHOR_END: check_hello

// ANCHOR: check_hello_retry_request
// §4.1.4: a HelloRetryRequest may hold supported_versions, cookie and key_share, and "MUST NOT
// contain any extensions that were not first offered by the client in its ClientHello, with the
// exception of optionally the "cookie"". §4.2.8: its selected_group must be one "provided in the
// "supported_groups" extension in the original ClientHello" and not one "provided in the
// "key_share" extension in the original ClientHello", else illegal_parameter; and "Clients MUST
// abort the handshake with an "illegal_parameter" alert if the HelloRetryRequest would not
// result in any change in the ClientHello."
// RFC8446 4.1.4-4, 4.1.4-5, 4.2-2, 4.2.8-5, 4.2.8-6
void check_hello_retry_request(const tls::ServerHello& hrr, const tls::ClientHello& sent) {
    using tls::AlertDescription;
    using tls::AlertError;
    // RFC8446 4.1.4-8
    check_hello(hrr, sent);
    for (auto& ext : hrr.extensions)
        if (ext.extension_type != tls::ExtensionType::supported_versions && ext.extension_type != tls::ExtensionType::key_share &&
            ext.extension_type != tls::ExtensionType::cookie)
            throw AlertError(AlertDescription::unsupported_extension,
                             "unexpected extension in a HelloRetryRequest: " + name(ext.extension_type));
    auto group = hrr.hrr_selected_group();
    if (group) {
        auto offered = sent.supported_groups().value_or(std::vector<tls::NamedGroup>{});
        if (std::find(offered.begin(), offered.end(), *group) == offered.end())
            throw AlertError(AlertDescription::illegal_parameter,
                             fmt::format("HelloRetryRequest for {}, a group we did not offer (§4.2.8)", name(*group)));
        for (auto& share : sent.key_share().value_or(std::vector<tls::KeyShareEntry>{}))
            if (share.group == *group)
                throw AlertError(AlertDescription::illegal_parameter,
                                 fmt::format("HelloRetryRequest for {}, but we sent a share for it (§4.2.8)", name(*group)));
    }
    if (!group && !hrr.cookie())
        throw AlertError(AlertDescription::illegal_parameter, "a HelloRetryRequest that changes nothing (§4.1.4)");
}
// ANCHOR_END: check_hello_retry_request

// ANCHOR: second_client_hello
// §4.1.2: "the client MUST send the same ClientHello without modification, except as follows":
// "If a "key_share" extension was supplied in the HelloRetryRequest, replacing the list of
// shares with a list containing a single KeyShareEntry from the indicated group", and "Including
// a "cookie" extension if one was provided in the HelloRetryRequest." (Our pre_shared_key gets
// new binders afterwards: "Updating the "pre_shared_key" extension if present".)
// RFC8446 4.1.2-2, 4.2.8-7, 4.2.2-1
tls::ClientHello second_client_hello(const tls::ClientHello& first, const KeyShares& shares,
                                     const std::optional<tls::Bytes>& cookie) {
    tls::ClientHello second = first;
    std::vector<tls::KeyShareEntry> entries;
    for (auto& [group, pair] : shares) entries.push_back({group, pair.public_key});
    for (auto& ext : second.extensions)
        if (ext.extension_type == tls::ExtensionType::key_share) ext = tls::make_key_share_client(entries);
    // §4.2.2: the cookie echoed as received; before pre_shared_key, which must stay last (§4.2.11).
    if (cookie) {
        auto last = second.extensions.end();
        if (!second.extensions.empty() && second.extensions.back().extension_type == tls::ExtensionType::pre_shared_key)
            --last;
        second.extensions.insert(last, tls::make_cookie(*cookie));
    }
    return second;
}
// ANCHOR_END: second_client_hello

// ANCHOR: check_server_hello
// §4.1.3 and §4.2: what a client MUST check before trusting a ServerHello. Returns the index
// of the PSK the server selected (§4.2.11), or nullopt for a full handshake.
std::optional<std::uint16_t> check_server_hello(const tls::ServerHello& hello, const tls::ClientHello& sent,
                                                const KeyShares& shares, std::span<const tls::PskOffer> offers,
                                                bool key_share_required) {
    using tls::AlertDescription;
    using tls::AlertError;
    check_hello(hello, sent);
    // RFC8446 4.1.3-13, 4.1.3-15
    // §4.1.3: the last 8 bytes of random say "DOWNGRD" if a TLS 1.3 server was pushed to 1.2.
    auto tail = std::span(hello.random).last<8>();
    if (std::equal(tail.begin(), tail.end(), tls::downgrade_tls12.begin()) ||
        std::equal(tail.begin(), tail.end(), tls::downgrade_tls11.begin()))
        throw AlertError(AlertDescription::illegal_parameter, "downgrade sentinel in ServerHello.random");
    // RFC8446 4.2-2
    // §4.2: a ServerHello may only answer extensions we sent: these three at most.
    for (auto& ext : hello.extensions)
        if (ext.extension_type != tls::ExtensionType::supported_versions && ext.extension_type != tls::ExtensionType::key_share &&
            ext.extension_type != tls::ExtensionType::pre_shared_key)
            throw AlertError(AlertDescription::unsupported_extension, "unexpected extension " + name(ext.extension_type));
    // RFC8446 4.2.11-11, 4.2.11-12
    // §4.2.11: selected_identity within our list, the suite's hash the PSK's, a key_share if
    // our modes require one; illegal_parameter otherwise (and a pre_shared_key answering no
    // offer is an unsupported_extension).
    auto selected = tls::check_selected_identity(hello, offers, key_share_required);
    auto share = hello.key_share();
    if (!share) {
        if (!selected) throw AlertError(AlertDescription::missing_extension, "ServerHello has no key_share and no PSK");
        return selected;  // psk_ke: the PSK alone
    }
    // RFC8446 4.2.8-8, 4.2.8-10, 4.2.8-11
    // After a HelloRetryRequest our only share is for the group it selected, so this also checks
    // §4.2.8: "the selected NamedGroup in the ServerHello is the same as that in the HelloRetryRequest".
    if (!find_share(shares, share->group))
        throw AlertError(AlertDescription::illegal_parameter, "key_share for a group we sent no share for: " + name(share->group));
    return selected;
}
// ANCHOR_END: check_server_hello

// ANCHOR: read_certificate
// §4.4.2 and §4.4.2.4: the server's chain, validated against our trust anchors.
asio::awaitable<tls::Bytes> read_certificate(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                             tls::TranscriptHash& transcript) {
    auto [certificate, raw] = co_await conn.read<tls::Certificate>();
    transcript.update(raw);
    // §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
    // abort the handshake with a "decode_error" alert."
    // RFC8446 4.4.2.4-1, 4.4.2-14
    if (certificate.certificate_list.empty())
        throw tls::AlertError(tls::AlertDescription::decode_error, "the server sent no certificate");
    std::vector<tls::Bytes> chain;
    for (auto& entry : certificate.certificate_list) {
        conn.trace().value("certificate", [&] { return tls::describe_certificate(entry.cert_data); });  // parsed only if printed
        chain.push_back(entry.cert_data);
    }
    // Chain to a trust anchor, validity period, host name: each failure names its alert (§6.2).
    // (--rfc8448 pins the RFC's certificate instead, which could pass none of these.)
    conn.trace().value("certificate chain", inputs.trust_server_certificate(chain, options.ca, options.server_name));
    co_return chain.front();
}
// ANCHOR_END: read_certificate

// ANCHOR: read_certificate_verify
// §4.4.3: the signature must use a scheme we offered and verify with the leaf's key
// over Transcript-Hash(ClientHello ... Certificate).
asio::awaitable<void> read_certificate_verify(tls::Connection& conn, tls::BytesView leaf, tls::TranscriptHash& transcript) {
    auto content = tls::certificate_verify_content(/*server=*/true, transcript.current());
    auto [verify, raw] = co_await conn.read<tls::CertificateVerify>();
    // RFC8446 4.4.3-4
    if (std::find(our_signature_schemes.begin(), our_signature_schemes.end(), verify.algorithm) == our_signature_schemes.end())
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "CertificateVerify uses a scheme we did not offer: " +
                                                                          name(verify.algorithm));
    // RFC8446 4.4.3-9, 4.4.3-10
    if (!tls::verify_signature(leaf, verify.algorithm, content, verify.signature))
        throw tls::AlertError(tls::AlertDescription::decrypt_error, "the CertificateVerify signature does not verify");
    conn.trace().value("CertificateVerify", fmt::format("{} signature verified", name(verify.algorithm)));
    transcript.update(raw);
}
// ANCHOR_END: read_certificate_verify

// ANCHOR: Tickets
// What we keep of the server's NewSessionTickets (§4.6.1): a tls::Session — the server name,
// the suite, and for each ticket the PSK it stands for — in memory for --reconnect and, with
// --session-out, in a file a reader can open (common/session.hpp describes it), written
// again after each ticket.
class Tickets {
public:
    explicit Tickets(std::string path) : path_(std::move(path)) {}

    // After our Finished: the session the tickets to come belong to.
    // §4.6.1: each ticket's PSK derives from resumption_master_secret, which is
    // Derive-Secret(Master Secret, "res master", ClientHello...client Finished) (§7.1).
    void start(const std::string& server_name, tls::CipherSuite suite, tls::Secret resumption_master_secret) {
        session_ = tls::Session{server_name, suite, {}};
        resumption_master_secret_ = std::move(resumption_master_secret);
    }

    // NewSessionTicket::decode keeps extensions it does not know; we read only early_data.
    // RFC8446 4.6.1-5, 4.6.1-7, 9.3-5
    void receive(tls::Trace& trace, const tls::NewSessionTicket& message) {
        if (resumption_master_secret_.empty())  // never: the server's Finished came first
            throw tls::AlertError(tls::AlertDescription::unexpected_message, "NewSessionTicket before the handshake ended");
        // §4.6.1: "The value of zero indicates that the ticket should be discarded immediately."
        if (message.ticket_lifetime == 0) {
            trace.step("a ticket with ticket_lifetime 0: discarded (§4.6.1)");
            return;
        }
        auto ticket = tls::SessionTicket::from(message, session_.hash(), resumption_master_secret_, tls::unix_time_ms());
        trace.value("resumption PSK", ticket.resumption_psk);  // HKDF-Expand-Label(res master, "resumption", nonce)
        session_.tickets.push_back(std::move(ticket));
        if (!path_.empty()) {
            session_.save(path_);
            trace.step(fmt::format("saved {} ticket(s) in {}", session_.tickets.size(), path_));
        }
    }

    // RFC8446 C.4-1
    // Appendix C.4: "Clients SHOULD NOT reuse a ticket for multiple connections": a ticket
    // taken is gone, from memory and from the file.
    std::optional<tls::TakenTicket> take() {
        auto ticket = session_.take_ticket(tls::unix_time_ms());
        if (!path_.empty() && !resumption_master_secret_.empty()) session_.save(path_);
        if (!ticket) return std::nullopt;
        return tls::TakenTicket{session_, std::move(*ticket)};
    }

private:
    std::string path_;
    tls::Session session_;
    tls::Secret resumption_master_secret_;
};
// ANCHOR_END: Tickets

// ANCHOR: send_client_certificate
// §4.4.2: our answer to a CertificateRequest, after the server's Finished: our chain with the
// request's certificate_request_context, then (§4.4.3) a signature over Transcript-Hash(
// ClientHello ... our Certificate) with the client's context string, in a scheme the server
// listed. "If the client does not have an appropriate certificate to send" — none, or no scheme
// the server accepts for our key — it sends a Certificate "containing no certificates" and no
// CertificateVerify (§4.4.2, §4.4.2.3).
// Our Certificate is X.509 and carries no extensions (none were requested).
// --rfc8448 client-auth has the RFC's certificate and no key: it sends the RFC's signature
// (Inputs::signature), which the server verifies as any other (rfc8448.hpp).
// RFC8446 4.4.2-2, 4.4.2-3, 4.4.2-4, 4.4.3-2, 4.4.3-3, 4.4.3-5, 4.4.3-6, 4.4.2-7, 4.4.2.3-1
asio::awaitable<void> send_client_certificate(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                              const tls::CertificateRequest& request, tls::TranscriptHash& transcript) {
    std::optional<tls::SignatureScheme> scheme;
    if (!options.client_chain.empty()) {
        auto offered = request.signature_algorithms().value_or(std::vector<tls::SignatureScheme>{});
        const auto ours = options.client_key ? options.client_key->schemes()
                                             : tls::schemes_for_certificate(options.client_chain.front());
        for (auto s : ours)
            if (std::find(offered.begin(), offered.end(), s) != offered.end()) {
                scheme = s;
                break;
            }
        if (!scheme) conn.trace().step("the server accepts no signature scheme for our key: we send no certificate");
    }
    tls::Certificate certificate;
    certificate.certificate_request_context = request.certificate_request_context;
    if (scheme)
        for (auto& der : options.client_chain) certificate.certificate_list.push_back({der, {}});
    else
        conn.trace().step("we have no certificate for this server: an empty Certificate (§4.4.2)");
    transcript.update(co_await conn.write(certificate));
    if (!scheme) co_return;
    auto content = tls::certificate_verify_content(/*server=*/false, transcript.current());
    auto signature = inputs.signature(*scheme);
    if (!signature) signature = options.client_key.value().sign(*scheme, content);
    tls::CertificateVerify verify{*scheme, std::move(*signature)};
    transcript.update(co_await conn.write(verify));
}
// ANCHOR_END: send_client_certificate

// ANCHOR: ClientAuth
// §4.6.2: "When the client has sent the "post_handshake_auth" extension (see Section 4.2.6), a
// server MAY request client authentication at any time after the handshake has completed".
// We offer it when we have a certificate. The answer — Certificate, CertificateVerify,
// Finished — continues the handshake's transcript ("ClientHello ... client Finished +
// CertificateRequest", §4.4.1), and its Finished is keyed from client_application_traffic_secret_N,
// our current write secret (§4.4.4).
class ClientAuth {
public:
    ClientAuth(const Options& options, const tls::Inputs& inputs) : options_(options), inputs_(inputs) {}

    // After our Finished: the transcript every post-handshake exchange starts from.
    void start(const tls::TranscriptHash& transcript) { transcript_ = transcript.copy(); }

    // RFC8446 4.6.2-1, 4.6.2-2, 4.6.2-3, 4.6.2-4, 4.6.2-5
    asio::awaitable<void> answer(tls::Connection& conn, const tls::HandshakeMessage& message) {
        // "A client that receives a CertificateRequest message without having sent the
        // "post_handshake_auth" extension MUST send an "unexpected_message" fatal alert."
        if (!options_.client_key || !transcript_)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "a CertificateRequest after the handshake, but we did not offer post_handshake_auth");
        auto request = tls::CertificateRequest::decode(message.body);
        conn.trace().message(tls::Direction::receive, "CertificateRequest", request.describe(), message.raw);
        auto transcript = transcript_->copy();
        transcript.update(message.raw);
        // "All of the client's messages for a given response MUST appear consecutively on the
        // wire": held, and sent in one write.
        conn.records().hold_writes();
        co_await send_client_certificate(conn, options_, inputs_, request, transcript);
        tls::Finished finished{tls::finished_verify_data(transcript.alg(), conn.records().write_secret(), transcript.current())};
        co_await conn.write(finished);
        co_await conn.records().flush();
    }

private:
    const Options& options_;
    const tls::Inputs& inputs_;
    std::optional<tls::TranscriptHash> transcript_;
};
// ANCHOR_END: ClientAuth

// ANCHOR: post_handshake
// §4.6: after the handshake the server may still send handshake messages. We keep each
// NewSessionTicket (§4.6.1) and act on KeyUpdate (§4.6.3); anything else is an
// unexpected_message, never a crash (an EndOfEarlyData from a server too).
// RFC8446 4.5-3
asio::awaitable<void> handle_post_handshake(tls::Connection& conn, const tls::TLSPlaintext& record,
                                            tls::HandshakeReader& reader, Tickets& tickets, ClientAuth& auth) {
    reader.feed(record.fragment);
    while (auto message = reader.next()) {
        if (message->msg_type == tls::HandshakeType::key_update) {
            auto update = tls::KeyUpdate::decode(message->body);  // a bad request_update: illegal_parameter
            conn.trace().message(tls::Direction::receive, "KeyUpdate", update.describe(), message->raw);
            co_await conn.receive_key_update(update, reader);
            continue;
        }
        if (message->msg_type != tls::HandshakeType::new_session_ticket &&
            message->msg_type != tls::HandshakeType::certificate_request)
            throw tls::AlertError(tls::AlertDescription::unexpected_message,
                                  "post-handshake " + tls::message_name(message->msg_type) + " is not handled");
        if (message->msg_type == tls::HandshakeType::certificate_request) {
            co_await auth.answer(conn, *message);
            continue;
        }
        auto ticket = tls::NewSessionTicket::decode(message->body);
        conn.trace().message(tls::Direction::receive, "NewSessionTicket", ticket.describe(), message->raw);
        tickets.receive(conn.trace(), ticket);
    }
}
// ANCHOR_END: post_handshake

// ANCHOR: receive
// Reads records until `on_data` has had enough or the server's close_notify, handing it
// application data. Returns false if the stream ended without close_notify (§6.1: truncation).
// The HandshakeReader lives as long as the connection: a post-handshake message may span records.
template <class OnData>
asio::awaitable<bool> receive(tls::Connection& conn, tls::HandshakeReader& post_handshake, Tickets& tickets, ClientAuth& auth,
                              OnData on_data) {
    while (auto record = co_await conn.records().read_record()) {
        if (record->type == tls::ContentType::application_data) {
            if (!on_data(record->fragment)) co_return true;
        } else if (record->type == tls::ContentType::handshake) {
            co_await handle_post_handshake(conn, *record, post_handshake, tickets, auth);
        } else {
            throw tls::AlertError(tls::AlertDescription::unexpected_message, "unexpected " + name(record->type) + " record");
        }
    }
    co_return conn.records().received_close_notify();
}
// ANCHOR_END: receive

// ANCHOR: send_data
// One record of application data; then, every --key-update-every records and at the §5.5
// limit of our AEAD, our KeyUpdate. We ask the server to update too (update_requested), as
// "K" does in openssl s_client.
asio::awaitable<void> send_data(tls::Connection& conn, const Options& options, tls::BytesView data,
                                std::uint64_t& since_update) {
    co_await conn.records().write_records(tls::ContentType::application_data, data);
    ++since_update;
    if ((options.key_update_every != 0 && since_update >= options.key_update_every) ||
        conn.records().write_keys_at_limit()) {
        since_update = 0;
        co_await conn.send_key_update(tls::KeyUpdateRequest::update_requested);
    }
}
// ANCHOR_END: send_data

// ANCHOR: exchange_message
// --message: send it --repeat times, reading each echo back, then close with close_notify (§6.1).
asio::awaitable<void> exchange_message(tls::Connection& conn, const Options& options, Tickets& tickets, ClientAuth& auth) {
    const auto& message = *options.message;
    tls::HandshakeReader post_handshake;
    std::uint64_t since_update = 0;
    for (int i = 0; i < options.repeat; ++i) {
        co_await send_data(conn, options, tls::to_bytes(message), since_update);
        std::string reply;
        bool clean = co_await receive(conn, post_handshake, tickets, auth, [&](tls::BytesView data) {
            reply += tls::to_string(data);
            return reply.size() < message.size();  // keep reading until the whole echo is back
        });
        if (!clean) throw tls::Truncated("the server closed without close_notify: the data may be truncated");
        if (reply.size() < message.size())
            throw tls::Truncated(fmt::format("the server closed after echoing {} of {} bytes", reply.size(), message.size()));
        conn.trace().result(fmt::format("received message: {}", tls::text_or_hex(tls::to_bytes(reply))));
    }
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    if (!co_await receive(conn, post_handshake, tickets, auth, [](tls::BytesView) { return true; }))
        throw tls::Truncated("the server closed without close_notify: the data may be truncated");
}
// ANCHOR_END: exchange_message

// ANCHOR: interactive
// No --message: standard input to the server, the server's data to standard output, both
// at once. Whichever side finishes first, each sends one close_notify (§6.1): at the end of
// standard input we send ours and wait for the server's; if the server's comes first, we
// stop reading standard input and answer it.
asio::awaitable<void> send_stdin(tls::Connection& conn, const Options& options, tls::StdinLines& lines,
                                 const bool& server_finished, bool& sent_close_notify) {
    std::uint64_t since_update = 0;
    while (auto line = co_await lines.next()) {
        if (*line == key_update_command)
            co_await conn.send_key_update(tls::KeyUpdateRequest::update_requested);
        else
            co_await send_data(conn, options, tls::to_bytes(*line), since_update);
    }
    if (server_finished) co_return;  // lines.close(): the answer to the server's close_notify follows
    sent_close_notify = true;
    co_await conn.records().send_alert(tls::AlertDescription::close_notify);
}

asio::awaitable<void> print_received(tls::Connection& conn, tls::StdinLines& lines, bool& server_finished,
                                     Tickets& tickets, ClientAuth& auth) {
    tls::HandshakeReader post_handshake;
    bool clean = co_await receive(conn, post_handshake, tickets, auth, [](tls::BytesView data) {
        std::fwrite(data.data(), 1, data.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    server_finished = true;
    lines.close();  // the server has finished: stop reading standard input
    if (!clean) throw tls::Truncated("the server closed without close_notify: the data may be truncated");
}

asio::awaitable<void> interactive(tls::Connection& conn, const Options& options, Tickets& tickets, ClientAuth& auth) {
    tls::StdinLines lines(co_await asio::this_coro::executor);
    bool server_finished = false, sent_close_notify = false;
    // Both directions run together, and both have ended before `lines` and the flags go: if
    // one fails, the group cancels the other and still waits for it.
    auto executor = co_await asio::this_coro::executor;
    auto [order, stdin_error, server_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, send_stdin(conn, options, lines, server_finished, sent_close_notify), asio::experimental::deferred),
            asio::co_spawn(executor, print_received(conn, lines, server_finished, tickets, auth), asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    // The first failure is the one to report; the other side's is only its cancellation.
    for (auto side : order)
        if (auto error = side == 0 ? stdin_error : server_error) std::rethrow_exception(error);
    if (!sent_close_notify) co_await conn.records().send_alert(tls::AlertDescription::close_notify);
    conn.trace().result("connection closed");
}
// ANCHOR_END: interactive

// ANCHOR: handshake
// `resume`: the ticket to offer, if any. Kept alive by the caller: our PskOffer views its PSK.
// `flight`: if it holds a FirstFlight, we send that again (--replay); if we offer early data,
// we leave ours in it. `early_data_accepted` says whether the server took our early data.
asio::awaitable<void> handshake(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                const std::optional<tls::TakenTicket>& resume, Tickets& tickets, ClientAuth& auth,
                                std::optional<FirstFlight>& flight, bool& early_data_accepted) {
    const bool replaying = flight.has_value();
    KeyShares shares;  // fresh keys, or the RFC's (--rfc8448)
    for (auto& g : options.key_shares)
        if (!find_share(shares, parse_group(g))) shares.emplace_back(parse_group(g), inputs.key_share(parse_group(g)));
    if (replaying) shares = flight->shares;
    // --rfc8448 sends the RFC's ClientHello, with its fields and extensions, not ours.
    auto client_hello = inputs.rfc8448() ? inputs.rfc8448()->client_hello : build_client_hello(options, shares);
    // §4.2.6: "The "post_handshake_auth" extension is used to indicate that a client is willing
    // to perform post-handshake authentication": we are when we have a certificate.
    if (options.client_key && !inputs.rfc8448())
        client_hello.extensions.push_back(tls::Extension{tls::ExtensionType::post_handshake_auth, {}});
    // ANCHOR: offer_early_data
    // §4.2.10: early data only with a ticket whose NewSessionTicket allowed it, and no more than
    // its max_early_data_size. The early_data extension goes before pre_shared_key, the last.
    // Only with --early-data (the user decides what is safe to replay, §8), and only with a
    // ticket, which only a TLS 1.3 server issues (Appendix D.1).
    // RFC8446 4.2.10-1, 4.2.10-2, E.5-3, D.1-2
    const bool offer_early_data = resume && !options.early_data.empty() &&
                                  options.early_data.size() <= resume->ticket.max_early_data_size;
    if (resume && !options.early_data.empty() && !offer_early_data)
        conn.trace().step(fmt::format("no early data: the ticket allows {} bytes, we have {} (§4.2.10)",
                                      resume->ticket.max_early_data_size, options.early_data.size()));
    // (--rfc8448 resume: the RFC's ClientHello has it already, in its place.)
    if (offer_early_data && !inputs.rfc8448()) client_hello.extensions.push_back(tls::make_early_data());
    // ANCHOR_END: offer_early_data
    // ANCHOR: offer_psk
    // §4.2.11: the ticket as a PskIdentity, with its age obfuscated by ticket_age_add
    // (§4.2.11.1), and its binder: an HMAC, keyed from the PSK, over this very ClientHello up to
    // the binders (§4.2.11.2). psk_key_exchange_modes says how we will use the PSK (§4.2.9), and
    // pre_shared_key goes last: "The "pre_shared_key" extension MUST be the last extension in
    // the ClientHello".
    // RFC8446 4.2.9-1, 4.2.9-2, 4.2.11-15, 4.2.11.1-1, 2.2-1, 4.1.2-12
    std::vector<tls::PskOffer> offers;
    std::vector<tls::PskKeyExchangeMode> modes;
    for (auto& m : options.psk_modes)
        modes.push_back(m == "psk_ke" ? tls::PskKeyExchangeMode::psk_ke : tls::PskKeyExchangeMode::psk_dhe_ke);
    // The modes go in every ClientHello: they also tell the server which tickets we could use
    // (§4.2.9: "This extension also restricts the modes for use with PSK resumption").
    if (!inputs.rfc8448()) client_hello.extensions.push_back(tls::make_psk_key_exchange_modes(modes));
    if (resume) {
        // Now by our clock; --rfc8448 resume: the RFC client's, which offers the ticket 6 ms old.
        const auto now = inputs.ticket_offer_time_ms(resume->ticket);
        offers.push_back(tls::psk_offer(resume->session, resume->ticket, now));
        tls::add_pre_shared_key(client_hello, offers);
        if (replaying) {
            conn.trace().step("replaying the ClientHello and early data of the last connection, byte for byte (§8)");
            client_hello = flight->client_hello;
        } else if (offer_early_data) {
            flight = FirstFlight{client_hello, shares, *resume};
        }
        conn.trace().value("offering", fmt::format("a ticket of {} bytes for {}, {}, received {} ms ago",
                                                   resume->ticket.ticket.size(), resume->session.server_name,
                                                   name(resume->session.cipher_suite),
                                                   tls::client_ticket_age_ms(resume->ticket.receipt_time_ms, now)));
        // §7.1 and §4.2.11.2: binder_key = Derive-Secret(Early Secret(PSK), "res binder", ""),
        // then the binder as a Finished keyed from it, over the ClientHello up to the binders.
        conn.trace().value("binder_key", tls::EarlySecret(offers.front().hash, offers.front().psk).resumption_binder_key());
        conn.trace().value("binder", client_hello.pre_shared_key()->binders.front());
    }
    // Without a psk_dhe_ke we would have to take a ServerHello without key_share (§4.2.11).
    const bool key_share_required =
        std::find(modes.begin(), modes.end(), tls::PskKeyExchangeMode::psk_ke) == modes.end();
    // ANCHOR_END: offer_psk
    // RFC8446 4.1.2-1
    auto client_hello_raw = co_await conn.write(client_hello);
    // §5, Appendix D.4: from our first ClientHello until the server's Finished, every
    // change_cipher_spec of 0x01 is dropped (one may come right after a HelloRetryRequest).
    conn.records().allow_compatibility_ccs(true);
    tls::KeyLog keylog(options.keylog);
    bool sent_change_cipher_spec = false;

    // ANCHOR: send_early_data
    // §2.3: "the client uses the PSK to authenticate the server and to encrypt the early data".
    // §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello),
    // with the PSK's own suite (§4.2.10: the first identity's). The data leaves now, before
    // the server has said anything; it protects nothing against a replay of itself (§8).
    if (offer_early_data) {
        // Appendix D.4: "If offering early data, the record is placed immediately after the
        // first ClientHello."
        if (!client_hello.legacy_session_id.empty()) {
            co_await conn.records().write_change_cipher_spec();
            sent_change_cipher_spec = true;
        }
        const auto& early_suite = *tls::suite_info(resume->session.cipher_suite);
        tls::TranscriptHash client_hello_only(early_suite.hash);
        client_hello_only.update(client_hello_raw);
        auto secret = tls::EarlySecret(early_suite.hash, offers.front().psk).client_early_traffic_secret(client_hello_only.current());
        conn.trace().value("client_early_traffic_secret", secret);
        keylog.write("CLIENT_EARLY_TRAFFIC_SECRET", client_hello.random, secret);
        conn.install(early_suite, secret);
        co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(options.early_data));
        conn.trace().value("early data", fmt::format("{} bytes sent before the server's answer", options.early_data.size()));
    }
    // ANCHOR_END: send_early_data

    auto [server_hello, server_hello_raw] = co_await conn.read<tls::ServerHello>();
    // ANCHOR: hello_retry
    // §4.1.4: a HelloRetryRequest instead of a ServerHello asks for a second ClientHello.
    std::optional<std::pair<tls::Bytes, tls::Bytes>> retried;  // ClientHello1 and the HelloRetryRequest
    // RFC8446 4.1.3-9, 4.1.4-7
    if (server_hello.is_hello_retry_request()) {
        check_hello_retry_request(server_hello, client_hello);
        if (auto group = server_hello.hrr_selected_group()) {
            conn.trace().step(fmt::format("the server asks for a key share for {} (§4.2.8)", name(*group)));
            shares.clear();  // §4.2.8: the new list holds only the share it asked for
            shares.emplace_back(*group, inputs.key_share(*group));
        }
        if (server_hello.cookie()) conn.trace().step("the server sent a cookie: we echo it (§4.2.2)");
        const auto hrr_suite = server_hello.cipher_suite;
        const auto hrr_version = server_hello.selected_version();
        retried.emplace(std::move(client_hello_raw), std::move(server_hello_raw));
        client_hello = second_client_hello(client_hello, shares, server_hello.cookie());
        client_hello = inputs.second_client_hello(std::move(client_hello));  // --rfc8448 hrr: the RFC's layout
        // §4.1.2: ClientHello2 goes without "early_data", "as early data is not permitted after
        // a HelloRetryRequest"; it goes unprotected, and our early data again after the handshake.
        // RFC8446 4.2.10-6
        if (offer_early_data) {
            std::erase_if(client_hello.extensions,
                          [](const tls::Extension& e) { return e.extension_type == tls::ExtensionType::early_data; });
            conn.records().drop_write_protection();
        }
        // ANCHOR: rebind
        // §4.2.11.2: ClientHello2's binder covers "Transcript-Hash(ClientHello1, HelloRetryRequest,
        // Truncate(ClientHello2))", ClientHello1 as message_hash under the retry's suite's hash
        // (§4.4.1). A PSK of another hash cannot be used with that suite: it goes (§4.1.2).
        // RFC8446 4.1.4-11
        if (!offers.empty()) {
            const auto hash = tls::suite_info(hrr_suite)->hash;
            if (hash == offers.front().hash) {
                auto prefix = tls::encode_handshake(tls::HandshakeType::message_hash, tls::hash(hash, retried->first));
                prefix.insert(prefix.end(), retried->second.begin(), retried->second.end());
                tls::add_pre_shared_key(client_hello, offers, prefix);
            } else {
                conn.trace().step("the retry's suite has another hash than our PSK: we offer it no more (§4.1.2)");
                client_hello.extensions.pop_back();  // pre_shared_key, the last
                offers.clear();
            }
        }
        // ANCHOR_END: rebind
        // Appendix D.4: our one dummy change_cipher_spec goes "immediately before its second
        // flight. This may either be before its second ClientHello or before its encrypted
        // handshake flight."
        if (!client_hello.legacy_session_id.empty() && !sent_change_cipher_spec) {
            co_await conn.records().write_change_cipher_spec();
            sent_change_cipher_spec = true;
        }
        client_hello_raw = co_await conn.write(client_hello);
        auto reply = co_await conn.read<tls::ServerHello>();
        server_hello = std::move(reply.first);
        server_hello_raw = std::move(reply.second);
        if (server_hello.is_hello_retry_request())
            // RFC8446 4.1.4-6
            throw tls::AlertError(tls::AlertDescription::unexpected_message, "a second HelloRetryRequest (§4.1.4)");
        // §4.1.4: "clients MUST check that the cipher suite supplied in the ServerHello is the
        // same as that in the HelloRetryRequest"; "The value of selected_version in the
        // HelloRetryRequest "supported_versions" extension MUST be retained in the ServerHello".
        // RFC8446 4.1.4-10
        if (server_hello.cipher_suite != hrr_suite)
            throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ServerHello changes the HelloRetryRequest's cipher suite");
        // RFC8446 4.1.4-12
        if (server_hello.selected_version() != hrr_version)
            throw tls::AlertError(tls::AlertDescription::illegal_parameter, "ServerHello changes the HelloRetryRequest's version");
    }
    // ANCHOR_END: hello_retry
    auto selected = check_server_hello(server_hello, client_hello, shares, offers, key_share_required);
    auto server_share = server_hello.key_share();
    const std::string group = server_share ? name(server_share->group) : std::string("no group");
    const std::string how = selected ? (server_share ? "resumed with the PSK and (EC)DHE" : "resumed with the PSK alone (psk_ke)")
                                     : "full handshake";
    if (resume && !selected) conn.trace().step("the server did not take our ticket: a full handshake instead (§4.2.11)");
    conn.trace().value("negotiated", fmt::format("{}, {}, {}", name(server_hello.cipher_suite), group, how));
    // §4.4.1: now that the suite is known, so is the transcript's hash function. After a
    // retry, ClientHello1 is replaced by message_hash(Hash(ClientHello1)).
    const auto& suite = *tls::suite_info(server_hello.cipher_suite);
    tls::TranscriptHash transcript(suite.hash);
    if (retried) {
        transcript.update(retried->first);
        transcript.restart_with_message_hash();
        transcript.update(retried->second);
    }
    transcript.update(client_hello_raw);
    transcript.update(server_hello_raw);

    // §7.4: the same secret the server computed, from our private key and its public one.
    // With the PSK alone (psk_ke) there is none: §7.1 puts Hash.length zero bytes in its place.
    tls::Secret shared(tls::hash_length(suite.hash), 0);
    if (server_share) {
        shared = tls::shared_secret(server_share->group, find_share(shares, server_share->group)->private_key,
                                    server_share->key_exchange);
        conn.trace().value("shared_secret", shared);
    }
    // ANCHOR: early_secret
    // §7.1: the PSK the server selected is the Early Secret's input; without one, zeros.
    tls::EarlySecret early(suite.hash, selected ? offers[*selected].psk : tls::BytesView{});
    // ANCHOR_END: early_secret
    auto keys = tls::establish_handshake_keys(conn.trace(), early, shared, transcript, keylog, client_hello.random);

    // ANCHOR: protect
    // §5.2: from here on, records are protected with the handshake traffic keys.
    // What we send: still our early data keys, until we know whether the server takes it.
    conn.install(suite, keys.server_handshake_traffic_secret);  // what the server sends
    if (!offer_early_data) conn.install(suite, keys.client_handshake_traffic_secret);  // what we send
    // ANCHOR_END: protect

    // §4.3.1: the first message we can only read with the handshake keys.
    auto [encrypted_extensions, encrypted_extensions_raw] = co_await conn.read<tls::EncryptedExtensions>();
    transcript.update(encrypted_extensions_raw);
    // ANCHOR: early_data_answer
    // §4.2.10: the server says it took our early data with its own early_data extension.
    // "If the server supplies an "early_data" extension, the client MUST verify that the
    // server's selected_identity is 0. If any other value is returned, the client MUST abort
    // the handshake with an "illegal_parameter" alert." §4.2: an answer to an extension we did
    // not send is an unsupported_extension.
    // RFC8446 4.2.11-13, 4.2.11-14, 4.2-2
    early_data_accepted = tls::find_extension(encrypted_extensions.extensions, tls::ExtensionType::early_data) != nullptr;
    if (early_data_accepted && !offer_early_data)
        throw tls::AlertError(tls::AlertDescription::unsupported_extension, "early_data in EncryptedExtensions: we sent none");
    if (early_data_accepted && selected != std::uint16_t{0})
        throw tls::AlertError(tls::AlertDescription::illegal_parameter, "early data accepted with a PSK other than the first");
    if (offer_early_data)
        conn.trace().step(early_data_accepted ? "the server accepted our early data (§4.2.10)"
                                              : "the server did not accept our early data: it goes again after the handshake");
    // Declined, the server reads with our handshake keys only, skipping what fails to decrypt:
    // from now on we write with them, so that an alert we send reaches it.
    if (offer_early_data && !early_data_accepted) conn.install(suite, keys.client_handshake_traffic_secret);
    // ANCHOR_END: early_data_answer

    // ANCHOR: certificate_request
    // §4.3.2: a server that authenticates with a certificate may ask for ours, right after
    // EncryptedExtensions (never in a resumed handshake: read<Finished> refuses it there).
    // "This field SHALL be zero length unless used for the post-handshake authentication
    // exchanges": the context of a request in the handshake is empty.
    // CertificateRequest::decode keeps extensions it does not know; we read signature_algorithms.
    // RFC8446 4.3.2-1, 4.3.2-3, 4.3.2-6
    std::optional<tls::CertificateRequest> certificate_request;
    if (!selected) {
        if (auto request = co_await conn.read_if<tls::CertificateRequest>()) {
            transcript.update(request->second);
            if (!request->first.certificate_request_context.empty())
                throw tls::AlertError(tls::AlertDescription::illegal_parameter,
                                      "a CertificateRequest in the handshake with a non-empty context (§4.3.2)");
            certificate_request = std::move(request->first);
        }
    }
    // ANCHOR_END: certificate_request

    // ANCHOR: authenticate
    // §2.2: "As the server is authenticating via a PSK, it does not send a Certificate or a
    // CertificateVerify message": its Finished, keyed from the PSK, is the proof.
    if (!selected) {
        auto leaf = co_await read_certificate(conn, options, inputs, transcript);
        co_await read_certificate_verify(conn, leaf, transcript);
    }
    // ANCHOR_END: authenticate
    // RFC8446 4.4.4-1
    co_await tls::read_finished(conn, keys.server_handshake_traffic_secret, transcript);

    // ANCHOR: switch_to_application_keys
    // §7.1: application secrets from the transcript through the server's Finished;
    // our own Finished still goes out under the handshake keys.
    auto app_keys = tls::establish_application_keys(conn.trace(), keys.handshake_secret, transcript, keylog,
                                                    client_hello.random);
    conn.install(suite, app_keys.server_application_traffic_secret_0);
    conn.records().allow_compatibility_ccs(false);  // Appendix D.4: only before the peer's Finished
    // ANCHOR: end_of_early_data
    // §4.5: "If the server sent an "early_data" extension in EncryptedExtensions, the client
    // MUST send an EndOfEarlyData message after receiving the server Finished", the last
    // record under the early keys; our handshake keys take over from it.
    // RFC8446 4.5-1, 4.5-2
    if (early_data_accepted) {
        const tls::EndOfEarlyData end_of_early_data;
        transcript.update(co_await conn.write(end_of_early_data));
    }
    if (early_data_accepted) conn.install(suite, keys.client_handshake_traffic_secret);
    // ANCHOR_END: end_of_early_data
    // Appendix D.4: in compatibility mode (our non-empty legacy_session_id), our own dummy
    // change_cipher_spec before our first encrypted record, unless it went before ClientHello2.
    // (RFC 8448 §3's client is not in compatibility mode: no CCS.)
    if (!client_hello.legacy_session_id.empty() && !sent_change_cipher_spec)
        co_await conn.records().write_change_cipher_spec();
    // Our Certificate and CertificateVerify, if asked, go before our Finished, which covers them.
    if (certificate_request) co_await send_client_certificate(conn, options, inputs, *certificate_request, transcript);
    transcript.update(co_await tls::send_finished(conn, keys.client_handshake_traffic_secret, transcript));
    conn.install(suite, app_keys.client_application_traffic_secret_0);
    // ANCHOR_END: switch_to_application_keys
    conn.trace().result(fmt::format("handshake complete with {}: {}, {}, {}", options.server_name,
                                    name(server_hello.cipher_suite), group, how));
    // ANCHOR: resumption_master_secret
    // §7.1: resumption_master_secret = Derive-Secret(Master Secret, "res master",
    // ClientHello...client Finished): the PSKs of the tickets that may come derive from it.
    auto resumption_master_secret = app_keys.master_secret.resumption_master_secret(transcript.current());
    conn.trace().value("resumption_master_secret", resumption_master_secret);
    tickets.start(options.server_name, server_hello.cipher_suite, std::move(resumption_master_secret));
    auth.start(transcript);  // ClientHello ... client Finished, for a CertificateRequest later (§4.6.2)
    // ANCHOR_END: resumption_master_secret
}
// ANCHOR_END: handshake

// ANCHOR: early_data_echo
// After the handshake: our early data, sent again as ordinary data if it did not go as 0-RTT,
// and, with --message (an echo server), the server's echo of it. The program is the
// application §4.2.10 leaves the choice to; we negotiate no ALPN, so the protocol cannot change.
// RFC8446 4.2.10-13, 4.2.10-14
asio::awaitable<void> early_data_echo(tls::Connection& conn, const Options& options, const tls::Inputs& inputs,
                                      bool accepted, Tickets& tickets, ClientAuth& auth) {
    if (!accepted) co_await conn.records().write_records(tls::ContentType::application_data, tls::to_bytes(options.early_data));
    if (!options.message) co_return;  // standard input mode: what the server sends is printed as it comes
    if (inputs.rfc8448()) co_return;  // --rfc8448 resume: the RFC's server sends nothing for our early data
    std::string reply;
    tls::HandshakeReader post_handshake;
    bool clean = co_await receive(conn, post_handshake, tickets, auth, [&](tls::BytesView data) {
        reply += tls::to_string(data);
        return reply.size() < options.early_data.size();
    });
    if (!clean || reply.size() < options.early_data.size())
        throw tls::Truncated("the server closed before echoing our early data");
    conn.trace().result(fmt::format("received the echo of our {}: {}", accepted ? "0-RTT data" : "data (sent after the handshake)",
                                    tls::text_or_hex(tls::to_bytes(reply))));
}
// ANCHOR_END: early_data_echo

asio::awaitable<int> connect_once(const Options& options, const tls::Inputs& inputs, tls::Trace& trace,
                                  const std::optional<tls::TakenTicket>& resume, Tickets& tickets,
                                  std::optional<FirstFlight>& flight) {
    auto socket = co_await tls::connect(options.host, options.port, trace);
    tls::Connection conn(socket, trace, tls::Role::client);
    conn.records().set_framing(inputs.framing());  // how records are cut: ours, or the RFC's (§5.1)
    ClientAuth auth(options, inputs);  // for a CertificateRequest after the handshake (§4.6.2)
    bool early_data_accepted = false;
    if (!co_await tls::guarded(conn.records(), handshake(conn, options, inputs, resume, tickets, auth, flight, early_data_accepted)))
        co_return 1;
    if (!options.early_data.empty() &&
        !co_await tls::guarded(conn.records(), early_data_echo(conn, options, inputs, early_data_accepted, tickets, auth)))
        co_return 1;
    if (options.message) co_return co_await tls::guarded(conn.records(), exchange_message(conn, options, tickets, auth)) ? 0 : 1;
    co_return co_await tls::guarded(conn.records(), interactive(conn, options, tickets, auth)) ? 0 : 1;
}

// ANCHOR: run
asio::awaitable<int> run(const Options& options, const tls::Inputs& inputs) {
    // Without --message, standard output carries the server's data: the trace moves to stderr.
    tls::Trace trace(options.trace, options.message ? stdout : stderr);
    Tickets tickets(options.session_out);
    // --session-in: one ticket from the file, which is saved without it before we use it.
    // §4.6.1: clients "SHOULD only resume if the SNI value matches the one used in the original
    // session"; the Session keeps the SNI with the PSKs for that (§4.2.11).
    // RFC8446 4.6.1-2, 4.2.11-4
    // --rfc8448 resume: the session §3 gave the RFC's client, from the RFC's vectors.
    std::optional<tls::TakenTicket> resume = inputs.session_to_resume();
    if (!options.session_in.empty()) {
        resume = tls::take_ticket_from_file(options.session_in, tls::unix_time_ms());
        if (!resume)
            trace.step(fmt::format("no usable ticket in {}: full handshake", options.session_in));
        else if (resume->session.server_name != options.server_name) {
            trace.step(fmt::format("the session is for {}, not {}: full handshake", resume->session.server_name,
                                   options.server_name));
            resume.reset();
        }
    }
    std::optional<FirstFlight> flight;  // the last first flight with early data, for --replay
    int code = co_await connect_once(options, inputs, trace, resume, tickets, flight);
    if (code != 0) co_return code;
    if (options.reconnect) {
        // --reconnect: the same again, resuming with a ticket this connection received.
        resume = tickets.take();
        if (!resume) {
            trace.error("the server sent no ticket we can use: nothing to resume with");
            co_return 1;
        }
        trace.step("connecting again, with a ticket from the first connection (§2.2)");
        code = co_await connect_once(options, inputs, trace, resume, tickets, flight);
        if (code != 0) co_return code;
    }
    // ANCHOR: replay
    // --replay: what an attacker on the path could do with the connection that sent early data.
    if (options.replay) {
        if (!flight) {
            trace.error("no connection sent early data: nothing to replay");
            co_return 1;
        }
        trace.step("connecting again and replaying that connection's ClientHello and early data (§8)");
        resume = flight->ticket;
        code = co_await connect_once(options, inputs, trace, resume, tickets, flight);
    }
    // ANCHOR_END: replay
    co_return code;
}
// ANCHOR_END: run

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Chapter 14 client: a TLS 1.3 client that answers a server's CertificateRequest."};
    tls::add_options(app, options);
    app.add_option("--server-name", options.server_name, "Host name to send in server_name and check in the certificate")
        ->check(tls::host_name_check())
        ->capture_default_str();
    app.add_option("--ca", options.ca, "PEM bundle of trust anchors")->capture_default_str();
    app.add_option("--message", options.message, "Send this, print the echo and close (default: stdin to stdout)");
    app.add_option("--groups", options.groups, "Groups to offer in supported_groups, most preferred first (x25519, secp256r1)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}))
        ->capture_default_str();
    app.add_option("--key-shares", options.key_shares,
                   "Groups to send a key share for in the first ClientHello (default: the first of --groups)")
        ->delimiter(',')
        ->check(CLI::IsMember({"x25519", "secp256r1", "P-256"}));
    app.add_option("--repeat", options.repeat, "With --message: send it this many times, one record each")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--key-update-every", options.key_update_every,
                   "Send a KeyUpdate (update_requested) after every N records we send (0: never; stdin: /keyupdate)");
    app.add_option("--keylog", options.keylog, "Append NSS key-log lines to this file (default: $SSLKEYLOGFILE)");
    app.add_option("--session-out", options.session_out, "Save the server's tickets in this session file");
    app.add_option("--session-in", options.session_in, "Resume with a ticket from this session file (it is used up)");
    app.add_flag("--reconnect", options.reconnect, "Connect a second time, resuming with a ticket from the first");
    app.add_option("--early-data", options.early_data,
                   "Send this as 0-RTT data when resuming with a ticket that allows it (else after the handshake)");
    std::string early_data_file;
    app.add_option("--early-data-file", early_data_file, "Send the content of this file as --early-data")
        ->check(CLI::ExistingFile)
        ->excludes("--early-data");
    app.add_flag("--replay", options.replay,
                 "Then replay the ClientHello and early data of the connection that sent early data, as an attacker would");
    app.add_option("--cert", options.cert, "PEM file: our certificate (then any intermediates), for a server that asks")
        ->check(CLI::ExistingFile);
    app.add_option("--key", options.key, "PKCS#8 PEM file: the private key of --cert")->check(CLI::ExistingFile)->needs("--cert");
    app.add_option("--psk-modes", options.psk_modes, "PSK key exchange modes to offer (psk_dhe_ke, psk_ke)")
        ->delimiter(',')
        ->check(CLI::IsMember({"psk_dhe_ke", "psk_ke"}))
        ->capture_default_str();
    tls::Inputs inputs(tls::Role::client);  // fresh randomness; RFC 8448's with --rfc8448
    tls::add_rfc8448_option(app, inputs,
                            {"--server-name", "--ca", "--message", "--groups", "--key-shares", "--repeat", "--key-update-every",
                             "--session-in", "--reconnect", "--psk-modes", "--early-data", "--early-data-file", "--replay",
                             "--cert", "--key"},  // (--cert and --key: only §6's client has a certificate)
                            {"hrr", "resume", "client-auth"});
    CLI11_PARSE(app, argc, argv);
    if (!options.cert.empty()) {
        if (options.key.empty()) return app.exit(CLI::ValidationError("--cert", "needs --key"));
        options.client_chain = tls::load_certificate_chain_pem_file(options.cert);
        options.client_key = tls::PrivateKey::load_pem_file(options.key);
    }
    if (!early_data_file.empty()) {
        std::ifstream in(early_data_file, std::ios::binary);
        options.early_data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (auto rfc = inputs.rfc8448()) {  // the RFC's client: its server name, key share and data
        options.server_name = rfc->server_name;
        options.groups = rfc->client_groups;
        options.key_shares = rfc->client_groups;
        options.message = tls::to_string(rfc->client_application_data);
        options.repeat = rfc->client_application_data.empty() ? 0 : 1;  // its data once; §5's sends none
        options.early_data = tls::to_string(rfc->client_early_data);   // §4's: 6 bytes as 0-RTT data
        // §6's: the RFC's RSA certificate, from the vectors, and no key (the RFC shows none).
        if (!rfc->client_certificate.empty()) options.client_chain = {rfc->client_certificate};
    }
    if (options.key_shares.empty()) options.key_shares = {options.groups.front()};
    for (auto& g : options.key_shares)
        if (std::find(options.groups.begin(), options.groups.end(), g) == options.groups.end())
            return app.exit(CLI::ValidationError("--key-shares", g + " is not in --groups"));
    return tls::run_client([&] { return run(options, inputs); });
}
