// Chapter 15: HTTPS (RFC 7301 ALPN, RFC 6066 §3 SNI, RFC 9112 HTTP/1.1 over our TLS 1.3). The
// chapter's client GETs pages from the chapter's server end to end — the exact bytes of
// www/index.html, KeyUpdate in the middle, resumption, SNI choosing the certificate — then a
// scripted client (chapter 09's handshake in the test, its own bytes after it) sends the
// requests a browser would not: pipelined, split into many records, malformed, too large,
// reaching outside --root, and ClientHellos with other ALPN offers.
#include "peers.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

using namespace tlstest;

namespace {

const std::string www = source("chapters/15-https/www");

std::string index_html() { return read_file(www + "/index.html"); }

// ---- HTTP responses ---------------------------------------------------------------------

struct Response {
    std::string status_line;                   // "HTTP/1.1 200 OK"
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// The responses in `data`, in order: each head, then Content-Length bytes of body (none at all
// with `bodies` false: the answers to HEAD). Stops at anything it cannot parse.
std::vector<Response> responses_in(const std::string& data, bool bodies = true) {
    std::vector<Response> responses;
    std::size_t at = 0;
    while (at < data.size()) {
        auto end = data.find("\r\n\r\n", at);
        if (end == std::string::npos) break;
        Response response;
        auto head = data.substr(at, end - at);
        auto line_end = head.find("\r\n");
        response.status_line = head.substr(0, line_end);
        while (line_end != std::string::npos) {
            auto next = head.find("\r\n", line_end + 2);
            auto line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                auto name = line.substr(0, colon);
                std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
                auto value = line.find_first_not_of(' ', colon + 1);
                response.headers[name] = value == std::string::npos ? std::string() : line.substr(value);
            }
            line_end = next;
        }
        at = end + 4;
        if (bodies) {
            const auto length = static_cast<std::size_t>(std::stoul(response.header("content-length").empty()
                                                                        ? "0"
                                                                        : response.header("content-length")));
            response.body = data.substr(at, length);
            at += length;
        }
        responses.push_back(std::move(response));
    }
    return responses;
}

std::string request(const std::string& method, const std::string& target, const std::string& extra_headers = "") {
    return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}
std::string get(const std::string& target, const std::string& extra_headers = "") {
    return request("GET", target, extra_headers);
}
const std::string close_header = "Connection: close\r\n";

// ---- The chapter's client ---------------------------------------------------------------

// ch15-client --path PATH: the response on standard output, the trace on standard error.
Process ch15_get(unsigned short port, const std::string& path, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {bin("ch15-client"), "--port", std::to_string(port), "--path", path};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process(argv);
}

// ---- The scripted client ----------------------------------------------------------------

struct Exchange {
    std::string outcome;  // "" when the script ran to the end
    std::string data;     // all the application data the server sent
    std::string end;      // how the server ended: "close_notify(0)", an alert, "(closed without an alert)"
};

// The in-test client's handshake (`tweaks` edit its ClientHello: no ALPN, no server_name by
// default), then each of `records` as an application_data record of its own ("" makes a
// zero-length one), then our close_notify with `close_notify`; then everything the server
// sends until its alert.
Exchange exchange(unsigned short port, const std::vector<std::string>& records, bool close_notify,
                  const ClientTweaks& tweaks) {
    Exchange result;
    result.outcome = run_client_script(port, [&](tls::tcp::socket&, tls::Connection& conn) -> asio::awaitable<void> {
        co_await client_handshake(conn, tweaks);
        for (auto& text : records) {
            const auto bytes = tls::to_bytes(text);
            co_await conn.records().write_records(tls::ContentType::application_data, bytes);
        }
        if (close_notify) co_await conn.records().send_alert(tls::AlertDescription::close_notify);
        result.end = co_await read_until_alert(conn, &result.data);
    });
    return result;
}

// A ch15 server for the scripted client. Each exchange waits for the server to be done with
// the connection, which also reads its trace so far (a full pipe would stall the server).
struct Site {
    Server server;
    int connections = 0;
    explicit Site(std::vector<std::string> args = {}) : server(start_server("ch15-server", std::move(args))) {}
    unsigned short port() const { return server.port; }
    Exchange send(const std::vector<std::string>& records, bool close_notify = false,
                  const ClientTweaks& tweaks = ClientTweaks()) {
        auto result = exchange(server.port, records, close_notify, tweaks);
        ++connections;
        CHECK_MESSAGE(server.process.wait_for("connection #" + std::to_string(connections) + " closed", 5s),
                      server.process.all());
        return result;
    }
    std::string trace() { return server.process.all(); }
};

// A --root of our own: files of several types, a page without its extension, a directory index.
struct SiteFiles {
    TempDir dir;
    std::string root = dir.file("site");
    SiteFiles() {
        std::filesystem::create_directories(root + "/dir");
        write_file(root + "/a.css", "body { color: teal }\n");
        write_file(root + "/b.js", "console.log('tls-by-hand');\n");
        write_file(root + "/c.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
        write_file(root + "/d.json", "{\"chapter\": 15}\n");
        write_file(root + "/e.bin", std::string("\x00\x01\x02\xff", 4));
        write_file(root + "/page.html", "<p>page</p>\n");
        write_file(root + "/dir/index.html", "<p>dir index</p>\n");
        write_file(root + "/big.txt", std::string(40000, 'x'));
        write_file(dir.file("secret.txt"), "the secret outside the root\n");
    }
};

}  // namespace

// ---- End to end: the chapter's client and server --------------------------------------------

TEST_CASE("ch15 client --path / gets www/index.html from the ch15 server: 200 OK, the file's exact bytes, ALPN http/1.1") {
    auto server = start_server("ch15-server");
    auto client = ch15_get(server.port, "/");
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    auto responses = responses_in(client.out());
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[0].header("content-type") == "text/html; charset=utf-8");
    CHECK(responses[0].header("content-length") == std::to_string(index_html().size()));
    CHECK(responses[0].header("connection") == "close");  // the client asked for it
    CHECK(responses[0].body == index_html());
    CHECK(client.out().ends_with(index_html()));  // nothing after the body
    // The trace goes to standard error, the response alone to standard output.
    CHECK_CONTAINS(client.err(), "ALPN  the server speaks http/1.1");
    CHECK_CONTAINS(client.err(), "HTTP  GET / HTTP/1.1 (Host: localhost)");
    CHECK_CONTAINS(client.err(), "response received: " + std::to_string(client.out().size()) + " bytes");
    CHECK(!contains(client.out(), "handshake complete"));
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "application_layer_protocol_negotiation  http/1.1");
    CHECK_CONTAINS(trace, "HTTP  GET / -> 200 OK, " + std::to_string(client.out().size()) + " bytes");
    CHECK_CONTAINS(trace, "connection closed after 1 response(s) (Connection: close)");
}

