// common/session.cpp — introduced in chapter 12 (resumption).
// RFC 8446 §4.6.1, §4.2.11.1, Appendix C.4: the client's session and its file (see session.hpp).
#include "session.hpp"

#include "key_schedule.hpp"
#include "ticket.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace tls {

namespace {

constexpr std::string_view header =
    "# tls-by-hand TLS 1.3 session: what a client keeps to resume (RFC 8446 §4.6.1, §4.2.11).\n"
    "# It holds resumption PSKs: whoever reads it can resume as this client. Keep it private.\n";
constexpr std::string_view ticket_line = "[ticket]";

// The suites a session file may name: those we implement (suite_info).
constexpr CipherSuite known_suites[] = {CipherSuite::TLS_AES_128_GCM_SHA256, CipherSuite::TLS_AES_256_GCM_SHA384,
                                        CipherSuite::TLS_CHACHA20_POLY1305_SHA256};

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

std::string utc(std::uint64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(t));
}

// One file being read: every error names the file and the line.
class Parser {
public:
    explicit Parser(const std::string& origin) : origin_(origin) {}

    [[noreturn]] void fail(std::size_t line, const std::string& why) const {
        throw std::runtime_error(fmt::format("{} line {}: {}", origin_, line, why));
    }

    template <class Unsigned>
    Unsigned number(std::size_t line, std::string_view key, std::string_view value) const {
        Unsigned v{};
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size())
            fail(line, fmt::format("{}: \"{}\" is not a number from 0 to {}", key, value,
                                   std::numeric_limits<Unsigned>::max()));
        return v;
    }

    Bytes hex(std::size_t line, std::string_view key, std::string_view value, std::size_t max) const {
        Bytes b;
        try {
            b = from_hex(value);
        } catch (const std::invalid_argument&) {
            fail(line, fmt::format("{}: not hex digits", key));
        }
        if (b.size() > max) fail(line, fmt::format("{}: {} bytes, at most {}", key, b.size(), max));
        return b;
    }

private:
    const std::string& origin_;
};

}  // namespace

// ---- SessionTicket -------------------------------------------------------------------------

std::uint64_t SessionTicket::expiry_time_ms() const {
    return receipt_time_ms + std::uint64_t{std::min(ticket_lifetime, max_ticket_lifetime)} * 1000;
}

SessionTicket SessionTicket::from(const NewSessionTicket& nst, HashAlg hash, BytesView resumption_master_secret,
                                  std::uint64_t now_ms, std::string alpn) {
    SessionTicket t;
    t.ticket = nst.ticket;
    // §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
    t.resumption_psk = tls::resumption_psk(hash, resumption_master_secret, nst.ticket_nonce);
    t.ticket_nonce = nst.ticket_nonce;
    t.receipt_time_ms = now_ms;
    t.ticket_lifetime = nst.ticket_lifetime;
    t.ticket_age_add = nst.ticket_age_add;
    t.max_early_data_size = nst.max_early_data_size().value_or(0);
    t.alpn = std::move(alpn);
    return t;
}

// ---- Session -------------------------------------------------------------------------------

HashAlg Session::hash() const {
    const SuiteInfo* info = suite_info(cipher_suite);
    if (info == nullptr) throw std::invalid_argument(fmt::format("session: cipher suite {}", name(cipher_suite)));
    return info->hash;
}

