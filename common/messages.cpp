// common/messages.cpp — introduced in chapter 03, grown in chapters 04–09.
// RFC 8446 §4.1–§4.6 (handshake messages), §4.2 (extensions) and the extension bodies of
// RFC 6066 §3 (server_name) and RFC 7301 §3.1 (ALPN). See messages.hpp.
#include "messages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace tls {

namespace {

// ---- small helpers -----------------------------------------------------------------------

AlertError malformed(const std::string& why) { return AlertError(AlertDescription::decode_error, why); }

Bytes copy(BytesView v) { return Bytes(v.begin(), v.end()); }

void check_max(std::size_t length, std::size_t max, std::string_view what) {
    if (length > max) throw malformed(fmt::format("{}: {} bytes is longer than its maximum {}", what, length, max));
}

// A list of 2-byte values (cipher suites, groups, schemes, versions): its length must be even.
template <class T>
std::vector<T> read_u16_list(ByteReader list, std::string_view what) {
    if (list.remaining() % 2 != 0)
        throw malformed(fmt::format("{}: odd length {} for a list of 2-byte values", what, list.remaining()));
    std::vector<T> out;
    while (!list.empty()) out.push_back(static_cast<T>(list.u16()));
    return out;
}

template <class T>
void write_u16_list(ByteWriter& w, std::size_t length_width, const std::vector<T>& values) {
    auto mark = w.open(length_width);
    for (auto v : values) w.u16(static_cast<std::uint16_t>(v));
    w.close(mark);
}

// "cb 34 ec b1" — at most the first 16 bytes, then "… (N bytes)".
std::string hex_preview(BytesView b) {
    if (b.empty()) return "(empty)";
    std::string out;
    for (std::size_t i = 0; i < b.size() && i < 16; ++i) out += fmt::format("{}{:02x}", i ? " " : "", b[i]);
    if (b.size() > 16) out += fmt::format(" … ({} bytes)", b.size());
    return out;
}

// An extension we do not decode: "2 bytes: 40 01".
std::string opaque_value(BytesView b) {
    if (b.empty()) return "0 bytes";
    std::string hex = hex_preview(b.first(std::min<std::size_t>(b.size(), 16)));
    return fmt::format("{} byte{}: {}{}", b.size(), b.size() == 1 ? "" : "s", hex, b.size() > 16 ? " …" : "");
}

// "x25519 (0x001d)": the RFC name and the code point.
template <class E>
std::string named(E v) {
    return fmt::format("{} (0x{:04x})", name(v), static_cast<unsigned>(v));
}

// "a, b, c" for the trace. A peer may send tens of thousands of entries (a ClientHello
// can be 128 KiB): past the first 32 the line says how many there are in all.
std::string join_list(const std::vector<std::string>& items, std::string_view separator = ", ") {
    constexpr std::size_t shown = 32;
    if (items.size() <= shown) return fmt::format("{}", fmt::join(items, separator));
    return fmt::format("{}{}… ({} in all)", fmt::join(items.begin(), items.begin() + shown, separator), separator,
                       items.size());
}

template <class E>
std::string join_names(const std::vector<E>& values) {
    std::vector<std::string> names;
    for (auto v : values) names.push_back(name(v));
    return join_list(names);
}

std::string psk_mode_name(PskKeyExchangeMode m) {
    switch (m) {
        case PskKeyExchangeMode::psk_ke: return "psk_ke";
        case PskKeyExchangeMode::psk_dhe_ke: return "psk_dhe_ke";
    }
    return fmt::format("unknown({})", static_cast<unsigned>(m));
}

std::string describe_share(const KeyShareEntry& e) {
    return fmt::format("{} {}", named(e.group), hex_preview(e.key_exchange));
}

// Names the peer chose (host names, ALPN protocols) go to a terminal: escape anything that
// is not printable ASCII, so a hostile name cannot smuggle control sequences into the trace.
std::string printable(const std::vector<std::string>& names) {
    std::vector<std::string> shown;
    for (const auto& n : names) {
        std::string out;
        for (unsigned char c : n) out += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c))
                                                                  : fmt::format("\\x{:02x}", c);
        shown.push_back(std::move(out));
    }
    return join_list(shown);
}

std::string plural(std::size_t n, std::string_view thing) {
    return fmt::format("{} {}{}", n, thing, n == 1 ? "" : "s");
}

// ---- §4.2 extension bodies: one parser per struct ----------------------------------------
// Each takes the whole extension_data and rejects a body with bytes left over.

// RFC 6066 §3:
//   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
//   enum { host_name(0), (255) } NameType;
//   opaque HostName<1..2^16-1>;
//   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
std::vector<std::string> parse_server_name_list(BytesView data) {
    ByteReader r(data, "server_name");
    auto list = r.sub16("server_name_list", 1);
    r.expect_end();
    std::vector<std::string> host_names;
    while (!list.empty()) {
        // An unknown NameType has no length we could skip it by: the list is unreadable.
        if (auto name_type = list.u8(); name_type != 0)
            throw malformed(fmt::format("server_name: unknown NameType {}", name_type));
        host_names.push_back(to_string(list.vec16(1)));
    }
    return host_names;
}

