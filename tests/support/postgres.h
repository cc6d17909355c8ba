// PostgresServer: a throwaway PostgreSQL cluster for tests and benchmarks. initdb in a temp
// dir, the server on a free 127.0.0.1 port (TCP only, no fsync), stopped and removed when
// the object goes away. initdb refuses to run as root, so as root the binaries run as the
// `postgres` user (setpriv, which execs in place: the server is our direct child).
//
// Needs the Debian `postgresql` package (the binaries under /usr/lib/postgresql/<v>/bin);
// without it ok() is false and error() says what to install.
#pragma once

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl::testing {

class PostgresServer {
 public:
  PostgresServer() {
    bin_ = FindBinDir();
    if (bin_.empty()) {
      error_ = "PostgreSQL is not installed: apt-get install postgresql (scripts/test.sh does)";
      return;
    }
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all |
                                                  std::filesystem::perms::group_exec |
                                                  std::filesystem::perms::others_exec);
    data_ = dir_ / "data";
    std::filesystem::create_directories(data_);
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      if (pw == nullptr || chown(data_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "running as root needs a `postgres` user to own the cluster";
        return;
      }
    }
    auto [code, output] =
        RunToEnd(AsOwner({(bin_ / "initdb").string(), "-D", data_.string(), "-A", "trust", "-U",
                          "postgres", "-E", "UTF8", "--locale=C", "--no-sync"}),
                 {{"LC_ALL", "C"}}, dir_ / "initdb.log");
    if (code != 0) {
      error_ = "initdb failed: " + output;
      return;
    }
    port_ = FreePort();
    if (!Start()) error_ = "the server did not start: " + Log();
  }

  ~PostgresServer() { Stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string Dsn(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db;
  }
  std::string Log() const { return server_ ? server_->Log() : std::string(); }

  // Starts the server (again) on the same port and waits until it accepts connections.
  bool Start() {
    if (server_) return true;
    server_ = std::make_unique<Process>(
        AsOwner({(bin_ / "postgres").string(), "-D", data_.string(), "-p", std::to_string(port_),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c",
                 "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                 "max_connections=40"}),
        std::map<std::string, std::string>{{"LC_ALL", "C"}}, dir_ / "server.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(Dsn().c_str()) == PQPING_OK) return true;
      if (server_->Wait(std::chrono::milliseconds(50))) break;  // exited: failed to start
    }
    return false;
  }

  // Fast shutdown (open sessions are terminated, as in a restart), waits for the exit.
  bool Stop() {
    if (!server_) return true;
    server_->Signal(SIGINT);
    const bool stopped = server_->Wait(std::chrono::seconds(60)).has_value();
    server_.reset();  // SIGKILLs it if it did not stop
    return stopped;
  }

  // Runs `sql` (one or more statements) in database `db`; "" on success, else the error.
  std::string Exec(const std::string& sql, const std::string& db = "postgres") const {
    PGconn* conn = PQconnectdb(Dsn(db).c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PQsetNoticeProcessor(
          conn, [](void*, const char*) {}, nullptr);
      PGresult* res = PQexec(conn, sql.c_str());
      const auto status = PQresultStatus(res);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQerrorMessage(conn);
      PQclear(res);
    }
    PQfinish(conn);
    return error;
  }

 private:
  static std::filesystem::path FindBinDir() {
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(e.path() / "bin" / "initdb")) found.push_back(e.path() / "bin");
    }
    if (found.empty()) return {};
    return *std::max_element(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::stoi(a.parent_path().filename().string()) <
             std::stoi(b.parent_path().filename().string());
    });
  }

  static std::vector<std::string> AsOwner(std::vector<std::string> argv) {
    if (geteuid() != 0) return argv;
    std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                    "--init-groups", "--"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

  TempDir dir_;
  std::filesystem::path bin_, data_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
  std::string error_;
};

}  // namespace ghl::testing
