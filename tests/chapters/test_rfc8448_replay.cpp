// End to end: chNN-server --rfc8448 --hex and chNN-client --rfc8448 --hex, for every chapter from
// 03 to 15, print the bytes of RFC 8448 §3 "Simple 1-RTT Handshake" as far as the chapter's flow
// goes: from chapter 12, all of them, the server's NewSessionTicket and what follows it included.
// Each test reads every value out of both traces (messages, records and what they carry,
// secrets, keys, IVs, verify_data) and compares it with the RFC's (common/rfc8448_vectors.hpp),
// in the RFC's order, failing with the first that differs as the RFC names it:
//   §3 p. 5, {server} construct a ServerHello handshake message: ServerHello (server: -> ServerHello)
//   differs at byte 6: ours a7, RFC a6
// Each chapter's list of values is spelled out below: it is that chapter's claim.
// From chapter 10, `--rfc8448 hrr` replays §5 "HelloRetryRequest" the same way, on P-256 after a
// retry with the RFC's cookie (common/rfc8448.hpp): every value our traces print, the PRK of
// each HKDF step included (the secret it starts from). What no trace prints is not compared:
// the private keys (inputs, not results), the HkdfLabels ("info"), the derived salts, the
// finished keys, the zero IKMs and the transcript hashes after the server's Finished.
// From chapter 13, `--rfc8448 resume` replays §4 "Resumed 0-RTT Handshake": §3's ticket, its
// binder, 0-RTT data, EndOfEarlyData, no Certificate (69 values, below).
// In chapter 14, `--rfc8448 client-auth` replays §6 "Client Authentication": CertificateRequest,
// the server's ECDSA and the client's RSA certificate, each CertificateVerify the RFC's
// signature, verified by the peer's ordinary check (so our transcripts are the RFC's), below.
#include "messages.hpp"
#include "peers.hpp"
#include "record_protection.hpp"
#include "rfc8448_vectors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <regex>
#include <span>
#include <string_view>

using namespace tlstest;
using tls::Bytes;