// §4.2.7:  struct { NamedGroup named_group_list<2..2^16-1>; } NamedGroupList;
std::vector<NamedGroup> parse_named_group_list(BytesView data) {
    ByteReader r(data, "supported_groups");
    auto list = read_u16_list<NamedGroup>(r.sub16("named_group_list", 2), "named_group_list");
    r.expect_end();
    return list;
}

// §4.2.3:  struct { SignatureScheme supported_signature_algorithms<2..2^16-2>; } SignatureSchemeList;
std::vector<SignatureScheme> parse_signature_scheme_list(BytesView data) {
    ByteReader r(data, "signature_algorithms");
    auto list = read_u16_list<SignatureScheme>(r.sub16("supported_signature_algorithms", 2),
                                               "supported_signature_algorithms");
    r.expect_end();
    return list;
}

// §4.2.1:
//   struct {
//       select (Handshake.msg_type) {
//           case client_hello: ProtocolVersion versions<2..254>;
//           case server_hello: /* and HelloRetryRequest */ ProtocolVersion selected_version;
//       };
//   } SupportedVersions;
std::vector<std::uint16_t> parse_supported_versions_client(BytesView data) {
    ByteReader r(data, "supported_versions");
    auto versions = read_u16_list<std::uint16_t>(r.sub8("versions", 2), "versions");
    r.expect_end();
    return versions;
}

std::uint16_t parse_supported_versions_server(BytesView data) {
    ByteReader r(data, "supported_versions");
    auto selected_version = r.u16();
    r.expect_end();
    return selected_version;
}

KeyShareEntry read_key_share_entry(ByteReader& r) {
    KeyShareEntry e;
    e.group = static_cast<NamedGroup>(r.u16());
    e.key_exchange = copy(r.vec16(1));
    return e;
}

// §4.2.8:  struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
std::vector<KeyShareEntry> parse_key_share_client(BytesView data) {
    ByteReader r(data, "key_share");
    auto list = r.sub16("client_shares");
    r.expect_end();
    std::vector<KeyShareEntry> client_shares;
    while (!list.empty()) {
        auto e = read_key_share_entry(list);
        // RFC8446 4.2.8-3
        // §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group."
        for (const auto& seen : client_shares)
            if (seen.group == e.group)
                throw AlertError(AlertDescription::illegal_parameter,
                                 fmt::format("key_share: two shares for {}", named(e.group)));
        client_shares.push_back(std::move(e));
    }
    return client_shares;
}

// §4.2.8:  struct { KeyShareEntry server_share; } KeyShareServerHello;
KeyShareEntry parse_key_share_server(BytesView data) {
    ByteReader r(data, "key_share");
    auto server_share = read_key_share_entry(r);
    r.expect_end();
    return server_share;
}

// §4.2.8:  struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
NamedGroup parse_key_share_hrr(BytesView data) {
    ByteReader r(data, "key_share");
    auto selected_group = static_cast<NamedGroup>(r.u16());
    r.expect_end();
    return selected_group;
}

// §4.2.9:  struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes;
std::vector<PskKeyExchangeMode> parse_psk_key_exchange_modes(BytesView data) {
    ByteReader r(data, "psk_key_exchange_modes");
    auto ke_modes = r.vec8(1);
    r.expect_end();
    std::vector<PskKeyExchangeMode> out;
    for (auto m : ke_modes) out.push_back(static_cast<PskKeyExchangeMode>(m));
    return out;
}

// RFC 7301 §3.1:
//   opaque ProtocolName<1..2^8-1>;
//   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
std::vector<std::string> parse_alpn(BytesView data) {
    ByteReader r(data, "application_layer_protocol_negotiation");
    auto list = r.sub16("protocol_name_list", 2);
    r.expect_end();
    std::vector<std::string> names;
    while (!list.empty()) names.push_back(to_string(list.vec8(1)));
    return names;
}

// §4.2.2:  struct { opaque cookie<1..2^16-1>; } Cookie;
Bytes parse_cookie(BytesView data) {
    ByteReader r(data, "cookie");
    auto cookie = copy(r.vec16(1));
    r.expect_end();
    return cookie;
}

// §4.2.10: early_data is Empty, except in NewSessionTicket: uint32 max_early_data_size.
std::uint32_t parse_max_early_data_size(BytesView data) {
    ByteReader r(data, "early_data");
    auto max_early_data_size = r.u32();
    r.expect_end();
    return max_early_data_size;
}

void parse_empty(BytesView data, std::string_view what) {
    ByteReader(data, what).expect_end();
}

