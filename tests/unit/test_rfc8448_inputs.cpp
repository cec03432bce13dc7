// What --rfc8448 is made of, without sockets: the RSA-PSS salt read out of the RFC's
// signatures and signed with again, the RFC's certificate and key as files, §3's inputs
// (common/rfc8448.cpp), what Inputs gives and refuses (§6's signatures and pinned certificates
// included), and the record framing it selects.
// The chapters' replay, end to end, is tests/chapters/test_rfc8448_replay.cpp.
#include "key_exchange.hpp"
#include "record_layer.hpp"
#include "rfc8448.hpp"
#include "rfc8448_vectors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

using namespace tls;
using tlstest::alert_of;

namespace {

namespace s3 = rfc8448::simple;
namespace s5 = rfc8448::hello_retry;
namespace s6 = rfc8448::client_auth;
namespace s7 = rfc8448::compat;

template <class Message>
Message decode_message(std::string_view rfc_hex) {
    return Message::decode(Handshake::decode(from_hex(rfc_hex)).body);
}

Bytes leaf_of(std::string_view certificate_message) {
    return decode_message<Certificate>(certificate_message).certificate_list.at(0).cert_data;
}

// What a CertificateVerify of the trace signs (§4.4.3): the messages before it, hashed.
Bytes signed_content(bool server, std::initializer_list<Bytes> messages) {
    TranscriptHash th(HashAlg::sha256);
    for (const Bytes& m : messages) th.update(m);
    return certificate_verify_content(server, th.current());
}

Bytes message_hash_of(std::string_view client_hello_1) {  // §4.4.1, after a HelloRetryRequest
    return encode_handshake(HandshakeType::message_hash, hash(HashAlg::sha256, from_hex(client_hello_1)));
}

const PrivateKey& rfc_key() {
    static const PrivateKey key = PrivateKey::load_pem_file(tlstest::cert("rfc8448-rsa.key"));
    return key;
}

Trace& quiet_trace() {
    static std::FILE* devnull = std::fopen("/dev/null", "w");
    static Trace trace({.hex = false, .quiet = true}, devnull);
    return trace;
}

}  // namespace

// ---- The salt of RSA-PSS (RFC 8017 §9.1) ----------------------------------------------------

TEST_CASE("RFC 8448: the salt recovered from each RSA-PSS CertificateVerify of the server re-signs to exactly it") {
    struct Case {
        const char* section;
        std::string_view certificate, certificate_verify;
        Bytes content;
    };
    const Case cases[] = {
        {"§3", s3::certificate, s3::certificate_verify,
         signed_content(true, {from_hex(s3::client_hello), from_hex(s3::server_hello), from_hex(s3::encrypted_extensions),
                               from_hex(s3::certificate)})},
        {"§5", s5::certificate, s5::certificate_verify,
         signed_content(true, {message_hash_of(s5::client_hello_1), from_hex(s5::hello_retry_request),
                               from_hex(s5::client_hello_2), from_hex(s5::server_hello),
                               from_hex(s5::encrypted_extensions), from_hex(s5::certificate)})},
        {"§7", s7::certificate, s7::certificate_verify,
         signed_content(true, {from_hex(s7::client_hello), from_hex(s7::server_hello), from_hex(s7::encrypted_extensions),
                               from_hex(s7::certificate)})},
    };
    std::vector<Bytes> salts;
    for (const auto& c : cases) {
        INFO(c.section);
        const auto verify = decode_message<CertificateVerify>(c.certificate_verify);
        REQUIRE(verify.algorithm == SignatureScheme::rsa_pss_rsae_sha256);
        const Bytes salt = recover_pss_salt(leaf_of(c.certificate), verify.algorithm, c.content, verify.signature);
        CHECK(salt.size() == 32);
        CHECK(rfc_key().sign(verify.algorithm, c.content, salt) == verify.signature);
        // A fresh salt gives another signature, which verifies all the same.
        const Bytes fresh = rfc_key().sign(verify.algorithm, c.content);
        CHECK(fresh != verify.signature);
        CHECK(verify_signature(leaf_of(c.certificate), verify.algorithm, c.content, fresh));
        salts.push_back(salt);
    }
    CHECK(salts[0] != salts[1]);  // each signature drew its own
    CHECK(salts[0] != salts[2]);
}