TEST_CASE("ch15 server sends each small response in one record, and a 40000-byte file in three (2^14 bytes each at most)") {
    SiteFiles files;
    auto server = start_server("ch15-server", {"--root", files.root});
    auto small = ch15_get(server.port, "/a.css");
    REQUIRE_MESSAGE(small.wait() == 0, small.all());
    CHECK(responses_in(small.out()).at(0).body == read_file(files.root + "/a.css"));
    CHECK(count_of(small.err(), "decrypted  application_data(23)") == 1);
    auto big = ch15_get(server.port, "/big.txt");
    REQUIRE_MESSAGE(big.wait() == 0, big.all());
    CHECK(responses_in(big.out()).at(0).body == std::string(40000, 'x'));
    CHECK(count_of(big.err(), "decrypted  application_data(23) 16384 bytes") == 2);
    CHECK(count_of(big.err(), "decrypted  application_data(23)") == 3);
}

// RFC8446 4.6.3-2, 4.6.3-3, 4.6.3-5
TEST_CASE("ch15 GET /keyupdate: the server sends a KeyUpdate before the response, the client answers it, the response arrives") {
    auto server = start_server("ch15-server");
    auto client = ch15_get(server.port, "/keyupdate");
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    auto responses = responses_in(client.out());
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[0].body == "KeyUpdate sent: our keys moved to the next generation\n");
    auto trace = client.err();
    CHECK_CONTAINS(trace, "<- KeyUpdate");
    CHECK_CONTAINS(trace, "-> KeyUpdate");  // update_requested: ours before our next data (§4.6.3)
    // The response comes under the server's next keys: sequence numbers from 0 again.
    auto after_update = trace.substr(trace.find("<- KeyUpdate"));
    CHECK_CONTAINS(after_update, "decrypted  application_data(23) " + std::to_string(client.out().size()) +
                                     " bytes, sequence number 0");
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    CHECK_CONTAINS(server.process.all(), "HTTP  GET /keyupdate -> 200 OK");
}

