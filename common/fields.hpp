// common/fields.hpp — introduced in chapter 03 (ClientHello).
// A message described as a tree of named fields, for the trace. Decoders fill it;
// common/trace.* prints it. Keeping this separate lets messages.* stay free of I/O.
#pragma once

#include <string>
#include <vector>

namespace tls {

struct Field {
    int depth;          // 0 = a top-level field of the message
    std::string name;   // the RFC's name: "legacy_session_id", "key_share"
    std::string value;  // short text: "0303", "x25519 (0x001d)", "[0304]"
};
using Fields = std::vector<Field>;

}  // namespace tls