namespace {

namespace s3 = rfc8448::simple;

// ---- Reading a trace ------------------------------------------------------------------------
// What Trace prints with --hex (common/trace.cpp), read back into bytes:
//   -> ClientHello (196 bytes)          a message, its fields, then a hex dump of all of it
//   -> record handshake(22) ...         a record: "16 03 01 00 c4   type, ..." then its fragment
//      plaintext:                       what a protected record carries (before it is sent,
//                                       after it is received), as a hex dump
//      0000  01 00 00 c0 03 03 ...      a hex-dump line: offset, up to 16 bytes, ASCII
//   handshake_secret  1d c8 26 ...     a value, every byte of it under --hex

enum class Dir { sent, received };

struct Message {
    Dir dir;
    std::string name;
    Bytes bytes;  // header and body
};

struct Record {
    Dir dir;
    Bytes bytes;      // header and fragment, as on the wire
    Bytes plaintext;  // protected records: the content (the inner type and padding not included)
};

struct Value {
    std::string name;
    Bytes bytes;
};

struct ParsedTrace {
    std::vector<Message> messages;
    std::vector<Record> records;
    std::vector<Value> values;
};

// "01 00 00 c0", with any spaces around: the bytes.
Bytes hex_bytes(const std::string& text) { return tls::from_hex(text); }

ParsedTrace parse_trace(const std::string& text) {
    static const std::regex message_re(R"(^(->|<-) (\w+) \(\d+ bytes\)$)");
    static const std::regex record_re(R"(^(->|<-) record )");
    static const std::regex header_re(
        R"(^      ((?:[0-9a-f]{2} ){4}[0-9a-f]{2})   type, legacy_record_version, length$)");
    static const std::regex dump_re(R"(^      [0-9a-f]{4}  )");
    static const std::regex value_re(R"(^   ([^ ].*?)  ((?:[0-9a-f]{2} )*[0-9a-f]{2})$)");
    ParsedTrace t;
    Bytes* dump = nullptr;     // where hex-dump lines go
    Bytes pending_plaintext;   // a sent record's plaintext, printed before the record
    bool plaintext_for_sent = false;
    for (const auto& line : lines_of(text)) {
        std::smatch m;
        if (std::regex_search(line, dump_re)) {
            if (dump) {
                auto b = hex_bytes(line.substr(12, 48));
                dump->insert(dump->end(), b.begin(), b.end());
            }
            continue;
        }
        if (line.rfind("     ", 0) == 0 && !std::regex_match(line, header_re) && line != "      plaintext:")
            continue;  // a message's field ("     legacy_version  ..."): its dump comes after the fields
        dump = nullptr;
        const Dir dir = line.rfind("->", 0) == 0 ? Dir::sent : Dir::received;
        if (std::regex_match(line, m, message_re)) {
            t.messages.push_back({dir, m[2], {}});
            dump = &t.messages.back().bytes;
        } else if (std::regex_search(line, record_re)) {
            t.records.push_back({dir, {}, {}});
            if (dir == Dir::sent && plaintext_for_sent) t.records.back().plaintext = std::move(pending_plaintext);
            pending_plaintext.clear();
            plaintext_for_sent = false;
        } else if (std::regex_match(line, m, header_re) && !t.records.empty()) {
            t.records.back().bytes = hex_bytes(m[1].str());
            dump = &t.records.back().bytes;
        } else if (line == "      plaintext:") {
            // After a received record it is that record's; otherwise the next sent record's.
            if (!t.records.empty() && t.records.back().dir == Dir::received && t.records.back().plaintext.empty() &&
                !plaintext_for_sent) {
                dump = &t.records.back().plaintext;
            } else {
                plaintext_for_sent = true;
                dump = &pending_plaintext;
            }
        } else if (std::regex_match(line, m, value_re)) {
            t.values.push_back({m[1], hex_bytes(m[2].str())});
        }
    }
    return t;
}

// ---- What is compared -----------------------------------------------------------------------

enum class Side { client, server };

std::string side_name(Side s) { return s == Side::client ? "client" : "server"; }

struct Traces {
    ParsedTrace client, server;
    const ParsedTrace& of(Side s) const { return s == Side::client ? client : server; }
};

// One value of the RFC and where our trace shows it.
struct Check {
    std::string_view rfc;  // its name in rfc8448::simple
    Side side;             // whose trace
    std::string ours;      // where in it, for the failure message: "-> ServerHello", "record 1 sent"
    std::function<std::optional<Bytes>(const ParsedTrace&)> read;
    std::size_t rfc_from = 0;                 // compare only rfc[from, from + length) ...
    std::size_t length = std::string::npos;   // ... with ours[from, from + length)
    std::string note;                         // said after the RFC's label, for a partial value
};

using Checks = std::vector<Check>;

// A section's values in the RFC's order (rfc8448::simple::labelled, rfc8448::hello_retry::labelled).
using Labels = std::span<const rfc8448::Labelled>;

const rfc8448::Labelled& labelled(Labels labels, std::string_view name) {
    for (const auto& v : labels)
        if (v.name == name) return v;
    throw std::logic_error("no value " + std::string(name) + " in this section of rfc8448_vectors.hpp");
}

std::size_t rfc_order(Labels labels, std::string_view name) {
    return static_cast<std::size_t>(&labelled(labels, name) - labels.data());
}

std::string dir_arrow(Dir d) { return d == Dir::sent ? "->" : "<-"; }

Check make_check(std::string_view rfc, Side side, std::string ours,
                 std::function<std::optional<Bytes>(const ParsedTrace&)> read) {
    Check c;
    c.rfc = rfc;
    c.side = side;
    c.ours = std::move(ours);
    c.read = std::move(read);
    return c;
}

// The message `name` sent or received (the n-th of them), header and body.
Check message(std::string_view rfc, Side side, Dir dir, std::string name, std::size_t n = 0) {
    return make_check(rfc, side, dir_arrow(dir) + " " + name + (n ? " #" + std::to_string(n) : ""),
            [=](const ParsedTrace& t) -> std::optional<Bytes> {
                std::size_t seen = 0;
                for (const auto& m : t.messages)
                    if (m.dir == dir && m.name == name && seen++ == n) return m.bytes;
                return std::nullopt;
            });
}

// verify_data: the body of the n-th Finished sent or received (§4.4.4).
Check verify_data(std::string_view rfc, Side side, Dir dir) {
    auto c = message(rfc, side, dir, "Finished");
    c.ours = "the body of " + c.ours;
    c.read = [read = c.read](const ParsedTrace& t) -> std::optional<Bytes> {
        auto m = read(t);
        if (!m || m->size() < 4) return std::nullopt;
        return Bytes(m->begin() + 4, m->end());
    };
    return c;
}

std::optional<Record> nth_record(const ParsedTrace& t, Dir dir, std::size_t n) {
    std::size_t seen = 0;
    for (const auto& r : t.records)
        if (r.dir == dir && seen++ == n) return r;
    return std::nullopt;
}

std::string record_label(Dir dir, std::size_t n) {
    return fmt::format("{} record {}", dir == Dir::sent ? "sent" : "received", n);
}

// The n-th record sent or received, whole: header and fragment.
Check record(std::string_view rfc, Side side, Dir dir, std::size_t n) {
    return make_check(rfc, side, record_label(dir, n), [=](const ParsedTrace& t) -> std::optional<Bytes> {
        auto r = nth_record(t, dir, n);
        return r ? std::optional<Bytes>(r->bytes) : std::nullopt;
    });
}

// What the n-th record sent or received carries: the fragment of a plaintext record, the
// plaintext of a protected one.
Check payload(std::string_view rfc, Side side, Dir dir, std::size_t n) {
    const auto label = "the payload of " + record_label(dir, n);
    return make_check(rfc, side, label, [=](const ParsedTrace& t) -> std::optional<Bytes> {
        auto r = nth_record(t, dir, n);
        if (!r) return std::nullopt;
        if (!r->plaintext.empty()) return r->plaintext;
        return Bytes(r->bytes.begin() + std::min<std::ptrdiff_t>(5, static_cast<std::ptrdiff_t>(r->bytes.size())),
                     r->bytes.end());
    });
}

// The n-th value of that name (secrets, keys, IVs): "   early_secret  33 ad ...".
Check value(std::string_view rfc, Side side, std::string name, std::size_t n = 0) {
    const auto label = name + (n ? " #" + std::to_string(n) : "");
    return make_check(rfc, side, label, [=](const ParsedTrace& t) -> std::optional<Bytes> {
        std::size_t seen = 0;
        for (const auto& v : t.values)
            if (v.name == name && seen++ == n) return v.bytes;
        return std::nullopt;
    });
}

// Only bytes [from, from + length) of both.
Check part(Check c, std::size_t from, std::size_t length, std::string note) {
    c.rfc_from = from;
    c.length = length;
    c.note = std::move(note);
    return c;
}

Checks operator+(Checks a, const Checks& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Values that cross the wire, each checked twice: as its sender sent it and as its peer
// received it (the record or message n of that direction).
struct BothSides {
    Checks& out;
    template <class Make>
    void add(std::string_view rfc, Side from, Make make) {
        const Side to = from == Side::client ? Side::server : Side::client;
        out = out + Checks{make(rfc, from, Dir::sent), make(rfc, to, Dir::received)};
    }
    void record_pair(std::string_view rfc, Side from, std::size_t n) {
        add(rfc, from, [n](std::string_view r, Side side, Dir dir) { return record(r, side, dir, n); });
    }
    void payload_pair(std::string_view rfc, Side from, std::size_t n) {
        add(rfc, from, [n](std::string_view r, Side side, Dir dir) { return payload(r, side, dir, n); });
    }
    void message_pair(std::string_view rfc, Side from, std::string name) {
        add(rfc, from, [name](std::string_view r, Side side, Dir dir) { return message(r, side, dir, name); });
    }
};

// The first value that differs, in the RFC's order, or "" if none does.
std::string first_difference(const Traces& traces, Checks checks, Labels labels = s3::labelled) {
    std::stable_sort(checks.begin(), checks.end(), [labels](const Check& a, const Check& b) {
        return rfc_order(labels, a.rfc) < rfc_order(labels, b.rfc);
    });
    for (const auto& c : checks) {
        const auto& v = labelled(labels, c.rfc);
        const std::string what = fmt::format("{}{} ({}: {})", v.where, c.note, side_name(c.side), c.ours);
        auto ours = c.read(traces.of(c.side));
        if (!ours) return what + " is not in our trace";
        // Bytes [rfc_from, rfc_from + length) of a value, or what there is of them.
        auto cut = [&](const Bytes& b) {
            const auto from = std::min(c.rfc_from, b.size());
            const auto to = from + std::min(c.length, b.size() - from);
            return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(to));
        };
        const Bytes rfc = cut(tls::from_hex(v.octets));
        ours = cut(*ours);
        const auto [o, r] = std::mismatch(ours->begin(), ours->end(), rfc.begin(), rfc.end());
        if (o == ours->end() && r == rfc.end()) continue;
        const auto at = static_cast<std::size_t>(o - ours->begin());
        if (o == ours->end() || r == rfc.end())
            return fmt::format("{} is {} bytes, the RFC's {} (equal up to there)", what, ours->size(), rfc.size());
        return fmt::format("{} differs at byte {}: ours {:02x}, RFC {:02x}", what, at, *o, *r);
    }
    return "";
}

// ---- Each chapter's claim -------------------------------------------------------------------
// Record numbers count the records a side sent or received, from 0. In §3 there is no
// change_cipher_spec (no middlebox compatibility mode), so they line up with the RFC's.

constexpr auto C = Side::client;
constexpr auto S = Side::server;
constexpr auto sent = Dir::sent;
constexpr auto received = Dir::received;

// Chapter 03: the ClientHello, as the client sends it and the server receives it.
Checks client_hello() {
    return {message("client_hello", C, sent, "ClientHello"),  message("client_hello", S, received, "ClientHello"),
            record("client_hello_record", C, sent, 0),        record("client_hello_record", S, received, 0)};
}

// Chapter 04: the ServerHello, and the (EC)DHE shared secret both compute (§7.4).
Checks server_hello() {
    return {message("server_hello", S, sent, "ServerHello"),  message("server_hello", C, received, "ServerHello"),
            record("server_hello_record", S, sent, 0),        record("server_hello_record", C, received, 0),
            value("handshake_secret_ikm", S, "shared_secret"), value("handshake_secret_ikm", C, "shared_secret")};
}

// Chapter 05 on: the key schedule to the handshake traffic secrets (§7.1), on both sides.
Checks handshake_secrets() {
    Checks out;
    for (auto side : {S, C}) {
        out = out + Checks{value("early_secret", side, "early_secret"),
                           value("handshake_secret", side, "handshake_secret"),
                           value("client_handshake_traffic_secret_transcript_hash", side, "transcript_hash"),
                           value("server_handshake_traffic_secret_transcript_hash", side, "transcript_hash"),
                           value("client_handshake_traffic_secret", side, "client_handshake_traffic_secret"),
                           value("server_handshake_traffic_secret", side, "server_handshake_traffic_secret")};
    }
    return out;
}

// Chapter 05 prints the handshake keys and IVs itself (§7.3), and the Master Secret.
Checks chapter05_keys() {
    Checks out;
    for (auto side : {S, C}) {
        out = out + Checks{value("server_handshake_write_key", side, "server_handshake key"),
                           value("server_handshake_write_iv", side, "server_handshake iv"),
                           value("client_handshake_write_key", side, "client_handshake key"),
                           value("client_handshake_write_iv", side, "client_handshake iv"),
                           value("master_secret", side, "master_secret")};
    }
    return out;
}

// Chapter 06 on: the record layer derives them as it installs each side's keys (§7.3).
Checks handshake_keys() {
    Checks out;
    for (auto side : {S, C}) {
        out = out + Checks{value("server_handshake_write_key", side, "server_write_key", 0),
                           value("server_handshake_write_iv", side, "server_write_iv", 0),
                           value("client_handshake_write_key", side, "client_write_key", 0),
                           value("client_handshake_write_iv", side, "client_write_iv", 0)};
    }
    return out;
}

Checks server_messages(std::initializer_list<std::pair<std::string_view, std::string>> messages) {
    Checks out;
    for (auto& [rfc, name] : messages)
        out = out + Checks{message(rfc, S, sent, name), message(rfc, C, received, name)};
    return out;
}

// Chapters 06 and 07 send part of the RFC's one record of the server's flight (EncryptedExtensions
// ... Finished): AES-GCM encrypts like a stream cipher, so under the same key and nonce (sequence
// number 0) the same first bytes of plaintext give the same first bytes of ciphertext; the rest
// of the record, and its tag, cover messages these chapters do not send yet.
Checks flight_prefix(std::size_t length, std::string what) {
    auto note = fmt::format(", its first {} encrypted bytes ({})", length, what);
    return {part(record("server_flight_record", S, sent, 1), 5, length, note),
            part(record("server_flight_record", C, received, 1), 5, length, note)};
}

// Chapter 08: both Finished, the application traffic secrets and their keys (§4.4.4, §7.1).
// `flight` numbers the record of the server's flight and of the client's Finished: 1 in §3,
// 2 after a HelloRetryRequest (§5), each side's second hello having gone as record 1.
Checks finished(std::size_t flight = 1) {
    const auto n = flight;
    Checks out = server_messages({{"server_finished", "Finished"}}) +
                 Checks{verify_data("server_verify_data", S, sent), verify_data("server_verify_data", C, received),
                        payload("server_flight_payload", S, sent, n), payload("server_flight_payload", C, received, n),
                        record("server_flight_record", S, sent, n), record("server_flight_record", C, received, n),
                        message("client_finished", C, sent, "Finished"),
                        message("client_finished", S, received, "Finished"),
                        verify_data("client_verify_data", C, sent), verify_data("client_verify_data", S, received),
                        record("client_finished_record", C, sent, n), record("client_finished_record", S, received, n)};
    for (auto side : {S, C}) {
        out = out + Checks{value("master_secret", side, "master_secret"),
                           value("client_application_traffic_secret_0", side, "client_application_traffic_secret_0"),
                           value("server_application_traffic_secret_0", side, "server_application_traffic_secret_0"),
                           value("exporter_master_secret", side, "exporter_master_secret"),
                           value("server_application_write_key", side, "server_write_key", 1),
                           value("server_application_write_iv", side, "server_write_iv", 1),
                           value("client_application_write_key", side, "client_write_key", 1),
                           value("client_application_write_iv", side, "client_write_iv", 1)};
    }
    return out;
}

// Chapter 08 closes right after the handshake, each side with close_notify (§6.1): the alerts
// carry the RFC's two bytes, but as each side's record 0 under the application keys, where
// the RFC's client sends its close_notify as record 1 (after its data) and its server as
// record 2 (after a NewSessionTicket and data); so only the payload is the RFC's. (Neither side
// reads the other's: each closes after sending its own.)
Checks chapter08_alerts() {
    return {payload("client_alert_payload", C, sent, 2), payload("server_alert_payload", S, sent, 2)};
}

// Chapter 09: the RFC's 50 bytes of application data each way, and both close_notify. The
// client's records are the RFC's; the server's carry the RFC's bytes under the RFC's keys but
// with sequence numbers one lower, as our server sends no NewSessionTicket (chapter 12 does):
// see the test below.
Checks application_data() {
    return {payload("client_application_data_payload", C, sent, 2),
            payload("client_application_data_payload", S, received, 2),
            record("client_application_data_record", C, sent, 2),
            record("client_application_data_record", S, received, 2),
            payload("server_application_data_payload", S, sent, 2),
            payload("server_application_data_payload", C, received, 2),
            payload("client_alert_payload", C, sent, 3), payload("client_alert_payload", S, received, 3),
            record("client_alert_record", C, sent, 3), record("client_alert_record", S, received, 3),
            payload("server_alert_payload", S, sent, 3), payload("server_alert_payload", C, received, 3)};
}

// Chapter 12 on: after the client's Finished both sides derive resumption_master_secret (§7.1)
// and the server sends the RFC's NewSessionTicket (with --rfc8448 its own one ticket, not ours:
// Inputs::new_session_ticket) as its first record under the application keys. The client
// derives the ticket's PSK from its ticket_nonce (§4.6.1), the RFC's "generate resumption
// secret" (the same PSK §4 resumes with: see the test below).
Checks new_session_ticket() {
    return {value("resumption_master_secret", S, "resumption_master_secret"),
            value("resumption_master_secret", C, "resumption_master_secret"),
            message("new_session_ticket", S, sent, "NewSessionTicket"),
            message("new_session_ticket", C, received, "NewSessionTicket"),
            payload("new_session_ticket", S, sent, 2), payload("new_session_ticket", C, received, 2),
            record("new_session_ticket_record", S, sent, 2), record("new_session_ticket_record", C, received, 2),
            value("resumption_psk", C, "resumption PSK")};
}

// Chapter 12 on: after the ticket, chapter 09's exchange, now with the server's records the
// RFC's too: its echo is its record 3 (sequence number 1 under its application keys) and its
// close_notify record 4 (2), as in the RFC.
Checks application_data_after_ticket() {
    return {payload("client_application_data_payload", C, sent, 2),
            payload("client_application_data_payload", S, received, 2),
            record("client_application_data_record", C, sent, 2),
            record("client_application_data_record", S, received, 2),
            payload("server_application_data_payload", S, sent, 3),
            payload("server_application_data_payload", C, received, 3),
            record("server_application_data_record", S, sent, 3),
            record("server_application_data_record", C, received, 3),
            payload("client_alert_payload", C, sent, 3), payload("client_alert_payload", S, received, 3),
            record("client_alert_record", C, sent, 3), record("client_alert_record", S, received, 3),
            payload("server_alert_payload", S, sent, 4), payload("server_alert_payload", C, received, 4),
            record("server_alert_record", S, sent, 4), record("server_alert_record", C, received, 4)};
}

Checks chapter_checks(int chapter) {
    switch (chapter) {
    case 3: return client_hello();
    case 4: return client_hello() + server_hello();
    case 5: return client_hello() + server_hello() + handshake_secrets() + chapter05_keys();
    case 6:
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"}}) +
               flight_prefix(40, "EncryptedExtensions");
    case 7:
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                {"certificate", "Certificate"},
                                {"certificate_verify", "CertificateVerify"}}) +
               flight_prefix(40 + 445 + 136, "EncryptedExtensions, Certificate, CertificateVerify");
    case 8:
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                {"certificate", "Certificate"},
                                {"certificate_verify", "CertificateVerify"}}) +
               finished() + chapter08_alerts();
    case 9:
    case 10:  // (no retry: the RFC's §3 client sends a share for the group the server takes)
    case 11:  // (no KeyUpdate: none is sent without --key-update-every)
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                {"certificate", "Certificate"},
                                {"certificate_verify", "CertificateVerify"}}) +
               finished() + application_data();
    case 12:
    case 13:  // (no 0-RTT: the RFC's §3 client has no ticket yet)
    case 14:  // (no CertificateRequest: none is sent without --client-ca)
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                {"certificate", "Certificate"},
                                {"certificate_verify", "CertificateVerify"}}) +
               finished() + new_session_ticket() + application_data_after_ticket();
    case 15:  // through the ticket only: see client_args
        return client_hello() + server_hello() + handshake_secrets() + handshake_keys() +
               server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                {"certificate", "Certificate"},
                                {"certificate_verify", "CertificateVerify"}}) +
               finished() + new_session_ticket();
    default: throw std::logic_error("no such chapter");
    }
}

