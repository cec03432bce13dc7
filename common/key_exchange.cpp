// common/key_exchange.cpp — introduced in chapter 03, grown in chapter 04. RFC 8446 §4.2.8, §7.4.
#include "key_exchange.hpp"

#include "alert.hpp"

#include <algorithm>
#include <stdexcept>

namespace tls {

bool is_supported_group(NamedGroup group) {
    return std::find(std::begin(supported_named_groups), std::end(supported_named_groups), group) !=
           std::end(supported_named_groups);
}

NamedGroup group_from_name(std::string_view text) {
    if (text == "x25519") return NamedGroup::x25519;
    if (text == "secp256r1" || text == "P-256") return NamedGroup::secp256r1;
    throw std::invalid_argument("unknown group " + std::string(text) + " (x25519, secp256r1)");
}

KeyPair generate_key_share(NamedGroup group) {
    switch (group) {
        case NamedGroup::x25519: return x25519_keypair();
        // RFC8446 9.1-3
        case NamedGroup::secp256r1: return p256_keypair();
        default: throw std::invalid_argument("generate_key_share: unsupported group " + name(group));
    }
}

KeyPair key_share_from_private(NamedGroup group, BytesView private_key) {
    switch (group) {
        case NamedGroup::x25519: return x25519_keypair_from_private(private_key);
        case NamedGroup::secp256r1: return p256_keypair_from_private(private_key);
        default: throw std::invalid_argument("key_share_from_private: unsupported group " + name(group));
    }
}

Secret shared_secret(NamedGroup group, BytesView private_key, BytesView peer_key_exchange) {
    switch (group) {
        case NamedGroup::x25519: return x25519(private_key, peer_key_exchange);
        case NamedGroup::secp256r1: return p256_ecdh(private_key, peer_key_exchange);
        default: throw AlertError(AlertDescription::illegal_parameter, "key share for an unsupported group " + name(group));
    }
}

}  // namespace tls
