// common/rfc8448.cpp — introduced in chapter 03. See rfc8448.hpp: --rfc8448, the programs
// replay RFC 8448, with its inputs read from rfc8448_vectors.hpp.
#include "rfc8448.hpp"

#include "key_exchange.hpp"
#include "paths.hpp"
#include "rfc8448_vectors.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace tls {

namespace replay {

namespace {

Bytes octets(std::string_view rfc_hex) { return from_hex(rfc_hex); }

// A handshake message of the trace (with its 4-byte header), decoded.
template <class Message>
Message message(std::string_view rfc_hex) {
    const auto handshake = Handshake::decode(octets(rfc_hex));
    if (handshake.msg_type != Message::msg_type)
        throw std::logic_error("rfc8448_vectors.hpp: a message of another type than expected");
    return Message::decode(handshake.body);
}

// The ClientHello with its key_share extension (§4.2.8) made from the private keys, not copied:
// each public key is ours to compute, and the replay test compares it with the RFC's.
ClientHello with_key_shares_from(ClientHello hello, const std::vector<std::pair<NamedGroup, Bytes>>& private_keys) {
    std::vector<KeyShareEntry> shares;
    for (const auto& [group, key] : private_keys)
        shares.push_back({group, key_share_from_private(group, key).public_key});
    for (auto& extension : hello.extensions)
        if (extension.extension_type == ExtensionType::key_share) extension = make_key_share_client(shares);
    return hello;
}

// The client of a section: its ephemeral keys, its ClientHello (key_share made from the keys),
// the name it asks for, and the legacy_record_version of its ClientHello record (§5.1: the RFC's
// say 0x0301).
void take_client(Section& s, const ClientHello& hello, std::string_view message_hex,
                 std::vector<std::pair<NamedGroup, Bytes>> private_keys, std::string_view record_hex) {
    s.client_private_keys = std::move(private_keys);
    s.client_hello = with_key_shares_from(hello, s.client_private_keys);
    s.client_hello_message = octets(message_hex);
    s.server_name = s.client_hello.server_name().value().at(0);
    for (const auto& [group, key] : s.client_private_keys) s.client_groups.push_back(name(group));
    const auto record = octets(record_hex);
    s.client_framing.initial_client_hello_version = static_cast<std::uint16_t>(record.at(1) << 8 | record.at(2));
}

// The server's certificate and key: RFC 8448 §2's RSA pair, whose certificate every section's
// Certificate message carries (certificate_hex: such a message).
void take_server_certificate(Section& s, std::string_view certificate_hex) {
    s.certificate_file = repo_path("certs/rfc8448-rsa.pem");
    s.key_file = repo_path("certs/rfc8448-rsa.key");
    s.certificate = message<Certificate>(certificate_hex).certificate_list.at(0).cert_data;
}

// The scheme and salt of the server's CertificateVerify over `transcript` (§4.4.3):
// recover_pss_salt verifies the signature, then reads the salt out of it.
void take_server_signature(Section& s, std::string_view certificate_verify_hex, const TranscriptHash& transcript) {
    const auto verify = message<CertificateVerify>(certificate_verify_hex);
    s.signature_scheme = verify.algorithm;
    s.server_pss_salt = recover_pss_salt(s.certificate, verify.algorithm,
                                         certificate_verify_content(/*server=*/true, transcript.current()),
                                         verify.signature);
}

// Whether the server sent `messages` in one record: the RFC's record payload is exactly them.
bool in_one_record(std::initializer_list<std::string_view> messages, std::string_view payload_hex) {
    Bytes together;
    for (auto m : messages) {
        const auto bytes = octets(m);
        together.insert(together.end(), bytes.begin(), bytes.end());
    }
    return together == octets(payload_hex);
}

// ANCHOR: simple_1rtt
Section make_simple_1rtt() {
    namespace v = ::rfc8448::simple;
    Section s;
    s.title = "RFC 8448 §3 Simple 1-RTT Handshake";

    // The client: "create an ephemeral x25519 key pair", then "construct a ClientHello", sent in
    // a record that begins 16 03 01.
    take_client(s, message<ClientHello>(v::client_hello), v::client_hello,
                {{NamedGroup::x25519, octets(v::client_private_key)}}, v::client_hello_record);
    s.client_application_data = octets(v::client_application_data_payload);

    // The server: "create an ephemeral x25519 key pair", ServerHello, EncryptedExtensions.
    s.server_random = message<ServerHello>(v::server_hello).random;
    s.server_private_keys = {{NamedGroup::x25519, octets(v::server_private_key)}};
    s.encrypted_extensions = message<EncryptedExtensions>(v::encrypted_extensions).extensions;
    take_server_certificate(s, v::certificate);

    // The salt of its CertificateVerify, which signs Transcript-Hash(ClientHello ... Certificate).
    TranscriptHash transcript(HashAlg::sha256);
    for (auto m : {v::client_hello, v::server_hello, v::encrypted_extensions, v::certificate})
        transcript.update(octets(m));
    take_server_signature(s, v::certificate_verify, transcript);

    // Its flight after ServerHello is one record whose payload is the four messages (§3 p. 9).
    s.server_framing.coalesce_handshake_messages = in_one_record(
        {v::encrypted_extensions, v::certificate, v::certificate_verify, v::server_finished}, v::server_flight_payload);
    s.new_session_ticket = message<NewSessionTicket>(v::new_session_ticket);
    s.server_groups = {name(message<ServerHello>(v::server_hello).key_share().value().group)};
    return s;
}
// ANCHOR_END: simple_1rtt

// ANCHOR: hello_retry
Section make_hello_retry() {
    namespace v = ::rfc8448::hello_retry;
    Section s;
    s.title = "RFC 8448 §5 HelloRetryRequest";

    // The client: "create an ephemeral x25519 key pair", then ClientHello1 with that one share.
    const std::vector<std::pair<NamedGroup, Bytes>> first_keys = {
        {NamedGroup::x25519, octets(v::client_x25519_private_key)}};
    take_client(s, message<ClientHello>(v::client_hello_1), v::client_hello_1, first_keys, v::client_hello_1_record);
    // Asked for P-256, it "create[s] an ephemeral P-256 key pair" for ClientHello2.
    s.client_private_keys.emplace_back(NamedGroup::secp256r1, octets(v::client_p256_private_key));
    // No application data: it closes right after its Finished.
    // How it laid out ClientHello2 (the content is for our client to make): the order of its
    // extensions, and the length its padding brings it to.
    const auto second = message<ClientHello>(v::client_hello_2);
    s.client_hello_2_message = octets(v::client_hello_2);
    for (const auto& extension : second.extensions) {
        s.client_hello_2_order.push_back(extension.extension_type);
        if (extension.extension_type == ExtensionType::padding)
            s.client_hello_2_padded_length = s.client_hello_2_message.size();
    }

    // The server: it prefers P-256, so its HelloRetryRequest (a ServerHello, §4.1.4) asks for a
    // P-256 share, with a cookie only it can read. Then ServerHello, EncryptedExtensions, ...
    const auto hrr = message<ServerHello>(v::hello_retry_request);
    if (!hrr.is_hello_retry_request())
        throw std::logic_error("rfc8448_vectors.hpp: §5's first ServerHello is not a HelloRetryRequest");
    s.server_groups = {name(hrr.hrr_selected_group().value())};
    s.hello_retry_cookie = hrr.cookie();
    const auto server_hello = message<ServerHello>(v::server_hello);
    s.server_random = server_hello.random;
    s.server_private_keys = {{NamedGroup::secp256r1, octets(v::server_p256_private_key)}};
    s.encrypted_extensions = message<EncryptedExtensions>(v::encrypted_extensions).extensions;
    take_server_certificate(s, v::certificate);
    if (s.certificate != message<Certificate>(::rfc8448::simple::certificate).certificate_list.at(0).cert_data)
        throw std::logic_error("rfc8448_vectors.hpp: §5's certificate is not §3's (certs/rfc8448-rsa.pem)");

    // The salt of its CertificateVerify, recovered as §3's, from a transcript that begins with
    // message_hash(ClientHello1) (§4.4.1).
    TranscriptHash transcript(HashAlg::sha256);
    transcript.update(octets(v::client_hello_1));
    transcript.restart_with_message_hash();
    for (auto m : {v::hello_retry_request, v::client_hello_2, v::server_hello, v::encrypted_extensions, v::certificate})
        transcript.update(octets(m));
    take_server_signature(s, v::certificate_verify, transcript);

    s.server_framing.coalesce_handshake_messages = in_one_record(
        {v::encrypted_extensions, v::certificate, v::certificate_verify, v::server_finished}, v::server_flight_payload);
    // No NewSessionTicket: after the client's Finished, each side's close_notify.
    return s;
}
// ANCHOR_END: hello_retry

// ANCHOR: resumed_0rtt
Section make_resumed_0rtt() {
    namespace v = ::rfc8448::resumed;
    namespace s3 = ::rfc8448::simple;
    Section s;
    s.title = "RFC 8448 §4 Resumed 0-RTT Handshake";

    // What §3 left its client: the ticket of §3's NewSessionTicket, with the PSK the client
    // derives from §3's resumption_master_secret and the ticket_nonce (§4.6.1), for the suite of
    // §3's ServerHello. Received at time 0 by the client's clock.
    const auto ticket_message = message<NewSessionTicket>(s3::new_session_ticket);
    const auto suite = message<ServerHello>(s3::server_hello).cipher_suite;
    auto ticket = SessionTicket::from(ticket_message, suite_info(suite)->hash, octets(s3::resumption_master_secret),
                                      /*now_ms=*/0);
    const Bytes psk(ticket.resumption_psk.begin(), ticket.resumption_psk.end());
    if (psk != octets(s3::resumption_psk) || psk != octets(v::early_secret_ikm))
        throw std::logic_error("rfc8448_vectors.hpp: §4's PSK is not the one §3's ticket gives");

    // The client: "create an ephemeral x25519 key pair", then "construct a ClientHello", which
    // ends with pre_shared_key: §3's ticket, its obfuscated age and the binder. That extension
    // is not copied: our client makes it from the session, so only the clock is an input.
    auto hello = message<ClientHello>(v::client_hello);
    const auto offered = hello.pre_shared_key();
    if (!offered || hello.extensions.back().extension_type != ExtensionType::pre_shared_key ||
        offered->identities.size() != 1 || offered->identities.front().identity != ticket.ticket)
        throw std::logic_error("rfc8448_vectors.hpp: §4's ClientHello does not end with §3's ticket");
    hello.extensions.pop_back();
    s.client_ticket_age_ms = ticket_age_from_obfuscated(offered->identities.front().obfuscated_ticket_age,
                                                        ticket.ticket_age_add);
    take_client(s, hello, v::client_hello, {{NamedGroup::x25519, octets(v::client_private_key)}},
                v::client_hello_record);  // 16 03 01, as §3's
    s.resumed_session = TakenTicket{Session{s.server_name, suite, {}}, ticket};
    s.client_early_data = octets(v::client_early_data_payload);
    s.client_application_data = octets(v::client_application_data_payload);

    // The server: ServerHello (pre_shared_key first), then EncryptedExtensions and Finished in
    // one record; no Certificate. Its early_data extension is our server's answer, not an input.
    const auto server_hello = message<ServerHello>(v::server_hello);
    s.server_random = server_hello.random;
    s.server_private_keys = {{NamedGroup::x25519, octets(v::server_private_key)}};
    s.server_groups = {name(server_hello.key_share().value().group)};
    for (const auto& extension : server_hello.extensions) s.server_hello_order.push_back(extension.extension_type);
    for (const auto& extension : message<EncryptedExtensions>(v::encrypted_extensions).extensions)
        if (extension.extension_type != ExtensionType::early_data) s.encrypted_extensions.push_back(extension);
    take_server_certificate(s, s3::certificate);  // loaded, but a resumed handshake sends none
    s.server_framing.coalesce_handshake_messages =
        in_one_record({v::encrypted_extensions, v::server_finished}, v::server_flight_payload);
    // What the ticket stands for, which the RFC's server sealed in it and ours cannot open: the
    // same state, from §3's vectors (as §5's cookie, the ticket is opaque bytes sent as is). When
    // it was made is not known (nor needed: a replay skips the checks of time, see rfc8448.hpp).
    TicketState state;
    state.cipher_suite = suite;
    state.resumption_psk = ticket.resumption_psk;
    state.ticket_lifetime = ticket.ticket_lifetime;
    state.ticket_age_add = ticket.ticket_age_add;
    state.max_early_data_size = ticket.max_early_data_size;
    state.server_name = s.server_name;
    s.resumed_ticket_state = std::move(state);
    // No NewSessionTicket: after the client's Finished, its data, the echo, each side's close_notify.
    return s;
}
// ANCHOR_END: resumed_0rtt

// ANCHOR: client_auth
Section make_client_auth() {
    namespace v = ::rfc8448::client_auth;
    Section s;
    s.title = "RFC 8448 §6 Client Authentication";

    // The client: "create an ephemeral x25519 key pair", then "construct a ClientHello".
    take_client(s, message<ClientHello>(v::client_hello), v::client_hello,
                {{NamedGroup::x25519, octets(v::client_private_key)}}, v::client_hello_record);
    // No application data: it closes right after its Finished.

    // The server: ServerHello, EncryptedExtensions, then a CertificateRequest, its ECDSA P-256
    // Certificate, CertificateVerify and Finished, all in one record after ServerHello.
    const auto server_hello = message<ServerHello>(v::server_hello);
    s.server_random = server_hello.random;
    s.server_private_keys = {{NamedGroup::x25519, octets(v::server_private_key)}};
    s.server_groups = {name(server_hello.key_share().value().group)};
    s.encrypted_extensions = message<EncryptedExtensions>(v::encrypted_extensions).extensions;
    s.certificate_request = message<CertificateRequest>(v::certificate_request);
    s.certificate = message<Certificate>(v::certificate).certificate_list.at(0).cert_data;  // no file, no key
    s.server_framing.coalesce_handshake_messages =
        in_one_record({v::encrypted_extensions, v::certificate_request, v::certificate, v::certificate_verify,
                       v::server_finished},
                      v::server_flight_payload);

    // Neither key is shown, so each CertificateVerify's signature is an input: the RFC's bytes,
    // sent as they are. Checked here, once, over the RFC's own transcript: a replay whose
    // transcript is the RFC's sends signatures its peer's ordinary check accepts (rfc8448.hpp).
    TranscriptHash transcript(HashAlg::sha256);
    for (auto m : {v::client_hello, v::server_hello, v::encrypted_extensions, v::certificate_request, v::certificate})
        transcript.update(octets(m));
    const auto server_verify = message<CertificateVerify>(v::certificate_verify);
    s.signature_scheme = server_verify.algorithm;
    s.server_signature = server_verify.signature;
    if (!verify_signature(s.certificate, server_verify.algorithm,
                          certificate_verify_content(/*server=*/true, transcript.current()), server_verify.signature))
        throw std::logic_error("rfc8448_vectors.hpp: §6's server signature does not verify over §6's transcript");
    for (auto m : {v::certificate_verify, v::server_finished, v::client_certificate}) transcript.update(octets(m));

    // The client's answer: its RSA Certificate, CertificateVerify and Finished, in one record.
    s.client_certificate = message<Certificate>(v::client_certificate).certificate_list.at(0).cert_data;
    const auto client_verify = message<CertificateVerify>(v::client_certificate_verify);
    s.client_signature_scheme = client_verify.algorithm;
    s.client_signature = client_verify.signature;
    if (!verify_signature(s.client_certificate, client_verify.algorithm,
                          certificate_verify_content(/*server=*/false, transcript.current()), client_verify.signature))
        throw std::logic_error("rfc8448_vectors.hpp: §6's client signature does not verify over §6's transcript");
    s.client_framing.coalesce_handshake_messages = in_one_record(
        {v::client_certificate, v::client_certificate_verify, v::client_finished}, v::client_flight_payload);
    // No NewSessionTicket: after the client's Finished, each side's close_notify.
    return s;
}
// ANCHOR_END: client_auth

}  // namespace

const Section& client_auth() {
    static const Section section = make_client_auth();
    return section;
}

const Section& resumed_0rtt() {
    static const Section section = make_resumed_0rtt();
    return section;
}

const Section& simple_1rtt() {
    static const Section section = make_simple_1rtt();
    return section;
}

const Section& hello_retry() {
    static const Section section = make_hello_retry();
    return section;
}

}  // namespace replay