TEST_CASE("ch15 server --key-update-every 1: a KeyUpdate after each response, and the client still reads everything") {
    auto server = start_server("ch15-server", {"--key-update-every", "1"});
    auto client = ch15_get(server.port, "/");
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    CHECK(responses_in(client.out()).at(0).body == index_html());
    auto trace = client.err();
    CHECK(trace.find("<- KeyUpdate") != std::string::npos);
    CHECK(trace.find("<- KeyUpdate") > trace.find("decrypted  application_data(23)"));
    CHECK_CONTAINS(trace, "<- Alert close_notify(0)");
}

TEST_CASE("ch15 client --reconnect --path /: the second GET goes over a resumed connection") {
    auto server = start_server("ch15-server");
    auto client = ch15_get(server.port, "/", {"--reconnect"});
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    auto responses = responses_in(client.out());
    REQUIRE(responses.size() == 2);
    for (auto& response : responses) {
        CHECK(response.status_line == "HTTP/1.1 200 OK");
        CHECK(response.body == index_html());
    }
    auto trace = client.err();
    CHECK_CONTAINS(trace, "handshake complete with localhost: TLS_AES_128_GCM_SHA256, x25519, full handshake");
    auto second = trace.substr(trace.find("connecting again, with a ticket from the first connection"));
    CHECK_CONTAINS(second, "resumed with the PSK and (EC)DHE");
    CHECK_CONTAINS(second, "ALPN  the server speaks http/1.1");
    REQUIRE(server.process.wait_for("connection #2 closed", 5s));
    CHECK(count_of(server.process.all(), "HTTP  GET / -> 200 OK") == 2);
}

// ---- SNI: the certificate for the name (RFC 6066 §3) ------------------------------------------

// RFC8446 9.2-13, 4.4.2.2-4
TEST_CASE("ch15 SNI: www.tls-by-hand.test gets the www certificate, which the client validates with ca.pem") {
    auto server = start_server("ch15-server");
    auto client = ch15_get(server.port, "/", {"--server-name", "www.tls-by-hand.test"});
    REQUIRE_MESSAGE(client.wait() == 0, client.all());
    CHECK(responses_in(client.out()).at(0).body == index_html());
    CHECK_CONTAINS(client.err(), "certificate  subject CN=www.tls-by-hand.test, issuer CN=tls-by-hand test CA");
    CHECK_CONTAINS(client.err(), "certificate chain  trusted for www.tls-by-hand.test");
    CHECK_CONTAINS(client.err(), "handshake complete with www.tls-by-hand.test");
    CHECK_CONTAINS(client.err(), "HTTP  GET / HTTP/1.1 (Host: www.tls-by-hand.test)");
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "server_name  www.tls-by-hand.test: subject CN=www.tls-by-hand.test");
    CHECK_CONTAINS(trace, "server_name                             (empty: name accepted)");  // in EncryptedExtensions
}

