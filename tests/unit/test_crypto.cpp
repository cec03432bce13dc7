// tests/unit/test_crypto.cpp — chapters 04-07: the primitives of common/crypto.*.
// Known answers from their RFCs (SHA-2, RFC 4231 HMAC, RFC 5869 HKDF, the GCM spec,
// RFC 8439 ChaCha20-Poly1305), the checks RFC 8446 demands of key shares (§4.2.8.2,
// §7.4.2), signatures and certificates against keys the openssl tool makes, and every
// CertificateVerify of the published RFC 8448 (rfc8448_vectors.hpp) verified with the
// certificate its trace sends.
#include "alert.hpp"
#include "crypto.hpp"
#include "messages.hpp"
#include "rfc8448_vectors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace tls;
using tlstest::alert_from;
namespace fs = std::filesystem;

namespace {

std::string hex(BytesView bytes) { return to_hex(bytes); }

// What the AlertError a call throws says, or "" - the words a user will read.
template <typename F>
std::string message_from(F&& f) {
    try {
        f();
    } catch (const AlertError& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, BytesView data) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Keys and certificates made by the openssl tool, once per run, in a temporary directory
// removed at exit. Certificates in certs/ are another chapter's business; these tests
// make their own so that they can also make broken ones.
class TestPki {
public:
    static const TestPki& get() {
        static const TestPki pki;
        return pki;
    }
    std::string path(std::string_view name) const { return (dir_ / name).string(); }
    Bytes message() const { return to_bytes("tls-by-hand: the bytes a CertificateVerify signs"); }

    // Runs shell commands in the directory; on failure the test shows openssl's output.
    void run(const std::string& commands) const {
        const std::string line = "cd '" + dir_.string() + "' && { " + commands + " ; } >openssl.log 2>&1";
        const int rc = std::system(line.c_str());
        INFO("the openssl command line tool is needed (scripts/bootstrap installs it)");
        INFO("openssl said: ", read_file(dir_ / "openssl.log"));
        REQUIRE_MESSAGE(rc == 0, "failed: ", commands);
    }

    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

private:
    TestPki() : dir_(fs::temp_directory_path() / ("tls-by-hand-test-crypto-" + to_hex(random_bytes(8)))) {
        fs::create_directories(dir_);
        write_file(dir_ / "message.bin", message());
        write_file(dir_ / "leaf.ext", to_bytes("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                               "basicConstraints=CA:FALSE\n"));
        write_file(dir_ / "intermediate.ext", to_bytes("basicConstraints=critical,CA:TRUE\n"
                                                       "keyUsage=critical,keyCertSign\n"));
        const std::string ca_extensions = "-addext basicConstraints=critical,CA:TRUE"
                                          " -addext keyUsage=critical,keyCertSign";
        run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key"
            " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key"
            " && openssl genpkey -algorithm ED25519 -out ed25519.key"
            // A self-signed certificate for each key, to carry its public key to verify_signature.
            " && for k in ec rsa ed25519; do openssl req -new -x509 -key $k.key -subj /CN=$k -days 2 -out $k.crt"
            " && openssl pkey -in $k.key -pubout -out $k.pub || exit 1; done"
            // A CA, a leaf it signs for localhost and 127.0.0.1, and a CA that signed nothing.
            " && openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
            " -subj '/CN=tls-by-hand test CA' -days 3650 " + ca_extensions + " -out ca.crt"
            " && openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key"
            " -subj '/CN=some other CA' -days 3650 " + ca_extensions + " -out other-ca.crt"
            " && openssl req -new -key ec.key -subj /CN=localhost -out leaf.csr"
            " && openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 365"
            " -extfile leaf.ext -out leaf.crt"
            " && cat leaf.crt ca.crt > chain.pem"
            // A longer chain, as public servers send: leaf <- intermediate <- CA.
            " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout intermediate.key"
            " -subj '/CN=tls-by-hand intermediate' -out intermediate.csr"
            " && openssl x509 -req -in intermediate.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 365"
            " -extfile intermediate.ext -out intermediate.crt"
            " && openssl x509 -req -in leaf.csr -CA intermediate.crt -CAkey intermediate.key -set_serial 4 -days 365"
            " -extfile leaf.ext -out leaf-via-intermediate.crt"
            " && cat leaf-via-intermediate.crt intermediate.crt > long-chain.pem");
    }
    ~TestPki() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    fs::path dir_;
};

Bytes leaf_der() { return load_certificate_chain_pem_file(TestPki::get().path("leaf.crt")).at(0); }

}  // namespace

// ---- Hashes, HMAC, HKDF -------------------------------------------------------------

TEST_CASE("hash computes SHA-256 and SHA-384 of abc as FIPS 180-4 says") {
    CHECK(hex(hash(HashAlg::sha256, to_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex(hash(HashAlg::sha384, to_bytes("abc"))) ==
          "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
    CHECK(hash_length(HashAlg::sha256) == 32);
    CHECK(hash_length(HashAlg::sha384) == 48);
}

TEST_CASE("transcript hash reads the running hash without finishing it") {
    TranscriptHash th(HashAlg::sha384);
    CHECK(th.alg() == HashAlg::sha384);
    CHECK(hex(th.current()) == hex(hash(HashAlg::sha384, {})));
    th.update(to_bytes("ab"));
    CHECK(hex(th.current()) == hex(hash(HashAlg::sha384, to_bytes("ab"))));
    th.update(to_bytes("c"));
    CHECK(hex(th.current()) == hex(hash(HashAlg::sha384, to_bytes("abc"))));
    CHECK(hex(th.current()) == hex(hash(HashAlg::sha384, to_bytes("abc"))));  // reading twice changes nothing

    TranscriptHash moved = std::move(th);
    moved.update(to_bytes("d"));
    CHECK(hex(moved.current()) == hex(hash(HashAlg::sha384, to_bytes("abcd"))));
}

TEST_CASE("hmac reproduces RFC 4231 test case 2") {
    const Bytes key = to_bytes("Jefe");
    const Bytes data = to_bytes("what do ya want for nothing?");
    CHECK(hex(hmac(HashAlg::sha256, key, data)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(hex(hmac(HashAlg::sha384, key, data)) ==
          "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
}

TEST_CASE("hkdf reproduces RFC 5869 test case 1") {
    const Bytes ikm(22, 0x0b);
    const Bytes salt = from_hex("000102030405060708090a0b0c");
    const Bytes info = from_hex("f0f1f2f3f4f5f6f7f8f9");
    const Secret prk = hkdf_extract(HashAlg::sha256, salt, ikm);
    CHECK(hex(prk) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    CHECK(hex(hkdf_expand(HashAlg::sha256, prk, info, 42)) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("hkdf reproduces RFC 5869 test case 3 with an empty salt and info") {
    const Secret prk = hkdf_extract(HashAlg::sha256, {}, Bytes(22, 0x0b));
    CHECK(hex(prk) == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
    CHECK(hex(hkdf_expand(HashAlg::sha256, prk, {}, 42)) ==
          "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("hkdf_expand refuses more than 255 hash lengths of output") {
    const Bytes prk(32, 1);
    CHECK(hkdf_expand(HashAlg::sha256, prk, {}, 255 * 32).size() == 255 * 32);
    CHECK_THROWS_AS(hkdf_expand(HashAlg::sha256, prk, {}, 255 * 32 + 1), std::invalid_argument);
}

TEST_CASE("constant_time_equal compares lengths and contents") {
    CHECK(constant_time_equal(from_hex("0102"), from_hex("0102")));
    CHECK_FALSE(constant_time_equal(from_hex("0102"), from_hex("0103")));
    CHECK_FALSE(constant_time_equal(from_hex("0102"), from_hex("010200")));
    CHECK(constant_time_equal(Bytes{}, Bytes{}));
}

TEST_CASE("random_bytes gives the length asked for and differs each time") {
    CHECK(random_bytes(0).empty());
    CHECK(random_bytes(32).size() == 32);
    CHECK(hex(random_bytes(32)) != hex(random_bytes(32)));
}

// ---- Key exchange -------------------------------------------------------------------

TEST_CASE("x25519 key pairs agree on a shared secret") {
    const KeyPair a = x25519_keypair();
    const KeyPair b = x25519_keypair();
    CHECK(a.public_key.size() == 32);
    CHECK(a.private_key.size() == 32);
    CHECK(hex(x25519(a.private_key, b.public_key)) == hex(x25519(b.private_key, a.public_key)));
    CHECK(hex(x25519_keypair_from_private(a.private_key).public_key) == hex(a.public_key));
}

// RFC8446 7.4.2-3
// RFC8446 6-7
TEST_CASE("x25519 rejects a low-order peer key that gives an all-zero secret with illegal_parameter") {
    const KeyPair mine = x25519_keypair();
    CHECK(alert_from([&] { x25519(mine.private_key, Bytes(32, 0)); }) == "illegal_parameter");
    Bytes one(32, 0);  // u = 1 is a point of order 4: the clamped scalar sends it to zero too
    one[0] = 1;
    CHECK(alert_from([&] { x25519(mine.private_key, one); }) == "illegal_parameter");
}

TEST_CASE("x25519 rejects a peer key that is not 32 bytes with illegal_parameter") {
    const KeyPair mine = x25519_keypair();
    CHECK(alert_from([&] { x25519(mine.private_key, Bytes(31, 9)); }) == "illegal_parameter");
    CHECK(alert_from([&] { x25519(mine.private_key, Bytes(33, 9)); }) == "illegal_parameter");
}

TEST_CASE("p256 ECDH gives both sides the same X coordinate") {
    const KeyPair a = p256_keypair();
    const KeyPair b = p256_keypair();
    REQUIRE(a.public_key.size() == 65);
    CHECK(a.public_key[0] == 0x04);  // §4.2.8.2: uncompressed, legacy_form = 4
    CHECK(a.private_key.size() == 32);
    const Secret ab = p256_ecdh(a.private_key, b.public_key);
    CHECK(ab.size() == 32);
    CHECK(hex(ab) == hex(p256_ecdh(b.private_key, a.public_key)));
}

// RFC8446 7.4.2-1
TEST_CASE("p256 ECDH keeps the leading zero byte of a shared secret: always 32 bytes") {
    // Private key 11 and this public key agree on an x-coordinate whose first byte is zero
    // (found with Python's cryptography package; any P-256 implementation gives the same).
    Secret private_key(32, 0);
    private_key[31] = 11;
    const Bytes peer = from_hex(
        "04471c3e758c4904285bba7e53118ed0f524adeb0757d25bd2f8e7b0d76dfa714c"
        "dd520f7aca8a8b917acc37f51de8f0c9bbe3ad858382e702dc25a12d09f7a858");
    const Secret z = p256_ecdh(private_key, peer);
    CHECK(z.size() == 32);
    CHECK(hex(z) == "006910fa681e7aa48d7824551e02d1bca57aa3e8bcbf60281ed8d7af643d77e4");
}

// RFC8446 4.2.8.2-1
TEST_CASE("p256 ECDH rejects a point that is not on the curve with illegal_parameter") {
    const KeyPair mine = p256_keypair();
    Bytes off_curve = p256_keypair().public_key;
    off_curve.back() ^= 0x01;  // Y no longer fits X
    CHECK(alert_from([&] { p256_ecdh(mine.private_key, off_curve); }) == "illegal_parameter");
    Bytes zeros(65, 0);
    zeros[0] = 0x04;
    CHECK(alert_from([&] { p256_ecdh(mine.private_key, zeros); }) == "illegal_parameter");
}

TEST_CASE("p256 ECDH rejects compressed and malformed encodings with illegal_parameter") {
    const KeyPair mine = p256_keypair();
    const Bytes good = p256_keypair().public_key;
    Bytes compressed(good.begin(), good.begin() + 33);  // 02/03 || X: TLS 1.3 forbids it
    compressed[0] = static_cast<std::uint8_t>(0x02 | (good.back() & 1));
    CHECK(alert_from([&] { p256_ecdh(mine.private_key, compressed); }) == "illegal_parameter");
    Bytes wrong_form = good;
    wrong_form[0] = 0x06;  // "hybrid" form, also not allowed
    CHECK(alert_from([&] { p256_ecdh(mine.private_key, wrong_form); }) == "illegal_parameter");
    CHECK(alert_from([&] { p256_ecdh(mine.private_key, Bytes{}); }) == "illegal_parameter");
}

// ---- AEAD ---------------------------------------------------------------------------

TEST_CASE("aead_seal reproduces the AES-GCM test vectors of the GCM specification") {
    // McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 2 and 14:
    // zero key, zero nonce, one zero block.
    CHECK(hex(aead_seal(AeadAlg::aes_128_gcm, Bytes(16, 0), Bytes(12, 0), {}, Bytes(16, 0))) ==
          "0388dace60b6a392f328c2b971b2fe78" "ab6e47d42cec13bdf53a67b21257bddf");
    CHECK(hex(aead_seal(AeadAlg::aes_256_gcm, Bytes(32, 0), Bytes(12, 0), {}, Bytes(16, 0))) ==
          "cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919");
}

TEST_CASE("aead_seal reproduces the ChaCha20-Poly1305 test vector of RFC 8439") {
    // RFC 8439 §2.8.2
    Bytes key;
    for (int i = 0x80; i < 0xa0; ++i) key.push_back(static_cast<std::uint8_t>(i));
    const Bytes nonce = from_hex("07000000 4041424344454647");
    const Bytes aad = from_hex("50515253c0c1c2c3c4c5c6c7");
    const Bytes plaintext = to_bytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
                                     "for the future, sunscreen would be it.");
    const Bytes sealed = aead_seal(AeadAlg::chacha20_poly1305, key, nonce, aad, plaintext);
    CHECK(hex(sealed) == hex(from_hex(R"(
        d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2 a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
        3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b 1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
        92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58 fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
        3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b 61 16
        1a e1 0b 59 4f 09 e2 6a 7e 90 2e cb d0 60 06 91)")));
    const auto opened = aead_open(AeadAlg::chacha20_poly1305, key, nonce, aad, sealed);
    REQUIRE(opened);
    CHECK(to_string(*opened) == to_string(plaintext));
}

TEST_CASE("aead_open refuses tampered input and input shorter than a tag") {
    for (AeadAlg aead : {AeadAlg::aes_128_gcm, AeadAlg::aes_256_gcm, AeadAlg::chacha20_poly1305}) {
        CAPTURE(aead_name(aead));
        const Bytes key = random_bytes(aead_key_length(aead));
        const Bytes nonce = random_bytes(12);
        const Bytes aad = to_bytes("header");
        const Bytes sealed = aead_seal(aead, key, nonce, aad, to_bytes("secret"));
        CHECK(sealed.size() == 6 + 16);
        CHECK(aead_open(aead, key, nonce, aad, sealed).has_value());
        Bytes flipped = sealed;
        flipped[0] ^= 0x80;
        CHECK_FALSE(aead_open(aead, key, nonce, aad, flipped).has_value());
        CHECK_FALSE(aead_open(aead, key, nonce, to_bytes("Header"), sealed).has_value());
        CHECK_FALSE(aead_open(aead, key, random_bytes(12), aad, sealed).has_value());
        CHECK_FALSE(aead_open(aead, key, nonce, aad, BytesView(sealed).first(15)).has_value());
        CHECK_THROWS_AS(aead_seal(aead, Bytes(5, 0), nonce, aad, {}), std::invalid_argument);
    }
}

// ---- Signatures ---------------------------------------------------------------------

TEST_CASE("private keys load from PKCS#8 PEM and say what they are") {
    const TestPki& pki = TestPki::get();
    const PrivateKey ec = PrivateKey::load_pem_file(pki.path("ec.key"));
    CHECK(ec.algorithm() == "ECDSA P-256");
    CHECK(ec.schemes() == std::vector{SignatureScheme::ecdsa_secp256r1_sha256});
    const PrivateKey rsa = PrivateKey::load_pem(read_file(pki.path("rsa.key")));
    CHECK(rsa.algorithm() == "RSA-2048");
    CHECK(rsa.schemes() == std::vector{SignatureScheme::rsa_pss_rsae_sha256, SignatureScheme::rsa_pss_rsae_sha384,
                                       SignatureScheme::rsa_pss_rsae_sha512});
    const PrivateKey ed = PrivateKey::load_pem_file(pki.path("ed25519.key"));
    CHECK(ed.algorithm() == "Ed25519");
    CHECK(ed.schemes() == std::vector{SignatureScheme::ed25519});
}

TEST_CASE("private key loading explains what went wrong") {
    const TestPki& pki = TestPki::get();
    try {
        PrivateKey::load_pem_file(pki.path("no-such.key"));
        FAIL("loaded a file that does not exist");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("no-such.key") != std::string::npos);
    }
    CHECK_THROWS_AS(PrivateKey::load_pem("not a key"), std::runtime_error);
    CHECK_THROWS_AS(PrivateKey::load_pem_file(pki.path("ca.crt")), std::runtime_error);
}

TEST_CASE("signatures verify for all three key types and a tampered one does not") {
    const TestPki& pki = TestPki::get();
    for (std::string key_name : {"ec", "rsa", "ed25519"}) {
        CAPTURE(key_name);
        const PrivateKey key = PrivateKey::load_pem_file(pki.path(key_name + ".key"));
        const Bytes cert = load_certificate_chain_pem_file(pki.path(key_name + ".crt")).at(0);
        CHECK(schemes_for_certificate(cert) == key.schemes());
        for (SignatureScheme scheme : key.schemes()) {
            CAPTURE(name(scheme));
            const Bytes signature = key.sign(scheme, pki.message());
            CHECK(verify_signature(cert, scheme, pki.message(), signature));
            Bytes tampered = signature;
            tampered[tampered.size() / 2] ^= 0x10;
            CHECK_FALSE(verify_signature(cert, scheme, pki.message(), tampered));
            CHECK_FALSE(verify_signature(cert, scheme, to_bytes("some other message"), signature));
            CHECK_FALSE(verify_signature(cert, scheme, pki.message(), Bytes{}));
        }
    }
}

TEST_CASE("a signature scheme that does not fit the key neither signs nor verifies") {
    const TestPki& pki = TestPki::get();
    const PrivateKey ec = PrivateKey::load_pem_file(pki.path("ec.key"));
    CHECK_THROWS_AS(ec.sign(SignatureScheme::ed25519, pki.message()), std::invalid_argument);
    CHECK_THROWS_AS(ec.sign(SignatureScheme::ecdsa_secp384r1_sha384, pki.message()), std::invalid_argument);
    const Bytes signature = ec.sign(SignatureScheme::ecdsa_secp256r1_sha256, pki.message());
    const Bytes rsa_cert = load_certificate_chain_pem_file(pki.path("rsa.crt")).at(0);
    CHECK_FALSE(verify_signature(rsa_cert, SignatureScheme::ecdsa_secp256r1_sha256, pki.message(), signature));
    // §4.4.3: RSA signatures in TLS 1.3 are RSASSA-PSS; PKCS#1 v1.5 is refused.
    const PrivateKey rsa = PrivateKey::load_pem_file(pki.path("rsa.key"));
    CHECK_THROWS_AS(rsa.sign(SignatureScheme::rsa_pkcs1_sha256, pki.message()), std::invalid_argument);
    CHECK_FALSE(verify_signature(rsa_cert, SignatureScheme::rsa_pkcs1_sha256, pki.message(),
                                 rsa.sign(SignatureScheme::rsa_pss_rsae_sha256, pki.message())));
    CHECK_FALSE(verify_signature(to_bytes("not a certificate"), SignatureScheme::ecdsa_secp256r1_sha256,
                                 pki.message(), signature));
    CHECK(alert_from([] { schemes_for_certificate(to_bytes("not a certificate")); }) == "bad_certificate");
}

TEST_CASE("signatures made by openssl verify and ours verify in openssl") {
    // The encodings TLS needs: DER ECDSA, RSA-PSS with MGF1 of the same hash and a salt as
    // long as the hash, pure Ed25519. openssl is the other side of a real connection.
    const TestPki& pki = TestPki::get();
    pki.run("openssl dgst -sha256 -sign ec.key -out ec.sig message.bin"
            " && openssl dgst -sha384 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48"
            " -sigopt rsa_mgf1_md:sha384 -out rsa.sig message.bin"
            " && openssl pkeyutl -sign -inkey ed25519.key -rawin -in message.bin -out ed25519.sig");
    struct Case {
        std::string name;
        SignatureScheme scheme;
        std::string openssl_verify;
    };
    const Case cases[] = {
        {"ec", SignatureScheme::ecdsa_secp256r1_sha256,
         "openssl dgst -sha256 -verify ec.pub -signature ours-ec.sig message.bin"},
        {"rsa", SignatureScheme::rsa_pss_rsae_sha384,
         "openssl dgst -sha384 -verify rsa.pub -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48"
         " -sigopt rsa_mgf1_md:sha384 -signature ours-rsa.sig message.bin"},
        {"ed25519", SignatureScheme::ed25519,
         "openssl pkeyutl -verify -pubin -inkey ed25519.pub -rawin -in message.bin -sigfile ours-ed25519.sig"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const Bytes cert = load_certificate_chain_pem_file(pki.path(c.name + ".crt")).at(0);
        CHECK(verify_signature(cert, c.scheme, pki.message(), to_bytes(read_file(pki.path(c.name + ".sig")))));
        const PrivateKey key = PrivateKey::load_pem_file(pki.path(c.name + ".key"));
        write_file(pki.path("ours-" + c.name + ".sig"), key.sign(c.scheme, pki.message()));
        pki.run(c.openssl_verify);
    }
}

// RFC8446 4.2.3-5
TEST_CASE("RSA-PSS signatures with a salt shorter than the hash do not verify") {
    // §4.2.3: "The length of the Salt MUST be equal to the length of the output of the digest algorithm."
    const TestPki& pki = TestPki::get();
    pki.run("openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20"
            " -out rsa-short-salt.sig message.bin");
    const Bytes cert = load_certificate_chain_pem_file(pki.path("rsa.crt")).at(0);
    CHECK_FALSE(verify_signature(cert, SignatureScheme::rsa_pss_rsae_sha256, pki.message(),
                                 to_bytes(read_file(pki.path("rsa-short-salt.sig")))));
}

// ---- RFC 8448 CertificateVerify ------------------------------------------------------
// An RSA-PSS signature has a random salt, and the RFC's ECDSA signature a k of its signer's
// (ours take k from RFC 6979), so a signer cannot make the RFC's signatures again (without
// the RFC's salt); but each one must verify, with the certificate its trace sends, over the
// transcript hash its trace implies.

namespace {

namespace s3 = rfc8448::simple;
namespace s5 = rfc8448::hello_retry;
namespace s6 = rfc8448::client_auth;
namespace s7 = rfc8448::compat;

Bytes message_bytes(std::string_view rfc_hex) { return from_hex(rfc_hex); }

// The end-entity cert_data of a Certificate message of the trace.
Bytes leaf_of(std::string_view certificate_message) {
    const auto c = Certificate::decode(Handshake::decode(message_bytes(certificate_message)).body);
    REQUIRE_FALSE(c.certificate_list.empty());
    return c.certificate_list[0].cert_data;
}

// §4.4.1: the hash of the messages before the CertificateVerify (through the Certificate).
Bytes transcript_hash(std::initializer_list<Bytes> messages) {
    TranscriptHash th(HashAlg::sha256);
    for (const Bytes& m : messages) th.update(m);
    return th.current();
}

// §4.4.3: the CertificateVerify of one side verifies over "TLS 1.3, server/client
// CertificateVerify" and the transcript hash; with the other context string, or another
// hash, it must not.
void check_certificate_verify(bool server, std::string_view certificate, std::string_view certificate_verify,
                              const Bytes& hash, SignatureScheme expected_scheme) {
    const auto cv = CertificateVerify::decode(Handshake::decode(message_bytes(certificate_verify)).body);
    CHECK(cv.algorithm == expected_scheme);
    const Bytes leaf = leaf_of(certificate);
    CHECK(verify_signature(leaf, cv.algorithm, certificate_verify_content(server, hash), cv.signature));
    CHECK_FALSE(verify_signature(leaf, cv.algorithm, certificate_verify_content(!server, hash), cv.signature));
    Bytes other_hash = hash;
    other_hash[0] ^= 0x01;
    CHECK_FALSE(verify_signature(leaf, cv.algorithm, certificate_verify_content(server, other_hash), cv.signature));
}

}  // namespace

TEST_CASE("RFC 8448 §2: the server certificate of §3, §5 and §7 carries the §2 RSA public key") {
    // SubjectPublicKeyInfo holds RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }:
    // 02 81 81 00 || modulus (128 bytes, a leading 00 keeps it positive), then 02 03 || 01 00 01.
    const std::string rsa_public_key = "02818100" + hex(from_hex(rfc8448::rsa_key::modulus)) + "0203" +
                                       hex(from_hex(rfc8448::rsa_key::public_exponent));
    for (std::string_view certificate : {s3::certificate, s5::certificate, s7::certificate}) {
        const Bytes leaf = leaf_of(certificate);
        CHECK(contains(hex(leaf), rsa_public_key));
        CHECK(contains(describe_certificate(leaf), "subject CN=rsa, issuer CN=rsa,"));
        CHECK(contains(describe_certificate(leaf), "key RSA-1024"));
        CHECK(schemes_for_certificate(leaf) == std::vector{SignatureScheme::rsa_pss_rsae_sha256,
                                                           SignatureScheme::rsa_pss_rsae_sha384,
                                                           SignatureScheme::rsa_pss_rsae_sha512});
    }
}

TEST_CASE("RFC 8448 §3: the server's RSA-PSS CertificateVerify verifies with the RFC's certificate") {
    check_certificate_verify(true, s3::certificate, s3::certificate_verify,
                             transcript_hash({message_bytes(s3::client_hello), message_bytes(s3::server_hello),
                                              message_bytes(s3::encrypted_extensions),
                                              message_bytes(s3::certificate)}),
                             SignatureScheme::rsa_pss_rsae_sha256);
}

TEST_CASE("RFC 8448 §5: the server's RSA-PSS CertificateVerify verifies over the message_hash transcript") {
    // §4.4.1: ClientHello1 is replaced by message_hash(254) || 00 00 20 || Hash(ClientHello1).
    const Bytes message_hash =
        encode_handshake(HandshakeType::message_hash, hash(HashAlg::sha256, message_bytes(s5::client_hello_1)));
    check_certificate_verify(true, s5::certificate, s5::certificate_verify,
                             transcript_hash({message_hash, message_bytes(s5::hello_retry_request),
                                              message_bytes(s5::client_hello_2), message_bytes(s5::server_hello),
                                              message_bytes(s5::encrypted_extensions),
                                              message_bytes(s5::certificate)}),
                             SignatureScheme::rsa_pss_rsae_sha256);
}

TEST_CASE("RFC 8448 §6: the server's ECDSA and the client's RSA-PSS CertificateVerify verify") {
    TranscriptHash th(HashAlg::sha256);
    for (std::string_view m :
         {s6::client_hello, s6::server_hello, s6::encrypted_extensions, s6::certificate_request, s6::certificate})
        th.update(message_bytes(m));
    check_certificate_verify(true, s6::certificate, s6::certificate_verify, th.current(),
                             SignatureScheme::ecdsa_secp256r1_sha256);
    // The client signs everything through its own Certificate, the server's Finished included.
    for (std::string_view m : {s6::certificate_verify, s6::server_finished, s6::client_certificate})
        th.update(message_bytes(m));
    check_certificate_verify(false, s6::client_certificate, s6::client_certificate_verify, th.current(),
                             SignatureScheme::rsa_pss_rsae_sha256);
}

TEST_CASE("RFC 8448 §7: the server's RSA-PSS CertificateVerify verifies with the RFC's certificate") {
    check_certificate_verify(true, s7::certificate, s7::certificate_verify,
                             transcript_hash({message_bytes(s7::client_hello), message_bytes(s7::server_hello),
                                              message_bytes(s7::encrypted_extensions),
                                              message_bytes(s7::certificate)}),
                             SignatureScheme::rsa_pss_rsae_sha256);
}

// ---- Certificates -------------------------------------------------------------------

TEST_CASE("a certificate chain loads from PEM leaf first") {
    const TestPki& pki = TestPki::get();
    const std::vector<Bytes> chain = load_certificate_chain_pem_file(pki.path("chain.pem"));
    REQUIRE(chain.size() == 2);
    CHECK(describe_certificate(chain[0]).find("subject CN=localhost,") == 0);
    CHECK(describe_certificate(chain[1]).find("subject CN=tls-by-hand test CA,") == 0);
    CHECK_THROWS_AS(load_certificate_chain_pem_file(pki.path("missing.pem")), std::runtime_error);
    CHECK_THROWS_AS(load_certificate_chain_pem_file(pki.path("ec.key")), std::runtime_error);
}

TEST_CASE("describe_certificate says subject issuer validity and key on one line") {
    const std::string line = describe_certificate(leaf_der());
    CHECK(line.find("subject CN=localhost, issuer CN=tls-by-hand test CA, valid ") == 0);
    CHECK(line.find(" .. ") != std::string::npos);
    CHECK(line.size() > std::string(", key ECDSA P-256").size());
    CHECK(line.substr(line.size() - std::string(", key ECDSA P-256").size()) == ", key ECDSA P-256");
    CHECK(describe_certificate(to_bytes("junk")).find("malformed certificate (") == 0);
}

TEST_CASE("a chain to a trust anchor validates for its DNS name and its IP address") {
    const TestPki& pki = TestPki::get();
    const auto chain = load_certificate_chain_pem_file(pki.path("chain.pem"));
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "localhost"); }) == "none");
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "127.0.0.1"); }) == "none");
    CHECK(alert_from([&] { validate_certificate_chain({leaf_der()}, pki.path("ca.crt"), "LOCALHOST"); }) == "none");
    // A chain through an intermediate CA, and a bundle of several anchors, work as well.
    const auto long_chain = load_certificate_chain_pem_file(pki.path("long-chain.pem"));
    CHECK(alert_from([&] { validate_certificate_chain(long_chain, pki.path("ca.crt"), "localhost"); }) == "none");
    pki.run("cat other-ca.crt ca.crt > bundle.pem");
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("bundle.pem"), "localhost"); }) == "none");
}

TEST_CASE("a certificate for another name is a bad_certificate") {
    const TestPki& pki = TestPki::get();
    const std::vector<Bytes> chain{leaf_der()};
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "example.com"); }) ==
          "bad_certificate");
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "127.0.0.2"); }) ==
          "bad_certificate");
    CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "::1"); }) == "bad_certificate");
    const std::string why = message_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "example.com"); });
    CHECK(contains(why, "DNS:localhost, IP:127.0.0.1"));
    CHECK(contains(why, "example.com"));
}