namespace {

std::string_view side(Role role) { return role == Role::client ? "client" : "server"; }

}  // namespace

Random Inputs::random() const {
    if (section_) return role_ == Role::client ? section_->client_hello.random : section_->server_random;
    Random random;
    const auto bytes = random_bytes(random.size());
    std::copy(bytes.begin(), bytes.end(), random.begin());
    return random;
}

KeyPair Inputs::key_share(NamedGroup group) const {
    if (!section_) return generate_key_share(group);
    const auto& keys = role_ == Role::client ? section_->client_private_keys : section_->server_private_keys;
    for (const auto& [g, private_key] : keys)
        if (g == group) return key_share_from_private(group, private_key);
    throw AlertError(AlertDescription::handshake_failure,
                     fmt::format("--rfc8448: the {} of {} has no {} key: only the RFC's own group can be replayed",
                                 side(role_), section_->title, name(group)));
}

std::optional<Bytes> Inputs::pss_salt(SignatureScheme scheme) const {
    if (!section_) return std::nullopt;
    if (role_ != Role::server)
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("--rfc8448: the client of {} signs nothing", section_->title));
    if (scheme != section_->signature_scheme)
        throw AlertError(AlertDescription::handshake_failure,
                         fmt::format("--rfc8448: the server of {} signs with {}; a {} signature cannot be replayed",
                                     section_->title, name(section_->signature_scheme), name(scheme)));
    return section_->server_pss_salt;
}

