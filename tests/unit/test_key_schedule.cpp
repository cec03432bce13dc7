// tests/unit/test_key_schedule.cpp — chapter 05 (key schedule).
// RFC 8446 §7.1-§7.3, §4.4.4, §4.6.1 against the traces of RFC 8448 (draft-07 text in
// ../shared/rfc/rfc8448-draft-07.txt): every secret, key and IV of §3 "Simple 1-RTT
// Handshake", byte for byte, computed from the trace's own private keys and messages.
#include "crypto.hpp"
#include "key_schedule.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <type_traits>

using namespace tls;

namespace {

// Hex both sides so that a failure prints two readable values.
std::string rfc(std::string_view rfc_hex) { return to_hex(from_hex(rfc_hex)); }
std::string hex(BytesView bytes) { return to_hex(bytes); }

// RFC 8448 §3: the ephemeral keys and the handshake messages the keys depend on.
struct Simple1Rtt {
    Bytes client_private = from_hex(R"(
        70 a1 a8 f4 91 e8 2d 53 05 42 c6 d7 a8 dc d8 cf
        a9 e3 1f 59 bb 33 6b 55 0b 13 bf e1 99 f5 42 c5)");
    Bytes client_public = from_hex(R"(
        4c fd fc d1 78 b7 84 bf 32 8c ae 79 3b 13 6f 2a
        ed ce 00 5f f1 83 d7 bb 14 95 20 72 36 64 70 37)");
    Bytes server_private = from_hex(R"(
        5a a9 3e a1 8f 4c 5e 4a 39 85 6f 57 3a f4 ec 15
        03 ba d0 d5 cd ab af fc 26 c1 ab 4c 36 1f 86 c8)");
    Bytes server_public = from_hex(R"(
        c7 bb 6b df c2 63 50 b9 29 a0 8a 41 a7 6d da c2
        10 b0 96 86 8d 96 0c 48 45 98 7d c3 a7 fa 65 0a)");

    Bytes client_hello = from_hex(R"(
        01 00 00 c0 03 03 66 60 26 1f f9 47 ce a4 9c ce
        6c fa d6 87 f4 57 cf 1b 14 53 1b a1 41 31 a0 e8
        f3 09 a1 d0 b9 c4 00 00 06 13 01 13 03 13 02 01
        00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76
        65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
        17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
        23 00 00 00 33 00 26 00 24 00 1d 00 20 4c fd fc
        d1 78 b7 84 bf 32 8c ae 79 3b 13 6f 2a ed ce 00
        5f f1 83 d7 bb 14 95 20 72 36 64 70 37 00 2b 00
        03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
        02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
        04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
        00 02 40 01)");
    Bytes server_hello = from_hex(R"(
        02 00 00 56 03 03 12 74 99 14 95 cf 42 58 57 26
        2d de 22 99 34 2c 31 5a fb a9 b6 4a 87 d5 52 51
        56 14 e0 1b 04 5d 00 13 01 00 00 2e 00 33 00 24
        00 1d 00 20 c7 bb 6b df c2 63 50 b9 29 a0 8a 41
        a7 6d da c2 10 b0 96 86 8d 96 0c 48 45 98 7d c3
        a7 fa 65 0a 00 2b 00 02 03 04)");
    Bytes encrypted_extensions = from_hex(R"(
        08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17
        00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
        00 02 40 01 00 00 00 00)");
    Bytes certificate = from_hex(R"(
        0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30
        82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a
        86 48 86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a
        06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36
        30 37 33 30 30 31 32 33 35 39 5a 17 0d 32 36 30
        37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a
        06 03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06
        09 2a 86 48 86 f7 0d 01 01 01 05 00 03 81 8d 00
        30 81 89 02 81 81 00 b4 bb 49 8f 82 79 30 3d 98
        08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26
        d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a
        95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12
        09 98 e1 87 a8 0e e0 cc b0 52 4b 1b 01 8c 3e 0b
        63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74 80
        30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0
        3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a
        8d 88 d7 9f 7f 1e 3f 02 03 01 00 01 a3 1a 30 18
        30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55
        1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86
        f7 0d 01 01 0b 05 00 03 81 81 00 85 aa d2 a0 e5
        b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f
        8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea e8 f8 a5
        8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a
        03 01 51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02
        70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e
        b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b 1c 3b 84 e0
        a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8
        f8 96 12 29 ac 91 87 b4 2b 4d e1 00 00)");
    Bytes certificate_verify = from_hex(R"(
        0f 00 00 84 08 04 00 80 ac e0 af 8e 87 d7 c6 3c
        c9 db e7 dc c1 2f f8 3b d5 5d f0 cc da 9b f4 e5
        a0 f7 01 00 d9 bc 4d 25 aa 68 4f d9 d3 47 64 2c
        94 22 22 52 6e 16 3e 3b 0f ba 31 2b 10 e9 b6 7e
        b0 ac 9c 2b e5 fe f4 90 f8 1d 78 27 e3 bc 12 fa
        02 7a b4 39 e7 1c c8 45 9c 14 b9 4a 8f 35 06 ec
        44 54 7d 6c 23 e1 9c c7 f9 d5 e0 d1 f5 95 10 8f
        c2 40 f5 b0 84 2c 48 5a 32 14 87 c4 95 03 77 a5
        2e 91 72 94 71 55 67 cd)");
    Bytes server_finished = from_hex(R"(
        14 00 00 20 4c 92 b1 b2 56 d8 61 a1 83 01 67 82
        7d 3e 28 8d 1a 76 f0 34 84 e9 ec 88 6d 4f f6 61
        49 cb ec 2f)");
    Bytes client_finished = from_hex(R"(
        14 00 00 20 80 a2 c0 d6 cb c2 10 78 db a3 0a ff
        bf 09 19 29 27 8e dc 83 2d b4 bf a1 c8 11 c9 e8
        c6 7d a9 bb)");

