#include "state/sqlite.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <climits>
#include <thread>
#include <utility>

namespace ghl::state::sqlite {

// ---- Statement ------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Result<void> Statement::CheckBind(int rc, int index) {
  if (rc == SQLITE_OK) return Ok();
  return db_->Fail(fmt::format("cannot bind parameter {} of \"{}\"", index, sqlite3_sql(stmt_)));
}

Result<void> Statement::BindInt64(int index, std::int64_t value) {
  return CheckBind(sqlite3_bind_int64(stmt_, index, value), index);
}

Result<void> Statement::BindText(int index, std::string_view value) {
  return CheckBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
}

Result<void> Statement::BindNull(int index) {
  return CheckBind(sqlite3_bind_null(stmt_, index), index);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error error = db_->Fail(fmt::format("\"{}\" failed", sqlite3_sql(stmt_)));
  sqlite3_reset(stmt_);  // so a later Step starts over instead of repeating the error
  return error;
}

Result<void> Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.error();
    if (!*row) return Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

// ---- Db -------------------------------------------------------------------------------

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path,
                                     std::chrono::milliseconds busy_timeout) {
  if (busy_timeout.count() < 0 || busy_timeout.count() > INT_MAX) {
    return Error{fmt::format("state file {}: busy timeout {} ms is out of range", path.string(),
                             busy_timeout.count())};
  }
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    Error error{fmt::format("state file {}: cannot open: {}", path.string(),
                            handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc))};
    sqlite3_close(handle);
    return error;
  }
  sqlite3_extended_result_codes(handle, 1);
  std::unique_ptr<Db> db(new Db(path, handle, busy_timeout));
  sqlite3_busy_handler(handle, &Db::OnBusy, db.get());
  return db;
}

// SQLite's own busy handler (sqlite3_busy_timeout) sleeps in growing steps of up to 100 ms
// while another connection holds the write lock; the webhook writer and the sync engine
// share the state file, so those steps showed up as webhook latency. This handler looks
// again every half millisecond until the timeout.
int Db::OnBusy(void* self, int count) {
  auto* db = static_cast<Db*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) db->busy_since_ = now;
  if (now - db->busy_since_ >= db->busy_timeout_) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(500));
  return 1;
}

Db::~Db() {
  if (handle_ == nullptr) return;
  // close_v2 never fails outright: with statements still alive it defers the close to the
  // last finalize.
  if (sqlite3_close_v2(handle_) != SQLITE_OK) {
    spdlog::error("state file {}: close failed: {}", path_.string(), sqlite3_errmsg(handle_));
  }
}

Error Db::Fail(std::string_view doing) const {
  return Error{fmt::format("state file {}: {}: {}", path_.string(), doing,
                           handle_ != nullptr ? sqlite3_errmsg(handle_) : "connection is closed")};
}

Result<void> Db::CheckOpen() const {
  if (handle_ != nullptr) return Ok();
  return Error{fmt::format("state file {}: connection is closed", path_.string())};
}

int Db::LastErrorCode() const {
  return handle_ != nullptr ? sqlite3_extended_errcode(handle_) : SQLITE_MISUSE;
}

Result<Statement> Db::Prepare(std::string_view sql) {
  if (auto open = CheckOpen(); !open) return open.error();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(handle_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return Fail(fmt::format("cannot prepare \"{}\"", sql));
  }
  if (stmt == nullptr)
    return Error{fmt::format("state file {}: no SQL in \"{}\"", path_.string(), sql)};
  return Statement(this, stmt);
}

Result<void> Db::Exec(std::string_view sql, std::initializer_list<TextParam> params) {
  if (auto open = CheckOpen(); !open) return open.error();
  const char* rest = sql.data();
  const char* const end = sql.data() + sql.size();
  while (rest < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(handle_, rest, static_cast<int>(end - rest), &raw, &next) != SQLITE_OK) {
      return Fail(fmt::format("cannot prepare \"{}\"", std::string_view(rest, end - rest)));
    }
    rest = next;
    if (raw == nullptr) continue;  // only whitespace or a comment was left
    Statement stmt(this, raw);
    for (const TextParam& param : params) {
      if (const int index = sqlite3_bind_parameter_index(raw, param.name); index > 0) {
        if (auto bound = stmt.BindText(index, param.value); !bound) return bound;
      }
    }
    if (auto run = stmt.Run(); !run) return run;
  }
  return Ok();
}

Result<Statement> Db::QueryRow(std::string_view sql) {
  Result<Statement> stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  Result<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row)
    return Error{fmt::format("state file {}: \"{}\" returned no row", path_.string(), sql)};
  return stmt;
}

Result<std::int64_t> Db::QueryInt64(std::string_view sql) {
  Result<Statement> stmt = QueryRow(sql);
  if (!stmt) return stmt.error();
  return stmt->ColumnInt64(0);
}

Result<std::string> Db::QueryText(std::string_view sql) {
  Result<Statement> stmt = QueryRow(sql);
  if (!stmt) return stmt.error();
  return stmt->ColumnText(0);
}

bool Db::InTransaction() const {
  return handle_ != nullptr && sqlite3_get_autocommit(handle_) == 0;
}

void Db::Rollback() {
  if (!InTransaction()) return;  // SQLite already rolled back (e.g. after SQLITE_FULL)
  if (auto rolled = Exec("ROLLBACK"); !rolled) {
    spdlog::error("{}", rolled.error().message);
  }
}

Result<void> Db::Transaction(const std::function<Result<void>()>& body) {
  if (auto open = CheckOpen(); !open) return open;
  if (InTransaction()) {
    return Error{fmt::format(
        "state file {}: a transaction is already open; transactions do not nest", path_.string())};
  }
  if (auto begun = Exec("BEGIN IMMEDIATE"); !begun) return begun;
  Result<void> result;
  try {
    result = body();
  } catch (...) {
    Rollback();
    throw;
  }
  if (!result) {
    Rollback();
    return result;
  }
  if (!InTransaction()) {
    return Error{fmt::format(
        "state file {}: the transaction ended inside its body (a statement failed and SQLite "
        "rolled it back, or the body ran COMMIT/ROLLBACK itself)",
        path_.string())};
  }
  if (auto committed = Exec("COMMIT"); !committed) {
    Rollback();
    return committed;
  }
  return Ok();
}

Result<void> Db::Close() {
  if (handle_ == nullptr) return Ok();
  if (sqlite3_close(handle_) != SQLITE_OK) return Fail("cannot close");
  handle_ = nullptr;
  return Ok();
}

}  // namespace ghl::state::sqlite