TEST_CASE("RFC 8448 §6: the client's RSA-PSS salt is readable, but its key is not in the RFC") {
    TranscriptHash th(HashAlg::sha256);
    for (std::string_view m : {s6::client_hello, s6::server_hello, s6::encrypted_extensions, s6::certificate_request,
                               s6::certificate, s6::certificate_verify, s6::server_finished, s6::client_certificate})
        th.update(from_hex(m));
    const auto content = certificate_verify_content(false, th.current());
    const auto verify = decode_message<CertificateVerify>(s6::client_certificate_verify);
    const Bytes salt = recover_pss_salt(leaf_of(s6::client_certificate), verify.algorithm, content, verify.signature);
    CHECK(salt.size() == 32);
    // §2's key is the server's; the client's certificate holds another, so ours cannot match.
    CHECK(rfc_key().sign(verify.algorithm, content, salt) != verify.signature);
}

TEST_CASE("recover_pss_salt refuses a signature that does not verify and a scheme without a salt") {
    const auto content = signed_content(true, {from_hex(s3::client_hello), from_hex(s3::server_hello),
                                               from_hex(s3::encrypted_extensions), from_hex(s3::certificate)});
    auto verify = decode_message<CertificateVerify>(s3::certificate_verify);
    const Bytes leaf = leaf_of(s3::certificate);
    verify.signature[10] ^= 0x01;
    CHECK(alert_of([&] { recover_pss_salt(leaf, verify.algorithm, content, verify.signature); }) ==
          AlertDescription::decrypt_error);
    CHECK_THROWS_AS(recover_pss_salt(leaf, SignatureScheme::ecdsa_secp256r1_sha256, content, verify.signature),
                    std::invalid_argument);
}

TEST_CASE("a fixed salt must be as long as the hash, and only RSA-PSS takes one") {
    const Bytes message = to_bytes("signed");
    CHECK_THROWS_AS(rfc_key().sign(SignatureScheme::rsa_pss_rsae_sha256, message, Bytes(31, 0)), std::invalid_argument);
    CHECK_THROWS_AS(rfc_key().sign(SignatureScheme::rsa_pss_rsae_sha384, message, Bytes(32, 0)), std::invalid_argument);
    CHECK(rfc_key().sign(SignatureScheme::rsa_pss_rsae_sha384, message, Bytes(48, 7)) ==
          rfc_key().sign(SignatureScheme::rsa_pss_rsae_sha384, message, Bytes(48, 7)));  // deterministic now
    const auto ecdsa = PrivateKey::load_pem_file(tlstest::cert("server-ecdsa.key"));
    CHECK_THROWS_AS(ecdsa.sign(SignatureScheme::ecdsa_secp256r1_sha256, message, Bytes(32, 0)), std::invalid_argument);
}

// ---- The RFC's certificate and key as files (scripts/rfc8448-vectors certs) -----------------

TEST_CASE("certs/rfc8448-rsa.pem is the RFC's certificate and .key the §2 key that signs for it") {
    const auto chain = load_certificate_chain_pem_file(tlstest::cert("rfc8448-rsa.pem"));
    REQUIRE(chain.size() == 1);
    CHECK(chain[0] == leaf_of(s3::certificate));
    CHECK(rfc_key().algorithm() == "RSA-1024");
    const Bytes message = to_bytes("the key belongs to the certificate");
    CHECK(verify_signature(chain[0], SignatureScheme::rsa_pss_rsae_sha256, message,
                           rfc_key().sign(SignatureScheme::rsa_pss_rsae_sha256, message)));
}

TEST_CASE("RFC 8448's ephemeral keys: each public key follows from its private key") {
    CHECK(key_share_from_private(NamedGroup::x25519, from_hex(s3::client_private_key)).public_key ==
          from_hex(s3::client_public_key));
    CHECK(key_share_from_private(NamedGroup::x25519, from_hex(s3::server_private_key)).public_key ==
          from_hex(s3::server_public_key));
    // §5 uses P-256 after its HelloRetryRequest: the uncompressed point 04 || X || Y.
    CHECK(key_share_from_private(NamedGroup::secp256r1, from_hex(s5::client_p256_private_key)).public_key ==
          from_hex(s5::client_p256_public_key));
    CHECK(key_share_from_private(NamedGroup::secp256r1, from_hex(s5::server_p256_private_key)).public_key ==
          from_hex(s5::server_p256_public_key));
}

// ---- §3's inputs (common/rfc8448.cpp) -------------------------------------------------------

