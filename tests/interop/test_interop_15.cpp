// Interop: chapter 15's HTTPS against real clients and a real server. curl (ALPN http/1.1, two
// URLs on one kept-alive connection), Python's urllib, headless Chromium (which offers
// X25519MLKEM768 first and must settle for x25519) load the chapter's page from the ch15 server;
// the ch15 client GETs a file from `openssl s_server -WWW`.
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>

using namespace tlstest;

namespace {

const std::string www = source("chapters/15-https/www");

std::string index_html() { return read_file(www + "/index.html"); }

std::string url(unsigned short port, const std::string& path = "/") {
    return "https://localhost:" + std::to_string(port) + path;
}

// curl over TLS 1.3 trusting only the bundled CA; `args` go before the URLs.
Process curl(const std::vector<std::string>& args, const std::vector<std::string>& urls) {
    std::vector<std::string> argv{"curl", "--silent", "--show-error", "--tlsv1.3", "--cacert", cert("ca.pem"),
                                  "--max-time", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), urls.begin(), urls.end());
    return Process(argv);
}

// Debian's Chromium, as the book's site test finds it (book/.vitepress/browser-test.mjs):
// $BOOK_CHROMIUM, else /usr/bin/chromium, which scripts/bootstrap installs.
std::string chromium() {
    const char* configured = std::getenv("BOOK_CHROMIUM");
    std::string path = configured && *configured ? configured : "/usr/bin/chromium";
    REQUIRE_MESSAGE(access(path.c_str(), X_OK) == 0,
                    "no Chromium at " << path << ": run ./scripts/bootstrap (Debian package chromium)");
    return path;
}

}  // namespace

TEST_CASE("ch15 server and curl: the page's exact bytes over HTTP/1.1, agreed on with ALPN") {
    require_tool("curl");
    auto server = start_server("ch15-server");
    auto body = curl({"--write-out", "\n%{http_code} %{http_version}"}, {url(server.port)});
    REQUIRE_MESSAGE(body.wait(15s) == 0, body.all());
    CHECK(body.out() == index_html() + "\n200 1.1");
    auto verbose = curl({"--verbose", "--output", "/dev/null"}, {url(server.port)});
    REQUIRE_MESSAGE(verbose.wait(15s) == 0, verbose.all());
    CHECK_CONTAINS(verbose.err(), "ALPN: offers h2,http/1.1");
    CHECK_CONTAINS(verbose.err(), "ALPN: server accepted http/1.1");
    CHECK_CONTAINS(verbose.err(), "SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256");
    CHECK_CONTAINS(verbose.err(), "< HTTP/1.1 200 OK");
    auto head = curl({"--head"}, {url(server.port, "/style.css")});
    REQUIRE_MESSAGE(head.wait(15s) == 0, head.all());
    CHECK_CONTAINS(head.out(), "HTTP/1.1 200 OK\r\n");
    CHECK_CONTAINS(head.out(), "Content-Type: text/css; charset=utf-8\r\n");
    CHECK_CONTAINS(head.out(), "Content-Length: " + std::to_string(read_file(www + "/style.css").size()) + "\r\n");
    REQUIRE(server.process.wait_for("connection #3 closed", 5s));
    auto trace = server.process.all();
    CHECK(count_of(trace, "HTTP  GET / -> 200 OK") == 2);
    CHECK_CONTAINS(trace, "HTTP  HEAD /style.css -> 200 OK");
}

TEST_CASE("ch15 server and curl: two URLs on one connection (keep-alive), and 404 and //etc/passwd stay outside") {
    require_tool("curl");
    auto server = start_server("ch15-server");
    auto both = curl({"--verbose"}, {url(server.port), url(server.port, "/style.css")});
    REQUIRE_MESSAGE(both.wait(15s) == 0, both.all());
    CHECK(both.out() == index_html() + read_file(www + "/style.css"));
    CHECK_CONTAINS(both.err(), "Re-using existing connection");
    auto missing = curl({"--write-out", "%{http_code}", "--path-as-is", "--output", "/dev/null", "--output", "/dev/null", "--output",
                         "/dev/null"},
                        {url(server.port, "/missing"), url(server.port, "//etc/passwd"),
                         url(server.port, "/../server.cpp")});
    REQUIRE_MESSAGE(missing.wait(15s) == 0, missing.all());
    CHECK(missing.out() == "404404404");
    REQUIRE(server.process.wait_for("connection #2 closed", 5s));
    auto trace = server.process.all();
    CHECK(!contains(trace, "connection #3 from"));  // each curl used one connection
    CHECK_CONTAINS(trace, "HTTP  GET /style.css -> 200 OK");
    CHECK_CONTAINS(trace, "HTTP  GET //etc/passwd -> 404 Not Found");
    CHECK_CONTAINS(trace, "connection closed cleanly after 2 response(s)");
}

