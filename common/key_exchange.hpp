// common/key_exchange.hpp — introduced in chapter 03 (the client's key share), grown in chapter 04 (shared secret).
// RFC 8446 §4.2.8 and §7.4: the (EC)DHE key shares of the groups we implement,
// x25519 and secp256r1, behind one pair of functions.
#pragma once

#include "crypto.hpp"
#include "enums.hpp"

namespace tls {

// The groups we can compute, in our order of preference.
inline constexpr NamedGroup supported_named_groups[] = {NamedGroup::x25519, NamedGroup::secp256r1};
bool is_supported_group(NamedGroup group);

// A fresh key pair for `group`: public key in the key_exchange encoding of §4.2.8.2.
KeyPair generate_key_share(NamedGroup group);
// The key pair whose private key is given (RFC 8448's published keys, for --rfc8448).
KeyPair key_share_from_private(NamedGroup group, BytesView private_key);

// The (EC)DHE shared secret of §7.4. Throws AlertError{illegal_parameter} for a peer
// share that is malformed or (X25519) gives the all-zero value.
Secret shared_secret(NamedGroup group, BytesView private_key, BytesView peer_key_exchange);

}  // namespace tls