TEST_CASE("RFC 8448 §3's inputs: the ClientHello rebuilt around our key share is the RFC's, byte for byte") {
    const auto& s = replay::simple_1rtt();
    CHECK(encode_handshake(s.client_hello) == from_hex(s3::client_hello));
    CHECK(s.client_hello_message == from_hex(s3::client_hello));
    CHECK(s.client_hello.legacy_session_id.empty());  // no middlebox compatibility mode: §7 has it
    CHECK(s.server_name == "server");
    CHECK(s.client_groups == std::vector<std::string>{"x25519"});
    CHECK(s.client_application_data.size() == 50);
    CHECK(s.client_framing.initial_client_hello_version == 0x0301);
    CHECK_FALSE(s.client_framing.coalesce_handshake_messages);
    CHECK(s.server_framing.initial_client_hello_version == TLS1_2);
    CHECK(s.server_framing.coalesce_handshake_messages);
    const Bytes server_hello = from_hex(s3::server_hello);
    CHECK(Bytes(s.server_random.begin(), s.server_random.end()) == Bytes(server_hello.begin() + 6, server_hello.begin() + 38));
    CHECK(encode_handshake(EncryptedExtensions{s.encrypted_extensions}) == from_hex(s3::encrypted_extensions));
    CHECK(s.signature_scheme == SignatureScheme::rsa_pss_rsae_sha256);
    CHECK(s.server_pss_salt.size() == 32);
    CHECK(load_certificate_chain_pem_file(s.certificate_file) == std::vector<Bytes>{s.certificate});
    CHECK(PrivateKey::load_pem_file(s.key_file).algorithm() == "RSA-1024");
    REQUIRE(s.new_session_ticket);
    CHECK(encode_handshake(*s.new_session_ticket) == from_hex(s3::new_session_ticket));
    CHECK(s.new_session_ticket->max_early_data_size() == 1024u);
    CHECK(s.server_groups == std::vector<std::string>{"x25519"});
    CHECK_FALSE(s.hello_retry_cookie);
}

TEST_CASE("RFC 8448 §5's inputs: ClientHello1, and ClientHello2 as §4.1.2 makes it from ClientHello1, laid out as the RFC's") {
    const auto& s = replay::hello_retry();
    CHECK(encode_handshake(s.client_hello) == from_hex(s5::client_hello_1));
    CHECK(s.client_groups == std::vector<std::string>{"x25519"});
    CHECK(s.client_application_data.empty());  // §5's client closes after its Finished
    CHECK(s.client_framing.initial_client_hello_version == 0x0301);
    CHECK(s.server_groups == std::vector<std::string>{"secp256r1"});
    REQUIRE(s.hello_retry_cookie);
    CHECK(s.hello_retry_cookie->size() == 114);
    CHECK(decode_message<ServerHello>(s5::hello_retry_request).cookie() == s.hello_retry_cookie);
    CHECK_FALSE(s.new_session_ticket);  // §5's server sends none
    CHECK(s.server_framing.coalesce_handshake_messages);
    CHECK(s.server_pss_salt.size() == 32);
    CHECK(s.certificate == replay::simple_1rtt().certificate);
    CHECK(encode_handshake(EncryptedExtensions{s.encrypted_extensions}) == from_hex(s5::encrypted_extensions));

    const Inputs client(Role::client, s), server(Role::server, s);
    CHECK(client.key_share(NamedGroup::x25519).public_key == from_hex(s5::client_x25519_public_key));
    CHECK(client.key_share(NamedGroup::secp256r1).public_key == from_hex(s5::client_p256_public_key));
    CHECK(server.key_share(NamedGroup::secp256r1).public_key == from_hex(s5::server_p256_public_key));
    CHECK(server.hello_retry_cookie() == s.hello_retry_cookie);
    CHECK(alert_of([&] { client.hello_retry_cookie(); }) == AlertDescription::internal_error);
    CHECK_FALSE(server.new_session_ticket());

    // ClientHello2 as chapter 10's client makes it: ClientHello1, the P-256 share in key_share,
    // the cookie appended. The layout puts the cookie where the RFC's client has it and pads.
    ClientHello second = s.client_hello;
    for (auto& e : second.extensions)
        if (e.extension_type == ExtensionType::key_share)
            e = make_key_share_client({{NamedGroup::secp256r1, client.key_share(NamedGroup::secp256r1).public_key}});
    second.extensions.push_back(make_cookie(*s.hello_retry_cookie));
    CHECK(encode_handshake(second) != from_hex(s5::client_hello_2));
    CHECK(encode_handshake(client.second_client_hello(second)) == from_hex(s5::client_hello_2));
    CHECK(Inputs(Role::client).second_client_hello(second) == second);  // ours: as it is
    CHECK(replay::simple_1rtt().client_hello_2_order.empty());

    server.check_client_hello(quiet_trace(), from_hex(s5::client_hello_1));
    server.check_client_hello(quiet_trace(), from_hex(s5::client_hello_2), /*second=*/true);
    CHECK(alert_of([&] { server.check_client_hello(quiet_trace(), from_hex(s5::client_hello_1), true); }) ==
          AlertDescription::handshake_failure);
}