// How many of §3's values a list compares (each once, whichever side).
std::size_t distinct_values(const Checks& checks) {
    std::vector<std::string_view> names;
    for (const auto& c : checks) names.push_back(c.rfc);
    std::sort(names.begin(), names.end());
    return static_cast<std::size_t>(std::unique(names.begin(), names.end()) - names.begin());
}

// What a chapter's client takes besides --rfc8448 --hex. Chapter 15's server speaks HTTP/1.1,
// not echo: the RFC's 50 bytes of application data (00 01 02 ... 31) are no request, so it
// would wait for the end of one and never answer. Its client asks for a page instead (--path /,
// which ends with the server's Connection: close, and prints the page on stdout, its trace on
// stderr), so the handshake and the ticket are the RFC's and what follows is HTTP, compared
// with nothing.
std::vector<std::string> client_args(int chapter) {
    if (chapter == 15) return {"--path", "/"};
    return {};
}

// Both programs of a chapter with --rfc8448 --hex (or `replay`: {"--rfc8448", "hrr"} for §5),
// to the end of the connection.
Traces run_replay(int chapter, std::string* raw_server = nullptr,
                  const std::vector<std::string>& replay = {"--rfc8448"}) {
    const auto nn = fmt::format("{:02}", chapter);
    auto server_args = replay;
    server_args.push_back("--hex");
    auto server = start_server("ch" + nn + "-server", server_args);
    std::vector<std::string> argv{bin("ch" + nn + "-client"), "--port", std::to_string(server.port)};
    argv.insert(argv.end(), server_args.begin(), server_args.end());
    for (auto& arg : client_args(chapter)) argv.push_back(arg);
    Process client(argv);
    const auto code = client.wait();
    REQUIRE_MESSAGE(server.process.wait_for("== connection #1 closed", 10s), server.process.all());
    INFO("client:\n" << client.all() << "\nserver:\n" << server.process.all());
    // (Chapters 03 to 07 stop the handshake on purpose with user_canceled, a normal end for them.)
    CHECK(code == 0);
    if (raw_server) *raw_server = server.process.out();
    return {parse_trace(chapter == 15 ? client.err() : client.out()), parse_trace(server.process.out())};
}