// §4.2.11 (see PskIdentity and OfferedPsks in messages.hpp).
OfferedPsks parse_offered_psks(BytesView data) {
    ByteReader r(data, "pre_shared_key");
    auto identities = r.sub16("identities", 7);
    auto binders = r.sub16("binders", 33);
    r.expect_end();
    OfferedPsks psks;
    while (!identities.empty()) {
        PskIdentity id;
        id.identity = copy(identities.vec16(1));
        id.obfuscated_ticket_age = identities.u32();
        psks.identities.push_back(std::move(id));
    }
    while (!binders.empty()) psks.binders.push_back(copy(binders.vec8(32)));
    return psks;
}

// §4.2.11:  case server_hello: uint16 selected_identity;
std::uint16_t parse_selected_identity(BytesView data) {
    ByteReader r(data, "pre_shared_key");
    auto selected_identity = r.u16();
    r.expect_end();
    return selected_identity;
}

// ---- §4.2 extension blocks ---------------------------------------------------------------

// The column heads of the §4.2 table: the messages an extension may appear in.
// (A HelloRetryRequest is a ServerHello, but its extension bodies differ.)
enum Where : unsigned { CH = 1, SH = 2, HRR = 4, EE = 8, CR = 16, CT = 32, NST = 64 };

// RFC8446 4.2-3
// RFC8446 4.3.1-2
// §4.2: "If an implementation receives an extension which it recognizes and which is not
// specified for the message in which it appears, it MUST abort the handshake with an
// "illegal_parameter" alert." This is that table. Extensions it does not list (TLS 1.2
// ones such as renegotiation_info, unknown ones) are not ours to police.
unsigned allowed_in(ExtensionType type) {
    using T = ExtensionType;
    switch (type) {
        case T::server_name: return CH | EE;
        case T::max_fragment_length: return CH | EE;
        case T::status_request: return CH | CR | CT;
        case T::supported_groups: return CH | EE;
        case T::signature_algorithms: return CH | CR;
        case T::use_srtp: return CH | EE;
        case T::heartbeat: return CH | EE;
        case T::application_layer_protocol_negotiation: return CH | EE;
        case T::signed_certificate_timestamp: return CH | CR | CT;
        case T::client_certificate_type: return CH | EE;
        case T::server_certificate_type: return CH | EE;
        case T::padding: return CH;
        case T::key_share: return CH | SH | HRR;
        case T::pre_shared_key: return CH | SH;
        case T::psk_key_exchange_modes: return CH;
        case T::early_data: return CH | EE | NST;
        case T::cookie: return CH | HRR;
        case T::supported_versions: return CH | SH | HRR;
        case T::certificate_authorities: return CH | CR;
        case T::oid_filters: return CR;
        case T::post_handshake_auth: return CH;
        case T::signature_algorithms_cert: return CH | CR;
        default: return ~0u;
    }
}

// Parses one extension body the way the message `where` defines it and says what it holds.
// decode() calls it to reject malformed bodies (decode_error); describe() calls it for the
// trace. One function for both, so what is checked and what is shown cannot disagree.
std::string decode_extension(const Extension& e, Where where) {
    using T = ExtensionType;
    BytesView d = e.extension_data;
    switch (e.extension_type) {
        case T::server_name:
            if (where == EE) {  // RFC 6066 §3: the server's acknowledgement is empty
                parse_empty(d, "server_name");
                return "(empty: name accepted)";
            }
            return printable(parse_server_name_list(d));
        case T::supported_groups: return join_names(parse_named_group_list(d));
        case T::signature_algorithms:
        case T::signature_algorithms_cert: return join_names(parse_signature_scheme_list(d));
        case T::supported_versions:
            if (where == CH) {
                std::vector<std::string> names;
                for (auto v : parse_supported_versions_client(d)) names.push_back(version_name(v));
                return join_list(names);
            }
            return version_name(parse_supported_versions_server(d));
        case T::key_share: {
            if (where == HRR) return named(parse_key_share_hrr(d));
            if (where == SH) return describe_share(parse_key_share_server(d));
            std::vector<std::string> shares;
            for (const auto& s : parse_key_share_client(d)) shares.push_back(describe_share(s));
            return shares.empty() ? "(no shares)" : join_list(shares, "; ");
        }
        case T::psk_key_exchange_modes: {
            std::vector<std::string> names;
            for (auto m : parse_psk_key_exchange_modes(d)) names.push_back(psk_mode_name(m));
            return join_list(names);
        }
        case T::application_layer_protocol_negotiation:
            return printable(parse_alpn(d));
        case T::cookie: return hex_preview(parse_cookie(d));
        case T::record_size_limit: {  // RFC 8449 §4: uint16 RecordSizeLimit. Shown, not acted on.
            ByteReader r(d, "record_size_limit");
            auto limit = r.u16();
            r.expect_end();
            return fmt::format("{} bytes", limit);
        }
        case T::early_data:
            if (where == NST) return fmt::format("max_early_data_size {}", parse_max_early_data_size(d));
            parse_empty(d, "early_data");
            return "(empty)";
        case T::pre_shared_key: {
            if (where == SH) return fmt::format("selected_identity {}", parse_selected_identity(d));
            auto psks = parse_offered_psks(d);
            auto n = psks.identities.size();
            return fmt::format("{} identit{}, {}", n, n == 1 ? "y" : "ies", plural(psks.binders.size(), "binder"));
        }
        default: return opaque_value(d);
    }
}

