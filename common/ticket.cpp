// common/ticket.cpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.6.1, §4.2.11: self-encrypted tickets (see ticket.hpp).
#include "ticket.hpp"

#include "alert.hpp"
#include "key_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace tls {

namespace {

// Plaintext that held a PSK is overwritten before its memory is freed (Secret does this
// itself; a Bytes from a ByteWriter or Aead::open does not). volatile keeps the compiler
// from dropping the writes as dead stores.
template <class Contiguous>  // Bytes or std::string
void scrub(Contiguous& c) {
    volatile unsigned char* p = reinterpret_cast<unsigned char*>(c.data());
    for (std::size_t i = 0; i < c.size(); ++i) p[i] = 0;
}

std::array<std::uint8_t, TicketKey::key_id_length> key_id_of(BytesView key) {
    constexpr std::string_view label = "tls-by-hand ticket key id";
    Bytes input(label.begin(), label.end());
    input.insert(input.end(), key.begin(), key.end());
    const Bytes digest = hash(HashAlg::sha256, input);
    scrub(input);
    std::array<std::uint8_t, TicketKey::key_id_length> id{};
    std::copy_n(digest.begin(), id.size(), id.begin());
    return id;
}

BytesView checked_key(BytesView key) {
    if (key.size() != TicketKey::key_length)
        throw std::invalid_argument(
            fmt::format("ticket key: {} bytes, expected {}", key.size(), TicketKey::key_length));
    return key;
}

// The PSK is Hash.length of the suite's hash (§4.6.1: "..., Hash.length)").
bool psk_fits_suite(CipherSuite suite, std::size_t psk_length) {
    const SuiteInfo* info = suite_info(suite);
    return info != nullptr && psk_length == hash_length(info->hash);
}

}  // namespace

// ---- TicketState ---------------------------------------------------------------------------

Secret TicketState::encode() const {
    ByteWriter w;
    w.u8(version);
    w.u16(static_cast<std::uint16_t>(cipher_suite));
    w.u64(creation_time_ms);
    w.u32(estimated_rtt_ms);
    w.u32(ticket_lifetime);
    w.u32(ticket_age_add);
    w.u32(max_early_data_size);
    w.vec8(resumption_psk);
    w.vec8(to_bytes(alpn));
    w.vec16(to_bytes(server_name));
    Bytes plain = w.take();
    Secret out(plain.begin(), plain.end());
    scrub(plain);
    return out;
}

TicketState TicketState::decode(BytesView encoded) {
    ByteReader r(encoded, "TicketState");
    TicketState s;
    s.version = r.u8();
    if (s.version != current_version)
        throw AlertError(AlertDescription::decode_error, fmt::format("TicketState: version {}", s.version));
    s.cipher_suite = static_cast<CipherSuite>(r.u16());
    s.creation_time_ms = r.u64();
    s.estimated_rtt_ms = r.u32();
    s.ticket_lifetime = r.u32();
    s.ticket_age_add = r.u32();
    s.max_early_data_size = r.u32();
    const BytesView psk = r.vec8();
    s.resumption_psk.assign(psk.begin(), psk.end());
    s.alpn = to_string(r.vec8());
    s.server_name = to_string(r.vec16());
    r.expect_end();
    if (!psk_fits_suite(s.cipher_suite, s.resumption_psk.size()))
        throw AlertError(AlertDescription::decode_error,
                         fmt::format("TicketState: {} with a {}-byte PSK", name(s.cipher_suite), s.resumption_psk.size()));
    if (s.ticket_lifetime > max_ticket_lifetime)
        throw AlertError(AlertDescription::decode_error,
                         fmt::format("TicketState: ticket_lifetime {} > {}", s.ticket_lifetime, max_ticket_lifetime));
    return s;
}

// ---- TicketKey -----------------------------------------------------------------------------

TicketKey::TicketKey(BytesView key)
    : key_(checked_key(key).begin(), key.end()), key_id_(key_id_of(key)), aead_(AeadAlg::aes_256_gcm, key) {}

TicketKey::~TicketKey() = default;
TicketKey::TicketKey(TicketKey&&) noexcept = default;
TicketKey& TicketKey::operator=(TicketKey&&) noexcept = default;

TicketKey TicketKey::random() {
    Bytes key = random_bytes(key_length);
    TicketKey k(key);
    scrub(key);
    return k;
}

TicketKey TicketKey::load_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(fmt::format("ticket key file {}: cannot be read", path));
    std::string hex_digits, line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos && line[first] == '#') continue;  // a comment line
        hex_digits += line;
    }
    Bytes key;
    try {
        key = from_hex(hex_digits);
    } catch (const std::invalid_argument&) {
        throw std::runtime_error(fmt::format("ticket key file {}: not hex digits (expected 64 hex digits, "
                                             "e.g. from `openssl rand -hex 32`)", path));
    }
    if (key.size() != key_length) {
        const std::size_t got = key.size();
        scrub(key);
        throw std::runtime_error(fmt::format("ticket key file {}: {} bytes, expected {} (64 hex digits, "
                                             "e.g. from `openssl rand -hex 32`)", path, got, key_length));
    }
    TicketKey k(key);
    scrub(key);
    scrub(hex_digits);
    scrub(line);
    return k;
}