std::optional<Bytes> Inputs::signature(SignatureScheme scheme) const {
    if (!section_) return std::nullopt;
    const bool client = role_ == Role::client;
    const Bytes& rfc = client ? section_->client_signature : section_->server_signature;
    if (rfc.empty()) return std::nullopt;  // §3, §5: the server signs, with the RFC's salt
    const auto rfc_scheme = client ? section_->client_signature_scheme : section_->signature_scheme;
    if (scheme != rfc_scheme)
        throw AlertError(AlertDescription::handshake_failure,
                         fmt::format("--rfc8448: the {} of {} signs with {}; a {} signature cannot be replayed",
                                     side(role_), section_->title, name(rfc_scheme), name(scheme)));
    // The RFC's signature, as it is: no key of ours made it (the RFC shows none). Our peer
    // verifies it, over its transcript: it passes only if that transcript is the RFC's.
    return rfc;
}

std::optional<CertificateRequest> Inputs::certificate_request() const {
    if (!section_) return std::nullopt;
    if (role_ != Role::server)
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("--rfc8448: the client of {} sends no CertificateRequest", section_->title));
    return section_->certificate_request;
}

RecordFraming Inputs::framing() const {
    if (!section_) return {};
    return role_ == Role::client ? section_->client_framing : section_->server_framing;
}

