// common/trace.cpp — introduced in chapter 01. The annotated output of every program.
#include "trace.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace tls {

namespace {
constexpr std::string_view reset = "\033[0m";
constexpr std::string_view dim = "\033[2m";
constexpr std::string_view bold = "\033[1m";
constexpr std::string_view red = "\033[31m";
constexpr std::string_view green = "\033[32m";
constexpr std::string_view cyan = "\033[36m";
constexpr std::string_view yellow = "\033[33m";

std::string_view arrow(Direction d) { return d == Direction::send ? "->" : "<-"; }
}  // namespace

Trace::Trace(TraceOptions options, std::FILE* out)
    : options_(options), out_(out), colour_(isatty(fileno(out)) && std::getenv("NO_COLOR") == nullptr) {}

void Trace::line(std::string_view style, std::string_view text, bool always) {
    if (options_.quiet && !always) return;
    if (colour_ && !style.empty())
        fmt::print(out_, "{}{}{}\n", style, text, reset);
    else
        fmt::print(out_, "{}\n", text);
    std::fflush(out_);
}

void Trace::record(Direction dir, const TLSPlaintext& r) {
    if (options_.quiet) return;  // formatting costs time; a benchmarked server runs --quiet
    line(dim, fmt::format("{} record {}({}) legacy_record_version {:04x} length {}", arrow(dir), name(r.type),
                          static_cast<int>(r.type), r.legacy_record_version, r.fragment.size()));
    if (options_.hex && !options_.quiet) {
        line("", fmt::format("      {}   type, legacy_record_version, length",
                             short_hex(BytesView(r.header), record_header_length)));
        line("", hex_dump(r.fragment));
    }
}

void Trace::record(Direction dir, BytesView encoded) {
    if (options_.quiet || encoded.size() < record_header_length) return;
    TLSPlaintext r;
    r.type = static_cast<ContentType>(encoded[0]);
    r.legacy_record_version = static_cast<std::uint16_t>(encoded[1] << 8 | encoded[2]);
    std::copy_n(encoded.begin(), record_header_length, r.header.begin());
    r.fragment.assign(encoded.begin() + record_header_length, encoded.end());
    record(dir, r);
}

void Trace::message(Direction dir, std::string_view msg_name, const Fields& fields, BytesView raw) {
    if (options_.quiet) return;
    std::string head = fmt::format("{} {}", arrow(dir), msg_name);
    if (!raw.empty()) head += fmt::format(" ({} bytes)", raw.size());
    line(dir == Direction::send ? cyan : green, head);
    std::size_t width = 0;
    for (auto& f : fields) width = std::max(width, f.name.size() + 2 * static_cast<std::size_t>(f.depth));
    for (auto& f : fields) {
        std::string name_col(2 * static_cast<std::size_t>(f.depth), ' ');
        name_col += f.name;
        line("", fmt::format("     {:<{}}  {}", name_col, width, f.value));
    }
    if (options_.hex && !raw.empty() && !options_.quiet) line("", hex_dump(raw));
}

void Trace::value(std::string_view value_name, BytesView bytes) {
    if (options_.quiet) return;
    // --hex shows every byte, so that a value can be checked against RFC 8448's in full.
    line(yellow, fmt::format("   {}  {}", value_name, short_hex(bytes, options_.hex ? bytes.size() : 32)));
}

void Trace::value(std::string_view value_name, std::string_view text) {
    if (options_.quiet) return;
    line(yellow, fmt::format("   {}  {}", value_name, text));
}

void Trace::step(std::string_view text) {
    if (options_.quiet) return;
    line(bold, fmt::format("== {}", text));
}

void Trace::result(std::string_view text) { line(bold, text, true); }

void Trace::error(std::string_view text) { line(red, fmt::format("error: {}", text), true); }

void Trace::alert(Direction dir, AlertDescription description, std::string_view why) {
    const bool always = description != AlertDescription::close_notify;  // an error alert is a result
    if (options_.quiet && !always) return;  // not even formatted: every connection ends with close_notify
    std::string text = fmt::format("{} Alert {}({})", arrow(dir), alert_name(description), static_cast<int>(description));
    if (!why.empty()) text += fmt::format(": {}", why);
    line(always ? red : cyan, text, always);
}

void Trace::hex(BytesView bytes, std::string_view label) {
    if (!options_.hex || options_.quiet) return;
    if (!label.empty()) line(dim, fmt::format("      {}:", label));
    line("", hex_dump(bytes));
}

std::string short_hex(BytesView bytes, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        if (i) out += ' ';
        out += fmt::format("{:02x}", bytes[i]);
    }
    if (bytes.size() > max) out += fmt::format(" … ({} bytes)", bytes.size());
    return out;
}

std::string text_or_hex(BytesView data) {
    auto text = [](std::uint8_t b) { return (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\r' || b == '\t'; };
    if (std::all_of(data.begin(), data.end(), text)) return std::string(data.begin(), data.end());
    return short_hex(data, data.size());
}

std::string hex_dump(BytesView bytes, std::string_view indent) {
    std::string out;
    for (std::size_t off = 0; off < bytes.size(); off += 16) {
        if (off) out += '\n';
        out += fmt::format("{}{:04x}  ", indent, off);
        std::string ascii;
        for (std::size_t i = 0; i < 16; ++i) {
            if (off + i < bytes.size()) {
                auto b = bytes[off + i];
                out += fmt::format("{:02x} ", b);
                ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
            } else {
                out += "   ";
            }
        }
        out += ' ';
        out += ascii;
    }
    return out;
}

}  // namespace tls