TEST_CASE("an expired or not yet valid certificate is certificate_expired") {
    const TestPki& pki = TestPki::get();
    const auto now = std::chrono::system_clock::now();
    const auto day = std::chrono::hours(24);
    // The leaf is valid for 365 days from now.
    const auto validate_on = [&](std::chrono::system_clock::time_point when) {
        return [&pki, when] { validate_certificate_chain({leaf_der()}, pki.path("ca.crt"), "localhost", when); };
    };
    CHECK(alert_from(validate_on(now + 400 * day)) == "certificate_expired");
    CHECK(contains(message_from(validate_on(now + 400 * day)), "certificate has expired"));
    CHECK(alert_from(validate_on(now - 2 * day)) == "certificate_expired");
    CHECK(contains(message_from(validate_on(now - 2 * day)), "not yet valid"));
}

TEST_CASE("a chain without a path to a trust anchor is unknown_ca") {
    const TestPki& pki = TestPki::get();
    const auto against_other_ca = [&] {
        validate_certificate_chain({leaf_der()}, pki.path("other-ca.crt"), "localhost");
    };
    CHECK(alert_from(against_other_ca) == "unknown_ca");
    CHECK(contains(message_from(against_other_ca), "no path to a trust anchor"));
    // Without the intermediate the leaf's issuer is nowhere to be found.
    const auto leaf_only = load_certificate_chain_pem_file(pki.path("leaf-via-intermediate.crt"));
    CHECK(alert_from([&] { validate_certificate_chain(leaf_only, pki.path("ca.crt"), "localhost"); }) == "unknown_ca");
    const auto self_signed = load_certificate_chain_pem_file(pki.path("ec.crt"));
    CHECK(alert_from([&] { validate_certificate_chain(self_signed, pki.path("ca.crt"), ""); }) == "unknown_ca");
}

