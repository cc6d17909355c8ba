// A thin RAII wrapper over the SQLite C API: one connection (Db), its prepared statements
// (Statement), plain SQL execution and transactions. Every failure is a Result whose
// message names the database file and carries SQLite's own message.
//
// Thread-safety: a Db and its Statements belong to one thread at a time (the state store
// has one writer); nothing here locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ghl::state::sqlite {

class Db;

// A prepared statement. Bind indexes are 1-based (as in SQL's ?1); column indexes are
// 0-based. REQUIRES: destroyed before the Db that prepared it is closed.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Result<void> BindInt64(int index, std::int64_t value);
  Result<void> BindText(int index, std::string_view value);
  Result<void> BindNull(int index);

  // Advances one row: true when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring any rows.
  Result<void> Run();
  // Makes the statement ready to run again and clears its bindings.
  void Reset();

  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  std::int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL

 private:
  friend class Db;
  Statement(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Result<void> CheckBind(int rc, int index);

  Db* db_;
  sqlite3_stmt* stmt_;
};

// A value bound by name (":now") wherever a statement passed to Db::Exec uses it.
struct TextParam {
  const char* name;
  std::string_view value;
};

// One connection to one database file.
class Db {
 public:
  // Opens an existing file read-write; never creates it (the state store creates the file
  // itself, so that it decides the file's mode). `busy_timeout`: how long a statement waits
  // for another connection's lock before failing with "database is locked".
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path,
                                          std::chrono::milliseconds busy_timeout);

  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  const std::filesystem::path& path() const { return path_; }

  // Runs one or more ';'-separated statements, discarding any rows. Each TextParam is bound
  // in every statement that names it.
  Result<void> Exec(std::string_view sql, std::initializer_list<TextParam> params = {});
  Result<Statement> Prepare(std::string_view sql);
  // The first column of the first row. A query that returns no row is an error.
  Result<std::int64_t> QueryInt64(std::string_view sql);
  Result<std::string> QueryText(std::string_view sql);

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT. If `body` returns an error the
  // transaction is rolled back and that error returned; if it throws, the transaction is
  // rolled back and the exception rethrown. Transactions do not nest: calling this while a
  // transaction is open (from a body, or after a manual BEGIN) returns an error and leaves
  // the open transaction alone.
  Result<void> Transaction(const std::function<Result<void>()>& body);
  bool InTransaction() const;

  // The extended result code of the last failed call (SQLITE_NOTADB, SQLITE_CORRUPT, ...).
  int LastErrorCode() const;

  // Closes the connection; later calls fail with "closed". Idempotent. Fails (and stays
  // open) while statements prepared on it are alive.
  Result<void> Close();

  // Formats a failure of `doing` with SQLite's current message.
  Error Fail(std::string_view doing) const;

 private:
  friend class Statement;
  Db(std::filesystem::path path, sqlite3* handle, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), handle_(handle), busy_timeout_(busy_timeout) {}
  static int OnBusy(void* self, int count);
  Result<void> CheckOpen() const;
  void Rollback();
  // Prepares `sql` and steps to its first row; an error when there is none.
  Result<Statement> QueryRow(std::string_view sql);

  std::filesystem::path path_;
  sqlite3* handle_;  // null once closed
  std::chrono::milliseconds busy_timeout_;
  std::chrono::steady_clock::time_point busy_since_;
};

}  // namespace ghl::state::sqlite
