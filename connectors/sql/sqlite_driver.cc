#include "connectors/sql/sqlite_driver.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>

#include "connectors/sql/values.h"

namespace ghl::connectors::sql {
namespace {

constexpr sqlite3_int64 kExactIntegers = sqlite3_int64{1} << 53;

bool Textual(Kind k) { return k == Kind::kText || k == Kind::kJson || k == Kind::kTimestamp; }

// Failures the data is not to blame for: retry later.
bool Retryable(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return true;
    default:
      return false;
  }
}

// Failures after which the connection is reopened (the file may have been replaced).
bool Reopen(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_IOERR || primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT ||
         primary == SQLITE_CANTOPEN;
}

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

int Bind(sqlite3_stmt* s, int index, const Value& v) {
  if (mapping::IsNull(v)) return sqlite3_bind_null(s, index);
  if (const auto* d = std::get_if<double>(&v)) {
    if (*d == std::trunc(*d) && std::fabs(*d) < 9.2e18) {
      return sqlite3_bind_int64(s, index, static_cast<sqlite3_int64>(*d));
    }
    return sqlite3_bind_double(s, index, *d);
  }
  if (const auto* b = std::get_if<bool>(&v)) return sqlite3_bind_int(s, index, *b ? 1 : 0);
  if (const auto* str = std::get_if<std::string>(&v)) {
    return sqlite3_bind_text64(s, index, str->data(), str->size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  const std::string json = ValueText(v);
  return sqlite3_bind_text64(s, index, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

Value Cell(sqlite3_stmt* s, int column, Kind kind) {
  switch (sqlite3_column_type(s, column)) {
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_INTEGER: {
      const sqlite3_int64 i = sqlite3_column_int64(s, column);
      if (kind == Kind::kBool) return i != 0;
      if (Textual(kind) || i > kExactIntegers || i < -kExactIntegers) return std::to_string(i);
      return static_cast<double>(i);
    }
    case SQLITE_FLOAT: {
      const double d = sqlite3_column_double(s, column);
      if (kind == Kind::kBool) return d != 0;
      if (Textual(kind)) return NumberText(d);
      return d;
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(s, column));
      return std::string(p == nullptr ? "" : p,
                         static_cast<size_t>(sqlite3_column_bytes(s, column)));
    }
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
      return std::string(p == nullptr ? "" : p,
                         static_cast<size_t>(sqlite3_column_bytes(s, column)));
    }
  }
}

class SqliteDriver : public Driver {
 public:
  SqliteDriver(std::filesystem::path path, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), busy_timeout_(busy_timeout) {}
  ~SqliteDriver() override { Close(); }

  const char* type() const override { return "sqlite"; }
  std::string Where() const override { return path_.string(); }
  std::string Placeholder(int index) const override { return "?" + std::to_string(index); }
  bool LastErrorRetryable() const override { return retryable_; }
  std::uint64_t reconnects() const override { return opened_ > 1 ? opened_ - 1 : 0; }

  Result<void> Connect() override {
    if (db_ != nullptr) return Ok();
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      retryable_ = true;
      return Error{"cannot open " + path_.string() + ": " + message +
                   " (the file must exist and be writable)"};
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(std::min<int64_t>(busy_timeout_.count(), INT_MAX)));
    db_ = db;
    ++opened_;
    retryable_ = false;
    return Ok();
  }

  Result<ResultSet> Run(const std::string& sql, const std::vector<Value>& params) override {
    if (db_ == nullptr) {
      retryable_ = true;
      return Error{"not connected to " + path_.string()};
    }
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
    Stmt stmt(raw);
    if (rc != SQLITE_OK) return Failed(rc);
    for (size_t i = 0; i < params.size(); ++i) {
      rc = Bind(raw, static_cast<int>(i + 1), params[i]);
      if (rc != SQLITE_OK) return Failed(rc);
    }
    ResultSet rs;
    const int columns = sqlite3_column_count(raw);
    for (int c = 0; c < columns; ++c) {
      rs.names.emplace_back(sqlite3_column_name(raw, c));
      rs.kinds.push_back(SqliteKind(sqlite3_column_decltype(raw, c)));
    }
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<Value> row;
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) row.push_back(Cell(raw, c, rs.kinds[c]));
      rs.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return Failed(rc);
    retryable_ = false;
    return rs;
  }

  Result<void> Begin() override {
    auto r = Run("BEGIN IMMEDIATE", {});
    if (!r) return r.error();
    return Ok();
  }

  Result<std::vector<std::vector<std::string>>> UniqueKeys(const TableName& table) override {
    const Value schema = table.schema.empty() ? std::string("main") : table.schema;
    std::vector<std::vector<std::string>> keys;
    auto pk = Run("SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk",
                  {table.table, schema});
    if (!pk) return pk.error();
    if (!pk->rows.empty()) keys.push_back(Names(*pk));
    auto indexes =
        Run("SELECT name FROM pragma_index_list(?1, ?2) WHERE \"unique\" = 1 AND partial = 0",
            {table.table, schema});
    if (!indexes) return indexes.error();
    for (const auto& index : indexes->rows) {
      auto columns = Run("SELECT name FROM pragma_index_info(?1, ?2)", {index[0], schema});
      if (!columns) return columns.error();
      keys.push_back(Names(*columns));
    }
    return keys;
  }

 private:
  static std::vector<std::string> Names(const ResultSet& rs) {
    std::vector<std::string> out;
    for (const auto& row : rs.rows) out.push_back(ValueText(row[0]));  // NULL: an expression
    return out;
  }

  Error Failed(int rc) {
    retryable_ = Retryable(rc);
    std::string message = path_.string() + ": " + sqlite3_errmsg(db_);
    if ((rc & 0xff) == SQLITE_BUSY) {
      message += " (another connection held the lock longer than busy_timeout)";
    }
    if (Reopen(rc)) Close();
    return Error{message};
  }

  void Close() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  std::filesystem::path path_;
  std::chrono::milliseconds busy_timeout_;
  sqlite3* db_ = nullptr;
  std::uint64_t opened_ = 0;
  bool retryable_ = false;
};

bool Contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

Kind SqliteKind(const char* declared) {
  if (declared == nullptr || *declared == '\0') return Kind::kOther;
  std::string t(declared);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
  if (Contains(t, "BOOL")) return Kind::kBool;
  if (Contains(t, "TIMESTAMP") || Contains(t, "DATETIME") || t == "DATE") return Kind::kTimestamp;
  if (Contains(t, "JSON")) return Kind::kJson;
  if (Contains(t, "INT")) return Kind::kInteger;
  if (Contains(t, "CHAR") || Contains(t, "CLOB") || Contains(t, "TEXT")) return Kind::kText;
  if (Contains(t, "BLOB")) return Kind::kOther;
  if (Contains(t, "REAL") || Contains(t, "FLOA") || Contains(t, "DOUB")) return Kind::kReal;
  return Kind::kNumeric;
}

std::unique_ptr<Driver> MakeSqliteDriver(std::filesystem::path path,
                                         std::chrono::milliseconds busy_timeout) {
  return std::make_unique<SqliteDriver>(std::move(path), busy_timeout);
}

}  // namespace ghl::connectors::sql