TEST_CASE("a bad signature or malformed certificate in the chain is a bad_certificate") {
    const TestPki& pki = TestPki::get();
    Bytes tampered = leaf_der();
    tampered[tampered.size() - 3] ^= 0x01;  // inside the CA's signature, at the end of the DER
    CHECK(alert_from([&] { validate_certificate_chain({tampered}, pki.path("ca.crt"), "localhost"); }) ==
          "bad_certificate");
    CHECK(contains(message_from([&] { validate_certificate_chain({tampered}, pki.path("ca.crt"), "localhost"); }),
                   "bad signature"));
    CHECK(alert_from([&] { validate_certificate_chain({to_bytes("junk")}, pki.path("ca.crt"), "localhost"); }) ==
          "bad_certificate");
    CHECK(alert_from([&] { validate_certificate_chain({}, pki.path("ca.crt"), "localhost"); }) == "bad_certificate");
}

// RFC8446 C.3-1
TEST_CASE("ECDSA signatures are deterministic (RFC 6979): the same message signs the same twice") {
    const TestPki& pki = TestPki::get();
    const PrivateKey key = PrivateKey::load_pem_file(pki.path("ec.key"));
    const Bytes first = key.sign(SignatureScheme::ecdsa_secp256r1_sha256, pki.message());
    CHECK(hex(key.sign(SignatureScheme::ecdsa_secp256r1_sha256, pki.message())) == hex(first));
    CHECK(hex(PrivateKey::load_pem_file(pki.path("ec.key")).sign(SignatureScheme::ecdsa_secp256r1_sha256, pki.message())) ==
          hex(first));
    Bytes other = pki.message();
    other[0] ^= 0x01;
    CHECK(hex(key.sign(SignatureScheme::ecdsa_secp256r1_sha256, other)) != hex(first));
}

