// fuzz/handshake_reader.cpp — handshake reassembly (handshake_reader.hpp, RFC 8446 §4, §5.1)
// and every message decoder behind it.
// Input: the handshake byte stream, as the payloads of handshake records carry it (RFC 8448's
// "payload" values, a real client's ClientHello). It is fed to a HandshakeReader in one piece
// and again in fragments of 1, 3 and 1000 bytes (one message over several records, several
// messages in one record): every way must hand out the same messages, each exactly the
// stream's next bytes, and stop at the same error. Each message then goes through
// Handshake::decode and its own decoder (decode_message.hpp).
#include "decode_message.hpp"
#include "handshake_reader.hpp"

#include <optional>
#include <vector>

namespace {

struct Outcome {
    std::vector<tls::HandshakeMessage> messages;
    std::optional<tls::AlertDescription> error;
    bool empty = true;
};

Outcome reassemble(tls::BytesView stream, std::size_t fragment_size) {
    tls::HandshakeReader reader;
    Outcome out;
    try {
        for (std::size_t at = 0; at < stream.size(); at += fragment_size) {
            reader.feed(stream.subspan(at, std::min(fragment_size, stream.size() - at)));
            while (auto m = reader.next()) out.messages.push_back(std::move(*m));
        }
    } catch (const tls::AlertError& e) {
        out.error = e.description;
    }
    out.empty = reader.empty();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const tls::BytesView stream(data, size);
    const Outcome whole = reassemble(stream, stream.size() + 1);
    for (std::size_t fragment_size : {1, 3, 1000}) {
        const Outcome split = reassemble(stream, fragment_size);
        FUZZ_CHECK(split.messages.size() == whole.messages.size());
        for (std::size_t i = 0; i < split.messages.size(); ++i) FUZZ_CHECK(split.messages[i].raw == whole.messages[i].raw);
        FUZZ_CHECK(split.error == whole.error);
        if (!whole.error) FUZZ_CHECK(split.empty == whole.empty);
    }

    std::size_t at = 0;
    for (const auto& m : whole.messages) {
        // raw is the stream's next bytes; body is raw after the 4-byte header.
        FUZZ_CHECK(m.raw.size() >= 4 && at + m.raw.size() <= stream.size());
        FUZZ_CHECK(std::equal(m.raw.begin(), m.raw.end(), stream.begin() + static_cast<std::ptrdiff_t>(at)));
        FUZZ_CHECK(std::equal(m.body.begin(), m.body.end(), m.raw.begin() + 4) && m.body.size() + 4 == m.raw.size());
        FUZZ_CHECK(m.msg_type == static_cast<tls::HandshakeType>(m.raw[0]));
        at += m.raw.size();
        // The same message framed by Handshake::decode (§4).
        tls::Handshake h = tls::Handshake::decode(m.raw);
        FUZZ_CHECK(h.msg_type == m.msg_type && h.body == m.body && h.encode() == m.raw);
        fuzz::decode_message(m.msg_type, m.body);
    }
    return 0;
}