// A message's Extension extensions<..> block; `list` reads the bytes inside its length.
// RFC8446 4.2-5
// §4.2: "There MUST NOT be more than one extension of the same type in a given extension
// block" -> illegal_parameter, as is a recognised extension in the wrong message.
std::vector<Extension> read_extensions(ByteReader list, Where where) {
    std::vector<Extension> out;
    std::vector<bool> seen(65536);  // not a search per extension: a hostile list may hold 16k
    while (!list.empty()) {
        Extension e;
        e.extension_type = static_cast<ExtensionType>(list.u16());
        e.extension_data = copy(list.vec16());
        auto code = static_cast<std::uint16_t>(e.extension_type);
        if (seen[code])
            throw AlertError(AlertDescription::illegal_parameter,
                             fmt::format("extension {} appears twice", name(e.extension_type)));
        seen[code] = true;
        if (!(allowed_in(e.extension_type) & where))
            throw AlertError(AlertDescription::illegal_parameter,
                             fmt::format("extension {} is not allowed in this message (§4.2)",
                                         name(e.extension_type)));
        // RFC8446 4.1.2-16, 4.4.2.1-3, 9.3-4, 9.3-2
        // §4.1.2: "Servers MUST ignore unrecognized extensions." One we do not know (a GREASE
        // value, status_request_v2, a post-quantum extension...) is kept as opaque bytes, which
        // no check and no step of the handshake ever looks at.
        decode_extension(e, where);  // a malformed body throws decode_error
        out.push_back(std::move(e));
    }
    return out;
}

void write_extensions(ByteWriter& w, const std::vector<Extension>& extensions) {
    auto mark = w.open(2);
    for (const auto& e : extensions) {
        w.u16(static_cast<std::uint16_t>(e.extension_type));
        w.vec16(e.extension_data);
    }
    w.close(mark);
}

// "extensions  3 extensions", then one line per extension at depth + 1. Never throws on
// a malformed body (a hand-built message may hold one): it says so instead.
void describe_extensions(Fields& out, int depth, const std::vector<Extension>& extensions, Where where) {
    out.push_back({depth, "extensions", plural(extensions.size(), "extension")});
    for (const auto& e : extensions) {
        std::string value;
        try {
            value = decode_extension(e, where);
        } catch (const std::exception& ex) {
            value = fmt::format("malformed ({}): {}", ex.what(), opaque_value(e.extension_data));
        }
        out.push_back({depth + 1, name(e.extension_type), std::move(value)});
    }
}

// The typed accessors: the extension's body through its parser, or nullopt if absent.
template <class Parse>
auto parse_extension(const std::vector<Extension>& extensions, ExtensionType type, Parse parse)
    -> std::optional<decltype(parse(BytesView{}))> {
    const Extension* e = find_extension(extensions, type);
    if (!e) return std::nullopt;
    return parse(BytesView(e->extension_data));
}

Random read_random(ByteReader& r) {
    Random random;
    auto b = r.bytes(random.size());
    std::copy(b.begin(), b.end(), random.begin());
    return random;
}

}  // namespace

// ---- §4.2 Extensions ---------------------------------------------------------------------

const Extension* find_extension(const std::vector<Extension>& extensions, ExtensionType type) {
    auto it = std::find_if(extensions.begin(), extensions.end(),
                           [type](const Extension& e) { return e.extension_type == type; });
    return it == extensions.end() ? nullptr : &*it;
}

Extension make_server_name(std::string_view host_name) {
    ByteWriter w;
    auto list = w.open(2);
    w.u8(0);  // NameType host_name
    w.vec16(to_bytes(host_name));
    w.close(list);
    return {ExtensionType::server_name, w.take()};
}

Extension make_supported_groups(const std::vector<NamedGroup>& groups) {
    ByteWriter w;
    write_u16_list(w, 2, groups);
    return {ExtensionType::supported_groups, w.take()};
}

Extension make_signature_algorithms(const std::vector<SignatureScheme>& schemes) {
    ByteWriter w;
    write_u16_list(w, 2, schemes);
    return {ExtensionType::signature_algorithms, w.take()};
}

Extension make_supported_versions_client(const std::vector<std::uint16_t>& versions) {
    ByteWriter w;
    write_u16_list(w, 1, versions);
    return {ExtensionType::supported_versions, w.take()};
}

Extension make_supported_versions_server(std::uint16_t selected_version) {
    ByteWriter w;
    w.u16(selected_version);
    return {ExtensionType::supported_versions, w.take()};
}