// RFC8446 9.1-2
TEST_CASE("certificates signed with rsa_pkcs1_sha256, rsa_pss_rsae_sha256 and ecdsa_secp256r1_sha256 validate") {
    const TestPki& pki = TestPki::get();
    pki.run("openssl req -new -x509 -key rsa.key -subj '/CN=tls-by-hand RSA CA' -days 30"
            " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out rsa-ca.crt"
            " && openssl x509 -req -in leaf.csr -CA rsa-ca.crt -CAkey rsa.key -set_serial 5 -days 30 -sha256"
            " -extfile leaf.ext -out leaf-pkcs1.crt"
            " && openssl x509 -req -in leaf.csr -CA rsa-ca.crt -CAkey rsa.key -set_serial 6 -days 30 -sha256"
            " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -extfile leaf.ext -out leaf-pss.crt"
            " && openssl x509 -in leaf-pkcs1.crt -noout -text | grep -q 'Signature Algorithm: sha256WithRSAEncryption'"
            " && openssl x509 -in leaf-pss.crt -noout -text | grep -q 'Signature Algorithm: rsassaPss'");
    for (const char* leaf : {"leaf-pkcs1.crt", "leaf-pss.crt"}) {
        CAPTURE(leaf);
        const auto chain = load_certificate_chain_pem_file(pki.path(leaf));
        CHECK(alert_from([&] { validate_certificate_chain(chain, pki.path("rsa-ca.crt"), "localhost"); }) == "none");
    }
    // ecdsa_secp256r1_sha256: the CA of the other tests signs with it.
    CHECK(alert_from([&] { validate_certificate_chain({leaf_der()}, pki.path("ca.crt"), "localhost"); }) == "none");
}

