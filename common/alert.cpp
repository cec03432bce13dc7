// common/alert.cpp — introduced in chapter 02. RFC 8446 §6.
#include "alert.hpp"

#include <fmt/format.h>

namespace tls {

std::string alert_name(AlertDescription d) {
    switch (d) {
#define TLS_ALERT_NAME(n) \
    case AlertDescription::n: return #n;
        TLS_ALERT_NAME(close_notify)
        TLS_ALERT_NAME(unexpected_message)
        TLS_ALERT_NAME(bad_record_mac)
        TLS_ALERT_NAME(record_overflow)
        TLS_ALERT_NAME(handshake_failure)
        TLS_ALERT_NAME(bad_certificate)
        TLS_ALERT_NAME(unsupported_certificate)
        TLS_ALERT_NAME(certificate_revoked)
        TLS_ALERT_NAME(certificate_expired)
        TLS_ALERT_NAME(certificate_unknown)
        TLS_ALERT_NAME(illegal_parameter)
        TLS_ALERT_NAME(unknown_ca)
        TLS_ALERT_NAME(access_denied)
        TLS_ALERT_NAME(decode_error)
        TLS_ALERT_NAME(decrypt_error)
        TLS_ALERT_NAME(protocol_version)
        TLS_ALERT_NAME(insufficient_security)
        TLS_ALERT_NAME(internal_error)
        TLS_ALERT_NAME(inappropriate_fallback)
        TLS_ALERT_NAME(user_canceled)
        TLS_ALERT_NAME(missing_extension)
        TLS_ALERT_NAME(unsupported_extension)
        TLS_ALERT_NAME(unrecognized_name)
        TLS_ALERT_NAME(bad_certificate_status_response)
        TLS_ALERT_NAME(unknown_psk_identity)
        TLS_ALERT_NAME(certificate_required)
        TLS_ALERT_NAME(no_application_protocol)
#undef TLS_ALERT_NAME
    }
    return fmt::format("unknown({})", static_cast<int>(d));
}

Bytes Alert::encode() const {
    return Bytes{static_cast<std::uint8_t>(level), static_cast<std::uint8_t>(description)};
}

// RFC8446 5.1-9
// §5.1: "a record with an Alert type MUST contain exactly one message": two bytes, no more
// (expect_end), no fewer (u8 runs out). Either way a decode_error.
Alert Alert::decode(BytesView body) {
    ByteReader r(body, "Alert");
    Alert a;
    a.level = static_cast<AlertLevel>(r.u8());
    a.description = static_cast<AlertDescription>(r.u8());
    r.expect_end();
    return a;
}

PeerAlert::PeerAlert(Alert a)
    : std::runtime_error(fmt::format("peer sent alert {} ({})", alert_name(a.description),
                                     a.level == AlertLevel::warning ? "warning" : "fatal")),
      alert(a) {}

}  // namespace tls
