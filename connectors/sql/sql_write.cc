// SqlConnector::Write and its ops: one transaction per call, one savepoint per op (see the
// contract in sql_connector.h).
#include "connectors/sql/cursor.h"
#include "connectors/sql/sql_connector.h"
#include "connectors/sql/values.h"

namespace ghl::connectors::sql {
namespace {

WriteResult Fatal(std::string message, std::string key) {
  return {Outcome::kFatal, std::move(message), std::move(key), ""};
}

}  // namespace

std::vector<WriteResult> SqlConnector::Write(const std::vector<WriteOp>& ops) {
  std::vector<WriteResult> results(ops.size());
  auto all = [&](Outcome outcome, const std::string& message) {
    for (std::size_t i = 0; i < ops.size(); ++i) results[i] = {outcome, message, ops[i].key, ""};
    return results;
  };
  if (!source_.table) {
    return all(Outcome::kFatal, Describe() +
                                    ": the source is a query, which is read only: writes are "
                                    "refused (configure `table:` to write)");
  }
  if (ops.empty()) return results;
  if (auto p = Prepare(); !p) return all(Outcome::kRetry, Fail("write", p.error()).message);
  if (auto b = driver_->Begin(); !b) {
    return all(Outcome::kRetry, Fail("begin a transaction", b.error()).message);
  }
  // A failure that is not the op's own: roll everything back, retry the whole batch.
  auto abort = [&](const std::string& doing, const Error& error) {
    const bool retry = driver_->LastErrorRetryable();
    const std::string message = Fail(doing, error).message + "; the batch was rolled back";
    (void)driver_->Run("ROLLBACK", {});
    return all(retry ? Outcome::kRetry : Outcome::kFatal, message);
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (auto s = driver_->Run("SAVEPOINT ghl_op", {}); !s) return abort("savepoint", s.error());
    auto applied = Apply(ops[i]);
    if (!applied && driver_->LastErrorRetryable()) {
      return abort("write op " + std::to_string(i + 1), applied.error());
    }
    results[i] = applied ? std::move(applied.value()) : Fatal(applied.error().message, ops[i].key);
    if (results[i].outcome != Outcome::kOk) {
      results[i].message = Describe() + ": " + results[i].message;
      if (auto r = driver_->Run("ROLLBACK TO SAVEPOINT ghl_op", {}); !r) {
        return abort("roll back op " + std::to_string(i + 1), r.error());
      }
    }
    if (auto r = driver_->Run("RELEASE SAVEPOINT ghl_op", {}); !r) {
      return abort("release savepoint", r.error());
    }
  }
  if (auto c = driver_->Run("COMMIT", {}); !c) return abort("commit", c.error());
  return results;
}

Result<WriteResult> SqlConnector::Apply(const WriteOp& op) {
  if (!op.expect_version.empty() && !op.key.empty()) {
    // Compare-and-set: the row, locked for the rest of the transaction, must still be the
    // version the write was decided on.
    if (auto parts = DecodeKey(op.key, source_.key_columns.size())) {
      const Sql sql = statements_->LockByKey(*parts);
      auto rs = driver_->Run(sql.text, sql.params);
      if (!rs) return rs.error();
      auto row = rs->rows.empty() ? std::nullopt : MakeRow(*rs, 0);
      std::string now = row ? row->version : "";
      if (now != op.expect_version) {
        return WriteResult{Outcome::kConflict, "the row changed since this write was decided",
                           op.key, std::move(now)};
      }
    }
  }
  return op.kind == WriteOp::Kind::kDelete ? Remove(op) : Upsert(op);
}

Result<void> SqlConnector::CheckColumns(const mapping::Fields& fields) const {
  for (const auto& [name, value] : fields) {
    if (!catalog_->Has(name)) {
      std::string columns;
      for (const auto& c : catalog_->columns) columns += (columns.empty() ? "" : ", ") + c;
      return Error{"column '" + name + "' is not in " + source_.label +
                   " (its columns: " + columns + ")"};
    }
  }
  return Ok();
}

Result<std::optional<std::vector<std::string>>> SqlConnector::KeyOf(const WriteOp& op) const {
  const auto& columns = source_.key_columns;
  if (op.key.empty()) {
    // No key: the fields may carry it (an external id the mapping writes); else the table
    // assigns one.
    std::vector<std::string> parts;
    for (const auto& c : columns) {
      auto it = op.fields.find(c);
      if (it == op.fields.end() || mapping::IsNull(it->second)) {
        return std::optional<std::vector<std::string>>();
      }
      parts.push_back(ValueText(it->second));
    }
    return std::optional(parts);
  }
  auto parts = DecodeKey(op.key, columns.size());
  if (!parts) {
    return Error{"key '" + op.key + "' is not a JSON array of " + std::to_string(columns.size()) +
                 " values, one per key column"};
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto it = op.fields.find(columns[i]);
    if (it != op.fields.end() && !mapping::IsNull(it->second) &&
        ValueText(it->second) != (*parts)[i]) {
      return Error{"field '" + columns[i] + "' is '" + ValueText(it->second) +
                   "' but the key is '" + op.key + "': a row's key cannot change"};
    }
  }
  return std::optional(std::move(*parts));
}

Result<WriteResult> SqlConnector::Upsert(const WriteOp& op) {
  if (auto c = CheckColumns(op.fields); !c) return Fatal(c.error().message, op.key);
  auto key = KeyOf(op);
  if (!key) return Fatal(key.error().message, op.key);
  if (!key->has_value()) {
    const Sql insert = statements_->InsertReturningKey(op.fields);
    auto rs = driver_->Run(insert.text, insert.params);
    if (!rs) return rs.error();
    std::vector<std::string> parts;
    for (const auto& cell : rs->rows.empty() ? std::vector<Value>() : rs->rows[0]) {
      if (mapping::IsNull(cell)) break;
      parts.push_back(ValueText(cell));
    }
    if (parts.size() != source_.key_columns.size()) {
      return Fatal(
          "the table assigned no key to the new row: give the key column a default "
          "(a sequence, an identity, INTEGER PRIMARY KEY) or map the key",
          op.key);
    }
    return ReadBack(parts, true);
  }
  mapping::Fields rest = op.fields;
  for (const auto& c : source_.key_columns) rest.erase(c);
  const Sql upsert = statements_->Upsert(**key, rest);
  if (auto rs = driver_->Run(upsert.text, upsert.params); !rs) return rs.error();
  return ReadBack(**key, true);
}

Result<WriteResult> SqlConnector::Remove(const WriteOp& op) {
  auto parts = DecodeKey(op.key, source_.key_columns.size());
  if (op.key.empty() || !parts) {
    return Fatal("a delete needs the key of an existing row, got '" + op.key + "'", op.key);
  }
  const Sql sql =
      source_.soft_delete.empty() ? statements_->Delete(*parts) : statements_->SoftDelete(*parts);
  if (auto rs = driver_->Run(sql.text, sql.params); !rs) return rs.error();
  return ReadBack(*parts, false);
}

Result<WriteResult> SqlConnector::ReadBack(const std::vector<std::string>& key, bool must_exist) {
  const Sql sql = statements_->SelectByKey(key);
  auto rs = driver_->Run(sql.text, sql.params);
  if (!rs) return rs.error();
  if (rs->rows.empty()) {
    if (must_exist) {
      return Fatal("the row is not there after the write (a trigger or rule removed it?)",
                   EncodeKey(key));
    }
    return WriteResult{Outcome::kOk, "", EncodeKey(key), ""};
  }
  auto row = MakeRow(*rs, 0);
  return WriteResult{Outcome::kOk, "", row->key, row->version};
}

}  // namespace ghl::connectors::sql
