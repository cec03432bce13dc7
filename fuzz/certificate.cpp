// fuzz/certificate.cpp — certificate parsing as the client does it (crypto.hpp, RFC 8446
// §4.4.2, §4.4.2.4, §4.4.3): the server's Certificate message decoded, then each cert_data
// through describe_certificate (never throws), schemes_for_certificate and verify_signature
// on the leaf (a signature that cannot verify must come out false, never as an exception),
// and validate_certificate_chain against the bundled CA (certs/ca.pem) at a fixed time.
// Input: a Certificate body (§4.4.2); if it does not decode and starts with 0x30, the whole
// input is taken as one DER certificate. Seeds: certs/*.pem as a server sends them and
// RFC 8448's certificate.
//
// Botan 2 does the X.509 work and is not instrumented here (a Debian library): its code
// gets no coverage feedback and ASan sees only its heap calls. What this target fuzzes is
// our use of it: that every failure comes out as an AlertError or false, as crypto.hpp says.
#include "crypto.hpp"
#include "fuzz.hpp"
#include "messages.hpp"
#include "paths.hpp"

#include <chrono>
#include <string>

namespace {

// Inside the validity of the bundled certificates (2026-11-27 .. 2036-11-27), fixed so that
// a run does not depend on the day.
const auto validation_time = std::chrono::system_clock::time_point(std::chrono::seconds(1924992000));  // 2031-01-01

const std::string& trust_anchors() {
    static const std::string path = tls::repo_path("certs/ca.pem");
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const tls::BytesView input(data, size);
    std::vector<tls::Bytes> chain;
    tls::Certificate certificate;
    if (fuzz::accepts([&] { certificate = tls::Certificate::decode(input); })) {
        for (auto& entry : certificate.certificate_list) chain.push_back(std::move(entry.cert_data));
    } else if (!input.empty() && input[0] == 0x30) {
        chain.emplace_back(input.begin(), input.end());
    }
    if (chain.empty()) return 0;

    for (const auto& der : chain) (void)tls::describe_certificate(der);

    // CertificateVerify (§4.4.3): the schemes the leaf's key allows, and a signature check
    // that must fail (the signature is not one) without throwing.
    const tls::Bytes message = tls::certificate_verify_content(true, tls::Bytes(32, 0x5a));
    const tls::Bytes signature(64, 0x01);
    std::vector<tls::SignatureScheme> schemes;
    fuzz::accepts([&] { schemes = tls::schemes_for_certificate(chain.front()); });
    for (auto scheme : schemes) FUZZ_CHECK(!tls::verify_signature(chain.front(), scheme, message, signature));
    FUZZ_CHECK(!tls::verify_signature(chain.front(), tls::SignatureScheme::ecdsa_secp256r1_sha256, message, {}));

    // §4.4.2.4: the chain as the chapter 09 client checks it, for a name and an IP literal.
    const std::string server_name = chain.front().size() % 2 ? "localhost" : "127.0.0.1";
    fuzz::accepts([&] { tls::validate_certificate_chain(chain, trust_anchors(), server_name, validation_time); });
    return 0;
}
