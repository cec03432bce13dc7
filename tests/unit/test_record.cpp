// Unit tests for common/record.* — RFC 8446 §5.1 record framing, no sockets.
#include "alert.hpp"
#include "record.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

using namespace tls;
using tlstest::alert_of;

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

// ---- Receiving in place: wanted(), prepare(), commit() ----

// What a socket read does: up to room.size() bytes of `wire` (and at most `most`) into the
// room, then commit. Returns how many bytes it took.
static std::size_t read_into(RecordReader& reader, BytesView& wire, std::size_t most) {
    auto room = reader.prepare(reader.wanted());
    const std::size_t n = std::min({room.size(), wire.size(), most});
    std::copy_n(wire.begin(), n, room.begin());
    reader.commit(n);
    wire = wire.subspan(n);
    return n;
}

TEST_CASE("records delivered through prepare and commit in odd-sized pieces come out whole") {
    Bytes stream;
    for (std::size_t size : {0, 1, 300, 16384, 7}) {
        auto r = encode_record(ContentType::application_data, Bytes(size, static_cast<std::uint8_t>(size)));
        stream.insert(stream.end(), r.begin(), r.end());
    }
    for (std::size_t piece : {1, 3, 7, 1000, 5000}) {
        CAPTURE(piece);
        BytesView wire(stream);
        RecordReader reader;
        std::vector<std::size_t> sizes;
        while (!wire.empty()) {
            read_into(reader, wire, piece);
            while (auto record = reader.next()) {
                const std::size_t size = record->fragment.size();
                CHECK(record->fragment == Bytes(size, static_cast<std::uint8_t>(size)));
                sizes.push_back(size);
            }
        }
        CHECK(sizes == std::vector<std::size_t>{0, 1, 300, 16384, 7});
        CHECK(reader.buffered() == 0);
    }
}

TEST_CASE("wanted asks for a little until a header arrives, then for the rest of the record and the next header") {
    RecordReader reader;
    const std::size_t small = reader.wanted();
    CHECK(small >= record_header_length);
    CHECK(small <= 1024);
    reader.feed(from_hex("170303"));
    CHECK(reader.wanted() == small);
    reader.feed(from_hex("0064"));  // length 100
    CHECK(reader.wanted() == 100 + 5);
    reader.feed(Bytes(40, 0));
    CHECK(reader.wanted() == 60 + 5);
}

TEST_CASE("a stream of big records takes one read per record once the first header is in") {
    Bytes stream;
    for (int i = 0; i < 3; ++i) {
        auto r = encode_record(ContentType::application_data, Bytes(16000, 0x61));
        stream.insert(stream.end(), r.begin(), r.end());
    }
    BytesView wire(stream);
    RecordReader reader;
    read_into(reader, wire, stream.size());  // the first read is a small one: a header and a little
    CHECK_FALSE(reader.next().has_value());
    for (int i = 0; i < 3; ++i) {
        read_into(reader, wire, stream.size());  // everything is available: the socket is never the limit
        REQUIRE(reader.next().has_value());
        CHECK_FALSE(reader.next().has_value());
        CHECK(reader.buffered() == (i < 2 ? record_header_length : 0));  // exactly the next header
    }
    CHECK(wire.empty());
}

TEST_CASE("only committed bytes count, and commit cannot go past the room prepared") {
    RecordReader reader;
    auto room = reader.prepare(10);
    REQUIRE(room.size() == 10);
    const Bytes wire = encode_record(ContentType::alert, from_hex("0100"));
    std::copy(wire.begin(), wire.end(), room.begin());
    reader.commit(4);
    CHECK(reader.buffered() == 4);
    CHECK_FALSE(reader.next().has_value());
    reader.feed(BytesView(wire).subspan(4));  // feed and prepare/commit mix
    auto record = reader.next();
    REQUIRE(record.has_value());
    CHECK(to_hex(record->fragment) == "0100");
    reader.prepare(3);
    CHECK_THROWS_AS(reader.commit(4), std::logic_error);
}