// RFC8446 9.2-13
TEST_CASE("ch15 SNI: an unknown name gets the first (localhost) certificate, and the client refuses it: bad_certificate") {
    auto server = start_server("ch15-server");
    auto client = ch15_get(server.port, "/", {"--server-name", "unknown.example"});
    CHECK(client.wait() == 1);
    CHECK(client.out().empty());
    CHECK_CONTAINS(client.err(), "certificate  subject CN=localhost");
    CHECK_CONTAINS(client.err(),
                   "-> Alert bad_certificate(42): certificate is for DNS:localhost, IP:127.0.0.1, not for 'unknown.example'");
    REQUIRE(server.process.wait_for("connection #1 closed", 5s));
    auto trace = server.process.all();
    CHECK_CONTAINS(trace, "no certificate of ours names unknown.example: we answer with our first");
    CHECK_CONTAINS(trace, "<- Alert bad_certificate(42)");
    CHECK(!contains(trace, "(empty: name accepted)"));  // we did not use the client's name
    CHECK(!contains(trace, "HTTP  "));
}

TEST_CASE("ch15 SNI: --cert/--key pairs in order, the first the default, and a --cert without its --key is refused") {
    auto server = start_server("ch15-server", {"--cert", cert("server-ecdsa-other.pem"), "--key",
                                               cert("server-ecdsa-other.key"), "--cert", cert("server-ecdsa.pem"),
                                               "--key", cert("server-ecdsa.key")});
    auto named = ch15_get(server.port, "/");  // server_name localhost: the second pair
    REQUIRE_MESSAGE(named.wait() == 0, named.all());
    CHECK_CONTAINS(named.err(), "certificate  subject CN=localhost");
    // The scripted client sends no server_name: the first pair, www.tls-by-hand.test.
    auto anonymous = exchange(server.port, {get("/", close_header)}, false, ClientTweaks());
    CHECK(anonymous.outcome == "");
    CHECK(responses_in(anonymous.data).at(0).body == index_html());
    REQUIRE(server.process.wait_for("connection #2 closed", 5s));
    auto second = server.process.all().substr(server.process.all().find("connection #2 from"));
    CHECK_CONTAINS(second, "certificate  subject CN=www.tls-by-hand.test");

    Process unpaired({bin("ch15-server"), "--port", "0", "--cert", cert("server-ecdsa.pem"), "--cert",
                      cert("server-ecdsa-other.pem"), "--key", cert("server-ecdsa.key")});
    CHECK(unpaired.wait(10s) != 0);
    CHECK_CONTAINS(unpaired.all(), "give one --key for each --cert, in the same order");
}

// ---- ALPN (RFC 7301) ----------------------------------------------------------------------

TEST_CASE("ch15 ALPN: a client offering only h2 gets no_application_protocol (120) before any ServerHello") {
    Site site;
    ClientTweaks tweaks;
    tweaks.edit_hello = [](tls::ClientHello& hello) { hello.extensions.push_back(tls::make_alpn({"h2"})); };
    auto result = site.send({get("/")}, false, tweaks);
    CHECK(result.outcome == "peer alert no_application_protocol(120)");
    auto trace = site.trace();
    CHECK_CONTAINS(trace, "application_layer_protocol_negotiation");  // the ClientHello's offer
    CHECK_CONTAINS(trace, "-> Alert no_application_protocol(120)");
    CHECK(!contains(trace, "-> ServerHello"));
}

TEST_CASE("ch15 ALPN: offered h2 and http/1.1, the server picks http/1.1 in EncryptedExtensions") {
    Site site;
    ClientTweaks tweaks;
    tweaks.edit_hello = [](tls::ClientHello& hello) {
        hello.extensions.push_back(tls::make_alpn({"h2", "http/1.1"}));
    };
    auto result = site.send({get("/", close_header)}, false, tweaks);
    CHECK(result.outcome == "");
    CHECK(responses_in(result.data).at(0).status_line == "HTTP/1.1 200 OK");
    auto trace = site.trace();
    auto encrypted_extensions = trace.substr(trace.find("-> EncryptedExtensions"));
    encrypted_extensions = encrypted_extensions.substr(0, encrypted_extensions.find("-> Certificate"));
    CHECK_CONTAINS(encrypted_extensions, "application_layer_protocol_negotiation  http/1.1");
}