namespace {

bool has_control_character(std::string_view value) {
    return std::any_of(value.begin(), value.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A value written as text must read back the same: one line, no white space at its ends.
// (Session::parse refuses what this refuses, so a file it read can always be written again.)
void check_text_value(std::string_view key, std::string_view value) {
    if (has_control_character(value))
        throw std::invalid_argument(fmt::format("session: {} has a control character", key));
    if (trim(value) != value) throw std::invalid_argument(fmt::format("session: {} starts or ends with a space", key));
}

}  // namespace

std::string Session::format() const {
    check_text_value("server_name", server_name);
    for (const SessionTicket& t : tickets) check_text_value("alpn", t.alpn);
    std::string out(header);
    const auto line = [&out](std::string_view key, std::string_view value) {
        out += value.empty() ? std::string(key) : fmt::format("{:<20} {}", key, value);
        out += '\n';
    };
    line("server_name", server_name);
    line("cipher_suite", name(cipher_suite));
    for (const SessionTicket& t : tickets) {
        out += '\n';
        out += ticket_line;
        out += '\n';
        out += fmt::format("# received {}, expires {}\n", utc(t.receipt_time_ms), utc(t.expiry_time_ms()));
        line("receipt_time_ms", std::to_string(t.receipt_time_ms));
        line("ticket_lifetime", std::to_string(t.ticket_lifetime));
        line("ticket_age_add", std::to_string(t.ticket_age_add));
        line("ticket_nonce", to_hex(t.ticket_nonce));
        line("ticket", to_hex(t.ticket));
        line("resumption_psk", to_hex(t.resumption_psk));
        if (t.max_early_data_size != 0) line("max_early_data_size", std::to_string(t.max_early_data_size));
        if (!t.alpn.empty()) line("alpn", t.alpn);
    }
    return out;
}

void Session::save(const std::string& path) const {
    namespace fs = std::filesystem;
    const std::string text = format();
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::out | std::ios::trunc);
        if (!out) throw std::runtime_error(fmt::format("session file {}: cannot be written", temporary));
        // Owner only, before the PSKs are in it.
        std::error_code ec;
        fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
        out << text;
        if (!out.flush()) throw std::runtime_error(fmt::format("session file {}: cannot be written", temporary));
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        fs::remove(temporary, ec);
        throw std::runtime_error(fmt::format("session file {}: cannot be written", path));
    }
}

Session Session::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(fmt::format("session file {}: cannot be read", path));
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), "session file " + path);
}