Extension make_key_share_client(const std::vector<KeyShareEntry>& client_shares) {
    ByteWriter w;
    auto list = w.open(2);
    for (const auto& s : client_shares) {
        w.u16(static_cast<std::uint16_t>(s.group));
        w.vec16(s.key_exchange);
    }
    w.close(list);
    return {ExtensionType::key_share, w.take()};
}

Extension make_key_share_server(const KeyShareEntry& server_share) {
    ByteWriter w;
    w.u16(static_cast<std::uint16_t>(server_share.group));
    w.vec16(server_share.key_exchange);
    return {ExtensionType::key_share, w.take()};
}

Extension make_key_share_hrr(NamedGroup selected_group) {
    ByteWriter w;
    w.u16(static_cast<std::uint16_t>(selected_group));
    return {ExtensionType::key_share, w.take()};
}

Extension make_psk_key_exchange_modes(const std::vector<PskKeyExchangeMode>& ke_modes) {
    ByteWriter w;
    auto list = w.open(1);
    for (auto m : ke_modes) w.u8(static_cast<std::uint8_t>(m));
    w.close(list);
    return {ExtensionType::psk_key_exchange_modes, w.take()};
}

Extension make_alpn(const std::vector<std::string>& protocol_name_list) {
    ByteWriter w;
    auto list = w.open(2);
    for (const auto& p : protocol_name_list) w.vec8(to_bytes(p));
    w.close(list);
    return {ExtensionType::application_layer_protocol_negotiation, w.take()};
}

Extension make_cookie(BytesView cookie) {
    ByteWriter w;
    w.vec16(cookie);
    return {ExtensionType::cookie, w.take()};
}

Extension make_early_data(std::optional<std::uint32_t> max_early_data_size) {
    ByteWriter w;
    if (max_early_data_size) w.u32(*max_early_data_size);
    return {ExtensionType::early_data, w.take()};
}

Extension make_pre_shared_key_client(const OfferedPsks& offered_psks) {
    ByteWriter w;
    auto identities = w.open(2);
    for (const auto& id : offered_psks.identities) {
        w.vec16(id.identity);
        w.u32(id.obfuscated_ticket_age);
    }
    w.close(identities);
    auto binders = w.open(2);
    for (const auto& b : offered_psks.binders) w.vec8(b);
    w.close(binders);
    return {ExtensionType::pre_shared_key, w.take()};
}

Extension make_pre_shared_key_server(std::uint16_t selected_identity) {
    ByteWriter w;
    w.u16(selected_identity);
    return {ExtensionType::pre_shared_key, w.take()};
}

// ---- §4.1.2 ClientHello ------------------------------------------------------------------

Bytes ClientHello::encode() const {
    ByteWriter w;
    w.u16(legacy_version);
    w.bytes(random);
    w.vec8(legacy_session_id);
    write_u16_list(w, 2, cipher_suites);
    w.vec8(legacy_compression_methods);
    // Every TLS 1.3 ClientHello has extensions; an empty list is a pre-TLS-1.3 hello
    // decoded below, re-encoded without the field as it came.
    if (!extensions.empty()) write_extensions(w, extensions);
    return w.take();
}

ClientHello ClientHello::decode(BytesView body) {
    ByteReader r(body, "ClientHello");
    ClientHello ch;
    ch.legacy_version = r.u16();
    ch.random = read_random(r);
    ch.legacy_session_id = copy(r.vec8());
    check_max(ch.legacy_session_id.size(), 32, "legacy_session_id");
    ch.cipher_suites = read_u16_list<CipherSuite>(r.sub16("cipher_suites", 2), "cipher_suites");
    ch.legacy_compression_methods = copy(r.vec8(1));
    // §4.1.2: "TLS 1.3 servers might receive ClientHello messages without an extensions
    // field from prior versions of TLS." We parse those (and don't hold them to the
    // TLS 1.3 minimum of 8 bytes) so the server can answer protocol_version, the alert
    // for a client without supported_versions, rather than decode_error.
    if (!r.empty()) ch.extensions = read_extensions(r.sub16("extensions"), CH);
    r.expect_end();
    // RFC8446 4.2-4, 4.2.11-15, 4.2.11-16
    // §4.2.11: "Servers MUST check that it is the last extension and otherwise fail the
    // handshake with an "illegal_parameter" alert." (Binders are computed over the rest.)
    for (std::size_t i = 0; i + 1 < ch.extensions.size(); ++i)
        if (ch.extensions[i].extension_type == ExtensionType::pre_shared_key)
            throw AlertError(AlertDescription::illegal_parameter,
                             "ClientHello: pre_shared_key is not the last extension");
    return ch;
}

Fields ClientHello::describe() const {
    std::vector<std::string> suites;
    for (auto s : cipher_suites) suites.push_back(name(s));
    Fields f{
        {0, "legacy_version", version_name(legacy_version)},
        {0, "random", hex_preview(random)},
        {0, "legacy_session_id", hex_preview(legacy_session_id)},
        {0, "cipher_suites", join_list(suites)},
        {0, "legacy_compression_methods", hex_preview(legacy_compression_methods)},
    };
    describe_extensions(f, 0, extensions, CH);
    return f;
}