std::vector<Extension> Inputs::encrypted_extensions() const {
    return section_ ? section_->encrypted_extensions : std::vector<Extension>{};
}

std::optional<NewSessionTicket> Inputs::new_session_ticket() const {
    if (!section_) return std::nullopt;
    if (role_ != Role::server)
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("--rfc8448: the client of {} issues no ticket", section_->title));
    return section_->new_session_ticket;
}

std::optional<Bytes> Inputs::hello_retry_cookie() const {
    if (!section_) return std::nullopt;
    if (role_ != Role::server)
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("--rfc8448: the client of {} sends no HelloRetryRequest", section_->title));
    return section_->hello_retry_cookie;
}

ClientHello Inputs::second_client_hello(ClientHello hello) const {
    if (!section_ || section_->client_hello_2_order.empty()) return hello;
    std::vector<Extension> laid_out;
    auto has = [&laid_out](ExtensionType type) {
        return std::any_of(laid_out.begin(), laid_out.end(), [type](const Extension& e) { return e.extension_type == type; });
    };
    for (auto type : section_->client_hello_2_order)
        for (const auto& extension : hello.extensions)
            if (extension.extension_type == type && type != ExtensionType::padding && !has(type))
                laid_out.push_back(extension);
    for (const auto& extension : hello.extensions)  // any the RFC's has not: at the end, as ours
        if (!has(extension.extension_type) && extension.extension_type != ExtensionType::padding)
            laid_out.push_back(extension);
    // RFC 7685 §3: "The client MUST fill the padding extension completely with zero bytes",
    // as many as take the message to the RFC's length (the extension's header counts: 4 bytes).
    const auto at = std::find(section_->client_hello_2_order.begin(), section_->client_hello_2_order.end(),
                              ExtensionType::padding);
    std::size_t before = 0;  // where the RFC has it, counting only the types we have
    for (auto it = section_->client_hello_2_order.begin(); it != at && it != section_->client_hello_2_order.end(); ++it)
        before += has(*it) ? 1 : 0;
    hello.extensions = std::move(laid_out);
    const auto length = encode_handshake(hello).size() + 4;
    if (at != section_->client_hello_2_order.end() && length <= section_->client_hello_2_padded_length) {
        Extension padding{ExtensionType::padding, Bytes(section_->client_hello_2_padded_length - length, 0)};
        hello.extensions.insert(hello.extensions.begin() + static_cast<std::ptrdiff_t>(before), std::move(padding));
    }
    return hello;
}

