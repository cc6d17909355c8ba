#include "connectors/sql/sql_connector.h"

#include <algorithm>
#include <set>

#include "connectors/sql/cursor.h"
#include "connectors/sql/values.h"

namespace ghl::connectors::sql {
namespace {

constexpr std::size_t kMaxRejectedReported = 100;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

SqlConnector::SqlConnector(std::unique_ptr<Driver> driver, Source source)
    : driver_(std::move(driver)), source_(std::move(source)) {}

std::string SqlConnector::Describe() const {
  return std::string(driver_->type()) + ":" + driver_->Where() + "/" + source_.label;
}

Error SqlConnector::Fail(const std::string& doing, const Error& error) {
  if (driver_->LastErrorRetryable()) {
    ++retryable_errors_;
    statements_.reset();
    catalog_.reset();
  }
  return Error{Describe() + ": " + doing + ": " + error.message};
}

Result<void> SqlConnector::Prepare() {
  if (statements_) return Ok();
  if (auto c = driver_->Connect(); !c) return c.error();
  auto rs = driver_->Run("SELECT * FROM " + FromItem(source_) + " LIMIT 0", {});
  if (!rs) return Error{"cannot read the columns of " + source_.label + ": " + rs.error().message};
  Catalog catalog;
  for (size_t i = 0; i < rs->names.size(); ++i) {
    if (!catalog.kinds.emplace(rs->names[i], rs->kinds[i]).second) {
      return Error{"column '" + rs->names[i] + "' appears twice in " + source_.label +
                   "; give the columns distinct names"};
    }
    catalog.columns.push_back(rs->names[i]);
  }
  std::vector<std::string> wanted = source_.key_columns;
  if (!source_.updated_at.empty()) wanted.push_back(source_.updated_at);
  if (!source_.soft_delete.empty()) wanted.push_back(source_.soft_delete);
  for (const auto& column : wanted) {
    if (!catalog.Has(column)) {
      return Error{"column '" + column + "' is not in " + source_.label +
                   " (its columns: " + JoinNames(catalog.columns) + ")"};
    }
  }
  auto position = [&](const std::string& column) {
    return static_cast<std::size_t>(
        std::find(catalog.columns.begin(), catalog.columns.end(), column) -
        catalog.columns.begin());
  };
  key_index_.clear();
  for (const auto& k : source_.key_columns) key_index_.push_back(position(k));
  updated_at_index_.reset();
  soft_delete_index_.reset();
  if (!source_.updated_at.empty()) updated_at_index_ = position(source_.updated_at);
  if (!source_.soft_delete.empty()) soft_delete_index_ = position(source_.soft_delete);
  by_name_.resize(catalog.columns.size());
  for (std::size_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(),
            [&](std::size_t a, std::size_t b) { return catalog.columns[a] < catalog.columns[b]; });
  catalog_ = std::move(catalog);
  statements_.emplace(source_, *catalog_, *driver_);
  return Ok();
}

std::optional<Row> SqlConnector::MakeRow(ResultSet& rs, std::size_t index) const {
  auto& cells = rs.rows[index];
  std::vector<std::string> parts;
  for (std::size_t k : key_index_) {
    if (mapping::IsNull(cells[k])) return std::nullopt;
    parts.push_back(ValueText(cells[k]));
  }
  Row row;
  row.key = EncodeKey(parts);
  std::string updated_at;
  if (updated_at_index_) updated_at = ValueText(cells[*updated_at_index_]);
  if (soft_delete_index_) {
    row.deleted = FlagSet(cells[*soft_delete_index_], rs.kinds[*soft_delete_index_]);
  }
  for (std::size_t i : by_name_) {  // ascending names: each insert lands at the end
    row.fields.emplace_hint(row.fields.end(), rs.names[i], std::move(cells[i]));
  }
  row.version = RowHash(row.fields);
  if (updated_at_index_) {
    row.version = updated_at + "|" + row.version;
    row.updated_ms = UnixMillis(updated_at).value_or(0);
  }
  return row;
}

Result<ScanPage> SqlConnector::Scan(const std::string& cursor, std::size_t limit) {
  if (auto p = Prepare(); !p) return Fail("scan", p.error());
  const std::size_t page = limit == 0 ? source_.batch_size : std::min(limit, source_.batch_size);
  const bool incremental = !source_.updated_at.empty();
  const Cursor c = ParseCursor(cursor, incremental);
  return incremental ? ScanIncremental(c, page) : ScanFull(c, page);
}

Result<ScanPage> SqlConnector::ScanFull(const Cursor& cursor, std::size_t page) {
  // A cursor that is not a key of this source (the key columns changed) starts over.
  std::optional<std::vector<std::string>> after;
  if (cursor.kind == Cursor::Kind::kAfterKey) {
    after = DecodeKey(cursor.key, source_.key_columns.size());
  }
  const Sql sql = statements_->ScanByKey(after, page);
  auto rs = driver_->Run(sql.text, sql.params);
  if (!rs) return Fail("scan", rs.error());
  ScanPage out;
  out.complete = true;
  for (std::size_t i = 0; i < rs->rows.size(); ++i) {
    if (auto row = MakeRow(*rs, i)) out.rows.push_back(std::move(*row));
  }
  out.done = rs->rows.size() < page;
  if (!out.done) {
    out.cursor = FormatCursor({Cursor::Kind::kAfterKey, "", out.rows.back().key});
    return out;
  }
  if (auto r = AddRejected(out); !r) return r.error();
  out.complete = out.rejected.empty();
  return out;
}

Result<void> SqlConnector::AddRejected(ScanPage& out) {
  const Sql sql = statements_->NullKeys(kMaxRejectedReported);
  auto rs = driver_->Run(sql.text, sql.params);
  if (!rs) return Fail("scan for rows without a key", rs.error());
  for (std::size_t i = 0; i < rs->rows.size(); ++i) {
    out.rejected.push_back({Describe() + " (row " + std::to_string(i + 1) + " with a NULL key)",
                            "a key column (" + JoinNames(source_.key_columns) +
                                ") is NULL; the row cannot be synced"});
  }
  return Ok();
}

Result<ScanPage> SqlConnector::ScanIncremental(const Cursor& cursor, std::size_t page) {
  std::optional<std::string> from;
  std::optional<std::vector<std::string>> after_key;
  const std::size_t key_count = source_.key_columns.size();
  if (cursor.kind == Cursor::Kind::kAfter) {
    from = cursor.updated_at;
    after_key = DecodeKey(cursor.key, key_count);  // not a key (columns changed): inclusive
  } else if (cursor.kind == Cursor::Kind::kResume && source_.overlap.count() > 0) {
    from = ShiftBack(cursor.updated_at, source_.overlap).value_or(cursor.updated_at);
  } else if (cursor.kind == Cursor::Kind::kResume) {
    from = cursor.updated_at;
    if (!cursor.key.empty()) after_key = DecodeKey(cursor.key, key_count);
  }
  const Sql sql = statements_->ScanByUpdatedAt(from, after_key, page);
  auto rs = driver_->Run(sql.text, sql.params);
  if (!rs) return Fail("scan", rs.error());
  ScanPage out;
  for (std::size_t i = 0; i < rs->rows.size(); ++i) {
    if (auto row = MakeRow(*rs, i)) out.rows.push_back(std::move(*row));
  }
  out.done = rs->rows.size() < page;
  Cursor next = cursor;
  if (!out.rows.empty()) {
    next.updated_at = ValueText(out.rows.back().fields.at(source_.updated_at));
    next.key = out.rows.back().key;
  }
  if (!out.done) {
    next.kind = Cursor::Kind::kAfter;
  } else if (next.kind != Cursor::Kind::kStart || !out.rows.empty()) {
    next.kind = Cursor::Kind::kResume;
  }
  out.cursor = FormatCursor(next);
  return out;
}

Result<std::optional<Row>> SqlConnector::Get(const std::string& key) {
  if (auto p = Prepare(); !p) return Fail("read", p.error());
  auto parts = DecodeKey(key, source_.key_columns.size());
  if (!parts) {
    return Error{Describe() + ": key '" + key + "' is not a JSON array of " +
                 std::to_string(source_.key_columns.size()) + " values (" +
                 JoinNames(source_.key_columns) + ")"};
  }
  const Sql sql = statements_->SelectByKey(*parts);
  auto rs = driver_->Run(sql.text, sql.params);
  if (!rs) return Fail("read key " + key, rs.error());
  if (rs->rows.empty()) return std::optional<Row>();
  return MakeRow(*rs, 0);
}

Result<void> SqlConnector::Health() {
  if (auto p = Prepare(); !p) return Fail("health check", p.error());
  if (!source_.table) return Ok();
  auto unique = driver_->UniqueKeys(*source_.table);
  if (!unique) return Fail("health check", unique.error());
  const std::set<std::string> key(source_.key_columns.begin(), source_.key_columns.end());
  for (const auto& columns : *unique) {
    if (std::set<std::string>(columns.begin(), columns.end()) == key) return Ok();
  }
  return Error{Describe() + ": no primary key or unique index on (" +
               JoinNames(source_.key_columns) +
               "): upserts need one, e.g. CREATE UNIQUE INDEX ON " + FromItem(source_) + " (" +
               JoinNames(source_.key_columns) + ")"};
}

}  // namespace ghl::connectors::sql