// §4: the client's ClientHello is the RFC's once our code adds pre_shared_key (the ticket, its
// age by the replay's clock, the binder); the server knows the RFC's ticket only by identity.
TEST_CASE("RFC 8448 §4's inputs: §3's session, the ClientHello with our binder, the ticket the server maps") {
    namespace s4 = rfc8448::resumed;
    const auto& s = replay::resumed_0rtt();
    REQUIRE(s.resumed_session);
    const auto& ticket = s.resumed_session->ticket;
    CHECK(Bytes(ticket.resumption_psk.begin(), ticket.resumption_psk.end()) == from_hex(s4::early_secret_ikm));
    CHECK(ticket.ticket == decode_message<NewSessionTicket>(s3::new_session_ticket).ticket);
    CHECK(ticket.max_early_data_size == 1024);
    CHECK(ticket.ticket_lifetime == 30);
    CHECK(s.client_ticket_age_ms == 6);
    CHECK(s.client_early_data == to_bytes("ABCDEF"));
    CHECK(s.client_application_data == from_hex(s4::client_application_data_payload));
    CHECK_FALSE(s.client_hello.pre_shared_key());  // ours to make
    CHECK_FALSE(s.new_session_ticket);              // §4's server sends none

    const Inputs client(Role::client, s), server(Role::server, s);
    CHECK(client.ticket_offer_time_ms(ticket) == ticket.receipt_time_ms + 6);
    ClientHello hello = s.client_hello;
    const std::vector<PskOffer> offers = {
        psk_offer(s.resumed_session->session, ticket, client.ticket_offer_time_ms(ticket))};
    add_pre_shared_key(hello, offers);
    CHECK(encode_handshake(hello) == from_hex(s4::client_hello));  // binder included
    CHECK(hello.pre_shared_key()->binders.front() == from_hex(s4::binder));

    // The server: EncryptedExtensions without early_data (its answer is ours), the ServerHello
    // laid out as the RFC's, the RFC's ticket mapped to §3's state, and no other.
    auto extensions = s.encrypted_extensions;
    extensions.push_back(make_early_data());
    CHECK(encode_handshake(EncryptedExtensions{extensions}) == from_hex(s4::encrypted_extensions));
    auto server_hello = decode_message<ServerHello>(s4::server_hello);
    std::rotate(server_hello.extensions.begin(), server_hello.extensions.begin() + 1, server_hello.extensions.end());
    CHECK(encode_handshake(server_hello) != from_hex(s4::server_hello));
    CHECK(encode_handshake(server.server_hello(server_hello)) == from_hex(s4::server_hello));
    CHECK(encode_handshake(Inputs(Role::server).server_hello(server_hello)) == encode_handshake(server_hello));  // ours
    const auto offered = *hello.pre_shared_key();
    const auto selected = server.replayed_psk(quiet_trace(), offered);
    REQUIRE(selected);
    CHECK(selected->selected_identity == 0);
    CHECK(selected->client_ticket_age_ms == 6);
    CHECK(selected->ticket.resumption_psk == ticket.resumption_psk);
    auto other = offered;
    other.identities.front().identity.back() ^= 1;
    CHECK_FALSE(server.replayed_psk(quiet_trace(), other));
    CHECK_THROWS_AS(Inputs(Role::server).replayed_psk(quiet_trace(), offered), std::logic_error);
    CHECK_THROWS_AS(Inputs(Role::server, replay::simple_1rtt()).replayed_psk(quiet_trace(), offered), std::logic_error);
}

