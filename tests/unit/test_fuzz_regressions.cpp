// tests/unit/test_fuzz_regressions.cpp — what the fuzz targets found (fuzz/README.md), one
// test per finding, each feeding the very input kept in fuzz/regressions/<target>/ to the
// decoder it broke. (Every regression input is also replayed through its whole target by
// the "fuzz: <target> replays ..." tests.)
#include "messages.hpp"
#include "paths.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace tls;

namespace {

Bytes regression_input(const std::string& target, const std::string& name) {
    const std::string path = repo_path("fuzz/regressions/" + target + "/" + name);
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