std::optional<std::vector<std::string>> ClientHello::server_name() const {
    return parse_extension(extensions, ExtensionType::server_name, parse_server_name_list);
}
std::optional<std::vector<NamedGroup>> ClientHello::supported_groups() const {
    return parse_extension(extensions, ExtensionType::supported_groups, parse_named_group_list);
}
std::optional<std::vector<SignatureScheme>> ClientHello::signature_algorithms() const {
    return parse_extension(extensions, ExtensionType::signature_algorithms, parse_signature_scheme_list);
}
std::optional<std::vector<SignatureScheme>> ClientHello::signature_algorithms_cert() const {
    return parse_extension(extensions, ExtensionType::signature_algorithms_cert, parse_signature_scheme_list);
}
std::optional<std::vector<std::uint16_t>> ClientHello::supported_versions() const {
    return parse_extension(extensions, ExtensionType::supported_versions, parse_supported_versions_client);
}
std::optional<std::vector<KeyShareEntry>> ClientHello::key_share() const {
    return parse_extension(extensions, ExtensionType::key_share, parse_key_share_client);
}
std::optional<std::vector<PskKeyExchangeMode>> ClientHello::psk_key_exchange_modes() const {
    return parse_extension(extensions, ExtensionType::psk_key_exchange_modes, parse_psk_key_exchange_modes);
}
std::optional<std::vector<std::string>> ClientHello::alpn() const {
    return parse_extension(extensions, ExtensionType::application_layer_protocol_negotiation, parse_alpn);
}
std::optional<Bytes> ClientHello::cookie() const {
    return parse_extension(extensions, ExtensionType::cookie, parse_cookie);
}
std::optional<OfferedPsks> ClientHello::pre_shared_key() const {
    return parse_extension(extensions, ExtensionType::pre_shared_key, parse_offered_psks);
}

Bytes truncated_client_hello(BytesView client_hello_message) {
    auto psks = ClientHello::decode(Handshake::decode(client_hello_message).body).pre_shared_key();
    if (!psks) throw AlertError(AlertDescription::internal_error, "truncated_client_hello: no pre_shared_key");
    // pre_shared_key is the last extension and binders its last field, so they end the
    // message: PskBinderEntry binders<33..2^16-1>, each opaque <32..255>.
    std::size_t binders_length = 2;
    for (const auto& b : psks->binders) binders_length += 1 + b.size();
    return copy(client_hello_message.first(client_hello_message.size() - binders_length));
}

// RFC8446 4.2.8-1, 4.2.8-4
void check_key_shares_match_supported_groups(const ClientHello& client_hello) {
    auto shares = client_hello.key_share();
    if (!shares || shares->empty()) return;
    auto groups = client_hello.supported_groups().value_or(std::vector<NamedGroup>{});
    // Walk both lists once: each share's group must come later in supported_groups than
    // the previous share's group.
    auto next = groups.begin();
    for (const auto& share : *shares) {
        auto at = std::find(next, groups.end(), share.group);
        if (at == groups.end())
            throw AlertError(AlertDescription::illegal_parameter,
                             fmt::format("key_share for {} is not in supported_groups or out of its order",
                                         named(share.group)));
        next = at + 1;
    }
}

// ---- §4.1.3 ServerHello ------------------------------------------------------------------

Bytes ServerHello::encode() const {
    ByteWriter w;
    w.u16(legacy_version);
    w.bytes(random);
    w.vec8(legacy_session_id_echo);
    w.u16(static_cast<std::uint16_t>(cipher_suite));
    w.u8(legacy_compression_method);
    if (!extensions.empty()) write_extensions(w, extensions);  // as in ClientHello::encode
    return w.take();
}

ServerHello ServerHello::decode(BytesView body) {
    ByteReader r(body, "ServerHello");
    ServerHello sh;
    sh.legacy_version = r.u16();
    sh.random = read_random(r);
    sh.legacy_session_id_echo = copy(r.vec8());
    check_max(sh.legacy_session_id_echo.size(), 32, "legacy_session_id_echo");
    sh.cipher_suite = static_cast<CipherSuite>(r.u16());
    sh.legacy_compression_method = r.u8();
    // As in ClientHello: a TLS 1.2 server's hello may lack extensions; the client must be
    // able to read it to answer protocol_version.
    if (!r.empty()) sh.extensions = read_extensions(r.sub16("extensions"), sh.is_hello_retry_request() ? HRR : SH);
    r.expect_end();
    return sh;
}

Fields ServerHello::describe() const {
    Fields f{
        {0, "legacy_version", version_name(legacy_version)},
        {0, "random", is_hello_retry_request() ? "HelloRetryRequest (SHA-256 of \"HelloRetryRequest\")"
                                               : hex_preview(random)},
        {0, "legacy_session_id_echo", hex_preview(legacy_session_id_echo)},
        {0, "cipher_suite", named(cipher_suite)},
        {0, "legacy_compression_method", fmt::format("{:02x}", legacy_compression_method)},
    };
    describe_extensions(f, 0, extensions, is_hello_retry_request() ? HRR : SH);
    return f;
}