// The checks of time: without a replay they run (the RFC's ticket is years old: not fresh);
// a replay of §4 skips them, and only them: single use and the ticket's own limits still hold.
TEST_CASE("RFC 8448 §4: only a replay skips the freshness of the RFC's years-old ticket, and single use holds") {
    const auto& s = replay::resumed_0rtt();
    const auto& identity = s.resumed_session->ticket.ticket;
    const SelectedPsk psk{0, *s.resumed_ticket_state, 6};
    const auto now = unix_time_ms();
    const auto suite = CipherSuite::TLS_AES_128_GCM_SHA256;
    {
        UsedTickets used(now - 3'600'000);
        const auto refusal = Inputs(Role::server).early_data_refusal(quiet_trace(), psk, identity, suite, "", used, now);
        REQUIRE(refusal);
        CHECK(tlstest::contains(*refusal, "not fresh"));
        CHECK(used.size() == 0);
        CHECK(tls::early_data_refusal(psk, identity, suite, "", used, now) == refusal);  // the default enforces
    }
    {
        UsedTickets used(now);  // just started: the startup rule would refuse too
        const Inputs server(Role::server, s);
        CHECK_FALSE(server.early_data_refusal(quiet_trace(), psk, identity, suite, "", used, now));
        const auto again = server.early_data_refusal(quiet_trace(), psk, identity, suite, "", used, now + 1);
        REQUIRE(again);
        CHECK(tlstest::contains(*again, "already been used for early data"));
        auto no_early_data = psk;
        no_early_data.ticket.max_early_data_size = 0;
        CHECK(tlstest::contains(
            server.early_data_refusal(quiet_trace(), no_early_data, identity, suite, "", used, now).value_or(""),
            "does not allow early data"));
        CHECK(tlstest::contains(server.early_data_refusal(quiet_trace(), psk, identity, CipherSuite::TLS_AES_256_GCM_SHA384,
                                                          "", used, now)
                                    .value_or(""),
                                "cipher suite"));
    }
}

// §6's keys are not in the RFC, so each side sends the RFC's signature (Inputs::signature). It
// verifies over the RFC's transcript and over no other: the peer's ordinary check of it is what
// proves a replay's transcript is the RFC's (common/rfc8448.hpp).
TEST_CASE("RFC 8448 §6's inputs: each side sends the RFC's signature, valid over the RFC's transcript only; certificates pinned") {
    const auto& s = replay::client_auth();
    const Inputs server(Role::server, s), client(Role::client, s);
    // The server: the ECDSA certificate of the vectors, no files, the RFC's CertificateRequest.
    CHECK(s.certificate == leaf_of(s6::certificate));
    CHECK(s.certificate_file.empty());
    CHECK(s.key_file.empty());
    REQUIRE(server.certificate_request());
    CHECK(encode_handshake(*server.certificate_request()) == from_hex(s6::certificate_request));
    CHECK(alert_of([&] { (void)client.certificate_request(); }) == AlertDescription::internal_error);
    CHECK(s.client_certificate == leaf_of(s6::client_certificate));

    // The signatures, as the RFC's CertificateVerify messages carry them, in their schemes only.
    const auto server_verify = decode_message<CertificateVerify>(s6::certificate_verify);
    const auto client_verify = decode_message<CertificateVerify>(s6::client_certificate_verify);
    CHECK(server.signature(server_verify.algorithm) == server_verify.signature);
    CHECK(client.signature(client_verify.algorithm) == client_verify.signature);
    CHECK(alert_of([&] { (void)server.signature(SignatureScheme::rsa_pss_rsae_sha256); }) ==
          AlertDescription::handshake_failure);
    CHECK(alert_of([&] { (void)client.signature(SignatureScheme::ecdsa_secp256r1_sha256); }) ==
          AlertDescription::handshake_failure);

    // The server's verifies over ClientHello ... Certificate, and not once one byte before it differs.
    auto ee = from_hex(s6::encrypted_extensions);
    auto transcript = [&](const Bytes& encrypted_extensions) {
        return signed_content(true, {from_hex(s6::client_hello), from_hex(s6::server_hello), encrypted_extensions,
                                     from_hex(s6::certificate_request), from_hex(s6::certificate)});
    };
    CHECK(verify_signature(s.certificate, server_verify.algorithm, transcript(ee), server_verify.signature));
    ee.back() ^= 0x01;
    CHECK_FALSE(verify_signature(s.certificate, server_verify.algorithm, transcript(ee), server_verify.signature));

    // Each side trusts exactly the other's certificate of §6.
    CHECK(tlstest::contains(server.trust_client_certificate({s.client_certificate}, ""), "pinned"));
    CHECK(alert_of([&] { (void)server.trust_client_certificate({leaf_of(s3::certificate)}, ""); }) ==
          AlertDescription::bad_certificate);
    CHECK(tlstest::contains(client.trust_server_certificate({s.certificate}, "", "server"), "pinned"));
    CHECK(alert_of([&] { (void)client.trust_server_certificate({leaf_of(s3::certificate)}, "", "server"); }) ==
          AlertDescription::bad_certificate);

    // Elsewhere no signature is an input: §3's server signs, with the salt; nothing without a section.
    const Inputs s3_server(Role::server, replay::simple_1rtt());
    CHECK_FALSE(s3_server.signature(SignatureScheme::rsa_pss_rsae_sha256));
    CHECK_FALSE(s3_server.certificate_request());
    CHECK_FALSE(Inputs(Role::client).signature(SignatureScheme::rsa_pss_rsae_sha256));
}

