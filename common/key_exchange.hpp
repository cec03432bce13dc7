// common/key_exchange.hpp — introduced in chapter 03 (the client's key share), grown in chapters 04 (shared secret) and 10 (group names).
// RFC 8446 §4.2.8 and §7.4: the (EC)DHE key shares of the groups we implement,
// x25519 and secp256r1, behind one pair of functions.
#pragma once

#include "crypto.hpp"
#include "enums.hpp"

#include <string_view>

namespace tls {

// The groups we can compute, in our order of preference.
inline constexpr NamedGroup supported_named_groups[] = {NamedGroup::x25519, NamedGroup::secp256r1};
bool is_supported_group(NamedGroup group);

// Chapter 10: "x25519", "secp256r1" (or "P-256", OpenSSL's name) as given on a command line;
// throws std::invalid_argument for any other.
NamedGroup group_from_name(std::string_view text);

// A fresh key pair for `group`: public key in the key_exchange encoding of §4.2.8.2.
KeyPair generate_key_share(NamedGroup group);
// The key pair whose private key is given (RFC 8448's published keys, for --rfc8448).
KeyPair key_share_from_private(NamedGroup group, BytesView private_key);

// The (EC)DHE shared secret of §7.4. Throws AlertError{illegal_parameter} for a peer
// share that is malformed or (X25519) gives the all-zero value.
Secret shared_secret(NamedGroup group, BytesView private_key, BytesView peer_key_exchange);

}  // namespace tls