    // §4.4.1: Transcript-Hash(M1, M2, ... Mn) = Hash(M1 || M2 || ... || Mn)
    Bytes transcript(std::initializer_list<const Bytes*> messages) const {
        TranscriptHash th(HashAlg::sha256);
        for (const Bytes* m : messages) th.update(*m);
        return th.current();
    }
    Bytes hello_hash() const { return transcript({&client_hello, &server_hello}); }
    Bytes through_certificate_verify() const {
        return transcript({&client_hello, &server_hello, &encrypted_extensions, &certificate, &certificate_verify});
    }
    Bytes through_server_finished() const {
        return transcript({&client_hello, &server_hello, &encrypted_extensions, &certificate, &certificate_verify,
                           &server_finished});
    }
    Bytes through_client_finished() const {
        return transcript({&client_hello, &server_hello, &encrypted_extensions, &certificate, &certificate_verify,
                           &server_finished, &client_finished});
    }

    // The schedule as the client runs it: no PSK, then its X25519 secret, then the master.
    EarlySecret early() const { return EarlySecret(HashAlg::sha256); }
    HandshakeSecret handshake() const { return early().mix_shared_secret(x25519(client_private, server_public)); }
    MasterSecret master() const { return handshake().derive_master_secret(); }
};

const SuiteInfo& aes128() { return *suite_info(CipherSuite::TLS_AES_128_GCM_SHA256); }

}  // namespace

TEST_CASE("x25519 reproduces the RFC 8448 public keys from the private keys") {
    const Simple1Rtt t;
    CHECK(hex(x25519_keypair_from_private(t.client_private).public_key) == hex(t.client_public));
    CHECK(hex(x25519_keypair_from_private(t.server_private).public_key) == hex(t.server_public));
}

TEST_CASE("x25519 gives both RFC 8448 peers the shared secret of the trace") {
    const Simple1Rtt t;
    const std::string ikm = rfc(R"(
        1b ea 3f df d2 5f 94 03 38 04 b6 89 97 a5 5d 19
        31 dc 51 12 4a d7 f6 e2 89 59 bb 46 72 e3 bd 13)");
    CHECK(hex(x25519(t.client_private, t.server_public)) == ikm);
    CHECK(hex(x25519(t.server_private, t.client_public)) == ikm);
}