// RFC8446 4.2-1
TEST_CASE("ch15 ALPN: a client that offers no ALPN is served HTTP/1.1 anyway, and gets no ALPN answer") {
    Site site;
    auto result = site.send({get("/", close_header)}, false, ClientTweaks());
    CHECK(result.outcome == "");
    CHECK(result.end == "close_notify(0)");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].body == index_html());
    auto trace = site.trace();
    REQUIRE(contains(trace, "-> EncryptedExtensions"));
    CHECK(!contains(trace, "application_layer_protocol_negotiation"));  // neither offered nor answered
    CHECK_CONTAINS(trace, "HTTP  GET / -> 200 OK");
}

// ---- HTTP/1.1 (RFC 9112) --------------------------------------------------------------------

TEST_CASE("ch15 server answers HEAD with GET's headers and no body") {
    Site site;
    auto result = site.send({request("HEAD", "/", close_header)});
    CHECK(result.outcome == "");
    CHECK(result.end == "close_notify(0)");
    auto responses = responses_in(result.data, /*bodies=*/false);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[0].header("content-length") == std::to_string(index_html().size()));
    CHECK(responses[0].header("content-type") == "text/html; charset=utf-8");
    CHECK(result.data.ends_with("\r\n\r\n"));  // the head and nothing else
    CHECK_CONTAINS(site.trace(), "HTTP  HEAD / -> 200 OK");
}

TEST_CASE("ch15 server: 404 for a file that is not there, and the connection goes on") {
    Site site;
    auto result = site.send({get("/missing.html") + get("/nothing/here/") + get("/", close_header)});
    CHECK(result.outcome == "");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 3);
    CHECK(responses[0].status_line == "HTTP/1.1 404 Not Found");
    CHECK(responses[0].header("connection") == "keep-alive");
    CHECK_CONTAINS(responses[0].body, "<h1>404 Not Found</h1>");
    CHECK(responses[1].status_line == "HTTP/1.1 404 Not Found");
    CHECK(responses[2].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[2].body == index_html());
    CHECK(result.end == "close_notify(0)");
}

TEST_CASE("ch15 server: 405 (with Allow) for POST, PUT and DELETE without a body, and the connection goes on") {
    Site site;
    auto result = site.send({request("POST", "/", "Content-Length: 0\r\n") + request("PUT", "/x") +
                             request("DELETE", "/index.html") + get("/style.css", close_header)});
    CHECK(result.outcome == "");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CHECK(responses[i].status_line == "HTTP/1.1 405 Method Not Allowed");
        CHECK(responses[i].header("allow") == "GET, HEAD");  // RFC 9110 §15.5.6
    }
    CHECK(responses[3].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[3].body == read_file(www + "/style.css"));
    CHECK_CONTAINS(site.trace(), "HTTP  POST / -> 405 Method Not Allowed");
}

