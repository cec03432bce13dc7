// The load generator of scripts/bench, run briefly against the chapter 09 server:
// every handshake and every echoed byte must succeed. Nothing here is timed — speed is
// measured by scripts/bench, never asserted in tests.
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

TEST_CASE("bench loadgen completes handshakes and an echo against the ch09 server") {
    REQUIRE_MESSAGE(std::filesystem::exists(bin("loadgen")), "loadgen not built: configure with TLS_BUILD_BENCH=ON");
    auto server = start_server("ch09-server", {"--quiet"});
    Process handshakes({bin("loadgen"), "--port", std::to_string(server.port), "handshakes", "--count", "20",
                        "--concurrency", "4"});
    CHECK(handshakes.wait(30s) == 0);
    CHECK_CONTAINS(handshakes.out(), "pattern=s_time handshakes=20 failed=0");
    Process waiting({bin("loadgen"), "--port", std::to_string(server.port), "handshakes", "--count", "10",
                     "--concurrency", "2", "--pattern", "wait"});
    CHECK(waiting.wait(30s) == 0);
    CHECK_CONTAINS(waiting.out(), "pattern=wait handshakes=10 failed=0");
    Process echo({bin("loadgen"), "--port", std::to_string(server.port), "echo", "--bytes", "100000", "--record-size",
                  "16384"});
    CHECK(echo.wait(30s) == 0);
    CHECK_CONTAINS(echo.out(), "mode=echo bytes=100000");
}