ServerHello Inputs::server_hello(ServerHello hello) const {
    if (!section_ || section_->server_hello_order.empty()) return hello;
    std::stable_sort(hello.extensions.begin(), hello.extensions.end(), [this](const Extension& a, const Extension& b) {
        auto rank = [this](ExtensionType type) {  // where the RFC has it; one it has not: at the end
            const auto& order = section_->server_hello_order;
            return std::find(order.begin(), order.end(), type) - order.begin();
        };
        return rank(a.extension_type) < rank(b.extension_type);
    });
    return hello;
}

std::optional<TakenTicket> Inputs::session_to_resume() const {
    if (!section_) return std::nullopt;
    if (role_ != Role::client)
        throw AlertError(AlertDescription::internal_error,
                         fmt::format("--rfc8448: the server of {} resumes no session of its own", section_->title));
    return section_->resumed_session;
}

std::uint64_t Inputs::ticket_offer_time_ms(const SessionTicket& ticket) const {
    if (!section_ || !section_->resumed_session) return unix_time_ms();
    // The RFC's client offers §3's ticket 6 ms after receiving it. By our clock the ticket
    // expired long ago (30 s after the RFC's traces were made), so this clock is the replay's.
    return ticket.receipt_time_ms + section_->client_ticket_age_ms;
}

