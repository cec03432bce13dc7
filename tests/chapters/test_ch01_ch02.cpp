// End to end: the real chapter 01 and 02 programs on a free port.
#include "process.hpp"
#include "record.hpp"

#include <doctest/doctest.h>

using namespace tlstest;

TEST_CASE("ch01 client receives its message back from the ch01 server") {
    auto server = start_server("ch01-server");
    Process client({bin("ch01-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    CHECK(client.out().find("received message: hello world!") != std::string::npos);
}

TEST_CASE("ch01 server serves several clients at once") {
    auto server = start_server("ch01-server");
    std::vector<Process> clients;
    for (int i = 0; i < 5; ++i)
        clients.emplace_back(std::vector<std::string>{bin("ch01-client"), "--port", std::to_string(server.port),
                                                      "--message", "client " + std::to_string(i)});
    for (int i = 0; i < 5; ++i) {
        CHECK(clients[i].wait() == 0);
        CHECK(clients[i].out().find("received message: client " + std::to_string(i)) != std::string::npos);
    }
}

TEST_CASE("ch01 server stops cleanly on SIGTERM") {
    auto server = start_server("ch01-server");
    server.process.terminate();
    CHECK(server.process.wait(5s) == 0);
    CHECK(server.process.all().find("shutting down") != std::string::npos);
}

TEST_CASE("ch01 client exits non-zero when no server listens") {
    Process client({bin("ch01-client"), "--port", std::to_string(free_port())});
    auto code = client.wait();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(client.err().find("error") != std::string::npos);
}

TEST_CASE("every chapter program answers --help with --host and --port") {
    for (int nn = 1; nn <= 9; ++nn)
        for (auto role : {"server", "client"}) {
            auto program = fmt::format("ch{:02}-{}", nn, role);
            INFO(program);
            Process help({bin(program), "--help"});
            CHECK(help.wait() == 0);
            CHECK(help.out().find("--host") != std::string::npos);
            CHECK(help.out().find("--port") != std::string::npos);
        }
}

TEST_CASE("ch02 client gets its echo back inside application_data records") {
    auto server = start_server("ch02-server");
    Process client({bin("ch02-client"), "--port", std::to_string(server.port)});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(out.find("-> record application_data(23) legacy_record_version 0303 length 12") != std::string::npos);
    CHECK(out.find("<- record application_data(23) legacy_record_version 0303 length 12") != std::string::npos);
    CHECK(out.find("received message: hello world!") != std::string::npos);
}

TEST_CASE("ch02 splits a message longer than 2^14 bytes across records and reassembles it") {
    auto server = start_server("ch02-server");
    std::string big(40000, 'x');
    Process client({bin("ch02-client"), "--port", std::to_string(server.port), "--message", big});
    CHECK(client.wait() == 0);
    auto out = client.out();
    CHECK(out.find("-> record application_data(23) legacy_record_version 0303 length 16384") != std::string::npos);
    CHECK(out.find("-> record application_data(23) legacy_record_version 0303 length 7232") != std::string::npos);
    CHECK(out.find("received message: " + big) != std::string::npos);
}

TEST_CASE("ch02 --hex shows the record header bytes") {
    auto server = start_server("ch02-server");
    Process client({bin("ch02-client"), "--port", std::to_string(server.port), "--hex", "--message", "hi"});
    CHECK(client.wait() == 0);
    CHECK(client.out().find("17 03 03 00 02   type, legacy_record_version, length") != std::string::npos);
}

TEST_CASE("ch02 server reassembles a record that reaches it one byte per read") {
    auto server = start_server("ch02-server");
    RawClient raw(server.port);
    raw.set_no_delay();  // without it, Nagle's algorithm may hold bytes back and send them together
    auto record = tls::encode_record(tls::ContentType::application_data, tls::to_bytes("split"));
    for (auto b : record) {
        raw.send(tls::BytesView(&b, 1));
        // Before the next byte leaves, the server has received this one and read it: its
        // socket's receive queue is empty again. So each read the server makes returns one
        // byte, header and fragment alike (TCP is a byte stream: nothing ties a record to a
        // read), and a server that took one read for one record would fail here.
        REQUIRE_MESSAGE(raw.wait_until_peer_read_all(), "the server did not read byte " << static_cast<int>(b));
    }
    auto reply = raw.read_n(record.size());
    CHECK(reply == record);
}

// --- Bad input: the alert bytes on the wire, then the server keeps serving ---

static void check_still_serving(unsigned short port) {
    Process client({bin("ch02-client"), "--port", std::to_string(port), "--message", "still here"});
    CHECK(client.wait() == 0);
    CHECK(client.out().find("received message: still here") != std::string::npos);
}

TEST_CASE("ch02 server answers a record longer than 2^14 with a record_overflow alert") {
    auto server = start_server("ch02-server");
    RawClient raw(server.port);
    raw.send(tls::from_hex("1703034001"));  // announces 16385 bytes
    auto reply = raw.read_all();
    CHECK(tls::to_hex(reply) == "15030300020216");  // alert, fatal, record_overflow(22)
    CHECK(raw.peer_closed());
    check_still_serving(server.port);
    CHECK(server.process.all().find("-> Alert record_overflow(22)") != std::string::npos);
}

TEST_CASE("ch02 server answers an unknown content type with an unexpected_message alert") {
    auto server = start_server("ch02-server");
    RawClient raw(server.port);
    raw.send(tls::from_hex("990303000161"));
    CHECK(tls::to_hex(raw.read_all()) == "1503030002020a");  // unexpected_message(10)
    CHECK(raw.peer_closed());
    check_still_serving(server.port);
}

TEST_CASE("ch02 server answers a record cut short at end of stream with decode_error instead of hanging") {
    auto server = start_server("ch02-server");
    RawClient raw(server.port);
    raw.send(tls::from_hex("17030300106162"));  // promises 16 bytes, sends 2
    raw.shutdown_write();
    CHECK(tls::to_hex(raw.read_all(3s)) == "15030300020232");  // decode_error(50)
    CHECK(raw.peer_closed());
    check_still_serving(server.port);
}

TEST_CASE("ch02 server answers a handshake record with unexpected_message since it carries only data") {
    auto server = start_server("ch02-server");
    RawClient raw(server.port);
    raw.send(tls::encode_record(tls::ContentType::handshake, tls::from_hex("01000000")));
    CHECK(tls::to_hex(raw.read_all()) == "1503030002020a");
    check_still_serving(server.port);
}

TEST_CASE("ch02 client reports the alert a server sends") {
    // A fake server that answers anything with a fatal record_overflow alert.
    auto port = free_port();
    Process fake({"python3", "-c",
                  "import socket,sys\n"
                  "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                  "s.bind(('127.0.0.1'," + std::to_string(port) + ")); s.listen(1); print('ready', flush=True)\n"
                  "c,_=s.accept(); c.recv(100); c.sendall(bytes.fromhex('15030300020216')); c.close()\n"});
    REQUIRE(fake.wait_for("ready"));
    Process client({bin("ch02-client"), "--port", std::to_string(port)});
    auto code = client.wait();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(client.out().find("<- Alert record_overflow(22)") != std::string::npos);
}