// RFC8446 4.4.2-11
TEST_CASE("the end-entity certificate comes first; the rest may come in any order, with extras") {
    const TestPki& pki = TestPki::get();
    const auto leaf = load_certificate_chain_pem_file(pki.path("leaf-via-intermediate.crt")).at(0);
    const auto intermediate = load_certificate_chain_pem_file(pki.path("intermediate.crt")).at(0);
    const auto unrelated = load_certificate_chain_pem_file(pki.path("other-ca.crt")).at(0);
    const auto ca = load_certificate_chain_pem_file(pki.path("ca.crt")).at(0);
    auto validate = [&](const std::vector<Bytes>& chain) {
        return alert_from([&] { validate_certificate_chain(chain, pki.path("ca.crt"), "localhost"); });
    };
    CHECK(validate({leaf, unrelated, intermediate}) == "none");
    CHECK(validate({leaf, ca, unrelated, intermediate}) == "none");
    // Not the end-entity first: the intermediate is taken as the server's certificate, and refused.
    CHECK(validate({intermediate, leaf}) != "none");
}

// RFC8446 4.4.2.2-3
TEST_CASE("a server certificate whose keyUsage lacks digitalSignature is a bad_certificate") {
    const TestPki& pki = TestPki::get();
    pki.run("printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,keyAgreement\n'"
            " > agreement.ext"
            " && printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n'"
            " > signature.ext"
            " && openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 7 -days 30"
            " -extfile agreement.ext -out leaf-agreement.crt"
            " && openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 8 -days 30"
            " -extfile signature.ext -out leaf-signature.crt");
    const auto agreement = load_certificate_chain_pem_file(pki.path("leaf-agreement.crt"));
    CHECK(alert_from([&] { validate_certificate_chain(agreement, pki.path("ca.crt"), "localhost"); }) ==
          "bad_certificate");
    CHECK(contains(message_from([&] { validate_certificate_chain(agreement, pki.path("ca.crt"), "localhost"); }),
                   "lacks digitalSignature"));
    const auto signature = load_certificate_chain_pem_file(pki.path("leaf-signature.crt"));
    CHECK(alert_from([&] { validate_certificate_chain(signature, pki.path("ca.crt"), "localhost"); }) == "none");
}