// Runs a chapter's replay of one section (`replay`: its --rfc8448 arguments) and requires every
// check to hold, and `expected_values` of the section's values to be checked: the claim in numbers.
void check_replay(int chapter, const Checks& checks, const std::vector<std::string>& replay, Labels labels,
                  std::string_view section, std::size_t expected_values, std::string* raw_server = nullptr) {
    const auto traces = run_replay(chapter, raw_server, replay);
    const auto difference = first_difference(traces, checks, labels);
    CHECK_MESSAGE(difference.empty(), "chapter " << chapter << ": " << difference);
    CHECK(distinct_values(checks) == expected_values);
    MESSAGE("chapter " << chapter << " reproduces " << distinct_values(checks) << " values of RFC 8448 " << section
                       << " (" << checks.size() << " comparisons, client and server)");
}

void check_chapter(int chapter, std::size_t expected_values) {
    check_replay(chapter, chapter_checks(chapter), {"--rfc8448"}, s3::labelled, "§3", expected_values);
}

}  // namespace

// ---- §5 HelloRetryRequest: --rfc8448 hrr, chapters 10 to 15 -------------------------------
// Record numbers: each side's first record is its first hello (ClientHello1, the
// HelloRetryRequest), its second the second (ClientHello2, ServerHello), its third the flight
// after it (the server's EncryptedExtensions ... Finished, the client's Finished), its fourth
// its close_notify: §5's client sends no data and its server no NewSessionTicket.

namespace {

namespace s5 = rfc8448::hello_retry;

// The public key of the n-th ClientHello's (or ServerHello's) key share, as our trace shows
// the message: each is computed by our code from the RFC's private key.
Check key_share(std::string_view rfc, Side side, Dir dir, std::string name, std::size_t n) {
    auto c = message(rfc, side, dir, name, n);
    c.ours = "the key_share of " + c.ours;
    c.read = [read = c.read, name](const ParsedTrace& t) -> std::optional<Bytes> {
        auto m = read(t);
        if (!m || m->size() < 4) return std::nullopt;
        const auto body = tls::BytesView(*m).subspan(4);
        if (name == "ClientHello") {
            auto shares = tls::ClientHello::decode(body).key_share();
            if (!shares || shares->size() != 1) return std::nullopt;
            return shares->front().key_exchange;
        }
        auto share = tls::ServerHello::decode(body).key_share();
        return share ? std::optional<Bytes>(share->key_exchange) : std::nullopt;
    };
    return c;
}

// Chapter 10 on: ClientHello1 with its x25519 share, the HelloRetryRequest (the RFC labels it
// a ServerHello, which it is; our trace names it) with its cookie, ClientHello2 with its P-256
// share, the cookie and padding, the ServerHello with the server's P-256 share, and the P-256
// shared secret. `n` counts the messages of that name, `r` the records of the sender.
Checks hello_retry_hellos() {
    Checks out;
    auto both = [&out](std::string_view rfc, Side from, std::string name, std::size_t n, std::size_t r) {
        const Side to = from == C ? S : C;
        // (The record's name is the RFC's too: client_hello_1_record, hello_retry_request_record...)
        const auto record_name = labelled(s5::labelled, std::string(rfc) + "_record").name;
        out = out + Checks{message(rfc, from, sent, name, n), message(rfc, to, received, name, n),
                           record(record_name, from, sent, r), record(record_name, to, received, r)};
    };
    both("client_hello_1", C, "ClientHello", 0, 0);
    both("hello_retry_request", S, "HelloRetryRequest", 0, 0);
    both("client_hello_2", C, "ClientHello", 1, 1);
    both("server_hello", S, "ServerHello", 0, 1);
    out = out + Checks{key_share("client_x25519_public_key", C, sent, "ClientHello", 0),
                       key_share("client_p256_public_key", C, sent, "ClientHello", 1),
                       key_share("server_p256_public_key", S, sent, "ServerHello", 0),
                       value("handshake_secret_ikm", S, "shared_secret"),
                       value("handshake_secret_ikm", C, "shared_secret")};
    return out;
}

// After the handshake each side sends close_notify as its record 3, the first under its
// application keys (§6.1): the client first, the server in answer.
Checks hello_retry_close() {
    return {payload("client_alert_payload", C, sent, 3), payload("client_alert_payload", S, received, 3),
            record("client_alert_record", C, sent, 3), record("client_alert_record", S, received, 3),
            payload("server_alert_payload", S, sent, 3), payload("server_alert_payload", C, received, 3),
            record("server_alert_record", S, sent, 3), record("server_alert_record", C, received, 3)};
}

// Chapter 12 on: both sides derive resumption_master_secret, which §5 prints though its
// server sends no ticket.
Checks hello_retry_resumption() {
    return {value("resumption_master_secret", S, "resumption_master_secret"),
            value("resumption_master_secret", C, "resumption_master_secret")};
}

// The RFC prints the PRK of every HKDF step, the secret the step starts from; our trace prints
// that secret under its own name (the PRK of "tls13 c hs traffic" is the handshake secret).
Checks hello_retry_prks(bool resumption) {
    const std::pair<std::string_view, std::string> prks[] = {
        {"derived_for_handshake_prk", "early_secret"},
        {"client_handshake_traffic_secret_prk", "handshake_secret"},
        {"server_handshake_traffic_secret_prk", "handshake_secret"},
        {"derived_for_master_prk", "handshake_secret"},
        {"server_handshake_write_prk", "server_handshake_traffic_secret"},
        {"client_handshake_write_prk", "client_handshake_traffic_secret"},
        {"server_finished_key_prk", "server_handshake_traffic_secret"},
        {"client_finished_key_prk", "client_handshake_traffic_secret"},
        {"client_application_traffic_secret_0_prk", "master_secret"},
        {"server_application_traffic_secret_0_prk", "master_secret"},
        {"exporter_master_secret_prk", "master_secret"},
        {"server_application_write_prk", "server_application_traffic_secret_0"},
        {"client_application_write_prk", "client_application_traffic_secret_0"},
        {"resumption_master_secret_prk", "master_secret"}};
    Checks out;
    for (const auto& [rfc, ours] : prks) {
        if (rfc == "resumption_master_secret_prk" && !resumption) continue;
        out = out + Checks{value(rfc, S, ours), value(rfc, C, ours)};
    }
    return out;
}

Checks hello_retry_checks(int chapter) {
    auto handshake = hello_retry_hellos() + handshake_secrets() + handshake_keys() +
                     server_messages({{"encrypted_extensions", "EncryptedExtensions"},
                                      {"certificate", "Certificate"},
                                      {"certificate_verify", "CertificateVerify"}}) +
                     finished(2);
    switch (chapter) {
    case 10:
    case 11:  // (no resumption_master_secret: these chapters do not derive it)
        return handshake + hello_retry_prks(false) + hello_retry_close();
    case 12:
    case 13:
    case 14: return handshake + hello_retry_resumption() + hello_retry_prks(true) + hello_retry_close();
    case 15:  // through the client's Finished: then its client asks for a page (client_args)
        return handshake + hello_retry_resumption() + hello_retry_prks(true);
    default: throw std::logic_error("no §5 replay before chapter 10");
    }
}

void check_hello_retry(int chapter, std::size_t expected_values) {
    check_replay(chapter, hello_retry_checks(chapter), {"--rfc8448", "hrr"}, s5::labelled, "§5", expected_values);
}

}  // namespace

TEST_CASE("--rfc8448 hrr: ch10 replays RFC 8448 §5, HelloRetryRequest and cookie included, to the last record") {
    check_hello_retry(10, 57);
}

