#include "connectors/csv/csv_connector.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <thread>

#include "config/schema.h"
#include "connectors/csv/csv_edit.h"

namespace ghl::connectors::csv {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMaxSettleWait{2000};

// A cursor is "<scan id>" (a finished scan: resume point) or "<scan id>:<record>" (a scan
// in progress), the scan id being the hash of the content hash and the shape the file was
// read with. Anything else starts a full scan.
struct Cursor {
  std::string scan_id;
  std::optional<std::size_t> next;  // set while a scan is in progress
};

std::optional<Cursor> ParseCursor(const std::string& text) {
  const std::size_t colon = text.find(':');
  Cursor c{text.substr(0, colon), std::nullopt};
  if (c.scan_id.size() != 64) return std::nullopt;
  if (colon == std::string::npos) return c;
  std::size_t next = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data() + colon + 1, end, next);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  c.next = next;
  return c;
}

milliseconds Age(const FileStamp& stamp) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const auto ns = (now.tv_sec - stamp.modified.tv_sec) * 1'000'000'000LL +
                  (now.tv_nsec - stamp.modified.tv_nsec);
  return std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(ns));
}

std::string Missing(const std::filesystem::path& path) {
  return path.string() +
         " does not exist: create it with a header row naming the columns, or set "
         "`create: true` and `columns` in the mapping's `external:` block";
}

std::vector<WriteResult> AllFailed(const std::vector<WriteOp>& ops, Outcome outcome,
                                   const std::string& message) {
  std::vector<WriteResult> results(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) results[i] = {outcome, message, ops[i].key, ""};
  return results;
}

}  // namespace

CsvConnector::CsvConnector(CsvSettings settings) : settings_(std::move(settings)) {
  std::string shape(1, settings_.shape.delimiter);
  for (const auto& key : settings_.shape.key_columns) shape += '\x1f' + key;
  shape += '\x1e' + settings_.shape.soft_delete_column;
  shape_id_ = ContentHash(shape);
}

Result<void> CsvConnector::CheckSettled(const FileStamp& stamp, const std::string& hash) const {
  if (settings_.settle.count() == 0 || hash == written_hash_) return Ok();
  const milliseconds age = Age(stamp);
  if (age >= settings_.settle || age <= -settings_.settle) return Ok();
  return Error{settings_.path.string() + " was modified " + std::to_string(age.count()) +
               " ms ago; it is read once it has been unchanged for " +
               config::FormatDuration(settings_.settle) +
               " (`settle`), so that a file still being written is not read half-way"};
}

Result<std::shared_ptr<const CsvConnector::Snapshot>> CsvConnector::Load(
    const std::string& unless_scan_id) {
  auto read = ReadWholeFile(settings_.path);
  if (!read.ok()) return read.error();
  if (*read && !CheckSettled((*read)->stamp, ContentHash((*read)->bytes)).ok()) {
    // Modified moments ago: wait out a short `settle` once (up to kMaxSettleWait), then read
    // again. A file written in one go (an export renamed into place) is read now; one
    // still changing, or a long `settle`, is an error and the caller tries again later
    // (without the wait, every write due just after an export failed and backed off).
    // A file that was still changing after the last wait is not waited for again until
    // `settle` has passed: a program rewriting it all the time must not stall the engine's
    // thread (every Scan, Get and Write loads) in wait after wait.
    const milliseconds wait = settings_.settle - Age((*read)->stamp);
    const auto now = std::chrono::steady_clock::now();
    if (wait > milliseconds(0) && wait <= kMaxSettleWait && now >= no_wait_until_) {
      std::this_thread::sleep_for(wait + milliseconds(10));
      read = ReadWholeFile(settings_.path);
      if (!read.ok()) return read.error();
      if (*read && !CheckSettled((*read)->stamp, ContentHash((*read)->bytes)).ok()) {
        no_wait_until_ = std::chrono::steady_clock::now() + settings_.settle;
      }
    }
  }
  if (!*read && !settings_.create) return Error{Missing(settings_.path)};
  auto snapshot = std::make_shared<Snapshot>();
  if (*read) {
    snapshot->stamp = (*read)->stamp;
    snapshot->hash = ContentHash((*read)->bytes);
    snapshot->scan_id = ContentHash(snapshot->hash + shape_id_);
    if (auto settled = CheckSettled(*snapshot->stamp, snapshot->hash); !settled.ok()) {
      return settled.error();
    }
  }
  if (!unless_scan_id.empty() && snapshot->stamp && snapshot->scan_id == unless_scan_id) {
    return std::shared_ptr<const Snapshot>(snapshot);
  }
  if (latest_ && latest_->hash == snapshot->hash &&
      latest_->stamp.has_value() == read->has_value()) {
    snapshot->table = latest_->table;  // same bytes: same index
  } else {
    latest_.reset();  // before parsing: a large file's old index need not live beside the new
    const bool blank = !*read || (*read)->bytes.empty();
    auto table = blank && settings_.create
                     ? CsvTable::Empty(settings_.columns, settings_.shape)
                     : CsvTable::Parse(std::move((*read)->bytes), settings_.shape);
    if (!table.ok()) return table.error();
    snapshot->table = std::make_shared<const CsvTable>(std::move(table).value());
  }
  latest_ = snapshot;
  return std::shared_ptr<const Snapshot>(snapshot);
}

