// common/alert.hpp — introduced in chapter 02 (record layer).
// RFC 8446 §6 (Alert Protocol): every AlertDescription, and the error type that
// carries one from the code that detects a problem to the loop that sends the alert.
#pragma once

#include "bytes.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tls {

// RFC 8446 §6:
//   enum { warning(1), fatal(2), (255) } AlertLevel;
enum class AlertLevel : std::uint8_t { warning = 1, fatal = 2 };

// RFC 8446 §6:
//   enum { close_notify(0), unexpected_message(10), bad_record_mac(20), ... (255) } AlertDescription;
enum class AlertDescription : std::uint8_t {
    close_notify = 0,
    unexpected_message = 10,
    bad_record_mac = 20,
    record_overflow = 22,
    handshake_failure = 40,
    bad_certificate = 42,
    unsupported_certificate = 43,
    certificate_revoked = 44,
    certificate_expired = 45,
    certificate_unknown = 46,
    illegal_parameter = 47,
    unknown_ca = 48,
    access_denied = 49,
    decode_error = 50,
    decrypt_error = 51,
    protocol_version = 70,
    insufficient_security = 71,
    internal_error = 80,
    inappropriate_fallback = 86,
    user_canceled = 90,
    missing_extension = 109,
    unsupported_extension = 110,
    unrecognized_name = 112,
    bad_certificate_status_response = 113,
    unknown_psk_identity = 115,
    certificate_required = 116,
    no_application_protocol = 120,
};

// "decode_error", or "unknown(123)" for a value RFC 8446 does not define.
std::string alert_name(AlertDescription d);

// RFC 8446 §6:
//   struct { AlertLevel level; AlertDescription description; } Alert;
struct Alert {
    AlertLevel level = AlertLevel::fatal;
    AlertDescription description = AlertDescription::internal_error;

    Bytes encode() const;
    static Alert decode(BytesView body);  // throws AlertError{decode_error}
};

// Thrown where a problem is detected; the connection loop sends `description`
// as a fatal alert (§6.2) and closes. `what()` says why, for the trace.
class AlertError : public std::runtime_error {
public:
    AlertError(AlertDescription d, const std::string& why) : std::runtime_error(why), description(d) {}
    AlertDescription description;
};

// Thrown when the peer sent us an alert: we stop, and send nothing back (§6.2).
class PeerAlert : public std::runtime_error {
public:
    explicit PeerAlert(Alert a);
    Alert alert;
};

}  // namespace tls
