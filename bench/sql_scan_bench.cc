// sql_scan_bench: scan cost of the SQL connectors (issue 7) on tables of 100,000 and
// 1,000,000 rows, in SQLite and in a throwaway PostgreSQL server.
//
//   full, no changes   a full scan (row hashes), then a second one compared with the first's
//                      versions, as the engine does each poll: the second one is timed
//   full, 1% changed   the same with 1% of the rows updated between the two scans
//   incremental        1,000 rows changed after the saved cursor, read with updated_at
//
// Each measurement runs in a child process (this binary with --child), so that its peak
// RSS (wait4) is its own. Prints a Markdown table. Run through bench/sql_scan.sh.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <unordered_map>

#include "connectors/sql/sql.h"
#include "tests/support/postgres.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string type;   // sqlite | postgresql
  std::string where;  // a file path or a dsn
  std::string table;
};

// Runs `sql` on the target outside the connector (setup, other programs' changes).
void Exec(const Target& t, const std::string& sql) {
  if (t.type == "sqlite") {
    sqlite3* db = nullptr;
    sqlite3_open(t.where.c_str(), &db);
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      fmt::print(stderr, "sqlite: {}\n", error);
      std::exit(1);
    }
    sqlite3_close(db);
    return;
  }
  PGconn* conn = PQconnectdb(t.where.c_str());
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    fmt::print(stderr, "postgresql: {}\n", PQerrorMessage(conn));
    std::exit(1);
  }
  PQclear(res);
  PQfinish(conn);
}

// Row i changed at 2024-01-01T00:00:00Z + i seconds.
std::string Timestamp(int64_t i) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::sys_seconds(std::chrono::seconds(1704067200 + i)));
}

void Populate(const Target& t, int64_t rows) {
  const std::string n = std::to_string(rows);
  if (t.type == "sqlite") {
    Exec(t, "PRAGMA journal_mode = WAL; CREATE TABLE " + t.table +
                " (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, amount NUMERIC,"
                " active BOOLEAN, updated_at TEXT NOT NULL);"
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < " +
                n + ") INSERT INTO " + t.table +
                " SELECT i, 'name ' || i, 'user' || i || '@example.com', printf('+1555%07d', i),"
                " (i % 1000) / 10.0, i % 2, strftime('%Y-%m-%dT%H:%M:%SZ', 1704067200 + i,"
                " 'unixepoch') FROM s;"
                "CREATE INDEX " +
                t.table + "_changes ON " + t.table + " (updated_at, id);");
    return;
  }
  Exec(t, "CREATE TABLE " + t.table +
              " (id bigint PRIMARY KEY, name text, email text, phone text, amount numeric(12,2),"
              " active boolean, updated_at timestamptz NOT NULL);"
              "INSERT INTO " +
              t.table +
              " SELECT i, 'name ' || i, 'user' || i || '@example.com', '+1555' || lpad(i::text, 7,"
              " '0'), (i % 1000) / 10.0, i % 2 = 0, timestamptz '2024-01-01 00:00:00+00' + i *"
              " interval '1 second' FROM generate_series(1, " +
              n + ") i;CREATE INDEX " + t.table + "_changes ON " + t.table + " (updated_at, id);");
  Exec(t, "VACUUM ANALYZE " + t.table);  // not inside the implicit transaction above
}

