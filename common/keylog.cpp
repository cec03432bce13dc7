// common/keylog.cpp — introduced in chapter 05.
#include "keylog.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace tls {

KeyLog::KeyLog(std::string path) : path_(std::move(path)) {
    if (path_.empty())
        if (const char* env = std::getenv("SSLKEYLOGFILE")) path_ = env;
}

void KeyLog::write(std::string_view label, BytesView client_random, BytesView secret) const {
    if (!enabled()) return;
    // Opened per line, in append mode: several connections (or programs) share one file.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path_.c_str(), "a"), &std::fclose);
    if (!file) return;
    fmt::print(file.get(), "{} {} {}\n", label, to_hex(client_random), to_hex(secret));
}

}  // namespace tls