TEST_CASE("ch15 server answers a request it cannot take with its error status, then close_notify") {
    struct Case {
        std::string name, request, status_line;
    };
    const std::vector<Case> cases = {
        {"request line without a version", "GET /\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400 Bad Request"},
        {"two spaces in the request line", "GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400 Bad Request"},
        {"a version that is not HTTP", "GET / FTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400 Bad Request"},
        {"a header line without a colon", get("/", "NoColonHere\r\n"), "HTTP/1.1 400 Bad Request"},
        {"white space before the colon", "GET / HTTP/1.1\r\nHost : localhost\r\n\r\n", "HTTP/1.1 400 Bad Request"},
        {"a folded header line", get("/", "X-Long: one\r\n  two\r\n"), "HTTP/1.1 400 Bad Request"},
        {"a bare LF line ending in the headers", "GET / HTTP/1.1\r\nHost: localhost\nX: y\r\n\r\n",
         "HTTP/1.1 400 Bad Request"},
        {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nUser-Agent: test\r\n\r\n", "HTTP/1.1 400 Bad Request"},
        {"two Host fields", get("/", "Host: localhost\r\n"), "HTTP/1.1 400 Bad Request"},
        {"HTTP/2.0 in the request line", "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n",
         "HTTP/1.1 505 HTTP Version Not Supported"},
        {"a body (Content-Length)", request("POST", "/", "Content-Length: 5\r\n") + "hello",
         "HTTP/1.1 413 Content Too Large"},
        {"a chunked body", get("/", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", "HTTP/1.1 501 Not Implemented"},
        {"more than 16 KiB of headers", get("/", "X-Big: " + std::string(17000, 'a') + "\r\n"),
         "HTTP/1.1 431 Request Header Fields Too Large"},
        {"more than 16 KiB and no end of the headers", "GET / HTTP/1.1\r\nX-Big: " + std::string(17000, 'a'),
         "HTTP/1.1 431 Request Header Fields Too Large"},
    };
    Site site;
    for (auto& c : cases) {
        CAPTURE(c.name);
        auto result = site.send({c.request});
        CHECK(result.outcome == "");
        auto responses = responses_in(result.data);
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status_line == c.status_line);
        CHECK(responses[0].header("connection") == "close");
        CHECK(responses[0].header("content-type") == "text/html; charset=utf-8");
        CHECK_CONTAINS(responses[0].body, "<h1>" + c.status_line.substr(9) + "</h1>");
        CHECK(result.end == "close_notify(0)");
        CHECK_CONTAINS(site.trace(), "HTTP  malformed request: " + c.status_line.substr(9));
    }
}

TEST_CASE("ch15 server: HTTP/1.0 needs no Host and closes unless asked to keep the connection alive") {
    Site site;
    auto closed = site.send({"GET / HTTP/1.0\r\n\r\n"});
    CHECK(closed.outcome == "");
    CHECK(closed.end == "close_notify(0)");
    auto responses = responses_in(closed.data);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status_line == "HTTP/1.1 200 OK");
    CHECK(responses[0].header("connection") == "close");
    CHECK(responses[0].body == index_html());
    auto kept = site.send({"GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n"});
    CHECK(kept.end == "close_notify(0)");
    responses = responses_in(kept.data);
    REQUIRE(responses.size() == 2);
    CHECK(responses[0].header("connection") == "keep-alive");
    CHECK(responses[1].header("connection") == "close");
}

TEST_CASE("ch15 server: nothing outside --root, however the path is spelled") {
    SiteFiles files;
    Site site({"--root", files.root});
    const std::string secret = files.dir.file("secret.txt");
    const std::vector<std::string> targets = {
        "/../secret.txt",       "/dir/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",     "/.%2e/secret.txt",      "/..\\secret.txt",    "/dir\\..\\..\\secret.txt",
        secret,                 "/" + secret,            "//" + secret,           "/%2fetc/passwd",     "//etc/passwd",
        "/etc/passwd",          "secret.txt",            "../secret.txt",
    };
    std::string pipelined;
    for (auto& target : targets) pipelined += get(target);
    pipelined += get("/a.css", close_header);
    auto result = site.send({pipelined});
    CHECK(result.outcome == "");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == targets.size() + 1);
    for (std::size_t i = 0; i < targets.size(); ++i) {
        CAPTURE(targets[i]);
        CHECK(responses[i].status_line == "HTTP/1.1 404 Not Found");
    }
    CHECK(responses.back().status_line == "HTTP/1.1 200 OK");  // the root itself is served
    CHECK(!contains(result.data, "the secret outside the root"));
    CHECK(!contains(result.data, "root:"));
}

TEST_CASE("ch15 server --root: the files of a temporary directory with their content types, /page and /dir/") {
    SiteFiles files;
    Site site({"--root", files.root});
    struct Case {
        std::string target, file, type;
    };
    const std::vector<Case> cases = {
        {"/a.css", "a.css", "text/css; charset=utf-8"},
        {"/b.js", "b.js", "text/javascript; charset=utf-8"},
        {"/c.svg", "c.svg", "image/svg+xml"},
        {"/d.json", "d.json", "application/json"},
        {"/e.bin", "e.bin", "application/octet-stream"},
        {"/page", "page.html", "text/html; charset=utf-8"},
        {"/page.html?from=test#top", "page.html", "text/html; charset=utf-8"},
        {"/dir/", "dir/index.html", "text/html; charset=utf-8"},
        {"/dir", "dir/index.html", "text/html; charset=utf-8"},
    };
    std::string pipelined;
    for (auto& c : cases) pipelined += get(c.target);
    pipelined += get("/", close_header);  // no index.html in this root
    auto result = site.send({pipelined});
    CHECK(result.outcome == "");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == cases.size() + 1);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].target);
        CHECK(responses[i].status_line == "HTTP/1.1 200 OK");
        CHECK(responses[i].header("content-type") == cases[i].type);
        CHECK(responses[i].body == read_file(files.root + "/" + cases[i].file));
    }
    CHECK(responses.back().status_line == "HTTP/1.1 404 Not Found");
}

