// fuzz/fuzz.hpp — what every fuzz target shares (see fuzz/README.md).
//
// The oracle. A decoder answers any bytes a peer can send with a value or with
// tls::AlertError (messages.hpp: "parse, don't validate"). So:
//   - AlertError is the decoder doing its job: `rejects()` catches it and nothing else;
//   - any other exception escapes LLVMFuzzerTestOneInput, and libFuzzer reports it as a
//     crash ("deadly signal" after std::terminate): a peer's bytes must never end up as
//     internal_error, a std::length_error or an out_of_range;
//   - FUZZ_CHECK states what must hold of a value that was accepted (it re-encodes to the
//     same bytes, a reader split the stream the same way twice...) and aborts if it does not;
//   - AddressSanitizer and UndefinedBehaviorSanitizer do the rest.
#pragma once

#include "alert.hpp"
#include "bytes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", file, line, what);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    ((condition) ? void(0) : ::fuzz::fail(#condition, __FILE__, __LINE__))

// Runs f(); true if it returned, false if it threw AlertError. Anything else propagates.
template <class F>
bool accepts(F&& f) {
    try {
        f();
        return true;
    } catch (const tls::AlertError&) {
        return false;
    }
}

// Reads the parameters a target takes from the front of its input; past the end, zeros.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data, size) {}
    std::uint8_t u8() { return pos_ < data_.size() ? data_[pos_++] : 0; }
    tls::BytesView take(std::size_t n) {
        n = std::min(n, data_.size() - pos_);
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    tls::BytesView rest() { return take(data_.size() - pos_); }

private:
    tls::BytesView data_;
    std::size_t pos_ = 0;
};

}  // namespace fuzz