TEST_CASE("--rfc8448 hrr: ch11 replays §5 as chapter 10 does") { check_hello_retry(11, 57); }

TEST_CASE("--rfc8448 hrr: ch12, ch13 and ch14 add §5's resumption_master_secret (and send no ticket, as §5's server)") {
    check_hello_retry(12, 59);
    check_hello_retry(13, 59);
    check_hello_retry(14, 59);
}

TEST_CASE("--rfc8448 hrr: ch15 replays §5 through the client's Finished, then speaks HTTP") { check_hello_retry(15, 55); }

// The comparison of §5 can fail too: one byte of the server's dump of its HelloRetryRequest
// (the first of its random), changed, is named.
TEST_CASE("--rfc8448 hrr: the replay comparison names the first §5 value that differs") {
    std::string server_out;
    auto traces = run_replay(10, &server_out, {"--rfc8448", "hrr"});
    REQUIRE(first_difference(traces, hello_retry_checks(10), s5::labelled).empty());
    // The HelloRetryRequest's dump begins "02 00 00 ac 03 03 cf 21 ad 74 ..." (its random).
    const auto at = server_out.find("      0000  02 00 00 ac 03 03 cf 21");
    REQUIRE(at != std::string::npos);
    server_out.replace(at + 30, 2, "ce");  // random[0]: cf -> ce
    traces.server = parse_trace(server_out);
    CHECK(first_difference(traces, hello_retry_checks(10), s5::labelled) ==
          "§5 p. 30, {server} construct a ServerHello handshake message: ServerHello (server: -> HelloRetryRequest) "
          "differs at byte 6: ours ce, RFC cf");
}

namespace {

using Refusal = std::pair<std::string, std::vector<std::string>>;  // a program and an option

// Each program run with `replay` (its --rfc8448 arguments) and the option of a case must refuse
// it before listening or connecting, saying the section it replays; each program of `without`
// has no such section to replay (replay[1]: "hrr", "resume"...) and must say so.
void check_refusals(const std::vector<std::string>& replay, std::string_view section, std::span<const Refusal> cases,
                    std::initializer_list<std::string> without = {}) {
    for (const auto& [program, args] : cases) {
        INFO(program << " " << args[0]);
        std::vector<std::string> argv{bin(program), "--port", std::to_string(free_port())};
        argv.insert(argv.end(), replay.begin(), replay.end());
        argv.insert(argv.end(), args.begin(), args.end());
        Process p(argv);
        CHECK(p.wait().value_or(0) != 0);
        CHECK_CONTAINS(p.all(), fmt::format("--rfc8448: it replays RFC 8448 {}, so {} cannot be used with it", section,
                                            args[0]));
        CHECK(p.all().find("listening") == std::string::npos);
        CHECK(p.all().find("connected") == std::string::npos);
    }
    for (const auto& program : without) {
        INFO(program);
        std::vector<std::string> argv{bin(program), "--port", std::to_string(free_port())};
        argv.insert(argv.end(), replay.begin(), replay.end());
        Process p(argv);
        CHECK(p.wait().value_or(0) != 0);
        if (replay.size() > 1 && program.substr(2, 2) >= "10")  // chapters that know --rfc8448 WORD
            CHECK_CONTAINS(p.all(), "no section '" + replay[1] + "' to replay");
        CHECK(p.all().find("listening") == std::string::npos);
    }
}

}  // namespace

TEST_CASE("--rfc8448 hrr refuses what would change §5, and chapters before 10 refuse hrr") {
    const Refusal cases[] = {
        {"ch10-server", {"--hrr-cookie"}},  {"ch10-server", {"--groups", "x25519"}},
        {"ch10-client", {"--key-shares", "secp256r1"}}, {"ch12-server", {"--tickets", "2"}},
        {"ch15-server", {"--hrr-cookie"}}};
    check_refusals({"--rfc8448", "hrr"}, "§5", cases, {"ch09-server", "ch09-client"});
    {  // --hrr-cookie changes nothing in §3, which has no HelloRetryRequest: allowed there.
        auto server = start_server("ch10-server", {"--rfc8448", "--hrr-cookie"});
        Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--rfc8448"});
        CHECK(client.wait() == 0);
    }
    {  // A §3 client at a §5 server: its ClientHello is not §5's, and is refused by name.
        auto server = start_server("ch10-server", {"--rfc8448", "hrr"});
        Process client({bin("ch10-client"), "--port", std::to_string(server.port), "--rfc8448"});
        CHECK(client.wait() != 0);
        CHECK(server.process.wait_for("connection #1 closed", 5s));
        CHECK_CONTAINS(server.process.all(), "--rfc8448 answers only the ClientHello of RFC 8448 §5 HelloRetryRequest");
    }
}

// ---- §4 Resumed 0-RTT Handshake: --rfc8448 resume, chapters 13 and 14 ----------------------
// The client resumes §3's session (its ticket and PSK, from the RFC's vectors) and sends 6 bytes
// of early data; the server takes them and sends no Certificate (common/rfc8448.hpp). Chapter 12
// does not replay §4: it has no 0-RTT, and the RFC's ClientHello offers early_data, so every
// byte from that ClientHello on would differ (its programs refuse `--rfc8448 resume`, below).
// Chapter 15 does not either: its server reads HTTP, and the RFC's early data is no request.
// Record numbers: the client sends ClientHello (0), its early data (1) and EndOfEarlyData (2)
// under the early keys, Finished (3), its data (4) and close_notify (5); the server sends
// ServerHello (0), EncryptedExtensions and Finished in one record (1), its echo of the data (2)
// and close_notify (3). Each side installs the client's early, handshake and application keys
// in that order (client_write_key #0, #1, #2), the server's handshake and application keys
// (server_write_key #0, #1). Not compared, as no trace prints them: the PSK (early_secret_ikm,
// an input: §3's), the binder's hash and finished key, early_exporter_master_secret (we derive
// none), and what §3 and §5 leave out too (private keys, HkdfLabels, salts, zero IKMs).

namespace {

namespace s4 = rfc8448::resumed;

Checks resumed_checks() {
    Checks out;
    BothSides pairs{out};
    // The ClientHello: the RFC's fields, our key share and our pre_shared_key, binder included
    // (the RFC's binder "prefix" is the ClientHello truncated before the binders, §4.2.11.2).
    pairs.message_pair("client_hello", C, "ClientHello");
    pairs.record_pair("client_hello_record", C, 0);
    const auto truncated = ", its first 477 bytes (Truncate(ClientHello), §4.2.11.2)";
    out = out + Checks{part(message("client_hello_before_binders", C, sent, "ClientHello"), 0, 477, truncated),
                       part(message("client_hello_prefix", S, received, "ClientHello"), 0, 477, truncated),
                       key_share("client_public_key", C, sent, "ClientHello", 0),
                       value("binder_key", C, "binder_key"), value("binder", C, "binder")};
    // 0-RTT: the early traffic secret, its key and IV, the early data's record.
    for (auto side : {C, S})
        out = out + Checks{value("early_secret", side, "early_secret"),
                           value("client_early_traffic_secret_prk", side, "early_secret"),
                           value("client_early_traffic_secret", side, "client_early_traffic_secret"),
                           value("client_early_write_prk", side, "client_early_traffic_secret"),
                           value("client_early_write_key", side, "client_write_key", 0),
                           value("client_early_write_iv", side, "client_write_iv", 0)};
    pairs.payload_pair("client_early_data_payload", C, 1);
    pairs.record_pair("client_early_data_record", C, 1);
    // ServerHello (pre_shared_key selected_identity 0), the x25519 secret, the handshake secrets.
    pairs.message_pair("server_hello", S, "ServerHello");
    pairs.record_pair("server_hello_record", S, 0);
    out = out + Checks{key_share("server_public_key", S, sent, "ServerHello", 0),
                       value("handshake_secret_ikm", S, "shared_secret"), value("handshake_secret_ikm", C, "shared_secret")};
    out = out + handshake_secrets();
    // EncryptedExtensions (with early_data) and Finished, no Certificate, in one record.
    pairs.message_pair("encrypted_extensions", S, "EncryptedExtensions");
    pairs.message_pair("server_finished", S, "Finished");
    out = out + Checks{verify_data("server_verify_data", S, sent), verify_data("server_verify_data", C, received)};
    pairs.payload_pair("server_flight_payload", S, 1);
    pairs.record_pair("server_flight_record", S, 1);
    // EndOfEarlyData, the last record under the early keys (§4.5), then the client's Finished.
    pairs.message_pair("end_of_early_data", C, "EndOfEarlyData");
    pairs.record_pair("end_of_early_data_record", C, 2);
    pairs.message_pair("client_finished", C, "Finished");
    out = out + Checks{verify_data("client_verify_data", C, sent), verify_data("client_verify_data", S, received)};
    pairs.record_pair("client_finished_record", C, 3);
    for (auto side : {S, C})
        out = out + Checks{value("server_handshake_write_key", side, "server_write_key", 0),
                           value("server_handshake_write_iv", side, "server_write_iv", 0),
                           value("client_handshake_write_key", side, "client_write_key", 1),
                           value("client_handshake_write_iv", side, "client_write_iv", 1),
                           value("master_secret", side, "master_secret"),
                           value("client_application_traffic_secret_0", side, "client_application_traffic_secret_0"),
                           value("server_application_traffic_secret_0", side, "server_application_traffic_secret_0"),
                           value("exporter_master_secret", side, "exporter_master_secret"),
                           value("server_application_write_key", side, "server_write_key", 1),
                           value("server_application_write_iv", side, "server_write_iv", 1),
                           value("client_application_write_key", side, "client_write_key", 2),
                           value("client_application_write_iv", side, "client_write_iv", 2)};
    out = out + hello_retry_resumption() + hello_retry_prks(true);
    // The data, its echo, both close_notify.
    pairs.payload_pair("client_application_data_payload", C, 4);
    pairs.record_pair("client_application_data_record", C, 4);
    pairs.payload_pair("server_application_data_payload", S, 2);
    pairs.record_pair("server_application_data_record", S, 2);
    pairs.payload_pair("client_alert_payload", C, 5);
    pairs.record_pair("client_alert_record", C, 5);
    pairs.payload_pair("server_alert_payload", S, 3);
    pairs.record_pair("server_alert_record", S, 3);
    return out;
}

void check_resumed(int chapter, std::size_t expected_values) {
    check_replay(chapter, resumed_checks(), {"--rfc8448", "resume"}, s4::labelled, "§4", expected_values);
}

}  // namespace