TicketKey TicketKey::create_file(const std::string& path) {
    namespace fs = std::filesystem;
    // "x": fail if the file exists (C11 exclusive mode), so two servers starting together
    // cannot overwrite each other's key.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wx"), &std::fclose);
    if (!file) {
        throw std::runtime_error(fs::exists(path) ? fmt::format("ticket key file {}: already exists", path)
                                                  : fmt::format("ticket key file {}: cannot be written", path));
    }
    // Owner only, before the key is in it: whoever reads it can open every ticket.
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
    TicketKey k = random();
    std::string text = fmt::format("# tls-by-hand TLS 1.3 session ticket key (RFC 8446 §4.6.1): 32 bytes, AES-256-GCM\n"
                                   "{}\n", k.hex());
    const bool written = std::fputs(text.c_str(), file.get()) >= 0;
    scrub(text);
    if (!written || std::fclose(file.release()) != 0)
        throw std::runtime_error(fmt::format("ticket key file {}: cannot be written", path));
    return k;
}

TicketKey TicketKey::load_or_create_file(const std::string& path) {
    return std::filesystem::exists(path) ? load_file(path) : create_file(path);
}

std::string TicketKey::hex() const { return to_hex(key_); }

Bytes TicketKey::seal(const TicketState& state) {
    if (state.ticket_lifetime > max_ticket_lifetime)
        throw std::invalid_argument(fmt::format("ticket_lifetime {} exceeds the {} seconds of RFC 8446 §4.6.1",
                                                state.ticket_lifetime, max_ticket_lifetime));
    if (!psk_fits_suite(state.cipher_suite, state.resumption_psk.size()))
        throw std::invalid_argument(fmt::format("ticket: a {}-byte PSK for {}", state.resumption_psk.size(),
                                                name(state.cipher_suite)));
    const Bytes nonce = random_bytes(nonce_length);
    Bytes ticket(key_id_.begin(), key_id_.end());
    ticket.insert(ticket.end(), nonce.begin(), nonce.end());
    const Bytes sealed = aead_.seal(nonce, key_id_, state.encode());
    ticket.insert(ticket.end(), sealed.begin(), sealed.end());
    return ticket;
}

std::optional<TicketState> TicketKey::open(BytesView ticket) {
    if (ticket.size() < key_id_length + nonce_length + aead_tag_length) return std::nullopt;
    const BytesView id = ticket.first(key_id_length);
    if (!std::equal(id.begin(), id.end(), key_id_.begin())) return std::nullopt;
    const BytesView nonce = ticket.subspan(key_id_length, nonce_length);
    std::optional<Bytes> plain = aead_.open(nonce, id, ticket.subspan(key_id_length + nonce_length));
    if (!plain) return std::nullopt;
    std::optional<TicketState> state;
    try {
        state = TicketState::decode(*plain);
    } catch (const AlertError&) {
        // Authentic but unusable: sealed by an older version of this program, say.
    }
    scrub(*plain);
    return state;
}

// ---- TicketKeys ----------------------------------------------------------------------------

TicketKeys::TicketKeys(TicketKey current) { keys_.push_back(std::move(current)); }

void TicketKeys::rotate(TicketKey next) {
    keys_.insert(keys_.begin(), std::move(next));
    if (keys_.size() > 1 + max_previous_keys) keys_.pop_back();
}

std::optional<TicketState> TicketKeys::open(BytesView ticket) {
    if (ticket.size() < TicketKey::key_id_length) return std::nullopt;
    for (TicketKey& key : keys_)
        if (std::equal(key.key_id().begin(), key.key_id().end(), ticket.begin())) return key.open(ticket);
    return std::nullopt;
}

// ---- NewSessionTicket ----------------------------------------------------------------------

NewSessionTicket issue_ticket(TicketKeys& keys, TicketState state, BytesView resumption_master_secret,
                              BytesView ticket_nonce) {
    const SuiteInfo* info = suite_info(state.cipher_suite);
    if (info == nullptr) throw std::invalid_argument("issue_ticket: a cipher suite we do not implement");
    // §4.6.1: the PSK associated with the ticket.
    state.resumption_psk = resumption_psk(info->hash, resumption_master_secret, ticket_nonce);
    const Bytes r = random_bytes(4);
    state.ticket_age_add = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) |
                           (std::uint32_t{r[2]} << 8) | std::uint32_t{r[3]};

    NewSessionTicket nst;
    nst.ticket_lifetime = state.ticket_lifetime;
    nst.ticket_age_add = state.ticket_age_add;
    nst.ticket_nonce.assign(ticket_nonce.begin(), ticket_nonce.end());
    nst.ticket = keys.seal(state);
    // §4.2.10: "early_data ... indicating that the ticket may be used to send 0-RTT data".
    if (state.max_early_data_size > 0) nst.extensions.push_back(make_early_data(state.max_early_data_size));
    return nst;
}

}  // namespace tls
