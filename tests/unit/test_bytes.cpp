// Unit tests for common/bytes.* — RFC 8446 §3 presentation language.
#include "alert.hpp"
#include "bytes.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tls;
using tlstest::alert_of;

TEST_CASE("ByteWriter and ByteReader round-trip every integer width") {
    ByteWriter w;
    w.u8(0x12);
    w.u16(0x3456);
    w.u24(0x789abc);
    w.u32(0xdef01234);
    w.u64(0x0102030405060708ull);
    CHECK(to_hex(w.data()) == "123456789abcdef012340102030405060708");
    ByteReader r(w.data());
    CHECK(r.u8() == 0x12);
    CHECK(r.u16() == 0x3456);
    CHECK(r.u24() == 0x789abc);
    CHECK(r.u32() == 0xdef01234);
    CHECK(r.u64() == 0x0102030405060708ull);
    CHECK(r.empty());
}

TEST_CASE("length-prefixed vectors carry their length in 1 2 or 3 bytes") {
    ByteWriter w;
    w.vec8(from_hex("aabb"));
    w.vec16(from_hex("cc"));
    w.vec24(from_hex(""));
    CHECK(to_hex(w.data()) == "02aabb0001cc000000");
    ByteReader r(w.data());
    CHECK(to_hex(r.vec8()) == "aabb");
    CHECK(to_hex(r.vec16()) == "cc");
    CHECK(r.vec24().empty());
    r.expect_end();
}

TEST_CASE("nested vectors written with open and close get their lengths patched") {
    ByteWriter w;
    auto outer = w.open(2);
    auto inner = w.open(1);
    w.u16(0x0304);
    w.close(inner);
    w.close(outer);
    CHECK(to_hex(w.data()) == "0003020304");
}

TEST_CASE("reading past the end is a decode_error, never an out-of-bounds read") {
    auto data = from_hex("0102");
    CHECK(alert_of([&] { ByteReader(data).u24(); }) == AlertDescription::decode_error);
    CHECK(alert_of([&] { ByteReader(data).bytes(3); }) == AlertDescription::decode_error);
    // A vector that claims more bytes than there are.
    auto bad_vec = from_hex("0005aabb");
    CHECK(alert_of([&] { ByteReader(bad_vec).vec16(); }) == AlertDescription::decode_error);
    auto bad_vec24 = from_hex("ffffff");
    CHECK(alert_of([&] { ByteReader(bad_vec24).vec24(); }) == AlertDescription::decode_error);
}

TEST_CASE("trailing bytes after a message are a decode_error") {
    auto data = from_hex("01ff");
    ByteReader r(data);
    r.u8();
    CHECK(alert_of([&] { r.expect_end(); }) == AlertDescription::decode_error);
}

TEST_CASE("a vector below its minimum length is a decode_error") {
    auto data = from_hex("00");
    CHECK(alert_of([&] { ByteReader(data).vec8(1); }) == AlertDescription::decode_error);
}

TEST_CASE("a vector too long for its length prefix cannot be written") {
    ByteWriter w;
    Bytes big(256);
    CHECK_THROWS_AS(w.vec8(big), std::length_error);
}

TEST_CASE("hex conversion round-trips and rejects non-hex") {
    CHECK(to_hex(from_hex("00 ff\n10")) == "00ff10");
    CHECK_THROWS(from_hex("0g"));
    CHECK_THROWS(from_hex("abc"));
}