std::optional<std::uint16_t> ServerHello::selected_version() const {
    return parse_extension(extensions, ExtensionType::supported_versions, parse_supported_versions_server);
}
std::optional<KeyShareEntry> ServerHello::key_share() const {
    if (is_hello_retry_request()) return std::nullopt;
    return parse_extension(extensions, ExtensionType::key_share, parse_key_share_server);
}
std::optional<NamedGroup> ServerHello::hrr_selected_group() const {
    if (!is_hello_retry_request()) return std::nullopt;
    return parse_extension(extensions, ExtensionType::key_share, parse_key_share_hrr);
}
std::optional<Bytes> ServerHello::cookie() const {
    return parse_extension(extensions, ExtensionType::cookie, parse_cookie);
}
std::optional<std::uint16_t> ServerHello::pre_shared_key() const {
    return parse_extension(extensions, ExtensionType::pre_shared_key, parse_selected_identity);
}

// ---- §4.3.1 EncryptedExtensions ----------------------------------------------------------

Bytes EncryptedExtensions::encode() const {
    ByteWriter w;
    write_extensions(w, extensions);
    return w.take();
}

EncryptedExtensions EncryptedExtensions::decode(BytesView body) {
    ByteReader r(body, "EncryptedExtensions");
    EncryptedExtensions ee;
    ee.extensions = read_extensions(r.sub16("extensions"), EE);
    r.expect_end();
    return ee;
}

Fields EncryptedExtensions::describe() const {
    Fields f;
    describe_extensions(f, 0, extensions, EE);
    return f;
}

std::optional<std::vector<NamedGroup>> EncryptedExtensions::supported_groups() const {
    return parse_extension(extensions, ExtensionType::supported_groups, parse_named_group_list);
}
std::optional<std::vector<std::string>> EncryptedExtensions::alpn() const {
    return parse_extension(extensions, ExtensionType::application_layer_protocol_negotiation, parse_alpn);
}

// ---- §4.3.2 CertificateRequest -----------------------------------------------------------

Bytes CertificateRequest::encode() const {
    ByteWriter w;
    w.vec8(certificate_request_context);
    write_extensions(w, extensions);
    return w.take();
}

CertificateRequest CertificateRequest::decode(BytesView body) {
    ByteReader r(body, "CertificateRequest");
    CertificateRequest cr;
    cr.certificate_request_context = copy(r.vec8());
    cr.extensions = read_extensions(r.sub16("extensions", 2), CR);
    r.expect_end();
    // RFC8446 4.3.2-5
    // §4.3.2: "The "signature_algorithms" extension MUST be specified"; §4.2: a mandatory
    // extension that is missing is a missing_extension alert.
    if (!cr.has_extension(ExtensionType::signature_algorithms))
        throw AlertError(AlertDescription::missing_extension, "CertificateRequest without signature_algorithms");
    return cr;
}

Fields CertificateRequest::describe() const {
    Fields f{{0, "certificate_request_context", hex_preview(certificate_request_context)}};
    describe_extensions(f, 0, extensions, CR);
    return f;
}

std::optional<std::vector<SignatureScheme>> CertificateRequest::signature_algorithms() const {
    return parse_extension(extensions, ExtensionType::signature_algorithms, parse_signature_scheme_list);
}
std::optional<std::vector<SignatureScheme>> CertificateRequest::signature_algorithms_cert() const {
    return parse_extension(extensions, ExtensionType::signature_algorithms_cert, parse_signature_scheme_list);
}

// ---- §4.4.2 Certificate ------------------------------------------------------------------

Bytes Certificate::encode() const {
    ByteWriter w;
    w.vec8(certificate_request_context);
    auto list = w.open(3);
    for (const auto& entry : certificate_list) {
        w.vec24(entry.cert_data);
        write_extensions(w, entry.extensions);
    }
    w.close(list);
    return w.take();
}

Certificate Certificate::decode(BytesView body) {
    ByteReader r(body, "Certificate");
    Certificate c;
    c.certificate_request_context = copy(r.vec8());
    auto list = r.sub24("certificate_list");
    r.expect_end();
    while (!list.empty()) {
        CertificateEntry entry;
        entry.cert_data = copy(list.vec24(1));
        entry.extensions = read_extensions(list.sub16("CertificateEntry extensions"), CT);
        c.certificate_list.push_back(std::move(entry));
    }
    return c;
}

Fields Certificate::describe() const {
    Fields f{
        {0, "certificate_request_context", hex_preview(certificate_request_context)},
        {0, "certificate_list", plural(certificate_list.size(), "certificate")},
    };
    for (const auto& entry : certificate_list) {
        f.push_back({1, "cert_data", hex_preview(entry.cert_data)});
        describe_extensions(f, 2, entry.extensions, CT);
    }
    return f;
}