TEST_CASE("--rfc8448 resume: ch13 replays RFC 8448 §4, binder, 0-RTT data and EndOfEarlyData included, to the last record") {
    check_resumed(13, 69);
}

TEST_CASE("--rfc8448 resume: ch14 replays §4 as chapter 13 does") { check_resumed(14, 69); }

// The comparison of §4 can fail too: one byte of the binder our client computed, changed, is named.
TEST_CASE("--rfc8448 resume: the replay comparison names the first §4 value that differs") {
    std::string server_out;
    auto traces = run_replay(13, &server_out, {"--rfc8448", "resume"});
    REQUIRE(first_difference(traces, resumed_checks(), s4::labelled).empty());
    for (auto& v : traces.client.values)
        if (v.name == "binder") v.bytes.at(0) ^= 1;  // 3a -> 3b
    CHECK(first_difference(traces, resumed_checks(), s4::labelled) ==
          "§4 p. 18, {client} calculate PSK binder: finished (client: binder) differs at byte 0: ours 3b, RFC 3a");
}

// What a replay skips, it says; what it does not skip still holds: the RFC's ticket gives early
// data once per server process (§8.1), so the same replay again is declined as a replay.
TEST_CASE("--rfc8448 resume: the server says which checks of time it skips, and still takes 0-RTT once per ticket") {
    auto server = start_server("ch13-server", {"--rfc8448", "resume"});
    for (int i = 0; i < 2; ++i) {
        Process client({bin("ch13-client"), "--port", std::to_string(server.port), "--rfc8448", "resume"});
        client.wait();
        REQUIRE(server.process.wait_for(fmt::format("== connection #{} closed", i + 1), 10s));
    }
    const auto out = server.process.all();
    CHECK_CONTAINS(out, "--rfc8448 resume: the RFC's ticket is sealed by the RFC's server and opens under no key of ours");
    CHECK_CONTAINS(out, "its expiry and age are not checked (§4.2.11.1)");
    CHECK_CONTAINS(out, "§8.3's freshness check and §8.2's startup rule skipped");
    CHECK_CONTAINS(out, "early data declined: the ticket has already been used for early data: a replay (RFC 8446 §8.1)");
}

TEST_CASE("--rfc8448 resume refuses what would change §4, and chapters 12 and 15 refuse resume") {
    const Refusal cases[] = {
        {"ch13-client", {"--early-data", "hi"}},   {"ch13-client", {"--session-in", cert("ca.pem")}},
        {"ch13-client", {"--reconnect"}},          {"ch13-client", {"--psk-modes", "psk_ke"}},
        {"ch13-server", {"--max-early-data", "0"}}, {"ch13-server", {"--allow-psk-ke"}},
        {"ch14-server", {"--ticket-key", cert("ca.pem")}}};
    check_refusals({"--rfc8448", "resume"}, "§4", cases, {"ch12-server", "ch12-client", "ch15-server", "ch15-client"});
}

TEST_CASE("--rfc8448: ch03 sends RFC 8448 §3's ClientHello, byte for byte") { check_chapter(3, 2); }

TEST_CASE("--rfc8448: ch04 adds the RFC's ServerHello and shared secret") { check_chapter(4, 5); }

TEST_CASE("--rfc8448: ch05 adds every handshake secret, key and IV and the Master Secret") { check_chapter(5, 16); }

TEST_CASE("--rfc8448: ch06 adds EncryptedExtensions and the first bytes of the RFC's protected flight") {
    check_chapter(6, 17);
}

TEST_CASE("--rfc8448: ch07 adds Certificate and CertificateVerify, the RSA-PSS signature included") {
    check_chapter(7, 19);
}

TEST_CASE("--rfc8448: ch08 adds the flight record, both Finished and the application secrets and keys") {
    check_chapter(8, 35);
}

TEST_CASE("--rfc8448: ch09 adds the application data and close_notify records") { check_chapter(9, 39); }

// RFC8446 4.4.2-5
TEST_CASE("--rfc8448: ch10 and ch11 replay §3 as chapter 09 does") {
    check_chapter(10, 39);
    check_chapter(11, 39);
}

// What chapters 09 to 11 cannot match, and why: the RFC's server sends a NewSessionTicket as
// its first record under the application keys (sequence number 0), so its echo of the data is
// record 1 and its close_notify record 2. Theirs sends no ticket (chapter 12's does): the same
// plaintext under the same keys, one sequence number lower (§5.3: the nonce is the IV XOR the
// sequence number), so different bytes.
TEST_CASE("--rfc8448: ch09's server data and close_notify are the RFC's sealed one sequence number lower") {
    const auto traces = run_replay(9);
    const auto key = tls::from_hex(s3::server_application_write_key);
    const auto iv = tls::from_hex(s3::server_application_write_iv);
    tls::TrafficKeys keys{tls::Secret(key.begin(), key.end()), tls::Secret(iv.begin(), iv.end())};
    tls::RecordProtection ours(tls::AeadAlg::aes_128_gcm, keys);
    tls::RecordProtection rfc(tls::AeadAlg::aes_128_gcm, keys);
    rfc.seal(tls::ContentType::handshake, tls::from_hex(s3::new_session_ticket));  // the RFC's record 0
    const auto data = tls::from_hex(s3::server_application_data_payload);
    const auto alert = tls::from_hex(s3::server_alert_payload);
    // The RFC's two records are what sequence numbers 1 and 2 give (so the keys are right) ...
    CHECK(rfc.seal(tls::ContentType::application_data, data) == tls::from_hex(s3::server_application_data_record));
    CHECK(rfc.seal(tls::ContentType::alert, alert) == tls::from_hex(s3::server_alert_record));
    // ... and ours are what 0 and 1 give.
    auto sent_record = [&](std::size_t n) {
        auto r = nth_record(traces.server, Dir::sent, n);
        return r ? r->bytes : Bytes{};
    };
    CHECK(sent_record(2) == ours.seal(tls::ContentType::application_data, data));
    CHECK(sent_record(3) == ours.seal(tls::ContentType::alert, alert));
    CHECK(sent_record(2) != tls::from_hex(s3::server_application_data_record));
}

TEST_CASE("--rfc8448: ch12 adds the NewSessionTicket, the resumption secrets and the server's last records") {
    check_chapter(12, 45);
}