TEST_CASE("Inputs: fresh values normally, the RFC's with a section, and a clear refusal for anything else") {
    const Inputs fresh(Role::server);
    CHECK(fresh.rfc8448() == nullptr);
    CHECK(fresh.random() != fresh.random());
    CHECK(fresh.key_share(NamedGroup::x25519).public_key != fresh.key_share(NamedGroup::x25519).public_key);
    CHECK_FALSE(fresh.pss_salt(SignatureScheme::rsa_pss_rsae_sha256));
    CHECK(fresh.encrypted_extensions().empty());
    CHECK_FALSE(fresh.new_session_ticket());  // we seal our own tickets
    CHECK(fresh.framing().initial_client_hello_version == TLS1_2);
    CHECK_FALSE(fresh.framing().coalesce_handshake_messages);
    fresh.check_client_hello(quiet_trace(), from_hex(s3::client_hello));  // no replay, no check

    const auto& s = replay::simple_1rtt();
    const Inputs client(Role::client, s), server(Role::server, s);
    CHECK(client.random() == s.client_hello.random);
    CHECK(server.random() == s.server_random);
    CHECK(client.key_share(NamedGroup::x25519).public_key == from_hex(s3::client_public_key));
    CHECK(server.key_share(NamedGroup::x25519).public_key == from_hex(s3::server_public_key));
    CHECK(alert_of([&] { server.key_share(NamedGroup::secp256r1); }) == AlertDescription::handshake_failure);
    CHECK(server.pss_salt(SignatureScheme::rsa_pss_rsae_sha256) == s.server_pss_salt);
    CHECK(alert_of([&] { server.pss_salt(SignatureScheme::rsa_pss_rsae_sha384); }) == AlertDescription::handshake_failure);
    CHECK(server.encrypted_extensions() == s.encrypted_extensions);
    REQUIRE(server.new_session_ticket());
    CHECK(encode_handshake(*server.new_session_ticket()) == from_hex(s3::new_session_ticket));
    CHECK(alert_of([&] { client.new_session_ticket(); }) == AlertDescription::internal_error);
    CHECK(client.framing().initial_client_hello_version == 0x0301);
    CHECK(server.framing().coalesce_handshake_messages);

    server.check_client_hello(quiet_trace(), from_hex(s3::client_hello));
    Bytes other = from_hex(s3::client_hello);
    other[6] ^= 0x01;  // random[0]
    try {
        server.check_client_hello(quiet_trace(), other);
        FAIL("another ClientHello was accepted");
    } catch (const AlertError& e) {
        CHECK(e.description == AlertDescription::handshake_failure);
        CHECK(tlstest::contains(e.what(), "differs at byte 6 (ca, the RFC's cb)"));
    }
    CHECK(alert_of([&] { server.check_client_hello(quiet_trace(), from_hex(s7::client_hello)); }) ==
          AlertDescription::handshake_failure);

    const auto description = client.trust_server_certificate({s.certificate}, "unused", "unused");
    CHECK(tlstest::contains(description, "pinned"));
    const auto ours = load_certificate_chain_pem_file(tlstest::cert("server-rsa.pem"));
    CHECK(alert_of([&] { client.trust_server_certificate(ours, tlstest::cert("ca.pem"), "localhost"); }) ==
          AlertDescription::bad_certificate);
    // Without a replay the RFC's certificate fails validation, as it should (expired, RSA-1024, no CA).
    CHECK_THROWS_AS(Inputs(Role::client).trust_server_certificate({s.certificate}, tlstest::cert("ca.pem"), "server"),
                    AlertError);
    CHECK(Inputs(Role::client).trust_server_certificate(ours, tlstest::cert("ca.pem"), "localhost") ==
          "trusted for localhost (anchors from " + tlstest::cert("ca.pem") + ")");
}