std::optional<SelectedPsk> Inputs::replayed_psk(Trace& trace, const OfferedPsks& offered) const {
    if (!section_ || !section_->resumed_ticket_state)
        throw std::logic_error("replayed_psk: only a replay of RFC 8448 §4 knows a ticket it cannot open");
    const auto& ticket = section_->resumed_session->ticket.ticket;
    for (std::size_t i = 0; i < offered.identities.size(); ++i) {
        const auto& identity = offered.identities[i];
        if (identity.identity != ticket) continue;
        SelectedPsk selected{static_cast<std::uint16_t>(i), *section_->resumed_ticket_state,
                             ticket_age_from_obfuscated(identity.obfuscated_ticket_age,
                                                        section_->resumed_ticket_state->ticket_age_add)};
        trace.value("ticket", fmt::format("identity {} of {}: the ticket of {}, {} ms old by the client's clock",
                                          i, offered.identities.size(), section_->title, selected.client_ticket_age_ms));
        trace.step(fmt::format("--rfc8448 resume: the RFC's ticket is sealed by the RFC's server and opens under no key "
                               "of ours, so the replay knows what it stands for from §3's vectors (its PSK, "
                               "ticket_age_add, lifetime {} s, max_early_data_size {}); its expiry and age are not "
                               "checked (§4.2.11.1): it was issued when the RFC's traces were made, years ago by our clock",
                               selected.ticket.ticket_lifetime, selected.ticket.max_early_data_size));
        return selected;
    }
    return std::nullopt;
}

std::optional<std::string> Inputs::early_data_refusal(Trace& trace, const SelectedPsk& psk, BytesView ticket_identity,
                                                      CipherSuite negotiated_suite, std::string_view negotiated_alpn,
                                                      UsedTickets& used_tickets, std::uint64_t now_ms) const {
    if (!section_ || !section_->resumed_ticket_state)
        return tls::early_data_refusal(psk, ticket_identity, negotiated_suite, negotiated_alpn, used_tickets, now_ms);
    trace.step(fmt::format("--rfc8448 resume: §8.3's freshness check and §8.2's startup rule skipped: the RFC's ticket "
                           "was made years ago by our clock, so its age ({} ms by the RFC client's) can never be fresh "
                           "here; first identity, early data allowed, suite, ALPN and single use (§8.1) are checked",
                           psk.client_ticket_age_ms));
    return tls::early_data_refusal(psk, ticket_identity, negotiated_suite, negotiated_alpn, used_tickets, now_ms,
                                   ClockChecks::skip_for_rfc8448_replay);
}