Session Session::parse(const std::string& text, const std::string& origin) {
    const Parser p(origin);
    Session session;
    std::set<std::string> session_keys;  // seen before the first [ticket]

    struct Block {
        SessionTicket ticket;
        std::size_t line = 0;  // of its [ticket]
        std::set<std::string> keys;
    };
    std::optional<Block> block;
    const auto finish_block = [&] {
        if (!block) return;
        for (const char* required :
             {"receipt_time_ms", "ticket_lifetime", "ticket_age_add", "ticket_nonce", "ticket", "resumption_psk"})
            if (!block->keys.contains(required))
                p.fail(block->line, fmt::format("this [ticket] has no {} line", required));
        session.tickets.push_back(std::move(block->ticket));
        block.reset();
    };

    std::istringstream lines(text);
    std::string raw;
    for (std::size_t n = 1; std::getline(lines, raw); ++n) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (line == ticket_line) {
            finish_block();
            // §4.2.11: each PSK has a Hash; the session's suite gives it, so it comes first.
            if (!session_keys.contains("cipher_suite")) p.fail(n, "a [ticket] before the cipher_suite line");
            block = Block{};
            block->line = n;
            continue;
        }
        const auto space = line.find_first_of(" \t");
        const std::string key(line.substr(0, space));
        const std::string_view value = space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));

        if (!block) {
            if (!session_keys.insert(key).second) p.fail(n, fmt::format("a second {} line", key));
            if (key == "server_name") {
                if (has_control_character(value)) p.fail(n, "server_name: a control character");
                session.server_name = std::string(value);
            } else if (key == "cipher_suite") {
                const auto* known = std::find_if(std::begin(known_suites), std::end(known_suites),
                                                 [&](CipherSuite s) { return name(s) == value; });
                if (known == std::end(known_suites))
                    p.fail(n, fmt::format("cipher_suite: \"{}\" is not TLS_AES_128_GCM_SHA256, "
                                          "TLS_AES_256_GCM_SHA384 or TLS_CHACHA20_POLY1305_SHA256", value));
                session.cipher_suite = *known;
            } else {
                p.fail(n, fmt::format("unknown key \"{}\" (before the first [ticket]: server_name, cipher_suite)", key));
            }
            continue;
        }

        if (!block->keys.insert(key).second) p.fail(n, fmt::format("a second {} line in this [ticket]", key));
        SessionTicket& t = block->ticket;
        if (key == "receipt_time_ms") {
            t.receipt_time_ms = p.number<std::uint64_t>(n, key, value);
        } else if (key == "ticket_lifetime") {
            t.ticket_lifetime = p.number<std::uint32_t>(n, key, value);
        } else if (key == "ticket_age_add") {
            t.ticket_age_add = p.number<std::uint32_t>(n, key, value);
        } else if (key == "max_early_data_size") {
            t.max_early_data_size = p.number<std::uint32_t>(n, key, value);
        } else if (key == "ticket_nonce") {
            t.ticket_nonce = p.hex(n, key, value, 255);  // opaque ticket_nonce<0..255>
        } else if (key == "ticket") {
            t.ticket = p.hex(n, key, value, 0xffff);  // opaque ticket<1..2^16-1>
            if (t.ticket.empty()) p.fail(n, "ticket: empty (a ticket has at least 1 byte)");
        } else if (key == "resumption_psk") {
            Bytes psk = p.hex(n, key, value, 255);
            const std::size_t expected = hash_length(session.hash());
            if (psk.size() != expected)
                p.fail(n, fmt::format("resumption_psk: {} bytes, but {} has a {}-byte hash", psk.size(),
                                      name(session.cipher_suite), expected));
            t.resumption_psk.assign(psk.begin(), psk.end());
            std::fill(psk.begin(), psk.end(), std::uint8_t{0});
        } else if (key == "alpn") {
            if (value.size() > 255) p.fail(n, "alpn: longer than 255 bytes");  // ProtocolName<1..2^8-1>
            if (has_control_character(value)) p.fail(n, "alpn: a control character");
            t.alpn = std::string(value);
        } else {
            p.fail(n, fmt::format("unknown key \"{}\" in a [ticket] (receipt_time_ms, ticket_lifetime, ticket_age_add, "
                                  "ticket_nonce, ticket, resumption_psk, max_early_data_size, alpn)", key));
        }
    }
    finish_block();
    if (!session_keys.contains("cipher_suite")) throw std::runtime_error(origin + ": no cipher_suite line");
    return session;
}

std::optional<SessionTicket> Session::take_ticket(std::uint64_t now_ms) {
    std::erase_if(tickets, [now_ms](const SessionTicket& t) { return t.expired(now_ms); });
    if (tickets.empty()) return std::nullopt;
    // The freshest: the latest receipt; of equal ones the last, the last the server sent.
    auto freshest = tickets.begin();
    for (auto it = tickets.begin(); it != tickets.end(); ++it)
        if (it->receipt_time_ms >= freshest->receipt_time_ms) freshest = it;
    SessionTicket taken = std::move(*freshest);
    tickets.erase(freshest);
    return taken;
}

std::optional<TakenTicket> take_ticket_from_file(const std::string& path, std::uint64_t now_ms) {
    Session session = Session::load(path);
    std::optional<SessionTicket> ticket = session.take_ticket(now_ms);
    session.save(path);  // before the ticket is used: Appendix C.4, never twice
    if (!ticket) return std::nullopt;
    return TakenTicket{std::move(session), std::move(*ticket)};
}

PskOffer psk_offer(const Session& session, const SessionTicket& ticket, std::uint64_t now_ms) {
    PskOffer offer;
    // §4.2.11.1: the age in ms since receipt, plus ticket_age_add, modulo 2^32.
    offer.identity.identity = ticket.ticket;
    offer.identity.obfuscated_ticket_age =
        obfuscated_ticket_age(client_ticket_age_ms(ticket.receipt_time_ms, now_ms), ticket.ticket_age_add);
    offer.hash = session.hash();
    offer.psk = ticket.resumption_psk;
    offer.type = PskType::resumption;
    return offer;
}

}  // namespace tls