// RFC8446 4.4.2.2-1
TEST_CASE("a server certificate of X.509 version 1 is an unsupported_certificate") {
    const TestPki& pki = TestPki::get();
    // Without extensions, openssl makes a version 1 certificate; its CN names the host.
    pki.run("openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 9 -days 30 -out leaf-v1.crt"
            " && openssl x509 -in leaf-v1.crt -noout -text | grep -q 'Version: 1 (0x0)'");
    const auto v1 = load_certificate_chain_pem_file(pki.path("leaf-v1.crt"));
    CHECK(alert_from([&] { validate_certificate_chain(v1, pki.path("ca.crt"), "localhost"); }) ==
          "unsupported_certificate");
    CHECK(contains(message_from([&] { validate_certificate_chain(v1, pki.path("ca.crt"), "localhost"); }),
                   "X.509 version 1, not 3"));
}

TEST_CASE("a missing or empty trust anchor file is our internal_error") {
    const TestPki& pki = TestPki::get();
    CHECK(alert_from([&] { validate_certificate_chain({leaf_der()}, pki.path("no-anchors.pem"), "localhost"); }) ==
          "internal_error");
    CHECK(alert_from([&] { validate_certificate_chain({leaf_der()}, pki.path("ec.key"), "localhost"); }) ==
          "internal_error");
}

