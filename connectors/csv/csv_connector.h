// The CSV connector: one CSV file (RFC 4180, with a header row) as the external side of a
// sync. Options and the row semantics are in csv_options.h, csv_table.h and csv_edit.h.
//
// Scan is a full scan (complete unless some row was rejected) that pages through one
// consistent reading of the file; its final cursor is the file's content hash, and a scan
// from that cursor while the file has not changed returns no rows at once. Write re-reads
// the file, applies the batch and replaces the file atomically, failing (retry) rather than
// overwriting an edit another program made meanwhile.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "connectors/connector.h"
#include "connectors/csv/csv_file.h"
#include "connectors/csv/csv_options.h"
#include "connectors/csv/csv_table.h"
#include "connectors/registry.h"

namespace ghl::connectors::csv {

class CsvConnector final : public Connector {
 public:
  explicit CsvConnector(CsvSettings settings);

  Result<ScanPage> Scan(const std::string& cursor, std::size_t limit) override;
  Result<std::optional<Row>> Get(const std::string& key) override;
  std::vector<WriteResult> Write(const std::vector<WriteOp>& ops) override;
  Result<void> Health() override;
  std::string Describe() const override { return "csv:" + settings_.path.string(); }

 private:
  // One reading of the file, indexed.
  struct Snapshot {
    std::string hash;                // SHA-256 of the bytes, hex ("" for a missing file)
    std::string scan_id;             // what scan cursors name: the bytes read with this shape
    std::optional<FileStamp> stamp;  // nullopt when the file does not exist (create: true)
    std::shared_ptr<const CsvTable> table;
  };
  // Reads the file now (reusing the index when the bytes are the same as last time). When
  // its scan id is `unless_scan_id`, the bytes are not parsed: the snapshot has no table (a
  // rescan of an unchanged million-row file reads and hashes it, nothing more).
  Result<std::shared_ptr<const Snapshot>> Load(const std::string& unless_scan_id = "");
  Result<void> CheckSettled(const FileStamp& stamp, const std::string& hash) const;
  ScanPage Page(const Snapshot& snapshot, std::size_t from, std::size_t limit);

  CsvSettings settings_;
  // The settings that decide how the bytes read (delimiter, key, soft-delete column), hashed
  // into scan cursors: after a change to them an unchanged file is read again in full.
  std::string shape_id_;
  // Until then a file modified moments ago is refused at once, not waited for (it was
  // still changing after the last wait).
  std::chrono::steady_clock::time_point no_wait_until_{};
  std::shared_ptr<const Snapshot> latest_;  // the last reading
  std::shared_ptr<const Snapshot> scan_;    // the reading the current paged scan walks
  std::string written_hash_;                // hash of the file as this connector last wrote it
};

// Validates `spec` (both option blocks) and makes the connector; null after reporting into
// `errors` when anything is wrong. Does no IO.
std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors);

// The csv part of the connector options reference, as Markdown.
std::string ReferenceMarkdown();

}  // namespace ghl::connectors::csv