std::unique_ptr<ghl::connectors::Connector> Connect(const Target& t, bool incremental) {
  ghl::connectors::ConnectorSpec spec;
  spec.name = "bench";
  spec.type = t.type;
  spec.options = YAML::Load(t.type == "sqlite" ? "{type: sqlite}" : "{type: postgresql}");
  spec.options[t.type == "sqlite" ? "path" : "dsn"] = t.where;
  spec.options_file = "bench";
  spec.options_path = "connectors.bench";
  spec.resource = YAML::Load(incremental ? "{updated_at: updated_at, overlap: 0s}" : "{}");
  spec.resource["table"] = t.table;
  spec.resource_file = "bench";
  spec.resource_path = "external";
  spec.key_columns = {"id"};
  ghl::config::Diagnostics errors;
  auto c = t.type == "sqlite" ? ghl::connectors::sql::CreateSqlite(spec, errors)
                              : ghl::connectors::sql::CreatePostgres(spec, errors);
  if (!c) {
    fmt::print(stderr, "{}\n", ghl::config::Join(errors));
    std::exit(1);
  }
  return c;
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct ScanResult {
  double seconds = 0;
  double cpu_seconds = 0;  // this process only (for PostgreSQL the server's work is not in it)
  size_t rows = 0;
  size_t changed = 0;  // rows whose version differs from `known` (or new)
};

// Scans from `cursor` to the end in pages of `page`, comparing with and updating `known`.
ScanResult ScanAll(ghl::connectors::Connector& c, std::string cursor, size_t page,
                   std::unordered_map<std::string, std::string>& known) {
  ScanResult r;
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  while (true) {
    auto p = c.Scan(cursor, page);
    if (!p.ok()) {
      fmt::print(stderr, "{}\n", p.error().message);
      std::exit(1);
    }
    for (auto& row : p->rows) {
      auto it = known.find(row.key);
      if (it == known.end()) {
        known.emplace(std::move(row.key), std::move(row.version));
        ++r.changed;
      } else if (it->second != row.version) {
        it->second = std::move(row.version);
        ++r.changed;
      }
    }
    r.rows += p->rows.size();
    cursor = p->cursor;
    if (p->done) break;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_seconds = CpuSeconds() - cpu_start;
  return r;
}

// The child: one measurement; writes "seconds rows changed" to `out`.
void Child(const Target& t, const std::string& scenario, int64_t table_rows, size_t page,
           const std::string& out) {
  std::unordered_map<std::string, std::string> known;
  ScanResult r;
  if (scenario == "incremental") {
    known.reserve(2000);
    auto c = Connect(t, true);
    // The cursor the engine saved after its last pass: the newest row.
    const std::string cursor = Timestamp(table_rows) + "|" + std::to_string(table_rows);
    const int64_t step = table_rows / 1000;
    Exec(t, "UPDATE " + t.table + " SET name = name || ' changed', updated_at = '" +
                Timestamp(table_rows + 10) + "' WHERE id % " + std::to_string(step) + " = 0");
    r = ScanAll(*c, cursor, page, known);
  } else {
    known.reserve(static_cast<size_t>(table_rows));
    auto c = Connect(t, false);
    ScanAll(*c, "", page, known);
    if (scenario == "full-1pct") {
      Exec(t, "UPDATE " + t.table + " SET name = name || ' changed' WHERE id % 100 = 0");
    }
    r = ScanAll(*c, "", page, known);  // changes: rows whose version moved since the first
  }
  std::ofstream(out) << r.seconds << " " << r.cpu_seconds << " " << r.rows << " " << r.changed
                     << "\n";
}

struct Measured {
  double seconds = 0;
  size_t rows = 0, changed = 0;
  double cpu_seconds = 0;
  double peak_mib = 0;
};

Measured RunChild(const std::vector<std::string>& args, const std::filesystem::path& out) {
  std::vector<std::string> argv = {"/proc/self/exe", "--child"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--out", out.string()});
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, raw[0], nullptr, nullptr, raw.data(), environ) != 0) std::exit(1);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::exit(1);
  Measured m;
  std::ifstream(out) >> m.seconds >> m.cpu_seconds >> m.rows >> m.changed;
  m.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("SQL connector scan benchmark");
  bool child = false;
  Target target;
  std::string scenario, out;
  int64_t rows = 1'000'000, small_rows = 100'000, table_rows = 0;
  size_t page = 1000;
  app.add_flag("--child", child);
  app.add_option("--type", target.type);
  app.add_option("--where", target.where);
  app.add_option("--table", target.table);
  app.add_option("--scenario", scenario);
  app.add_option("--table-rows", table_rows);
  app.add_option("--out", out);
  app.add_option("--rows", rows, "rows in the large table");
  app.add_option("--small-rows", small_rows, "rows in the small table (incremental only)");
  app.add_option("--page", page, "rows per Scan() call (the engine's limit)");
  CLI11_PARSE(app, argc, argv);
  if (child) {
    Child(target, scenario, table_rows, page, out);
    return 0;
  }

  ghl::testing::TempDir dir;
  ghl::testing::PostgresServer server;
  if (!server.ok()) {
    fmt::print(stderr, "{}\n", server.error());
    return 1;
  }
  fmt::print(
      "\n| database | table rows | scan | rows read | changes found | seconds | client CPU s | "
      "peak RSS MiB |\n"
      "|---|---|---|---|---|---|---|---|\n");
  for (const std::string type : {"sqlite", "postgresql"}) {
    const std::string where = type == "sqlite" ? (dir / "bench.db").string() : server.Dsn();
    for (int64_t n : {small_rows, rows}) {
      const Target t{type, where, "contacts_" + std::to_string(n)};
      const auto setup = Clock::now();
      Populate(t, n);
      fmt::print(stderr, "{}: {} rows loaded in {:.1f} s\n", type, n,
                 std::chrono::duration<double>(Clock::now() - setup).count());
      std::vector<std::string> scenarios = {"incremental"};
      if (n == rows) scenarios = {"full-none", "full-1pct", "incremental"};
      for (const auto& s : scenarios) {
        const Measured m =
            RunChild({"--type", type, "--where", where, "--table", t.table, "--scenario", s,
                      "--table-rows", std::to_string(n), "--page", std::to_string(page)},
                     dir / "result.txt");
        const char* label = s == "full-none"   ? "full, no changes"
                            : s == "full-1pct" ? "full, 1% changed"
                                               : "incremental, 1,000 changed";
        fmt::print("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:.0f} |\n", type, n, label,
                   m.rows, m.changed, m.seconds, m.cpu_seconds, m.peak_mib);
        std::fflush(stdout);
      }
    }
  }
  fmt::print("\nrows per Scan() call: {}; {} cores\n", page, std::thread::hardware_concurrency());
  return 0;
}