TEST_CASE("key schedule reproduces RFC 8448 early secret") {
    CHECK(hex(Simple1Rtt{}.early().secret()) == rfc(R"(
        33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2
        10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a)"));
}

TEST_CASE("transcript hash reproduces RFC 8448 at every point the key schedule reads it") {
    const Simple1Rtt t;
    // One running hash, read three times: current() must not disturb it.
    TranscriptHash th(HashAlg::sha256);
    th.update(t.client_hello);
    th.update(t.server_hello);
    CHECK(hex(th.current()) == rfc(R"(
        3d 35 f3 eb a0 aa bf 5d 96 61 23 6e 3b 5b b9 38
        fd c3 2f 40 9c c2 7c 55 49 9e 1f 0b aa 3a bd 8f)"));
    for (const Bytes* m : {&t.encrypted_extensions, &t.certificate, &t.certificate_verify, &t.server_finished})
        th.update(*m);
    CHECK(hex(th.current()) == rfc(R"(
        b2 85 e2 e2 be b2 8a df 85 ce 08 11 2f 7c 48 04
        cb 52 34 7a 25 8e df a9 c1 bf 31 f7 f8 08 e8 ce)"));
    th.update(t.client_finished);
    CHECK(hex(th.current()) == rfc(R"(
        31 a6 e1 ce ae 1e 79 80 50 f5 3c ac 68 66 2e ed
        ed af cf 27 9c ab 1c 18 38 b9 35 ff ce bf 42 75)"));
}

TEST_CASE("key schedule reproduces RFC 8448 handshake secret") {
    CHECK(hex(Simple1Rtt{}.handshake().secret()) == rfc(R"(
        f2 c6 6e 28 ed 53 5d fb 87 21 b7 14 5c a5 1c 8b
        c0 58 51 4f 79 aa 88 1d 0d 32 cb e1 34 1a 2e 45)"));
}

TEST_CASE("key schedule reproduces RFC 8448 client_handshake_traffic_secret") {
    const Simple1Rtt t;
    CHECK(hex(t.handshake().client_handshake_traffic_secret(t.hello_hash())) ==
          rfc(R"(
              d7 c2 8b 57 a8 57 e9 61 b5 bf 3e 1d 7b 18 d0 27
              57 c4 f9 7a cb 66 a2 33 72 e5 a7 f3 d0 a7 1e 07)"));
}

TEST_CASE("key schedule reproduces RFC 8448 server_handshake_traffic_secret") {
    const Simple1Rtt t;
    CHECK(hex(t.handshake().server_handshake_traffic_secret(t.hello_hash())) ==
          rfc(R"(
              30 31 e9 c2 c2 6e cc 15 4b c3 68 26 e8 7f ee ff
              8f 45 47 df 52 59 67 47 b2 dc ab f9 2b 18 fb 59)"));
}

TEST_CASE("traffic keys reproduce RFC 8448 handshake write keys and IVs") {
    const Simple1Rtt t;
    const TrafficKeys server = traffic_keys(aes128(), t.handshake().server_handshake_traffic_secret(t.hello_hash()));
    CHECK(hex(server.key) == rfc("4d 15 c0 0e 47 31 7f e9 9c 71 4f 8e bd 92 c4 d1"));
    CHECK(hex(server.iv) == rfc("18 22 30 84 73 5f 2f 2d 85 88 ca aa"));
    const TrafficKeys client = traffic_keys(aes128(), t.handshake().client_handshake_traffic_secret(t.hello_hash()));
    CHECK(hex(client.key) == rfc("94 7f e4 1b 60 fa 1b cf 94 2d 45 62 68 47 6e 8d"));
    CHECK(hex(client.iv) == rfc("96 2d f1 fc 72 0f 95 74 f7 d2 22 48"));
}

TEST_CASE("finished reproduces RFC 8448 server Finished verify_data") {
    const Simple1Rtt t;
    const Secret base_key = t.handshake().server_handshake_traffic_secret(t.hello_hash());
    const Bytes verify_data = finished_verify_data(HashAlg::sha256, base_key, t.through_certificate_verify());
    CHECK(hex(verify_data) == rfc(R"(
        4c 92 b1 b2 56 d8 61 a1 83 01 67 82 7d 3e 28 8d
        1a 76 f0 34 84 e9 ec 88 6d 4f f6 61 49 cb ec 2f)"));
    // §4.4.4: struct { opaque verify_data[Hash.length]; } Finished; behind the 4-byte header.
    CHECK(hex(verify_data) == hex(BytesView(t.server_finished).subspan(4)));
}

TEST_CASE("finished reproduces RFC 8448 client Finished verify_data") {
    const Simple1Rtt t;
    const Secret base_key = t.handshake().client_handshake_traffic_secret(t.hello_hash());
    const Bytes verify_data = finished_verify_data(HashAlg::sha256, base_key, t.through_server_finished());
    CHECK(hex(verify_data) == rfc(R"(
        80 a2 c0 d6 cb c2 10 78 db a3 0a ff bf 09 19 29
        27 8e dc 83 2d b4 bf a1 c8 11 c9 e8 c6 7d a9 bb)"));
    CHECK(constant_time_equal(verify_data, BytesView(t.client_finished).subspan(4)));
}

TEST_CASE("key schedule reproduces RFC 8448 master secret") {
    CHECK(hex(Simple1Rtt{}.master().secret()) == rfc(R"(
        a1 29 70 d9 b2 7a 3d 59 b6 ec c1 53 0d 28 40 73
        bd 74 5d dc 68 d9 94 e7 a6 ee 70 88 1b 3d 6d a6)"));
}

TEST_CASE("key schedule reproduces RFC 8448 application traffic secrets") {
    const Simple1Rtt t;
    const Bytes th = t.through_server_finished();
    CHECK(hex(t.master().client_application_traffic_secret_0(th)) ==
          rfc(R"(
              2d ca 43 b0 ae 13 af 89 e9 53 3d 39 b6 5d d2 5c
              c2 2d f9 e7 af ca f0 82 a7 68 95 a4 da 35 3b 50)"));
    CHECK(hex(t.master().server_application_traffic_secret_0(th)) ==
          rfc(R"(
              49 03 3f f3 03 ee f5 73 9d 13 76 cb 6d 27 eb d6
              95 73 3f 3c 3f 61 7e 7f c7 6d 02 a6 fa c6 27 7f)"));
}

TEST_CASE("traffic keys reproduce RFC 8448 application write keys and IVs") {
    const Simple1Rtt t;
    const Bytes th = t.through_server_finished();
    const TrafficKeys server = traffic_keys(aes128(), t.master().server_application_traffic_secret_0(th));
    CHECK(hex(server.key) == rfc("bb e6 b3 fc 9c 06 8c 6f b3 31 ec a8 aa 91 9b fd"));
    CHECK(hex(server.iv) == rfc("80 57 dc 46 84 68 21 a1 be a3 06 e0"));
    const TrafficKeys client = traffic_keys(aes128(), t.master().client_application_traffic_secret_0(th));
    CHECK(hex(client.key) == rfc("d9 2b 3e 9a 88 ea 7f e2 ed 69 aa 9c 8b 62 9e 91"));
    CHECK(hex(client.iv) == rfc("37 a8 28 16 1e ad 2b 68 13 ad 0b 13"));
}

TEST_CASE("key schedule reproduces RFC 8448 exporter master secret") {
    const Simple1Rtt t;
    CHECK(hex(t.master().exporter_master_secret(t.through_server_finished())) ==
          rfc(R"(
              31 9b 2e 43 3f 18 9f c5 a1 d8 1e a3 69 e3 af 83
              8c be cb 0d b8 ff fd 5b 9a b2 05 af cd b9 99 d9)"));
}

TEST_CASE("key schedule reproduces RFC 8448 resumption master secret") {
    const Simple1Rtt t;
    CHECK(hex(t.master().resumption_master_secret(t.through_client_finished())) ==
          rfc(R"(
              a3 4b e5 3b 07 ab 35 b8 50 3d 76 26 a7 ca d4 96
              68 73 eb de a1 35 c4 b2 e4 cd 28 e4 b8 12 ac 54)"));
}

TEST_CASE("resumption PSK reproduces RFC 8448 from the ticket nonce") {
    const Simple1Rtt t;
    const Secret res_master = t.master().resumption_master_secret(t.through_client_finished());
    CHECK(hex(resumption_psk(HashAlg::sha256, res_master, from_hex("00 00"))) ==
          rfc(R"(
              ca e5 ce 63 ca 4b 2a 73 33 a7 ce f4 43 51 ee a4
              b6 a0 b6 da bf e5 2e 8f a8 82 8c 57 60 2b 80 7c)"));
}

// RFC 8448 §4: the resumed ClientHello, binders included.
static Bytes resumed_client_hello() {
    return from_hex(R"(
        01 00 01 fc 03 03 75 0e 18 4c 0c 28 d3 65 ff ab
        68 b7 4c b2 02 fd b4 95 ad 19 f5 27 c6 e6 ce be
        c3 5b 44 3b 9b 35 00 00 06 13 01 13 03 13 02 01
        00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76
        65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
        17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
        33 00 26 00 24 00 1d 00 20 58 39 e3 2b 2b 0e 47
        21 1f f3 09 8d 99 8e d0 37 9a 07 b2 99 b8 46 58
        5b 7f ab 62 c6 13 57 d1 74 00 2a 00 00 00 2b 00
        03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
        02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
        04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
        00 02 40 01 00 15 00 57 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        29 00 dd 00 b8 00 b2 f3 5e da e4 e6 04 04 d6 f4
        0f a1 7f 00 00 00 00 83 93 d1 63 fb 4f 5f 10 5f
        e2 05 6c ae b3 2a c7 00 70 70 04 59 31 02 6d b0
        7d 58 dd 58 09 0d 62 9a f5 9e cb 7f ba 35 3d 5d
        96 53 a7 08 fb cf 0f 51 5c 1b 82 db 6b 08 97 71
        79 df c6 84 d2 2f cf 7b d5 c1 22 22 ab 63 ff d9
        d2 bc 46 17 6d 14 4a e9 8a d9 34 16 89 48 22 ac
        50 64 06 5f 92 99 5a 6f 05 2f a3 a7 31 70 36 57
        81 7e a7 a8 de 73 14 86 61 76 8f 7f 62 09 8f b4
        5c 0a 9d de 04 a9 cf 1a a4 20 6f 13 dd 05 5d f3
        ed 5f a6 81 bb f8 76 e3 62 ad 9c 0a 68 d2 b5 26
        6c 79 aa 80 6c bf e6 11 3b 93 3d 09 37 00 21 20
        71 8c d8 f2 2e 8e d7 1d 1a 23 f7 c8 8f 63 d4 54
        87 af e5 81 57 cb c5 7e 66 bd 13 23 e4 1a 8c d8)");
}

// RFC 8448 §4 "Resumed 0-RTT Handshake": the PSK from §3's ticket starts the next schedule.
TEST_CASE("key schedule reproduces RFC 8448 resumed early secret and PSK binder") {
    const Simple1Rtt first;
    const Secret psk = resumption_psk(HashAlg::sha256,
                                      first.master().resumption_master_secret(first.through_client_finished()),
                                      from_hex("00 00"));
    const EarlySecret early(HashAlg::sha256, psk);
    CHECK(hex(early.secret()) == rfc(R"(
        79 26 bf 24 6b 73 dd 7c f3 aa 5a 75 ec 3d c9 1a
        e3 a2 34 c0 05 65 74 4a f5 16 97 31 3a 08 5f ff)"));

    const Secret binder_key = early.resumption_binder_key();
    CHECK(hex(binder_key) == rfc(R"(
        17 48 d4 3e 9e 70 01 e8 62 d4 5a dd 84 1c 85 fa
        07 bf dc 7c 68 f0 99 ac 4f 50 73 5d fa 29 bf bc)"));
    // §4.2.11.2: the binder is a Finished computed over the ClientHello up to, not including,
    // its binders list (a 2-byte length, a 1-byte length and the 32-byte binder).
    const Bytes client_hello = resumed_client_hello();
    const BytesView truncated_client_hello = BytesView(client_hello).first(client_hello.size() - (2 + 1 + 32));
    const Bytes binder_hash = hash(HashAlg::sha256, truncated_client_hello);
    CHECK(hex(binder_hash) == rfc(R"(
        6f d1 74 87 90 8d 45 ca 0b b7 d5 e5 a9 68 f9 4a
        a4 32 96 b3 fd 57 8d 0c 10 25 40 c3 80 a2 3e 68)"));
    CHECK(hex(finished_verify_data(HashAlg::sha256, binder_key, binder_hash)) ==
          rfc(R"(
              71 8c d8 f2 2e 8e d7 1d 1a 23 f7 c8 8f 63 d4 54
              87 af e5 81 57 cb c5 7e 66 bd 13 23 e4 1a 8c d8)"));
}

TEST_CASE("key schedule reproduces RFC 8448 early traffic secret and early exporter") {
    const Simple1Rtt first;
    const EarlySecret early(HashAlg::sha256,
                            resumption_psk(HashAlg::sha256,
                                           first.master().resumption_master_secret(first.through_client_finished()),
                                           from_hex("00 00")));
    const Bytes client_hello = resumed_client_hello();
    const Bytes ch_hash = hash(HashAlg::sha256, client_hello);
    CHECK(hex(ch_hash) == rfc(R"(
        d8 99 c6 7d ee 77 e9 98 f6 e8 81 a3 b1 4e fe 93
        87 b1 87 5d d8 63 8d fb ad 8d f1 48 44 e2 b7 66)"));
    const Secret early_traffic = early.client_early_traffic_secret(ch_hash);
    CHECK(hex(early_traffic) == rfc(R"(
        c4 19 6f 87 b6 55 85 b4 05 a6 ed 59 ba 9c a3 1e
        46 8a c9 b2 c7 94 77 d4 49 c5 59 a4 44 07 19 7f)"));
    CHECK(hex(early.early_exporter_master_secret(ch_hash)) ==
          rfc(R"(
              37 46 59 e6 30 55 b7 1b a2 74 73 93 97 a0 5b 89
              76 28 e4 ea 99 dc b6 ac 15 56 4d 6a 0d c9 04 bc)"));
    const TrafficKeys keys = traffic_keys(aes128(), early_traffic);
    CHECK(hex(keys.key) == rfc("a9 d6 c9 1b 8a db 61 22 68 f7 72 4f 0b 6c dc 75"));
    CHECK(hex(keys.iv) == rfc("8d 52 15 6f b7 db 01 cb 29 0b de f1"));
}

TEST_CASE("hkdf_expand_label builds the HkdfLabel of RFC 8446 section 7.1") {
    // HKDF-Expand-Label is HKDF-Expand with the HkdfLabel struct as info; RFC 8448 prints
    // that info ("00 10 09 74 6c 73 31 33 20 6b 65 79 00" for "key", 16 bytes).
    const Simple1Rtt t;
    const Secret secret = t.handshake().server_handshake_traffic_secret(t.hello_hash());
    const Bytes info = from_hex("00 10 09 74 6c 73 31 33 20 6b 65 79 00");
    CHECK(hex(hkdf_expand_label(HashAlg::sha256, secret, "key", {}, 16)) ==
          hex(hkdf_expand(HashAlg::sha256, secret, info, 16)));
    CHECK_THROWS_AS(hkdf_expand_label(HashAlg::sha256, secret, std::string(250, 'x'), {}, 16), std::invalid_argument);
}

TEST_CASE("derive_secret with no messages uses the hash of the empty string") {
    // §7.1: Derive-Secret(., "derived", "") - RFC 8448 prints the context as e3 b0 c4 42...
    const Simple1Rtt t;
    CHECK(hex(hash(HashAlg::sha256, {})) == rfc(R"(
        e3 b0 c4 42 98 fc 1c 14 9a fb f4 c8 99 6f b9 24
        27 ae 41 e4 64 9b 93 4c a4 95 99 1b 78 52 b8 55)"));
    CHECK(hex(derive_secret(HashAlg::sha256, t.early().secret(), "derived", hash(HashAlg::sha256, {}))) ==
          rfc(R"(
              6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97
              16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba)"));
}

TEST_CASE("next_traffic_secret applies traffic upd to the current secret") {
    // §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)
    const Simple1Rtt t;
    const Secret secret_0 = t.master().client_application_traffic_secret_0(t.through_server_finished());
    const Secret secret_1 = next_traffic_secret(HashAlg::sha256, secret_0);
    CHECK(secret_1.size() == 32);
    CHECK(hex(secret_1) == hex(hkdf_expand_label(HashAlg::sha256, secret_0, "traffic upd", {}, 32)));
    CHECK(hex(secret_1) != hex(secret_0));
    CHECK(hex(next_traffic_secret(HashAlg::sha256, secret_1)) != hex(secret_1));
}

TEST_CASE("suite_info describes the three suites we implement and no other") {
    const SuiteInfo* a = suite_info(CipherSuite::TLS_AES_128_GCM_SHA256);
    REQUIRE(a);
    CHECK(a->hash == HashAlg::sha256);
    CHECK(a->aead == AeadAlg::aes_128_gcm);
    CHECK(a->key_length == 16);
    CHECK(a->iv_length == 12);
    const SuiteInfo* b = suite_info(CipherSuite::TLS_AES_256_GCM_SHA384);
    REQUIRE(b);
    CHECK(b->hash == HashAlg::sha384);
    CHECK(b->aead == AeadAlg::aes_256_gcm);
    CHECK(b->key_length == 32);
    const SuiteInfo* c = suite_info(CipherSuite::TLS_CHACHA20_POLY1305_SHA256);
    REQUIRE(c);
    CHECK(c->hash == HashAlg::sha256);
    CHECK(c->aead == AeadAlg::chacha20_poly1305);
    CHECK(c->key_length == 32);
    CHECK(suite_info(CipherSuite::TLS_AES_128_CCM_SHA256) == nullptr);
    CHECK(suite_info(static_cast<CipherSuite>(0x1234)) == nullptr);
}

TEST_CASE("a SHA-384 suite gives 48-byte secrets and 32-byte keys") {
    const SuiteInfo& suite = *suite_info(CipherSuite::TLS_AES_256_GCM_SHA384);
    const EarlySecret early(suite.hash);
    CHECK(early.secret().size() == 48);
    const HandshakeSecret hs = early.mix_shared_secret(Bytes(32, 0x42));
    const Bytes th = hash(suite.hash, to_bytes("ClientHello...ServerHello"));
    const Secret client = hs.client_handshake_traffic_secret(th);
    CHECK(client.size() == 48);
    const TrafficKeys keys = traffic_keys(suite, client);
    CHECK(keys.key.size() == 32);
    CHECK(keys.iv.size() == 12);
    CHECK(finished_verify_data(suite.hash, client, th).size() == 48);
    CHECK(hs.derive_master_secret().secret().size() == 48);
}

TEST_CASE("handshake and master secrets can only come from the stage before") {
    // The key schedule's order is in the types: no public constructor to skip a stage.
    static_assert(!std::is_constructible_v<HandshakeSecret, HashAlg, Secret>);
    static_assert(!std::is_default_constructible_v<HandshakeSecret>);
    static_assert(!std::is_constructible_v<MasterSecret, HashAlg, Secret>);
    static_assert(!std::is_default_constructible_v<MasterSecret>);
    static_assert(std::is_constructible_v<EarlySecret, HashAlg>);
    CHECK(true);
}