TEST_CASE("--rfc8448: ch13 and ch14 replay §3 as chapter 12 does") {
    check_chapter(13, 45);
    check_chapter(14, 45);
}

// Chapter 15 through the ticket: its server answers HTTP, not the RFC's data (see client_args).
TEST_CASE("--rfc8448: ch15 replays §3 through the NewSessionTicket, then speaks HTTP") { check_chapter(15, 37); }

// §4 resumes §3's session: its client offers §3's ticket as its PskIdentity, and its early
// secret takes §3's resumption PSK as IKM. Our chapter 12 client keeps exactly that ticket and
// that PSK, so it holds what §4's client resumes with.
TEST_CASE("--rfc8448: ch12's client keeps the ticket and the PSK that RFC 8448 §4 resumes with") {
    namespace s4 = rfc8448::resumed;
    auto where = [](std::string_view name) {  // as the RFC names it: "§4 p. 16, {client} ..."
        for (const auto& v : s4::labelled)
            if (v.name == name) return std::string(v.where);
        throw std::logic_error("no value " + std::string(name) + " in rfc8448::resumed");
    };
    const auto traces = run_replay(12);
    auto psk = value("resumption_psk", C, "resumption PSK").read(traces.client);
    REQUIRE(psk);
    INFO(where("early_secret_ikm") << " (client: resumption PSK)");
    CHECK(*psk == tls::from_hex(s4::early_secret_ikm));
    auto nst = message("new_session_ticket", C, received, "NewSessionTicket").read(traces.client);
    REQUIRE(nst);
    REQUIRE(nst->size() > 4);
    const auto ticket = tls::NewSessionTicket::decode(tls::BytesView(*nst).subspan(4)).ticket;
    const auto hello = tls::from_hex(s4::client_hello);
    INFO(where("client_hello") << ", its pre_shared_key identity (client: the ticket of <- NewSessionTicket)");
    CHECK(std::search(hello.begin(), hello.end(), ticket.begin(), ticket.end()) != hello.end());
}

// The comparison can fail: the real trace, with one byte of the ServerHello's random changed
// in the server's hex dump, is caught and named.
TEST_CASE("--rfc8448: the replay comparison names the first value that differs") {
    std::string server_out;
    auto traces = run_replay(4, &server_out);
    REQUIRE(first_difference(traces, chapter_checks(4)).empty());
    // "-> ServerHello" is followed by its fields, then "      0000  02 00 00 56 03 03 a6 af ...".
    const auto at = server_out.find("      0000  02 00 00 56 03 03 a6 af");
    REQUIRE(at != std::string::npos);
    server_out.replace(at + 30, 2, "a7");  // random[0]: a6 -> a7
    traces.server = parse_trace(server_out);
    CHECK(first_difference(traces, chapter_checks(4)) ==
          "§3 p. 5, {server} construct a ServerHello handshake message: ServerHello (server: -> ServerHello) differs at "
          "byte 6: ours a7, RFC a6");
}

TEST_CASE("--rfc8448 refuses options that would change what the RFC fixes, before connecting") {
    const Refusal cases[] = {
        {"ch09-client", {"--groups", "secp256r1"}}, {"ch09-client", {"--server-name", "localhost"}},
        {"ch09-client", {"--ca", cert("ca.pem")}},   {"ch09-client", {"--message", "hi"}},
        {"ch09-server", {"--cert", cert("server-rsa.pem")}}, {"ch07-server", {"--key", cert("server-rsa.key")}},
        {"ch04-client", {"--groups", "x25519"}},     {"ch03-client", {"--server-name", "server"}},
        {"ch12-server", {"--tickets", "1"}},         {"ch13-server", {"--max-early-data", "0"}}};
    check_refusals({"--rfc8448"}, "§3", cases);
}

TEST_CASE("--rfc8448 server answers only the RFC's ClientHello; client trusts only the RFC's certificate") {
    {  // Our normal client at a replaying server: another ClientHello, refused by name.
        auto server = start_server("ch09-server", {"--rfc8448"});
        Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--message", "hi"});
        CHECK(client.wait() != 0);
        CHECK(server.process.wait_for("connection #1 closed", 5s));
        CHECK_CONTAINS(server.process.all(), "--rfc8448 answers only the ClientHello of RFC 8448 §3 Simple 1-RTT Handshake; "
                                             "this one differs at byte");
        CHECK_CONTAINS(client.all(), "<- Alert handshake_failure(40)");
    }
    {  // A replaying client at our normal server: the RFC's ClientHello is answered, but the
       // certificate is ours, not the RFC's.
        auto server = start_server("ch09-server");
        Process client({bin("ch09-client"), "--port", std::to_string(server.port), "--rfc8448"});
        CHECK(client.wait() != 0);
        CHECK_CONTAINS(client.all(), "--rfc8448 trusts only the certificate of RFC 8448 §3 Simple 1-RTT Handshake "
                                     "(certs/rfc8448-rsa.pem), and the server sent another");
    }
}

// ---- §6 Client Authentication: --rfc8448 client-auth, chapter 14 ---------------------------
// The server asks for the client's certificate (CertificateRequest, the RFC's), authenticates
// with the RFC's ECDSA P-256 certificate, and the client answers with the RFC's RSA one. The RFC
// shows neither private key, so each side sends the RFC's signature (an input, as §3's salt;
// common/rfc8448.hpp) and the other verifies it with its ordinary CertificateVerify check: the
// replay completes only if both transcripts, up to each CertificateVerify, are the RFC's, and
// then every value after them (Finished, application secrets, records) is the RFC's too.
// Record numbers: each side sends its hello (0), its flight in one record (1: the server's
// EncryptedExtensions ... Finished, the client's Certificate, CertificateVerify and Finished) and
// its close_notify (2); no data, no NewSessionTicket. Chapter 15 does not replay §6: its server
// asks for no certificate. Not compared, as in §3 to §5: private keys, HkdfLabels, salts, zero
// IKMs, finished keys and the transcript hashes after the server's Finished.

namespace {

namespace s6 = rfc8448::client_auth;

Checks client_auth_checks() {
    Checks out;
    BothSides pairs{out};
    // The hellos, the x25519 secret, the handshake secrets and keys.
    pairs.message_pair("client_hello", C, "ClientHello");
    pairs.record_pair("client_hello_record", C, 0);
    pairs.message_pair("server_hello", S, "ServerHello");
    pairs.record_pair("server_hello_record", S, 0);
    out = out + Checks{key_share("client_public_key", C, sent, "ClientHello", 0),
                       key_share("server_public_key", S, sent, "ServerHello", 0),
                       value("handshake_secret_ikm", S, "shared_secret"), value("handshake_secret_ikm", C, "shared_secret")};
    out = out + handshake_secrets() + handshake_keys();
    // The server's flight: EncryptedExtensions, CertificateRequest, its ECDSA Certificate, the
    // RFC's signature in its CertificateVerify, Finished; one record.
    pairs.message_pair("encrypted_extensions", S, "EncryptedExtensions");
    pairs.message_pair("certificate_request", S, "CertificateRequest");
    pairs.message_pair("certificate", S, "Certificate");
    pairs.message_pair("certificate_verify", S, "CertificateVerify");
    pairs.message_pair("server_finished", S, "Finished");
    out = out + Checks{verify_data("server_verify_data", S, sent), verify_data("server_verify_data", C, received)};
    pairs.payload_pair("server_flight_payload", S, 1);
    pairs.record_pair("server_flight_record", S, 1);
    // The client's answer: its RSA Certificate, the RFC's RSA-PSS signature, Finished; one record.
    pairs.message_pair("client_certificate", C, "Certificate");
    pairs.message_pair("client_certificate_verify", C, "CertificateVerify");
    pairs.message_pair("client_finished", C, "Finished");
    out = out + Checks{verify_data("client_verify_data", C, sent), verify_data("client_verify_data", S, received)};
    pairs.payload_pair("client_flight_payload", C, 1);
    pairs.record_pair("client_flight_record", C, 1);
    // The application secrets and keys, the resumption secret, every PRK.
    for (auto side : {S, C})
        out = out + Checks{value("master_secret", side, "master_secret"),
                           value("client_application_traffic_secret_0", side, "client_application_traffic_secret_0"),
                           value("server_application_traffic_secret_0", side, "server_application_traffic_secret_0"),
                           value("exporter_master_secret", side, "exporter_master_secret"),
                           value("server_application_write_key", side, "server_write_key", 1),
                           value("server_application_write_iv", side, "server_write_iv", 1),
                           value("client_application_write_key", side, "client_write_key", 1),
                           value("client_application_write_iv", side, "client_write_iv", 1)};
    out = out + Checks{value("resumption_master_secret", S, "resumption_master_secret"),
                       value("resumption_master_secret", C, "resumption_master_secret")} +
          hello_retry_prks(true);
    // Both close_notify, the client's first.
    pairs.payload_pair("client_alert_payload", C, 2);
    pairs.record_pair("client_alert_record", C, 2);
    pairs.payload_pair("server_alert_payload", S, 2);
    pairs.record_pair("server_alert_record", S, 2);
    return out;
}

}  // namespace

