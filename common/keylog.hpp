// common/keylog.hpp — introduced in chapter 05 (key schedule).
// NSS key-log lines ("LABEL <client_random> <secret>", one per line), the format
// Wireshark, curl and OpenSSL share, so a capture of our traffic can be decrypted.
// Written to --keylog FILE, or to $SSLKEYLOGFILE when no option is given.
#pragma once

#include "bytes.hpp"

#include <string>
#include <string_view>

namespace tls {

class KeyLog {
public:
    // `path` empty: use SSLKEYLOGFILE; neither set: log nothing.
    explicit KeyLog(std::string path = {});

    bool enabled() const { return !path_.empty(); }
    const std::string& path() const { return path_; }

    // e.g. write("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_hello.random, secret)
    void write(std::string_view label, BytesView client_random, BytesView secret) const;

private:
    std::string path_;
};

}  // namespace tls