TEST_CASE("--rfc8448 parses into the RFC's inputs and refuses an option that changes what the RFC fixes") {
    {
        CLI::App app;
        Inputs inputs(Role::client);
        std::string groups;
        app.add_option("--groups", groups);
        add_rfc8448_option(app, inputs, {"--groups"});
        app.parse("--rfc8448");
        REQUIRE(inputs.rfc8448() == &replay::simple_1rtt());
        CHECK(inputs.role() == Role::client);
    }
    {
        CLI::App app;
        Inputs inputs(Role::client);
        std::string groups;
        app.add_option("--groups", groups);
        add_rfc8448_option(app, inputs, {"--groups"});
        app.parse("--groups x25519");
        CHECK(inputs.rfc8448() == nullptr);  // without --rfc8448, --groups is fine
    }
    CLI::App app;
    Inputs inputs(Role::client);
    std::string groups;
    app.add_option("--groups", groups);
    add_rfc8448_option(app, inputs, {"--groups"});
    try {
        app.parse("--rfc8448 --groups x25519");
        FAIL("--groups was accepted with --rfc8448");
    } catch (const CLI::ValidationError& e) {
        CHECK(tlstest::contains(e.what(), "--rfc8448: it replays RFC 8448 §3, so --groups cannot be used with it: the "
                                          "RFC's client offers its own groups"));
    }
    CHECK(inputs.rfc8448() == nullptr);
}

TEST_CASE("--rfc8448 hrr replays §5 where the chapter offers it, and refuses --hrr-cookie only there") {
    auto parse = [](const std::string& args, std::vector<std::string> sections) {
        CLI::App app;
        Inputs inputs(Role::server);
        bool cookie = false;
        app.add_flag("--hrr-cookie", cookie);
        add_rfc8448_option(app, inputs, {"--hrr-cookie"}, std::move(sections));
        app.parse(args);
        return inputs.rfc8448();
    };
    CHECK(parse("--rfc8448 hrr", {"hrr"}) == &replay::hello_retry());
    CHECK(parse("--rfc8448 resume", {"hrr", "resume"}) == &replay::resumed_0rtt());  // chapter 13 on
    CHECK_THROWS_AS(parse("--rfc8448 resume", {"hrr"}), CLI::ValidationError);     // chapters 10 to 12
    CHECK(parse("--rfc8448", {"hrr"}) == &replay::simple_1rtt());
    CHECK(parse("--rfc8448 --hrr-cookie", {"hrr"}) == &replay::simple_1rtt());  // §3 has no retry
    CHECK(parse("", {"hrr"}) == nullptr);
    CHECK_THROWS_AS(parse("--rfc8448 other", {"hrr"}), CLI::ValidationError);
    CHECK_THROWS_AS(parse("--rfc8448 hrr", {}), CLI::ParseError);  // a chapter before 10: no value
    try {
        parse("--rfc8448 hrr --hrr-cookie", {"hrr"});
        FAIL("--hrr-cookie was accepted with --rfc8448 hrr");
    } catch (const CLI::ValidationError& e) {
        CHECK(tlstest::contains(e.what(), "--rfc8448: it replays RFC 8448 §5, so --hrr-cookie cannot be used with it"));
    }
}

TEST_CASE("--rfc8448 client-auth replays §6 where the chapter offers it, and refuses a client's --cert only there") {
    auto parse = [](Role role, const std::string& args, std::vector<std::string> sections) {
        CLI::App app;
        Inputs inputs(role);
        std::string cert;
        app.add_option("--cert", cert);
        add_rfc8448_option(app, inputs, {"--cert"}, std::move(sections));
        app.parse(args);
        return inputs.rfc8448();
    };
    const std::vector<std::string> ch14 = {"hrr", "resume", "client-auth"};
    CHECK(parse(Role::server, "--rfc8448 client-auth", ch14) == &replay::client_auth());
    CHECK(parse(Role::client, "--rfc8448 client-auth", ch14) == &replay::client_auth());
    CHECK_THROWS_AS(parse(Role::client, "--rfc8448 client-auth", {"hrr", "resume"}), CLI::ValidationError);  // ch13, ch15
    // A client's certificate is no §3 value (§3's server asks for none), but §6's client has its own.
    CHECK(parse(Role::client, "--rfc8448 --cert c.pem", ch14) == &replay::simple_1rtt());
    for (auto role : {Role::client, Role::server}) {
        try {
            parse(role, "--rfc8448 client-auth --cert c.pem", ch14);
            FAIL("--cert was accepted with --rfc8448 client-auth");
        } catch (const CLI::ValidationError& e) {
            CHECK(tlstest::contains(e.what(), "--rfc8448: it replays RFC 8448 §6, so --cert cannot be used with it"));
        }
    }
    CHECK_THROWS_AS(parse(Role::server, "--rfc8448 --cert c.pem", ch14), CLI::ValidationError);  // a server's, always
}