TEST_CASE("--rfc8448 client-auth: ch14 replays RFC 8448 §6, CertificateRequest and both certificates and signatures "
          "included, to the last record") {
    std::string server_out;
    check_replay(14, client_auth_checks(), {"--rfc8448", "client-auth"}, s6::labelled, "§6", 58, &server_out);
    // Each side verified the RFC's signature with its ordinary check, and pinned the RFC's certificate.
    CHECK_CONTAINS(server_out, "CertificateVerify  rsa_pss_rsae_sha256 signature verified (client context)");
    CHECK_CONTAINS(server_out, "pinned: the client certificate of RFC 8448 §6 Client Authentication, byte for byte");
}

// The comparison of §6 can fail too: one byte of the client's signature as the server's trace
// shows it, changed, is named.
TEST_CASE("--rfc8448 client-auth: the replay comparison names the first §6 value that differs") {
    auto traces = run_replay(14, nullptr, {"--rfc8448", "client-auth"});
    REQUIRE(first_difference(traces, client_auth_checks(), s6::labelled).empty());
    for (auto& m : traces.server.messages)
        if (m.dir == Dir::received && m.name == "CertificateVerify") m.bytes.at(8) ^= 1;  // 18 -> 19
    CHECK(first_difference(traces, client_auth_checks(), s6::labelled) ==
          "§6 p. 52, {client} construct a CertificateVerify handshake message: CertificateVerify (server: <- "
          "CertificateVerify) differs at byte 8: ours 19, RFC 18");
}

// The peer does verify the replayed signature: a flight that is the RFC's but for one byte of
// the signature (sealed again under the RFC's handshake keys, so the record itself is sound) is
// refused with decrypt_error (§4.4.3), by the client for the server's and by the server for
// the client's. So a completed replay means the RFC's signatures verified over our transcripts.
namespace {

// The RFC's flight `payload_hex` with byte `at` flipped, sealed as its sender's first record
// under the handshake keys (sequence number 0).
Bytes corrupted_flight(std::string_view payload_hex, std::size_t at, std::string_view key_hex, std::string_view iv_hex) {
    auto payload = tls::from_hex(payload_hex);
    payload.at(at) ^= 0x01;
    const auto key = tls::from_hex(key_hex);
    const auto iv = tls::from_hex(iv_hex);
    tls::TrafficKeys keys{tls::Secret(key.begin(), key.end()), tls::Secret(iv.begin(), iv.end())};
    tls::RecordProtection protection(tls::AeadAlg::aes_128_gcm, keys);
    return protection.seal(tls::ContentType::handshake, payload);
}

std::size_t octet_count(std::string_view hex) { return tls::from_hex(hex).size(); }

}  // namespace

TEST_CASE("--rfc8448 client-auth: a replayed signature changed by one bit is refused by the peer with decrypt_error") {
    SUBCASE("the server's ECDSA signature, checked by the ch14 client") {
        // Inside the signature: EncryptedExtensions, CertificateRequest, Certificate, then
        // CertificateVerify's header, scheme and length (8 bytes), then 40 bytes into the DER.
        const auto at = octet_count(s6::encrypted_extensions) + octet_count(s6::certificate_request) +
                        octet_count(s6::certificate) + 8 + 40;
        const auto flight = corrupted_flight(s6::server_flight_payload, at, s6::server_handshake_write_key,
                                             s6::server_handshake_write_iv);
        ScriptedServer server([&](tls::tcp::socket& socket, tls::Connection&) -> asio::awaitable<void> {
            Bytes hello(octet_count(s6::client_hello_record));
            co_await asio::async_read(socket, asio::buffer(hello), asio::use_awaitable);
            CHECK(hello == tls::from_hex(s6::client_hello_record));
            const auto server_hello = tls::from_hex(s6::server_hello_record);
            co_await asio::async_write(socket, asio::buffer(server_hello), asio::use_awaitable);
            co_await asio::async_write(socket, asio::buffer(flight), asio::use_awaitable);
            Bytes rest(64);
            asio::error_code ec;
            while (!ec) co_await socket.async_read_some(asio::buffer(rest), asio::redirect_error(asio::use_awaitable, ec));
        });
        Process client({bin("ch14-client"), "--port", std::to_string(server.port()), "--rfc8448", "client-auth"});
        CHECK(client.wait() != 0);
        server.outcome();
        CHECK_CONTAINS(client.all(), "-> Alert decrypt_error(51): the CertificateVerify signature does not verify");
        CHECK(client.all().find("handshake complete") == std::string::npos);
    }
    SUBCASE("the client's RSA-PSS signature, checked by the ch14 server") {
        const auto at = octet_count(s6::client_certificate) + 8 + 64;
        const auto flight = corrupted_flight(s6::client_flight_payload, at, s6::client_handshake_write_key,
                                             s6::client_handshake_write_iv);
        auto server = start_server("ch14-server", {"--rfc8448", "client-auth"});
        auto outcome = run_client_script(server.port, [&](tls::tcp::socket& socket, tls::Connection&) -> asio::awaitable<void> {
            const auto hello = tls::from_hex(s6::client_hello_record);
            co_await asio::async_write(socket, asio::buffer(hello), asio::use_awaitable);
            // The server's ServerHello and flight records, as the RFC's (not read further).
            Bytes server_records(octet_count(s6::server_hello_record) + octet_count(s6::server_flight_record));
            co_await asio::async_read(socket, asio::buffer(server_records), asio::use_awaitable);
            co_await asio::async_write(socket, asio::buffer(flight), asio::use_awaitable);
            Bytes rest(64);
            asio::error_code ec;
            while (!ec) co_await socket.async_read_some(asio::buffer(rest), asio::redirect_error(asio::use_awaitable, ec));
        });
        CHECK(outcome == "");
        REQUIRE(server.process.wait_for("connection #1 closed", 10s));
        CHECK_CONTAINS(server.process.all(), "-> Alert decrypt_error(51): the client's CertificateVerify does not verify");
        CHECK(server.process.all().find("handshake complete") == std::string::npos);
    }
}

TEST_CASE("--rfc8448 client-auth refuses what would change §6, and other chapters refuse client-auth") {
    const Refusal cases[] = {
        {"ch14-server", {"--cert", cert("server-rsa.pem")}},  {"ch14-server", {"--key", cert("server-rsa.key")}},
        {"ch14-server", {"--client-ca", cert("ca.pem")}},    {"ch14-server", {"--tickets", "1"}},
        {"ch14-client", {"--cert", cert("client-rsa.pem"), "--key", cert("client-rsa.key")}},
        {"ch14-client", {"--message", "hi"}},                {"ch14-client", {"--groups", "secp256r1"}}};
    check_refusals({"--rfc8448", "client-auth"}, "§6", cases, {"ch13-server", "ch13-client", "ch15-server", "ch15-client"});
    {  // A client's --cert is no §3 value (§3's server asks for none): allowed with plain --rfc8448.
        auto server = start_server("ch14-server", {"--rfc8448"});
        Process client({bin("ch14-client"), "--port", std::to_string(server.port), "--rfc8448", "--cert",
                        cert("client-rsa.pem"), "--key", cert("client-rsa.key")});
        CHECK(client.wait() == 0);
    }
    {  // A §3 client at a §6 server: its ClientHello is not §6's, and is refused by name.
        auto server = start_server("ch14-server", {"--rfc8448", "client-auth"});
        Process client({bin("ch14-client"), "--port", std::to_string(server.port), "--rfc8448"});
        CHECK(client.wait() != 0);
        CHECK(server.process.wait_for("connection #1 closed", 5s));
        CHECK_CONTAINS(server.process.all(), "--rfc8448 answers only the ClientHello of RFC 8448 §6 Client Authentication");
    }
}
