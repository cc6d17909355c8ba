// CurlMulti against a real HTTP/2 server over TLS: nghttpd (Debian package nghttp2-server)
// on 127.0.0.1 with a throwaway self-signed certificate made by the openssl CLI. Checks that
// ALPN picks h2 when the server offers it and that concurrent requests share one connection.
// nghttpd speaks nothing but HTTP/2, so a client that does not negotiate h2 gets no answer.
// Without nghttpd or openssl the tests fail and say what to install.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "connectors/ghl/curl_multi.h"
#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl::ghl_client {
namespace {

using testing::FreePort;

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

// The first executable `name` in $PATH or in the sbin directories (nghttpd is in /usr/sbin,
// which a non-root PATH often lacks); empty when there is none.
std::string FindProgram(const std::string& name) {
  std::vector<std::string> dirs;
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  std::stringstream in(path != nullptr ? path : "");
  for (std::string dir; std::getline(in, dir, ':');) {
    if (!dir.empty()) dirs.push_back(dir);
  }
  for (const char* dir : {"/usr/local/sbin", "/usr/sbin", "/sbin"}) dirs.emplace_back(dir);
  for (const auto& dir : dirs) {
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class CurlMultiHttp2 : public ::testing::Test {
 protected:
  static constexpr int kFiles = 20;

  void SetUp() override {
    const std::string openssl = FindProgram("openssl");
    ASSERT_FALSE(openssl.empty()) << "openssl not found: install the Debian package openssl "
                                     "(scripts/test.sh does)";
    const std::string nghttpd = FindProgram("nghttpd");
    ASSERT_FALSE(nghttpd.empty())
        << "nghttpd not found (in $PATH, /usr/local/sbin, /usr/sbin, /sbin): install the "
           "Debian package nghttp2-server (scripts/test.sh does)";

    const std::string setpriv = FindProgram("setpriv");  // optional: see below

    // Self-signed, valid for IP 127.0.0.1: the client trusts it as its only CA.
    key_ = (dir_ / "key.pem").string();
    cert_ = (dir_ / "cert.pem").string();
    const auto [code, output] = testing::RunToEnd(
        {openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key_, "-out", cert_, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"},
        {}, dir_ / "openssl.log");
    ASSERT_EQ(code, 0) << "openssl req failed:\n" << output;

    for (int i = 0; i < kFiles; ++i) dir_.Write("htdocs/" + File(i), Body(i));

    // The port is picked here and handed over, so another process may take it in between:
    // then nghttpd exits ("Could not listen") and we try another one.
    std::string last_log;
    for (int attempt = 0; attempt < 5 && server_ == nullptr; ++attempt) {
      const int port = FreePort();
      ASSERT_NE(port, 0);
      std::vector<std::string> argv = {nghttpd,
                                       "--address=127.0.0.1",
                                       "--htdocs=" + (dir_ / "htdocs").string(),
                                       std::to_string(port),
                                       key_,
                                       cert_};
      // setpriv (util-linux) makes the kernel kill nghttpd if this binary dies without
      // running destructors (a crash, a sanitizer abort, SIGKILL): no server left behind.
      if (!setpriv.empty()) argv.insert(argv.begin(), {setpriv, "--pdeathsig=KILL", "--"});
      auto server = std::make_unique<Process>(argv, std::map<std::string, std::string>{},
                                              dir_ / "nghttpd.log");
      ASSERT_GT(server->pid(), 0) << "could not start " << nghttpd;
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      bool up = false;
      while (!up && std::chrono::steady_clock::now() < deadline && !server->Wait(0ms)) {
        up = Accepts(port);
        if (!up) std::this_thread::sleep_for(20ms);
      }
      if (up && !server->Wait(0ms)) {
        port_ = port;
        server_ = std::move(server);
      } else {
        last_log = server->Log();
      }
    }
    ASSERT_NE(server_, nullptr) << "nghttpd did not start:\n" << last_log;
  }

  static std::string File(int i) { return "item-" + std::to_string(i) + ".txt"; }
  static std::string Body(int i) { return "body of item " + std::to_string(i) + "\n"; }
  std::string Url(const std::string& file) const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/" + file;
  }

  // Starts one GET per file at once, runs the loop until all have finished (at most 20 s)
  // and returns the answers in file order.
  std::vector<HttpResponse> FetchAllAtOnce(CurlMulti& curl, boost::asio::io_context& io) {
    std::vector<HttpResponse> responses(kFiles);
    int done = 0;
    for (int i = 0; i < kFiles; ++i) {
      curl.Start({"GET", Url(File(i)), {}, "", 10'000ms}, [&, i](HttpResponse r) {
        responses[i] = std::move(r);
        if (++done == kFiles) io.stop();
      });
    }
    EXPECT_EQ(curl.in_flight(), static_cast<size_t>(kFiles));
    io.run_for(20s);
    EXPECT_EQ(done, kFiles) << "not every request finished";
    return responses;
  }

  TempDir dir_;
  std::string key_, cert_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

TEST_F(CurlMultiHttp2, ConcurrentRequestsNegotiateHttp2OverTls) {
  boost::asio::io_context io;
  CurlMulti curl(io, {.ca_file = cert_});
  const auto responses = FetchAllAtOnce(curl, io);
  int ok = 0, h2 = 0;
  std::string first_bad;  // one failure in full, not twenty alike
  for (int i = 0; i < kFiles; ++i) {
    const HttpResponse& r = responses[i];
    const bool good = r.curl_code == CURLE_OK && r.status == 200 && r.body == Body(i);
    ok += good ? 1 : 0;
    h2 += r.http_version == CURL_HTTP_VERSION_2_0 ? 1 : 0;
    if (first_bad.empty() && (!good || r.http_version != CURL_HTTP_VERSION_2_0)) {
      first_bad = File(i) + ": curl_code " + std::to_string(r.curl_code) + " (" + r.error +
                  "), status " + std::to_string(r.status) + ", http_version " +
                  std::to_string(r.http_version) + " (CURL_HTTP_VERSION_2_0 is " +
                  std::to_string(CURL_HTTP_VERSION_2_0) + "), body \"" + r.body + "\"";
    }
  }
  EXPECT_EQ(ok, kFiles) << "answers with status 200 and the file's body; first bad one: "
                        << first_bad;
  EXPECT_EQ(h2, kFiles) << "answers over HTTP/2; first bad one: " << first_bad;
}

TEST_F(CurlMultiHttp2, ConcurrentRequestsShareOneMultiplexedConnection) {
  boost::asio::io_context io;
  // Room for many HTTP/1.1 connections: only multiplexing keeps it at one.
  CurlMulti curl(io, {.max_connections_per_host = 16, .max_connections = 16, .ca_file = cert_});
  const auto responses = FetchAllAtOnce(curl, io);
  int ok = 0;
  for (const auto& r : responses) ok += r.status == 200 ? 1 : 0;
  EXPECT_EQ(ok, kFiles);
  // CURLOPT_PIPEWAIT makes the transfers wait for the first connection's ALPN answer; with
  // h2 all of them then run as streams on it.
  EXPECT_EQ(curl.connections_opened(), 1);
}

TEST_F(CurlMultiHttp2, AnUntrustedCertificateIsRefused) {
  // The same server without our CA: the system's CAs do not know the throwaway certificate.
  boost::asio::io_context io;
  CurlMulti curl(io, {});
  HttpResponse r;
  curl.Start({"GET", Url(File(0)), {}, "", 10'000ms}, [&](HttpResponse got) {
    r = std::move(got);
    io.stop();
  });
  io.run_for(20s);
  EXPECT_EQ(r.curl_code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_EQ(r.status, 0);
}

}  // namespace
}  // namespace ghl::ghl_client
