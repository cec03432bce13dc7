// fuzz/record.cpp — record framing (record.hpp, RFC 8446 §5.1) and Alert::decode (§6).
// Input: a byte stream as a peer sends it, records back to back.
// The stream is read three ways, as the record layer might receive it: all in one feed(),
// one byte per feed(), and in reads of wanted() bytes through prepare()/commit() (what
// RecordLayer::read_record does), each under the TLSPlaintext limit (2^14) and the
// TLSCiphertext one (2^14 + 256). All three must hand out the same records — exactly the
// stream's bytes, in order — and stop at the same error; wanted() must never ask for 0.
#include "fuzz.hpp"
#include "record.hpp"

#include <optional>
#include <vector>

namespace {

struct Outcome {
    std::vector<tls::TLSPlaintext> records;
    std::optional<tls::AlertDescription> error;
    std::size_t buffered = 0;
};

// Takes every record the reader has; false once it threw.
bool drain(tls::RecordReader& reader, Outcome& out) {
    try {
        while (auto record = reader.next()) out.records.push_back(std::move(*record));
        return true;
    } catch (const tls::AlertError& e) {
        out.error = e.description;
        return false;
    }
}

Outcome all_at_once(tls::BytesView stream, std::size_t max) {
    tls::RecordReader reader;
    reader.set_max_length(max);
    Outcome out;
    reader.feed(stream);
    drain(reader, out);
    out.buffered = reader.buffered();
    return out;
}

Outcome byte_by_byte(tls::BytesView stream, std::size_t max) {
    tls::RecordReader reader;
    reader.set_max_length(max);
    Outcome out;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        reader.feed(stream.subspan(i, 1));
        if (!drain(reader, out)) break;
    }
    out.buffered = reader.buffered();
    return out;
}

Outcome like_the_record_layer(tls::BytesView stream, std::size_t max) {
    tls::RecordReader reader;
    reader.set_max_length(max);
    Outcome out;
    std::size_t at = 0;
    while (drain(reader, out) && at < stream.size()) {
        const std::size_t wanted = reader.wanted();
        FUZZ_CHECK(wanted > 0);  // a read of 0 bytes would spin forever
        auto room = reader.prepare(wanted);
        FUZZ_CHECK(room.size() == wanted);
        const std::size_t n = std::min(wanted, stream.size() - at);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, room.begin());
        reader.commit(n);
        at += n;
    }
    out.buffered = reader.buffered();
    return out;
}

bool same(const tls::TLSPlaintext& a, const tls::TLSPlaintext& b) {
    return a.type == b.type && a.legacy_record_version == b.legacy_record_version && a.fragment == b.fragment &&
           a.header == b.header;
}

void check_same(const Outcome& a, const Outcome& b) {
    FUZZ_CHECK(a.records.size() == b.records.size());
    for (std::size_t i = 0; i < a.records.size(); ++i) FUZZ_CHECK(same(a.records[i], b.records[i]));
    FUZZ_CHECK(a.error == b.error);
    if (!a.error) FUZZ_CHECK(a.buffered == b.buffered);
}

void read_stream(tls::BytesView stream, std::size_t max) {
    const Outcome once = all_at_once(stream, max);
    check_same(once, byte_by_byte(stream, max));
    check_same(once, like_the_record_layer(stream, max));

    // The records are the stream, cut at their headers.
    std::size_t at = 0;
    for (const auto& record : once.records) {
        FUZZ_CHECK(record.fragment.size() <= max);
        FUZZ_CHECK(std::equal(record.header.begin(), record.header.end(), stream.begin() + static_cast<std::ptrdiff_t>(at)));
        at += tls::record_header_length;
        FUZZ_CHECK(std::equal(record.fragment.begin(), record.fragment.end(), stream.begin() + static_cast<std::ptrdiff_t>(at)));
        at += record.fragment.size();
        // What the record layer does with an alert record (§6).
        if (record.type == tls::ContentType::alert) fuzz::accepts([&] { (void)tls::Alert::decode(record.fragment); });
    }
    if (!once.error) FUZZ_CHECK(at + once.buffered == stream.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const tls::BytesView stream(data, size);
    read_stream(stream, tls::max_fragment_length);
    read_stream(stream, tls::max_encrypted_fragment_length);
    return 0;
}
