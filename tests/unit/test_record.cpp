// Unit tests for common/record.* — RFC 8446 §5.1 record framing, no sockets.
#include "alert.hpp"
#include "record.hpp"

#include <doctest/doctest.h>

using namespace tls;

static AlertDescription alert_of(auto&& f) {
    try {
        f();
    } catch (const AlertError& e) {
        return e.description;
    }
    FAIL("no AlertError thrown");
    return AlertDescription::internal_error;
}

TEST_CASE("a record is type then legacy_record_version then length then fragment") {
    auto r = encode_record(ContentType::application_data, to_bytes("hi"));
    CHECK(to_hex(r) == "17030300026869");
}

TEST_CASE("data longer than 2^14 is split across records") {
    Bytes data(40000, 0x61);
    auto records = encode_records(ContentType::application_data, data);
    REQUIRE(records.size() == 3);
    CHECK(records[0].size() == 5 + 16384);
    CHECK(records[1].size() == 5 + 16384);
    CHECK(records[2].size() == 5 + 40000 - 2 * 16384);
    CHECK(to_hex(BytesView(records[0]).first(5)) == "1703034000");
}

TEST_CASE("empty data still makes one record") {
    CHECK(encode_records(ContentType::application_data, {}).size() == 1);
}

TEST_CASE("a record split across many reads comes out whole once") {
    auto wire = encode_record(ContentType::handshake, to_bytes("hello record layer"));
    RecordReader reader;
    for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
        reader.feed(BytesView(wire).subspan(i, 1));
        CHECK_FALSE(reader.next().has_value());
    }
    reader.feed(BytesView(wire).last(1));
    auto rec = reader.next();
    REQUIRE(rec.has_value());
    CHECK(rec->type == ContentType::handshake);
    CHECK(to_string(rec->fragment) == "hello record layer");
    CHECK(reader.buffered() == 0);
}

TEST_CASE("several records in one read come out one at a time") {
    Bytes wire;
    for (auto s : {"one", "two", "three"}) {
        auto r = encode_record(ContentType::application_data, to_bytes(s));
        wire.insert(wire.end(), r.begin(), r.end());
    }
    wire.push_back(0x17);  // the first byte of a fourth record
    RecordReader reader;
    reader.feed(wire);
    CHECK(to_string(reader.next()->fragment) == "one");
    CHECK(to_string(reader.next()->fragment) == "two");
    CHECK(to_string(reader.next()->fragment) == "three");
    CHECK_FALSE(reader.next().has_value());
    CHECK(reader.buffered() == 1);
}

TEST_CASE("a record longer than 2^14 is a record_overflow judged from the header alone") {
    RecordReader reader;
    reader.feed(from_hex("1703034001"));  // length 16385, no fragment sent yet
    CHECK(alert_of([&] { reader.next(); }) == AlertDescription::record_overflow);
}

TEST_CASE("a record of exactly 2^14 bytes is accepted") {
    RecordReader reader;
    reader.feed(encode_record(ContentType::application_data, Bytes(16384, 1)));
    CHECK(reader.next()->fragment.size() == 16384);
}

TEST_CASE("protected records may be 2^14 + 256 bytes once the limit is raised") {
    RecordReader reader;
    reader.set_max_length(max_encrypted_fragment_length);
    reader.feed(encode_record(ContentType::application_data, Bytes(16384 + 256, 1)));
    CHECK(reader.next().has_value());
    reader.feed(from_hex("1703034101"));
    CHECK(alert_of([&] { reader.next(); }) == AlertDescription::record_overflow);
}

TEST_CASE("an unknown content type is an unexpected_message") {
    RecordReader reader;
    reader.feed(from_hex("9903030001ff"));
    CHECK(alert_of([&] { reader.next(); }) == AlertDescription::unexpected_message);
}

TEST_CASE("a truncated header waits for more bytes and reports what is buffered") {
    RecordReader reader;
    reader.feed(from_hex("1703"));
    CHECK_FALSE(reader.next().has_value());
    CHECK(reader.buffered() == 2);
}

TEST_CASE("an Alert is level then description") {
    Alert a{AlertLevel::fatal, AlertDescription::record_overflow};
    CHECK(to_hex(a.encode()) == "0216");
    auto back = Alert::decode(from_hex("0100"));
    CHECK(back.level == AlertLevel::warning);
    CHECK(back.description == AlertDescription::close_notify);
    CHECK(alert_of([] { Alert::decode(from_hex("02")); }) == AlertDescription::decode_error);
    CHECK(alert_name(AlertDescription::bad_record_mac) == "bad_record_mac");
}