// ---- Record framing (§5.1) ------------------------------------------------------------------

namespace {

// What a record layer with `framing` writes for: two handshake messages, then `then`.
Bytes written_by(Role role, RecordFraming framing, const std::function<asio::awaitable<void>(RecordLayer&)>& then) {
    asio::io_context io;
    MemoryTransport transport({});
    RecordLayer records(transport, quiet_trace(), role);
    records.set_framing(framing);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const Bytes one{0x08, 0x00, 0x00, 0x02, 0x00, 0x00};  // EncryptedExtensions, no extensions
            const Bytes two{0x14, 0x00, 0x00, 0x01, 0xaa};
            co_await records.write_records(ContentType::handshake, one);
            co_await records.write_records(ContentType::handshake, two);
            co_await then(records);
        },
        asio::detached);
    io.run();
    return transport.written();
}

}  // namespace

TEST_CASE("record framing: coalesced handshake messages share a record, sealed before an alert or a key change") {
    RecordFraming coalesce;
    coalesce.coalesce_handshake_messages = true;
    // Plaintext: the two messages in one record, then the alert.
    CHECK(to_hex(written_by(Role::server, coalesce, [](RecordLayer& r) -> asio::awaitable<void> {
              co_await r.send_alert(AlertDescription::close_notify);
          })) == "160303000b" "080000020000" "14000001aa" "15030300020100");
    // Without coalescing: a record each.
    CHECK(to_hex(written_by(Role::server, {}, [](RecordLayer& r) -> asio::awaitable<void> {
              co_await r.flush();
          })) == "1603030006080000020000" "160303000514000001aa");
    // Held until flush().
    CHECK(to_hex(written_by(Role::server, coalesce, [](RecordLayer&) -> asio::awaitable<void> { co_return; })).empty());
    CHECK(to_hex(written_by(Role::server, coalesce, [](RecordLayer& r) -> asio::awaitable<void> { co_await r.flush(); })) ==
          "160303000b" "080000020000" "14000001aa");
    // A key change seals what came before under the old keys (here: none, so in plaintext).
    const auto& suite = *suite_info(CipherSuite::TLS_AES_128_GCM_SHA256);
    const Bytes after_install = written_by(Role::server, coalesce, [&](RecordLayer& r) -> asio::awaitable<void> {
        r.install(suite, ServerTrafficSecret(Secret(32, 0x22)));
        co_await r.flush();
    });
    CHECK(to_hex(after_install) == "160303000b" "080000020000" "14000001aa");
}

TEST_CASE("record framing: only a client's first handshake record may say 0x0301") {
    RecordFraming framing;
    framing.initial_client_hello_version = 0x0301;
    CHECK(to_hex(written_by(Role::client, framing, [](RecordLayer& r) -> asio::awaitable<void> { co_await r.flush(); })) ==
          "1603010006080000020000" "160303000514000001aa");
    CHECK(to_hex(written_by(Role::server, framing, [](RecordLayer& r) -> asio::awaitable<void> { co_await r.flush(); })) ==
          "1603030006080000020000" "160303000514000001aa");
}

// The chapter 09 client's result line: RFC 8448's 50 bytes of data are not text, a line is.
TEST_CASE("text_or_hex shows text as text, line ends included, and anything else as hex") {
    CHECK(text_or_hex(to_bytes("lssnepo steem\n")) == "lssnepo steem\n");
    CHECK(text_or_hex(Bytes{0x00, 0x01, 0x31}) == "00 01 31");
    CHECK(text_or_hex(from_hex(s3::client_application_data_payload)).starts_with("00 01 02 03 04"));
}
