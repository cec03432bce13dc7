// tests/unit/test_fuzz_regressions.cpp — what the fuzz targets found (fuzz/README.md), one
// test per finding, each feeding the very input kept in fuzz/regressions/<target>/ to the
// decoder it broke. (Every regression input is also replayed through its whole target by
// the "fuzz: <target> replays ..." tests.)
#include "handshake_reader.hpp"
#include "messages.hpp"
#include "paths.hpp"
#include "record.hpp"
#include "session.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace tls;

namespace {

Bytes read_repo_file(const std::string& relative) {
    const std::string path = repo_path(relative);
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Bytes regression_input(const std::string& target, const std::string& name) {
    return read_repo_file("fuzz/regressions/" + target + "/" + name);
}

// The ClientHello in the records a real client sent (fuzz/captures/, scripts/fuzz-corpus capture).
ClientHello captured_client_hello(const std::string& client) {
    RecordReader records;
    records.feed(read_repo_file("fuzz/captures/" + client + ".bin"));
    HandshakeReader messages;
    while (auto record = records.next()) {
        REQUIRE(record->type == ContentType::handshake);
        messages.feed(record->fragment);
    }
    auto message = messages.next();
    REQUIRE(message.has_value());
    REQUIRE(message->msg_type == HandshakeType::client_hello);
    return ClientHello::decode(message->body);
}

}  // namespace

// fuzz target `messages`: msg_type 2, then a ServerHello body ending in an extensions block
// of length 0. It decodes (a TLS 1.2 ServerHello may carry an empty block) and re-encodes
// without the field: the one exception to "re-encodes to exactly the bytes it came from"
// that messages.hpp now states. The transcript hashes the received bytes, never a re-encoding.
TEST_CASE("a ServerHello with an empty extensions block re-encodes without it (fuzz: messages)") {
    const Bytes input = regression_input("messages", "server-hello-empty-extensions-block");
    REQUIRE(input.at(0) == static_cast<std::uint8_t>(HandshakeType::server_hello));
    const BytesView body = BytesView(input).subspan(1);
    REQUIRE(body.size() >= 2);
    CHECK(body[body.size() - 2] == 0x00);
    CHECK(body[body.size() - 1] == 0x00);
    const auto hello = ServerHello::decode(body);
    CHECK(hello.extensions.empty());
    CHECK(hello.encode() == Bytes(body.begin(), body.end() - 2));
}

// The seeds of the fuzz targets are real clients' ClientHellos: each must decode and pass the
// checks the server makes, GREASE values (RFC 8701) and post-quantum shares included.
TEST_CASE("the ClientHellos of OpenSSL, GnuTLS, curl and Chromium decode and pass the server's checks") {
    for (const char* client : {"openssl", "gnutls", "curl", "chromium"}) {
        CAPTURE(client);
        const auto hello = captured_client_hello(client);
        CHECK(hello.supported_versions().value_or(std::vector<std::uint16_t>{}).size() >= 1);
        CHECK(hello.key_share().has_value());
        CHECK_NOTHROW(check_key_shares_match_supported_groups(hello));
        CHECK_FALSE(hello.describe().empty());
    }
}

TEST_CASE("Chromium's ClientHello: GREASE everywhere and a 1216-byte X25519MLKEM768 share") {
    const auto hello = captured_client_hello("chromium");
    auto is_grease = [](std::uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); };
    CHECK(is_grease(static_cast<std::uint16_t>(hello.cipher_suites.at(0))));
    CHECK(is_grease(static_cast<std::uint16_t>(hello.extensions.front().extension_type)));
    const auto shares = hello.key_share().value();
    REQUIRE(shares.size() == 3);
    CHECK(is_grease(static_cast<std::uint16_t>(shares[0].group)));
    CHECK(static_cast<std::uint16_t>(shares[1].group) == 0x11ec);  // X25519MLKEM768
    CHECK(shares[1].key_exchange.size() == 1216);
    CHECK(shares[2].group == NamedGroup::x25519);
    CHECK(shares[2].key_exchange.size() == 32);
}

// session_file: a NUL byte in server_name was read, and the session could then not be saved
// again (Session::format refuses control characters). parse() now refuses what format()
// refuses, naming the line.
TEST_CASE("fuzz regression session_file/server-name-with-nul: a control character in server_name is refused") {
    const Bytes input = regression_input("session_file", "server-name-with-nul");
    const std::string text(input.begin(), input.end());
    const std::string error = [&] {
        try {
            Session::parse(text, "regression");
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    }();
    CHECK_CONTAINS(error, "server_name: a control character");
    CHECK_THROWS_AS(Session::parse("server_name ab\x01" "c\ncipher_suite TLS_AES_128_GCM_SHA256\n"), std::runtime_error);
    CHECK_THROWS_AS(Session::parse("cipher_suite TLS_AES_128_GCM_SHA256\n[ticket]\nalpn h\x7f" "2\n"), std::runtime_error);
}
