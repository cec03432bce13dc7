// common/trace.hpp — introduced in chapter 01 (TCP echo), grown with every chapter.
// What each program prints: every record and message it sends (->) and receives (<-),
// with the RFC's names for its fields; `--hex` adds annotated bytes, `--quiet`
// keeps only results and errors. Colour only when writing to a terminal.
#pragma once

#include "alert.hpp"
#include "bytes.hpp"
#include "fields.hpp"
#include "record.hpp"

#include <fmt/format.h>

#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace tls {

struct TraceOptions {
    bool hex = false;    // --hex: annotated bytes under each record and message
    bool quiet = false;  // --quiet: only results and errors
};

enum class Direction { send, receive };

class Trace {
public:
    // `out` is stdout, or stderr when stdout carries data (the chapter 09 client).
    explicit Trace(TraceOptions options = {}, std::FILE* out = stdout);

    // A record header as it crosses the wire: "-> record handshake(22) legacy_record_version 0303 length 247".
    void record(Direction dir, const TLSPlaintext& record);
    void record(Direction dir, BytesView encoded_record);
    // A decoded message and its fields: "-> ClientHello (handshake 1, 243 bytes)".
    void message(Direction dir, std::string_view name, const Fields& fields, BytesView raw = {});
    // A named value the reader should see, e.g. a secret: "   shared_secret  3f 2a …"
    // (its first 32 bytes; with --hex all of them).
    void value(std::string_view name, BytesView bytes);
    void value(std::string_view name, std::string_view text);
    // The same, for text that costs something to make (a certificate parsed to describe it):
    // `make_text` is only called when the line is printed, never under --quiet.
    //   trace.value("certificate", [&] { return describe_certificate(der); });
    template <std::invocable F>
    void value(std::string_view name, F&& make_text) {
        if (!options_.quiet) value(name, std::string_view(std::forward<F>(make_text)()));
    }
    // A step in the flow, in plain words.
    void step(std::string_view text);
    // Results and errors are printed even with --quiet.
    void result(std::string_view text);
    void error(std::string_view text);
    void alert(Direction dir, AlertDescription description, std::string_view why = {});
    // Annotated bytes, only with --hex.
    void hex(BytesView bytes, std::string_view label = {});

    const TraceOptions& options() const { return options_; }
    std::FILE* stream() const { return out_; }

private:
    void line(std::string_view style, std::string_view text, bool always = false);
    TraceOptions options_;
    std::FILE* out_;
    bool colour_;
};

// "3f 2a 91 … (32 bytes)": the first `max` bytes, spaced, then the length.
std::string short_hex(BytesView bytes, std::size_t max = 16);
// Data for a result line: as text if it is printable ASCII (or tab, CR, LF), else as spaced hex.
std::string text_or_hex(BytesView data);
// A classic hex dump: offset, 16 bytes, printable characters.
std::string hex_dump(BytesView bytes, std::string_view indent = "      ");

}  // namespace tls
