#!/usr/bin/env python3
"""scripts/tls_annotate.py — a TLS 1.3 message or record, byte by byte, each field named.

The book's annotated messages come from here (scripts/book's <!-- annotate: --> blocks, which
take the bytes from a chapter program's --hex trace). It is a second, independent reading of
RFC 8446's structures, written from the RFC's presentation language (§3) and kept small: it
names fields and explains values; it does not check them (the chapters' decoders do that).

Usage
  scripts/tls_annotate.py message HEX...          a handshake message (type byte first)
  scripts/tls_annotate.py record HEX...           a TLSPlaintext record (header first)
  scripts/tls_annotate.py selftest                known messages read as expected, bad ones refused
  HEX may contain spaces; "-" reads it from standard input.

Each row is: the field's bytes (at most 8 per line), its name as the RFC spells it, and what
the value means. A nested structure is indented under the vector that holds it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

BYTES_PER_LINE = 8
LONG = 48          # a field longer than this shows its first and last bytes only
BYTES_WIDTH = BYTES_PER_LINE * 3 - 1

HANDSHAKE_TYPES = {1: "client_hello", 2: "server_hello", 4: "new_session_ticket", 5: "end_of_early_data",
                   8: "encrypted_extensions", 11: "certificate", 13: "certificate_request",
                   15: "certificate_verify", 20: "finished", 24: "key_update", 254: "message_hash"}
CONTENT_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
CIPHER_SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
                 0x1303: "TLS_CHACHA20_POLY1305_SHA256", 0x1304: "TLS_AES_128_CCM_SHA256",
                 0x1305: "TLS_AES_128_CCM_8_SHA256", 0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"}
GROUPS = {0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001d: "x25519", 0x001e: "x448",
          0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144",
          0x0104: "ffdhe8192", 0x11ec: "X25519MLKEM768"}
SIGNATURE_SCHEMES = {0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
                     0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384",
                     0x0603: "ecdsa_secp521r1_sha512", 0x0804: "rsa_pss_rsae_sha256",
                     0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512", 0x0807: "ed25519",
                     0x0808: "ed448", 0x0809: "rsa_pss_pss_sha256", 0x080a: "rsa_pss_pss_sha384",
                     0x080b: "rsa_pss_pss_sha512", 0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1",
                     0x0202: "dsa_sha1 (reserved)", 0x0402: "dsa_sha256 (reserved)",
                     0x0502: "dsa_sha384 (reserved)", 0x0602: "dsa_sha512 (reserved)"}
EXTENSIONS = {0: "server_name", 1: "max_fragment_length", 5: "status_request", 10: "supported_groups",
              13: "signature_algorithms", 14: "use_srtp", 15: "heartbeat",
              16: "application_layer_protocol_negotiation", 18: "signed_certificate_timestamp",
              19: "client_certificate_type", 20: "server_certificate_type", 21: "padding",
              28: "record_size_limit", 35: "session_ticket (RFC 5077, TLS 1.2)", 41: "pre_shared_key",
              42: "early_data", 43: "supported_versions", 44: "cookie", 45: "psk_key_exchange_modes",
              47: "certificate_authorities", 48: "oid_filters", 49: "post_handshake_auth",
              50: "signature_algorithms_cert", 51: "key_share", 0xff01: "renegotiation_info (RFC 5746)"}
VERSIONS = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
ALERT_LEVELS = {1: "warning", 2: "fatal"}
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
          40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
          44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
          47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
          51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
          86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
          110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
          115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol"}
# §4.1.3: the random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def named(table: dict[int, str], value: int, width: int = 4) -> str:
    """"x25519 (0x001d)"; width 0: "key_share (51)", as RFC 8446 numbers the enum."""
    number = f"{value}" if width == 0 else f"0x{value:0{width}x}"
    return f"{table.get(value, 'unknown')} ({number})"


@dataclass
class Row:
    depth: int
    data: bytes
    name: str
    meaning: str


class Annotator:
    """Reads a structure field by field, keeping one row per field."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.rows: list[Row] = []
        self.depth = 0

    # ---- reading
    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, name: str, meaning: str = "") -> bytes:
        if n > self.left():
            raise ValueError(f"{name}: needs {n} bytes, {self.left()} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        self.rows.append(Row(self.depth, chunk, name, meaning))
        return chunk

    def uint(self, n: int, name: str, meaning=None) -> int:
        raw = self.data[self.pos:self.pos + n]
        value = int.from_bytes(raw, "big") if len(raw) == n else 0
        text = meaning(value) if callable(meaning) else (meaning if meaning is not None else str(value))
        self.take(n, name, text)
        return value

    def length(self, n: int, name: str, what: str = "bytes follow") -> int:
        def text(v: int) -> str:
            if v == 1:  # "1 byte follows", "1 byte of body follows"
                one = what.replace("bytes", "byte", 1)
                return "1 " + (one[:-len(" follow")] + " follows" if one.endswith(" follow") else one)
            return f"{v} {what}"
        return self.uint(n, name, text)

    def nested(self, n: int, body) -> None:
        """Run body over the next n bytes, one level deeper."""
        end = self.pos + n
        if n > self.left():
            raise ValueError(f"a vector of {n} bytes, {self.left()} left")
        self.depth += 1
        while self.pos < end:
            before = self.pos
            body(end)
            if self.pos == before:
                break
        self.depth -= 1
        if self.pos != end:
            raise ValueError(f"a vector's contents end at {self.pos}, its length says {end}")

    def vector(self, length_bytes: int, name: str, item, what: str = "bytes follow") -> None:
        n = self.length(length_bytes, name, what)
        self.nested(n, lambda end: item())

    def covering(self, data: bytes) -> "Annotator":
        """Itself, once checked that its rows hold every byte of `data` once, in order."""
        if b"".join(row.data for row in self.rows) != data:
            raise ValueError("the rows do not add up to the message, byte for byte")
        return self

    # ---- output
    def render(self) -> str:
        """Bytes indented by nesting depth, then the field's name, then its meaning."""
        bytes_width = max((2 * r.depth + BYTES_WIDTH for r in self.rows), default=BYTES_WIDTH)
        name_width = max((len(r.name) for r in self.rows), default=0)
        lines = []
        for row in self.rows:
            chunks = [row.data[i:i + BYTES_PER_LINE] for i in range(0, len(row.data), BYTES_PER_LINE)] or [b""]
            skipped = 0
            if len(row.data) > LONG:  # first two lines, the count of the rest, the last line
                skipped = len(row.data) - 3 * BYTES_PER_LINE
                chunks = chunks[:2] + [None] + [row.data[-BYTES_PER_LINE:]]
            indent = "  " * row.depth
            for i, chunk in enumerate(chunks):
                if chunk is None:
                    lines.append(f"{indent}… {skipped} more bytes …")
                elif i == 0:
                    lines.append(f"{(indent + chunk.hex(' ')).ljust(bytes_width)}  {row.name.ljust(name_width)}  "
                                 f"{row.meaning}".rstrip())
                else:
                    lines.append(f"{indent}{chunk.hex(' ')}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Extensions (§4.2), whose contents depend on the message that carries them
# ---------------------------------------------------------------------------

def hex_short(b: bytes) -> str:
    return b.hex(" ") if len(b) <= 8 else b[:8].hex(" ") + " …"


def extension_body(a: Annotator, ext_type: int, n: int, msg: str) -> None:
    """The extension_data of one extension, n bytes, in message `msg` (ch, sh, hrr, ee, ct, cr, nst)."""
    if n == 0:
        return
    end = a.pos + n

    def u16_list(name, table, what):
        a.vector(2, name, lambda: a.uint(2, what, lambda v: named(table, v)))

    if ext_type == 0 and msg == "ch":
        def entry():
            a.uint(1, "name_type", lambda v: "host_name (0)" if v == 0 else f"{v}")
            m = a.length(2, "HostName length", "bytes")
            a.take(m, "HostName", f'"{a.data[a.pos:a.pos + m].decode("ascii", "replace")}"')
        a.vector(2, "server_name_list", entry)
    elif ext_type == 10:
        u16_list("named_group_list", GROUPS, "NamedGroup")
    elif ext_type in (13, 50):
        u16_list("supported_signature_algorithms", SIGNATURE_SCHEMES, "SignatureScheme")
    elif ext_type == 51 and msg == "hrr":
        a.uint(2, "selected_group", lambda v: named(GROUPS, v) + ": send a share for this group")
    elif ext_type == 51:
        def share():
            group = a.uint(2, "group", lambda v: named(GROUPS, v))
            m = a.length(2, "key_exchange length", "bytes")
            a.take(m, "key_exchange", f"the {'server' if msg == 'sh' else 'client'}'s public "
                                      f"{GROUPS.get(group, 'key')} key")
        if msg == "sh":
            share()
        else:
            a.vector(2, "client_shares", share)
    elif ext_type == 43 and msg == "ch":
        a.vector(1, "versions", lambda: a.uint(2, "ProtocolVersion", lambda v: named(VERSIONS, v)))
    elif ext_type == 43:
        a.uint(2, "selected_version", lambda v: named(VERSIONS, v))
    elif ext_type == 45:
        a.vector(1, "ke_modes", lambda: a.uint(1, "PskKeyExchangeMode",
                                               lambda v: {0: "psk_ke (0)", 1: "psk_dhe_ke (1)"}.get(v, str(v))))
    elif ext_type == 28:
        a.uint(2, "RecordSizeLimit", lambda v: f"{v} bytes of plaintext at most, content type included")
    elif ext_type == 42 and msg == "nst":
        a.uint(4, "max_early_data_size", lambda v: f"{v} bytes of 0-RTT data at most")
    elif ext_type == 41 and msg == "sh":
        a.uint(2, "selected_identity", lambda v: f"identity {v} of the client's list")
    elif ext_type == 41:
        def identity():
            m = a.length(2, "identity length", "bytes")
            a.take(m, "identity", "the ticket, opaque to the client")
            a.uint(4, "obfuscated_ticket_age", lambda v: f"{v}: the ticket's age + ticket_age_add, mod 2^32")
        a.vector(2, "identities", identity)

        def binder():
            m = a.length(1, "PskBinderEntry length", "bytes")
            a.take(m, "PskBinderEntry", "HMAC over the ClientHello up to the binders")
        a.vector(2, "binders", binder)
    elif ext_type == 44:
        m = a.length(2, "cookie length", "bytes")
        a.take(m, "cookie", "the HelloRetryRequest's cookie, sent back unchanged" if msg == "ch"
               else "opaque to the client, which sends it back unchanged")
    elif ext_type == 16:
        def name():
            m = a.length(1, "ProtocolName length", "bytes")
            a.take(m, "ProtocolName", f'"{a.data[a.pos:a.pos + m].decode("ascii", "replace")}"')
        a.vector(2, "protocol_name_list", name)
    elif ext_type == 21:
        a.take(n, "zeros", "padding (RFC 7685): makes the ClientHello longer, for servers that choke on some lengths")
    elif ext_type == 0xff01:
        m = a.length(1, "renegotiated_connection length", "bytes")
        if m:
            a.take(m, "renegotiated_connection", "")
    else:
        a.take(n, "extension_data", "")
    if a.pos != end:
        raise ValueError(f"extension {ext_type}: contents end at {a.pos}, its length says {end}")


EMPTY_MEANING = {(0, "ee"): "the server used the name the client asked for",
                 (42, "ch"): "the client sends 0-RTT data after this ClientHello",
                 (42, "ee"): "the server accepts the client's 0-RTT data",
                 (49, "ch"): "the client will answer a CertificateRequest after the handshake"}


def extensions(a: Annotator, msg: str, length_name: str = "extensions") -> None:
    def one():
        ext_type = a.uint(2, "extension_type", lambda v: named(EXTENSIONS, v, 0))
        n = a.length(2, "extension_data length", "bytes")
        if n == 0:
            a.rows[-1].meaning = f"0 bytes: {EMPTY_MEANING.get((ext_type, msg), 'no contents')}"
        a.depth += 1
        extension_body(a, ext_type, n, msg)
        a.depth -= 1
    a.vector(2, length_name, one)


# ---------------------------------------------------------------------------
# Handshake messages (§4)
# ---------------------------------------------------------------------------

def legacy_version(a: Annotator) -> None:
    a.uint(2, "legacy_version", lambda v: f"{named(VERSIONS, v)}: TLS 1.3 says so here, supported_versions "
                                          "carries the real one")


def client_hello(a: Annotator) -> None:
    legacy_version(a)
    a.take(32, "random", "32 bytes from the client's random number generator")
    m = a.length(1, "legacy_session_id length", "bytes")
    if m:
        a.take(m, "legacy_session_id", "middlebox compatibility mode (Appendix D.4)")
    a.vector(2, "cipher_suites", lambda: a.uint(2, "CipherSuite", lambda v: named(CIPHER_SUITES, v)))
    a.vector(1, "legacy_compression_methods", lambda: a.uint(1, "method", lambda v: f"{v}: null, the only one "
                                                                                       "TLS 1.3 allows"))
    extensions(a, "ch")


def server_hello(a: Annotator) -> None:
    legacy_version(a)
    is_hrr = a.data[a.pos:a.pos + 32] == HRR_RANDOM
    a.take(32, "random", "SHA-256(\"HelloRetryRequest\"): this ServerHello is a HelloRetryRequest"
           if is_hrr else "32 bytes from the server's random number generator")
    m = a.length(1, "legacy_session_id_echo length", "bytes: the client's legacy_session_id, echoed")
    if m:
        a.take(m, "legacy_session_id_echo", "")
    a.uint(2, "cipher_suite", lambda v: named(CIPHER_SUITES, v))
    a.uint(1, "legacy_compression_method", lambda v: f"{v}")
    extensions(a, "hrr" if is_hrr else "sh")


def certificate(a: Annotator) -> None:
    m = a.length(1, "certificate_request_context length", "bytes")
    if m:
        a.take(m, "certificate_request_context", "echoes the CertificateRequest's")

    def entry():
        n = a.length(3, "cert_data length", "bytes")
        a.take(n, "cert_data", "an X.509 certificate, DER")
        extensions(a, "ct")
    a.vector(3, "certificate_list", entry)


def certificate_verify(a: Annotator) -> None:
    a.uint(2, "algorithm", lambda v: named(SIGNATURE_SCHEMES, v))
    n = a.length(2, "signature length", "bytes")
    a.take(n, "signature", "over 64 spaces, the context string, 00 and the transcript hash")


def certificate_request(a: Annotator) -> None:
    m = a.length(1, "certificate_request_context length", "bytes")
    if m:
        a.take(m, "certificate_request_context", "the client's Certificate echoes it")
    extensions(a, "cr")


def new_session_ticket(a: Annotator) -> None:
    a.uint(4, "ticket_lifetime", lambda v: f"{v} seconds")
    a.uint(4, "ticket_age_add", lambda v: f"{v}: added to the ticket's age to hide it")
    m = a.length(1, "ticket_nonce length", "bytes")
    a.take(m, "ticket_nonce", "makes this ticket's PSK differ from the other tickets'")
    n = a.length(2, "ticket length", "bytes")
    a.take(n, "ticket", "opaque to the client: the server's sealed state, or a key to it")
    extensions(a, "nst")


def finished(a: Annotator) -> None:
    a.take(a.left(), "verify_data", "HMAC(finished_key, transcript hash)")


def key_update(a: Annotator) -> None:
    a.uint(1, "request_update", lambda v: {0: "update_not_requested (0)",
                                            1: "update_requested (1): answer with a KeyUpdate"}.get(v, str(v)))


BODIES = {1: client_hello, 2: server_hello, 4: new_session_ticket, 5: lambda a: None, 8: lambda a: extensions(a, "ee"),
          11: certificate, 13: certificate_request, 15: certificate_verify, 20: finished, 24: key_update}


def message(data: bytes) -> Annotator:
    """One handshake message: Handshake { msg_type; uint24 length; body } (§4)."""
    a = Annotator(data)
    msg_type = data[0] if data else 0
    is_hrr = msg_type == 2 and data[6:38] == HRR_RANDOM
    kind = "server_hello, here a HelloRetryRequest" if is_hrr else HANDSHAKE_TYPES.get(msg_type, "unknown")
    a.uint(1, "msg_type", lambda v: f"{kind} ({v})")
    n = a.length(3, "length", "bytes of body follow")
    body = BODIES.get(msg_type)
    if body is None:
        a.take(n, "body", "")
    else:
        a.nested(n, lambda end: body(a))
    if a.left():
        raise ValueError(f"{a.left()} bytes after the message")
    return a.covering(data)


def alert(a: Annotator) -> None:
    a.uint(1, "level", lambda v: named(ALERT_LEVELS, v, 0))
    a.uint(1, "description", lambda v: named(ALERTS, v, 0))


def record(data: bytes) -> Annotator:
    """A TLSPlaintext record (§5.1): its header, then its fragment."""
    a = Annotator(data)
    ct = a.uint(1, "type", lambda v: named(CONTENT_TYPES, v, 0))
    a.uint(2, "legacy_record_version", lambda v: named(VERSIONS, v))
    n = a.length(2, "length", "bytes of fragment follow")
    if ct == 21 and n == 2:
        alert(a)
    else:
        a.take(n, "fragment", {22: "handshake messages", 23: "the application's data, readable by anyone on the path",
                               20: "change_cipher_spec"}.get(ct, ""))
    if a.left():
        raise ValueError(f"{a.left()} bytes after the record")
    return a.covering(data)


# Messages with known fields, each with rows it must show ("name  meaning" as rendered), and
# malformed ones it must refuse. `scripts/book selftest` runs these.
SELFTEST_MESSAGES = [
    ("18 00 00 01 01", ["request_update  update_requested (1)", "length          1 byte of body follows"]),
    # RFC 8448 §5's HelloRetryRequest, cut to its supported_versions: the special random is named.
    ("02 00 00 34 03 03 cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16 7a bb 8c 5e 07 9e 09 e2"
     " c8 a8 33 9c 00 13 01 00 00 0c 00 33 00 02 00 17 00 2b 00 02 03 04",
     ["server_hello, here a HelloRetryRequest (2)", "selected_group", "secp256r1 (0x0017): send a share",
      "selected_version", "TLS 1.3 (0x0304)"]),
    ("14 00 00 04 de ad be ef", ["verify_data"]),
]
SELFTEST_RECORDS = [("15 03 03 00 02 02 28", ["fatal (2)", "handshake_failure (40)"])]
SELFTEST_REFUSED = [("message", "18 00 00 02 01"),           # a body longer than its bytes
                    ("message", "18 00 00 01 01 00"),        # a byte after the message
                    ("message", "08 00 00 04 00 03 00 0a"),  # an extension cut short
                    ("record", "17 03 03 00 05 68 65")]      # a fragment cut short


def selftest() -> list[str]:
    """The problems found; empty when every known message reads as expected."""
    problems = []
    for reader, cases in ((message, SELFTEST_MESSAGES), (record, SELFTEST_RECORDS)):
        for hex_text, expected in cases:
            try:
                text = reader(bytes.fromhex(hex_text.replace(" ", ""))).render()
            except ValueError as e:
                problems.append(f"{hex_text[:20]}…: refused: {e}")
                continue
            problems += [f"{hex_text[:20]}…: no '{e}' in\n{text}" for e in expected if e not in text]
    for kind, hex_text in SELFTEST_REFUSED:
        try:
            (message if kind == "message" else record)(bytes.fromhex(hex_text.replace(" ", "")))
            problems.append(f"{kind} {hex_text}: accepted, should be refused")
        except ValueError:
            pass
    return problems


def main(argv: list[str]) -> int:
    if argv == ["selftest"]:
        problems = selftest()
        print("\n".join(problems) or "tls_annotate selftest: ok")
        return 1 if problems else 0
    if len(argv) < 2 or argv[0] not in ("message", "record"):
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read() if argv[1:] == ["-"] else " ".join(argv[1:])
    data = bytes.fromhex("".join(text.split()))
    try:
        print((message if argv[0] == "message" else record)(data).render())
    except ValueError as e:
        print(f"tls_annotate: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