TEST_CASE("Hmac keyed once gives the same MAC as hmac() for every message, in parts, and when copied") {
    for (auto alg : {HashAlg::sha256, HashAlg::sha384}) {
        // RFC 4231 test case 6 uses a key longer than the block: it is hashed first.
        for (const Bytes& key : {to_bytes("Jefe"), Bytes(131, 0xaa), Bytes{}}) {
            const Hmac keyed(alg, key);
            for (const Bytes& data : {to_bytes("what do ya want for nothing?"), Bytes{}, Bytes(200, 0x5a)}) {
                CHECK(hex(keyed.mac(data)) == hex(hmac(alg, key, data)));
                const BytesView d(data);
                CHECK(hex(keyed.mac({d.first(d.size() / 2), d.subspan(d.size() / 2)})) == hex(hmac(alg, key, data)));
            }
            const Hmac copy = keyed;
            CHECK(hex(copy.mac(to_bytes("x"))) == hex(keyed.mac(to_bytes("x"))));
        }
    }
    CHECK(hex(Hmac(HashAlg::sha256, Bytes(131, 0xaa)).mac(to_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hkdf_expand with a keyed Hmac is hkdf_expand with the PRK") {
    const Secret prk = hkdf_extract(HashAlg::sha256, from_hex("000102030405060708090a0b0c"), Bytes(22, 0x0b));
    const Bytes info = from_hex("f0f1f2f3f4f5f6f7f8f9");
    CHECK(hex(hkdf_expand(Hmac(HashAlg::sha256, prk), info, 42)) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("Aead seals and opens in place exactly as it seals and opens copies") {
    for (auto alg : {AeadAlg::aes_128_gcm, AeadAlg::aes_256_gcm, AeadAlg::chacha20_poly1305}) {
        const Bytes key(aead_key_length(alg), 0x42), nonce(12, 7), aad = from_hex("1703030111");
        Aead aead(alg, key);
        for (std::size_t n : {0, 1, 15, 16, 63, 64, 65, 1000, 16385}) {
            const Bytes plaintext(n, 0x61);
            Bytes buffer = from_hex("abcdef");  // bytes before the offset stay as they are
            buffer.insert(buffer.end(), plaintext.begin(), plaintext.end());
            aead.seal_in_place(nonce, aad, buffer, 3);
            const Bytes sealed = aead.seal(nonce, aad, plaintext);
            CHECK(hex(BytesView(buffer).subspan(3)) == hex(sealed));
            CHECK(hex(BytesView(buffer).first(3)) == "abcdef");
            Bytes opened(sealed);
            REQUIRE(aead.open_in_place(nonce, aad, opened));
            CHECK(opened == plaintext);
            Bytes tampered(sealed);
            tampered.back() ^= 1;
            CHECK_FALSE(aead.open_in_place(nonce, aad, tampered));
            CHECK(tampered.empty());  // nothing unauthenticated is left behind
        }
        Bytes too_short(15, 0);
        CHECK_FALSE(aead.open_in_place(nonce, aad, too_short));
    }
}