TEST_CASE("ch15 server and Python urllib: urlopen with ca.pem reads the page") {
    require_tool("python3");
    auto server = start_server("ch15-server");
    const std::string script = R"(
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
with urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10) as response:
    body = response.read()
    sys.stderr.write("status %d %s\n" % (response.status, response.headers["Content-Type"]))
    sys.stdout.buffer.write(body)
)";
    Process python({"python3", "-c", script, url(server.port), cert("ca.pem")});
    REQUIRE_MESSAGE(python.wait(15s) == 0, python.all());
    CHECK(python.out() == index_html());
    CHECK_CONTAINS(python.err(), "status 200 text/html; charset=utf-8");
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    CHECK_CONTAINS(server.process.all(), "HTTP  GET / -> 200 OK");
}

TEST_CASE("ch15 server and headless Chromium: the page's DOM, with x25519 chosen over X25519MLKEM768") {
    const auto browser = chromium();
    require_tool("openssl");
    // Chromium trusts our leaf by the SHA-256 of its SubjectPublicKeyInfo, not by our CA.
    auto spki = run_command("openssl x509 -in '" + cert("server-ecdsa.pem") +
                            "' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
    REQUIRE(spki.code == 0);
    while (!spki.output.empty() && std::isspace(static_cast<unsigned char>(spki.output.back()))) spki.output.pop_back();
    REQUIRE(spki.output.size() == 44);
    auto server = start_server("ch15-server");
    TempDir profile;
    Process chrome({browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile.path, "--ignore-certificate-errors-spki-list=" + spki.output,
                    "--dump-dom", url(server.port)});
    REQUIRE_MESSAGE(chrome.wait(60s) == 0, chrome.all());
    CHECK_CONTAINS(chrome.out(), "<p id=\"message\">This page came to you over TLS 1.3");
    CHECK_CONTAINS(chrome.out(), "<title>tls-by-hand: served over our own TLS 1.3</title>");
    REQUIRE(server.process.wait_for("HTTP  GET / -> 200 OK", 5s));
    auto trace = server.process.all();
    // Chromium's key shares: a GREASE value, X25519MLKEM768 (0x11ec, which we do not know), x25519.
    CHECK_CONTAINS(trace, "unknown(0x11ec) (0x11ec)");
    CHECK_CONTAINS(trace, "application_layer_protocol_negotiation  http/1.1");
    CHECK_CONTAINS(trace, "negotiated  TLS_AES_128_GCM_SHA256, x25519, full handshake, ecdsa_secp256r1_sha256");
    CHECK(!contains(trace, "HelloRetryRequest"));  // its x25519 share was there: no second round trip
}

TEST_CASE("ch15 client --path against openssl s_server -WWW: HTTP/1.0 200 ok and the file") {
    require_tool("openssl");
    std::string last_output;
    for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
        const auto port = free_port();
        // -WWW serves files relative to its working directory.
        Process server({"sh", "-c",
                        "cd '" + www + "' && exec openssl s_server -tls1_3 -accept " + std::to_string(port) +
                            " -cert '" + cert("server-ecdsa.pem") + "' -key '" + cert("server-ecdsa.key") + "' -WWW"});
        if (!server.wait_for("ACCEPT", 10s)) {
            last_output = server.all();
            continue;
        }
        Process client({bin("ch15-client"), "--port", std::to_string(port), "--path", "/index.html"});
        REQUIRE_MESSAGE(client.wait() == 0, client.all());
        CHECK(client.out().starts_with("HTTP/1.0 200 ok\r\n"));
        CHECK(client.out().ends_with("\r\n\r\n" + index_html()));
        CHECK_CONTAINS(client.err(), "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, full handshake");
        CHECK_CONTAINS(client.err(), "<- Alert close_notify(0)");
        CHECK(!contains(client.err(), "ALPN  the server speaks"));  // s_server -WWW answers no ALPN
        CHECK(server.wait_for("FILE:index.html", 5s));
        return;
    }
    FAIL("openssl s_server did not start; it printed:\n" << last_output);
}