// ---- Keep-alive: many requests on one connection, in any records --------------------------

TEST_CASE("ch15 keep-alive: two requests pipelined in one record get two responses in order, and close_notify ends it") {
    Site site;
    auto result = site.send({get("/style.css") + get("/")}, /*close_notify=*/true);
    CHECK(result.outcome == "");
    CHECK(result.end == "close_notify(0)");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 2);
    CHECK(responses[0].header("connection") == "keep-alive");
    CHECK(responses[0].body == read_file(www + "/style.css"));
    CHECK(responses[1].header("connection") == "keep-alive");
    CHECK(responses[1].body == index_html());
    auto trace = site.trace();
    CHECK(trace.find("HTTP  GET /style.css -> 200 OK") < trace.find("HTTP  GET / -> 200 OK"));
    CHECK_CONTAINS(trace, "connection closed cleanly after 2 response(s)");
}

TEST_CASE("ch15 keep-alive: two requests split over many records, zero-length ones among them, get two responses in order") {
    const std::string requests = get("/style.css") + get("/", close_header);
    std::vector<std::string> records = {""};
    for (std::size_t at = 0; at < requests.size(); at += 7) {
        records.push_back(requests.substr(at, 7));
        records.push_back("");  // a zero-length application_data record (§5.1 allows them)
    }
    Site site;
    auto result = site.send(records);
    CHECK(result.outcome == "");
    CHECK(result.end == "close_notify(0)");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 2);
    CHECK(responses[0].body == read_file(www + "/style.css"));
    CHECK(responses[1].header("connection") == "close");
    CHECK(responses[1].body == index_html());
    CHECK(result.data.size() == result.data.find("\r\n\r\n" + index_html()) + 4 + index_html().size());
    auto trace = site.trace();
    CHECK(count_of(trace, "<- record application_data(23)") >= records.size());
    CHECK_CONTAINS(trace, "connection closed after 2 response(s) (Connection: close)");
}

TEST_CASE("ch15 server --idle-timeout 1: a client that sends half a request after a response is cut off, then others are served") {
    Site site({"--idle-timeout", "1"});
    auto start = std::chrono::steady_clock::now();
    auto result = site.send({get("/style.css"), "GET / HTTP/1.1\r\nHost: loc"});
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(result.outcome == "");
    CHECK(result.end == "(closed without an alert)");  // closed, as the handshake watchdog does
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 1);  // the whole request was answered, the half one never
    CHECK(responses[0].body == read_file(www + "/style.css"));
    CHECK(waited >= 1s);
    CHECK(waited < 10s);
    CHECK_CONTAINS(site.trace(), "error: no whole HTTP request after 1 s");
    // The same for a client that says nothing at all after the handshake; the server goes on.
    auto silent = site.send({});
    CHECK(silent.end == "(closed without an alert)");
    CHECK(silent.data.empty());
    auto next = site.send({get("/", close_header)});
    CHECK(next.end == "close_notify(0)");
    REQUIRE(responses_in(next.data).size() == 1);
    CHECK(responses_in(next.data)[0].body == index_html());
}

TEST_CASE("ch15 Connection: close: one response, then the server's close_notify, and nothing after it is answered") {
    Site site;
    auto result = site.send({get("/", close_header) + get("/style.css")});
    CHECK(result.outcome == "");
    CHECK(result.end == "close_notify(0)");
    auto responses = responses_in(result.data);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].header("connection") == "close");
    CHECK(responses[0].body == index_html());
    auto trace = site.trace();
    CHECK_CONTAINS(trace, "connection closed after 1 response(s) (Connection: close)");
    CHECK(!contains(trace, "GET /style.css"));
}