ScanPage CsvConnector::Page(const Snapshot& snapshot, std::size_t from, std::size_t limit) {
  const CsvTable& table = *snapshot.table;
  const auto& records = table.records();
  ScanPage page;
  // The page ends after `limit` readable records (and the unreadable ones after them).
  std::size_t i = from, taken = 0;
  for (; i < records.size() && taken < limit; ++i) taken += records[i].ok ? 1 : 0;
  while (i < records.size() && !records[i].ok) ++i;
  page.rows.reserve(taken);
  table.ForEachRow(from, i, [&](std::size_t, std::vector<std::string>& cells) {
    page.rows.push_back(table.MakeRow(cells));
  });
  if (from == 0) page.rejected = table.rejected();
  page.complete = table.rejected().empty();
  page.done = i >= records.size();
  if (page.done) {
    scan_.reset();
    // The resume point of a clean scan; after a scan with rejected rows, scan in full again.
    page.cursor = page.complete && snapshot.stamp ? snapshot.scan_id : "";
  } else {
    page.cursor = snapshot.scan_id + ":" + std::to_string(i);
  }
  return page;
}

Result<ScanPage> CsvConnector::Scan(const std::string& cursor, std::size_t limit) {
  if (limit == 0) limit = std::numeric_limits<std::size_t>::max();
  const auto c = ParseCursor(cursor);
  if (c && c->next && scan_ && scan_->scan_id == c->scan_id) return Page(*scan_, *c->next, limit);
  auto snapshot = Load(c && !c->next ? c->scan_id : "");
  if (!snapshot.ok()) return snapshot.error();
  const auto& now = *snapshot;
  if (c && !c->next && now->stamp && now->scan_id == c->scan_id) {
    ScanPage unchanged;  // nothing changed since the scan that returned this cursor
    unchanged.cursor = cursor;
    return unchanged;
  }
  // A scan in progress whose reading is gone starts over on the file as it is now: rows
  // seen twice are harmless, rows never seen are not.
  scan_ = now;
  const bool resume = c && c->next && now->scan_id == c->scan_id;
  return Page(*now, resume ? *c->next : 0, limit);
}

Result<std::optional<Row>> CsvConnector::Get(const std::string& key) {
  auto snapshot = Load();
  if (!snapshot.ok()) return snapshot.error();
  const CsvTable& table = *(*snapshot)->table;
  if (auto why = table.Blocked(key); !why.empty()) {
    return Error{"the row with key '" + key + "' cannot be read: " + why};
  }
  auto index = table.Find(key);
  if (!index) return std::optional<Row>();
  return std::optional<Row>(table.MakeRow(table.Cells(*index)));
}

std::vector<WriteResult> CsvConnector::Write(const std::vector<WriteOp>& ops) {
  auto snapshot = Load();
  if (!snapshot.ok()) return AllFailed(ops, Outcome::kRetry, snapshot.error().message);
  CsvEdit edit(*(*snapshot)->table);
  std::vector<WriteResult> results(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].expect_version.empty()) {
      // The row as this batch has left it so far, against what the write expects.
      std::string now = edit.VersionOf(ops[i].key);
      if (now != ops[i].expect_version) {
        results[i] = {Outcome::kConflict, "the row changed since this write was decided",
                      ops[i].key, std::move(now)};
        continue;
      }
    }
    auto key = edit.Apply(ops[i]);
    results[i] = key.ok() ? WriteResult{Outcome::kOk, "", *key, ""}
                          : WriteResult{Outcome::kFatal, key.error().message, ops[i].key, ""};
  }
  for (auto& r : results) {
    if (r.outcome == Outcome::kOk) r.version = edit.VersionOf(r.key);
  }
  if (!edit.changed()) return results;
  const std::string bytes = edit.Render();
  if (auto replaced = ReplaceFile(settings_.path, bytes, (*snapshot)->stamp); !replaced.ok()) {
    for (auto& r : results) {
      if (r.outcome == Outcome::kOk) r = {Outcome::kRetry, replaced.error().message, r.key, ""};
    }
    return results;
  }
  written_hash_ = ContentHash(bytes);
  return results;
}

Result<void> CsvConnector::Health() {
  auto read = ReadWholeFile(settings_.path);
  if (!read.ok()) return read.error();
  if (!*read) {
    const auto dir = settings_.path.parent_path();
    if (!settings_.create) return Error{Missing(settings_.path)};
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Error{"directory " + dir.string() + " does not exist (the connector's `dir`)"};
    }
    return Ok();
  }
  if ((*read)->bytes.empty() && settings_.create) return Ok();
  auto table = CsvTable::Parse(std::move((*read)->bytes), settings_.shape);
  if (!table.ok()) return table.error();
  return Ok();
}

std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors) {
  auto settings = ParseSettings(spec, errors);
  if (!settings) return nullptr;
  return std::make_unique<CsvConnector>(std::move(*settings));
}

std::string ReferenceMarkdown() { return OptionsMarkdown(); }

}  // namespace ghl::connectors::csv