// ---- §4.4.3 CertificateVerify ------------------------------------------------------------

Bytes CertificateVerify::encode() const {
    ByteWriter w;
    w.u16(static_cast<std::uint16_t>(algorithm));
    w.vec16(signature);
    return w.take();
}

CertificateVerify CertificateVerify::decode(BytesView body) {
    ByteReader r(body, "CertificateVerify");
    CertificateVerify cv;
    cv.algorithm = static_cast<SignatureScheme>(r.u16());
    cv.signature = copy(r.vec16());
    r.expect_end();
    return cv;
}

Fields CertificateVerify::describe() const {
    return {{0, "algorithm", named(algorithm)}, {0, "signature", hex_preview(signature)}};
}

Bytes certificate_verify_content(bool server, BytesView transcript_hash) {
    std::string_view context = server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify";
    Bytes content(64, 0x20);
    content.insert(content.end(), context.begin(), context.end());
    content.push_back(0);
    content.insert(content.end(), transcript_hash.begin(), transcript_hash.end());
    return content;
}

// ---- §4.4.4 Finished ---------------------------------------------------------------------

Bytes Finished::encode() const { return verify_data; }

Finished Finished::decode(BytesView body, std::size_t hash_length) {
    if (body.size() != hash_length)
        throw malformed(fmt::format("Finished: verify_data is {} bytes, the hash is {}", body.size(), hash_length));
    return Finished{copy(body)};
}

Fields Finished::describe() const { return {{0, "verify_data", hex_preview(verify_data)}}; }

// ---- §4.5 EndOfEarlyData -----------------------------------------------------------------

EndOfEarlyData EndOfEarlyData::decode(BytesView body) {
    parse_empty(body, "EndOfEarlyData");
    return {};
}

// ---- §4.6.1 NewSessionTicket -------------------------------------------------------------

Bytes NewSessionTicket::encode() const {
    ByteWriter w;
    w.u32(ticket_lifetime);
    w.u32(ticket_age_add);
    w.vec8(ticket_nonce);
    w.vec16(ticket);
    write_extensions(w, extensions);
    return w.take();
}

NewSessionTicket NewSessionTicket::decode(BytesView body) {
    ByteReader r(body, "NewSessionTicket");
    NewSessionTicket t;
    t.ticket_lifetime = r.u32();
    t.ticket_age_add = r.u32();
    t.ticket_nonce = copy(r.vec8());
    t.ticket = copy(r.vec16(1));
    auto list = r.sub16("extensions");
    check_max(list.remaining(), 0xfffe, "NewSessionTicket extensions");  // <0..2^16-2>
    t.extensions = read_extensions(list, NST);
    r.expect_end();
    return t;
}

Fields NewSessionTicket::describe() const {
    Fields f{
        {0, "ticket_lifetime", fmt::format("{} seconds", ticket_lifetime)},
        {0, "ticket_age_add", fmt::format("{}", ticket_age_add)},
        {0, "ticket_nonce", hex_preview(ticket_nonce)},
        {0, "ticket", hex_preview(ticket)},
    };
    describe_extensions(f, 0, extensions, NST);
    return f;
}

std::optional<std::uint32_t> NewSessionTicket::max_early_data_size() const {
    return parse_extension(extensions, ExtensionType::early_data, parse_max_early_data_size);
}

// ---- §4.6.3 KeyUpdate --------------------------------------------------------------------

Bytes KeyUpdate::encode() const { return {static_cast<std::uint8_t>(request_update)}; }

KeyUpdate KeyUpdate::decode(BytesView body) {
    ByteReader r(body, "KeyUpdate");
    auto value = r.u8();
    r.expect_end();
    // RFC8446 4.6.3-4
    // RFC8446 6-7
    // §4.6.3, request_update: "If an implementation receives any other value, it MUST
    // terminate the connection with an "illegal_parameter" alert."
    if (value > 1)
        throw AlertError(AlertDescription::illegal_parameter, fmt::format("KeyUpdate: request_update {}", value));
    return {static_cast<KeyUpdateRequest>(value)};
}

Fields KeyUpdate::describe() const {
    return {{0, "request_update", request_update == KeyUpdateRequest::update_requested ? "update_requested (1)"
                                                                                      : "update_not_requested (0)"}};
}

// ---- §4 Handshake ------------------------------------------------------------------------

Bytes encode_handshake(HandshakeType msg_type, BytesView body) {
    ByteWriter w;
    w.u8(static_cast<std::uint8_t>(msg_type));
    w.vec24(body);
    return w.take();
}

Bytes Handshake::encode() const { return encode_handshake(msg_type, body); }

Handshake Handshake::decode(BytesView message) {
    ByteReader r(message, "Handshake");
    Handshake h;
    h.msg_type = static_cast<HandshakeType>(r.u8());
    h.body = copy(r.vec24());
    r.expect_end();
    return h;
}

}  // namespace tls