void Inputs::check_client_hello(Trace& trace, BytesView client_hello_message, bool second) const {
    if (!section_) return;
    const Bytes& rfc = second ? section_->client_hello_2_message : section_->client_hello_message;
    const auto which = second ? "ClientHello2" : "ClientHello";
    const auto [ours, theirs] =
        std::mismatch(client_hello_message.begin(), client_hello_message.end(), rfc.begin(), rfc.end());
    if (ours == client_hello_message.end() && theirs == rfc.end()) {
        trace.value("rfc8448", fmt::format("the {} of {}, byte for byte", which, section_->title));
        return;
    }
    const auto at = static_cast<std::size_t>(ours - client_hello_message.begin());
    const auto how = ours != client_hello_message.end() && theirs != rfc.end()
                         ? fmt::format("differs at byte {} ({:02x}, the RFC's {:02x})", at, *ours, *theirs)
                         : fmt::format("is {} bytes, the RFC's {}", client_hello_message.size(), rfc.size());
    throw AlertError(AlertDescription::handshake_failure,
                     fmt::format("--rfc8448 answers only the {} of {}; this one {}: connect with the "
                                 "chapter's client and the same --rfc8448",
                                 which, section_->title, how));
}

std::string Inputs::trust_server_certificate(const std::vector<Bytes>& chain, const std::string& ca,
                                             const std::string& server_name) const {
    if (!section_) {
        validate_certificate_chain(chain, ca, server_name);
        return fmt::format("trusted for {} (anchors from {})", server_name, ca);
    }
    // The RFC's certificate passes no validation (RSA-1024 is below the strength we require, it
    // expired on 2026-07-30, it is self-signed and names "rsa", not "server"), so a replay pins
    // it: the chain must be that one certificate, byte for byte.
    // (§6's is ECDSA P-256, from the vectors: expired too, self-signed, for "ecdsa256".)
    if (chain.size() != 1 || chain.front() != section_->certificate)
        throw AlertError(AlertDescription::bad_certificate,
                         fmt::format("--rfc8448 trusts only the certificate of {}{}, and the server sent another",
                                     section_->title,
                                     section_->certificate_file.empty() ? "" : " (certs/rfc8448-rsa.pem)"));
    return fmt::format("pinned: the certificate of {}, byte for byte (no CA vouches for it)", section_->title);
}

std::string Inputs::trust_client_certificate(const std::vector<Bytes>& chain, const std::string& ca) const {
    if (!section_ || section_->client_certificate.empty()) {
        validate_client_certificate_chain(chain, ca);
        return "trusted as a client (anchors from " + ca + ")";
    }
    // §6's client certificate passes no validation (RSA-1024, expired on 2026-07-30, self-signed,
    // for "client"), so a replay pins it, as the client pins the server's: that one certificate.
    if (chain.size() != 1 || chain.front() != section_->client_certificate)
        throw AlertError(AlertDescription::bad_certificate,
                         fmt::format("--rfc8448 client-auth accepts only the client certificate of {}, and the "
                                     "client sent another",
                                     section_->title));
    return fmt::format("pinned: the client certificate of {}, byte for byte (no CA vouches for it)", section_->title);
}

namespace {

// Why an option cannot go with --rfc8448: the value it sets is one the RFC fixes.
std::string why_refused(const std::string& option, const replay::Section& section, Role role) {
    if (section.certificate_request) {  // §6
        if ((option == "--cert" || option == "--key") && role == Role::client)
            return "the RFC's client answers with its own RSA certificate (from the RFC's vectors), whose key the RFC "
                   "does not show: it sends the RFC's signature";
        if (option == "--cert" || option == "--key")
            return "the RFC's server has its own ECDSA P-256 certificate (from the RFC's vectors), whose key the RFC "
                   "does not show: it sends the RFC's signature";
        if (option == "--client-ca") return "the RFC's server accepts exactly the RFC's client certificate";
        if (option == "--require-client-cert")
            return "the RFC's server asks for a client certificate and accepts exactly the RFC's";
        if (option == "--post-handshake-auth")
            return "the RFC's server asks for the client's certificate in the handshake, and not after it";
    }
    if (option == "--groups" && section.hello_retry_cookie)
        return "the RFC's client offers its own groups, with one x25519 key share, and its server prefers P-256";
    if (option == "--groups") return "the RFC's client offers its own groups, with one x25519 key share";
    if (option == "--hrr-cookie")
        return "the RFC's server sends its own cookie, opaque to ours, which keeps its state in the connection";
    if (option == "--server-name") return "the RFC's client asks for \"server\"";
    if (option == "--ca") return "the RFC's client trusts exactly the RFC's certificate";
    if (option == "--cert" || option == "--key")
        return "the RFC's server has its own RSA certificate and key (certs/rfc8448-rsa.pem, .key)";
    if (option == "--message") return "the RFC's client sends its own 50 bytes of application data";
    if (section.resumed_session) {
        if (option == "--session-in" || option == "--reconnect")
            return "the RFC's client resumes the session §3 gave it (its ticket and PSK, from the RFC's vectors)";
        if (option == "--early-data" || option == "--early-data-file")
            return "the RFC's client sends its own 6 bytes of early data";
        if (option == "--psk-modes") return "the RFC's client offers psk_dhe_ke";
        if (option == "--tickets" || option == "--ticket-key" || option == "--ticket-lifetime" ||
            option == "--max-early-data")
            return "the RFC's server resumes the RFC's ticket (which allows 1024 bytes of early data) and sends none";
        if (option == "--allow-psk-ke") return "the RFC's server resumes with psk_dhe_ke";
    }
    if (option == "--tickets" || option == "--ticket-key" || option == "--ticket-lifetime" ||
        option == "--max-early-data")
        return "the RFC's server sends its own NewSessionTicket: one, with its lifetime, ticket bytes and early_data";
    return "it would change a value the RFC fixes";
}

}  // namespace

