// bench/primitives.cpp — what the cryptographic primitives of one handshake cost here, and
// so the floor under the server's CPU per handshake and per byte (bench/README.md).
// Each operation goes through common/crypto.* and common/key_schedule.*, exactly as the
// chapter 09 server calls it, and is timed in CPU time of this thread (CLOCK_THREAD_CPUTIME_ID:
// other processes on a busy machine do not count), as the median of several batches.
//
//   primitives [--iterations N] [--batches B]
#include "crypto.hpp"
#include "key_schedule.hpp"
#include "paths.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <time.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace {

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Median over `batches` of the CPU time per call, in microseconds.
double time_us(std::size_t iterations, std::size_t batches, const std::function<void()>& op) {
    op();  // lazy initialisation (tables, signer objects) is not per-call cost
    std::vector<double> per_call;
    for (std::size_t b = 0; b < batches; ++b) {
        double start = thread_cpu_seconds();
        for (std::size_t i = 0; i < iterations; ++i) op();
        per_call.push_back((thread_cpu_seconds() - start) * 1e6 / static_cast<double>(iterations));
    }
    std::sort(per_call.begin(), per_call.end());
    return per_call[per_call.size() / 2];
}

// The key schedule of one server handshake without PSK (RFC 8446 §7.1), as chapter 09 runs
// it: handshake and application secrets, four sets of traffic keys, both Finished values.
void key_schedule_of_one_handshake(const tls::Bytes& shared, const tls::Bytes& transcript_hash) {
    const auto& suite = *tls::suite_info(tls::CipherSuite::TLS_AES_128_GCM_SHA256);
    tls::EarlySecret early(suite.hash);
    auto hs = early.mix_shared_secret(shared);
    auto c_hs = hs.client_handshake_traffic_secret(transcript_hash);
    auto s_hs = hs.server_handshake_traffic_secret(transcript_hash);
    auto k1 = tls::traffic_keys(suite, c_hs);
    auto k2 = tls::traffic_keys(suite, s_hs);
    auto f1 = tls::finished_verify_data(suite.hash, s_hs, transcript_hash);
    auto master = hs.derive_master_secret();
    auto c_ap = master.client_application_traffic_secret_0(transcript_hash);
    auto s_ap = master.server_application_traffic_secret_0(transcript_hash);
    auto exporter = master.exporter_master_secret(transcript_hash);
    auto k3 = tls::traffic_keys(suite, c_ap);
    auto k4 = tls::traffic_keys(suite, s_ap);
    auto f2 = tls::finished_verify_data(suite.hash, c_hs, transcript_hash);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t iterations = 200, batches = 5;
    CLI::App app{"CPU time of the primitives of one TLS 1.3 handshake and of record protection (bench/README.md)."};
    app.add_option("--iterations", iterations, "Calls per batch")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--batches", batches, "Batches; the median is shown")->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    auto ecdsa = tls::PrivateKey::load_pem_file(tls::repo_path("certs/server-ecdsa.key"));
    auto ed25519 = tls::PrivateKey::load_pem_file(tls::repo_path("certs/server-ed25519.key"));
    const auto peer = tls::x25519_keypair();
    const tls::Bytes hash32(32, 0xab);
    const tls::Bytes content(64 + 34 + 32, 0x20);  // the size of a CertificateVerify's signed content
    const tls::Bytes shared(32, 0x5a);

    struct Row {
        std::string name;
        double us;
    };
    std::vector<Row> rows;
    auto row = [&](std::string name, std::size_t n, const std::function<void()>& op) {
        rows.push_back({std::move(name), time_us(n, batches, op)});
        fmt::print("{:<58} {:>10.2f} us\n", rows.back().name, rows.back().us);
    };
    row("x25519_keypair (our key share)", iterations, [] { (void)tls::x25519_keypair(); });
    row("x25519 (the shared secret)", iterations,
        [&] { (void)tls::x25519(peer.private_key, tls::x25519_keypair().public_key); });
    rows.back().us -= rows[0].us;  // the keypair made for the peer's key above is not part of it
    fmt::print("{:<58} {:>10.2f} us  (without the peer's keypair)\n", "", rows.back().us);
    row("ECDSA P-256 signature (CertificateVerify)", iterations,
        [&] { (void)ecdsa.sign(tls::SignatureScheme::ecdsa_secp256r1_sha256, content); });
    row("Ed25519 signature (CertificateVerify, Ed25519 rows)", iterations,
        [&] { (void)ed25519.sign(tls::SignatureScheme::ed25519, content); });
    row("key schedule of one handshake (HKDF, 4 traffic keys, 2 Finished)", iterations,
        [&] { key_schedule_of_one_handshake(shared, hash32); });
    tls::TranscriptHash transcript(tls::HashAlg::sha256);
    transcript.update(tls::Bytes(1000, 1));
    row("TranscriptHash::current()", iterations * 10, [&] { (void)transcript.current(); });
    row("AEAD key setup (RecordProtection, 4 per handshake)", iterations * 10,
        [&] { tls::Aead aead(tls::AeadAlg::aes_128_gcm, tls::Bytes(16, 1)); (void)aead.seal(tls::Bytes(12, 0), {}, {}); });

    const double handshake_floor = rows[0].us + rows[1].us + rows[2].us;
    fmt::print("{:<58} {:>10.2f} us\n", "=> X25519 x 2 + ECDSA P-256 signature (the floor)", handshake_floor);

    tls::Aead aead(tls::AeadAlg::aes_128_gcm, tls::Bytes(16, 1));
    const tls::Bytes nonce(12, 0), aad(5, 0x17), record(16001, 0x61);
    auto sealed = aead.seal(nonce, aad, record);
    double seal_us = time_us(iterations * 10, batches, [&] { (void)aead.seal(nonce, aad, record); });
    double open_us = time_us(iterations * 10, batches, [&] { (void)aead.open(nonce, aad, sealed); });
    fmt::print("{:<58} {:>10.3f} ns/byte\n", "AES-128-GCM seal, 16001-byte records", seal_us * 1e3 / 16001);
    fmt::print("{:<58} {:>10.3f} ns/byte\n", "AES-128-GCM open, 16001-byte records", open_us * 1e3 / 16001);
    fmt::print("{:<58} {:>10.3f} ns/byte\n", "=> open + seal per echoed byte (the floor)", (seal_us + open_us) * 1e3 / 16001);
    return 0;
}
