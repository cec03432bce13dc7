// fuzz/http_request.cpp — chapter 15's HTTP/1.1 request parser and file lookup, on the bytes a
// client sends once the handshake is done (RFC 9112): parse_request() until it wants more bytes
// or finds an error, then find_file() on each request's target, under a fixed --root.
//
// Checks beyond the sanitizers: parse_request() never throws; it either consumes bytes (a
// request) or stops (more needed, or an error status among those answer() knows); a request it
// returns has a method, a target and an HTTP/1.x version; and find_file() never returns a path
// outside the root (no "..", no symlink games: the root holds plain files).
#include "fuzz.hpp"

// The chapter 15 server: parse_request(), find_file(), Options (in an unnamed namespace).
#pragma GCC diagnostic push
#if !defined(__clang__)  // g++ only (see bench/loadgen.cpp); clang has no such warning
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
#define main ch15_server_main
#include "15-https/server.cpp"
#undef main
#pragma GCC diagnostic pop

#include <filesystem>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string root = std::filesystem::canonical(tls::repo_path("chapters/15-https/www")).string();
    std::string buffer(reinterpret_cast<const char*>(data), size);
    for (;;) {
        const auto before = buffer.size();
        auto parsed = parse_request(buffer);
        if (parsed.error_status != 0) {
            FUZZ_CHECK(reason_phrase(parsed.error_status) != "Error");
            break;
        }
        if (!parsed.request) break;
        FUZZ_CHECK(buffer.size() < before);
        const auto& request = *parsed.request;
        FUZZ_CHECK(!request.method.empty() && !request.target.empty());
        FUZZ_CHECK(request.version == "HTTP/1.1" || request.version == "HTTP/1.0");
        if (auto file = find_file(root, request.target)) {
            const auto found = std::filesystem::canonical(*file).string();
            FUZZ_CHECK(found.starts_with(root + "/"));
        }
    }
    return 0;
}