void add_rfc8448_option(CLI::App& app, Inputs& inputs, std::vector<std::string> conflicting,
                        std::vector<std::string> sections) {
    const std::string what =
        "Replay RFC 8448 §3: its randoms, keys, certificate and extensions, so that the trace shows the RFC's bytes "
        "(not secure: they are published)";
    CLI::Option* flag = nullptr;
    auto chosen = std::make_shared<std::string>();  // "" (§3), or one of `sections`
    if (sections.empty()) {
        flag = app.add_flag("--rfc8448")->description(what);
    } else {
        // `--rfc8448` alone is §3; `--rfc8448 hrr` is §5. (A value is optional, so the help
        // shows it in brackets, and scripts/run passes a following word through.)
        // `--rfc8448 resume` is §4, from chapter 13.
        // `--rfc8448 client-auth` is §6, in chapter 14.
        auto number = [](const std::string& name) { return name == "hrr" ? "§5" : name == "resume" ? "§4" : "§6"; };
        auto title = [](const std::string& name) {
            return name == "hrr" ? "HelloRetryRequest" : name == "resume" ? "Resumed 0-RTT Handshake" : "Client Authentication";
        };
        std::string type = "[", also, choices = "none (§3)";
        for (const auto& name : sections) {
            type += (type.size() > 1 ? "|" : "") + name;
            also += fmt::format("; --rfc8448 {} replays {}, {}, instead", name, number(name), title(name));
            choices += fmt::format(", {} ({})", name, number(name));
        }
        flag = app.add_option("--rfc8448", *chosen)
                   ->expected(0, 1)
                   ->type_name(type + "]")
                   ->description(what + also)
                   ->check(CLI::Validator(
                       [sections, choices](std::string& value) -> std::string {
                           if (value.empty() || std::find(sections.begin(), sections.end(), value) != sections.end())
                               return {};
                           return "no section '" + value + "' to replay: give " + choices;
                       },
                       ""));
    }
    app.final_callback([&app, &inputs, flag, chosen, conflicting = std::move(conflicting)] {
        if (flag->count() == 0) return;
        const auto& section = *chosen == "hrr"           ? replay::hello_retry()
                              : *chosen == "resume"      ? replay::resumed_0rtt()
                              : *chosen == "client-auth" ? replay::client_auth()
                                                         : replay::simple_1rtt();
        const auto number = *chosen == "hrr"           ? "§5"
                            : *chosen == "resume"      ? "§4"
                            : *chosen == "client-auth" ? "§6"
                                                       : "§3";
        const bool client = inputs.role() == Role::client;
        for (const auto& option : conflicting) {
            // (--hrr-cookie changes nothing in a handshake without a HelloRetryRequest, nor a
            // client's --cert and --key in one whose server asks for no certificate.)
            if (option == "--hrr-cookie" && !section.hello_retry_cookie) continue;
            if (client && (option == "--cert" || option == "--key") && section.client_certificate.empty()) continue;
            if (app.count(option) > 0)
                throw CLI::ValidationError("--rfc8448",
                                           fmt::format("it replays RFC 8448 {}, so {} cannot be used with it: {}", number,
                                                       option, why_refused(option, section, inputs.role())));
        }
        inputs = Inputs(inputs.role(), section);
    });
}

}  // namespace tls
