// CsvTable: one CSV file's contents, indexed. The header; for every record its byte span,
// line, key and whether it could be read; the keys of the readable rows. Cells are parsed
// again when asked for (Cells), so a large file costs its bytes plus a small index, and a
// rewrite copies the records it does not touch byte for byte.
//
// How a CSV row becomes a connectors::Row (the connector's documented semantics):
//   - every named column is a field; an empty cell is null, any other cell is its text;
//   - the key is the key column's text; a composite key is the JSON array of the key
//     columns' texts (["acme","42"]);
//   - the version is a SHA-256 over the non-empty (column, text) pairs in column-name
//     order, so column order and added empty columns do not change it;
//   - with a soft-delete column, a row whose flag is true, yes, y, t or 1 (any case) is
//     deleted.
// A record is rejected (reported, never taken as deleted) when it cannot be parsed, is not
// UTF-8, has another field count than the header, lacks its key, or shares its key with
// another record (every occurrence is rejected: neither can be trusted).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/connector.h"
#include "core/result.h"

namespace ghl::connectors::csv {

// What the sync's mapping and the resource options say about the file's shape.
struct CsvShape {
  char delimiter = ',';
  std::vector<std::string> key_columns;
  std::string soft_delete_column;  // "" when not used
  std::string label;               // how rejected rows name the file: "contacts.csv"
};

class CsvTable {
 public:
  struct Record {
    std::size_t begin = 0, end = 0;  // span in bytes() (see CsvRecord)
    std::size_t line = 0;
    std::string key;  // "" when it has none (or could not be read)
    bool ok = false;  // readable, keyed and unique
  };

  // Indexes `bytes` (the whole file). Fails when the file cannot be used at all: no header,
  // an unreadable header, duplicate column names, a key or soft-delete column missing.
  static Result<CsvTable> Parse(std::string bytes, const CsvShape& shape);
  // A table for a file that does not exist yet: just the header `columns`.
  static Result<CsvTable> Empty(const std::vector<std::string>& columns, const CsvShape& shape);
  CsvTable(CsvTable&&) = default;
  CsvTable& operator=(CsvTable&&) = default;
  CsvTable(const CsvTable&) = delete;  // index_ points into records_
  CsvTable& operator=(const CsvTable&) = delete;

  const CsvShape& shape() const { return shape_; }
  const std::string& bytes() const { return bytes_; }
  const std::vector<std::string>& header() const { return header_; }
  std::optional<std::size_t> Column(const std::string& name) const;
  const std::vector<Record>& records() const { return records_; }
  const std::vector<RejectedRow>& rejected() const { return rejected_; }
  std::size_t header_end() const { return header_end_; }   // bytes before the first record
  std::size_t tail() const { return tail_; }               // trailing blank lines begin here
  const std::string& newline() const { return newline_; }  // the header's line terminator

  // The readable row with `key`, if any.
  std::optional<std::size_t> Find(const std::string& key) const;
  // Why `key` cannot be written safely ("" when it can): it belongs to a rejected record.
  std::string Blocked(const std::string& key) const;

  // The cells of readable record `i`, in header order.
  std::vector<std::string> Cells(std::size_t i) const;
  // Calls `visit(i, cells)` for each readable record i in [from, to), reading them in one go.
  void ForEachRow(std::size_t from, std::size_t to,
                  const std::function<void(std::size_t, std::vector<std::string>&)>& visit) const;
  // The key the cells spell ("" when a key cell is empty).
  std::string KeyOf(const std::vector<std::string>& cells) const;
  // The row the cells make (key, fields, version, deleted).
  Row MakeRow(const std::vector<std::string>& cells) const;

 private:
  explicit CsvTable(const CsvShape& shape) : shape_(shape) {}
  Result<std::size_t> ReadHeader(std::size_t body);  // returns the first record's line
  void ReadRecords(std::size_t first_line, std::map<std::size_t, std::string>& reasons);
  void RejectDuplicates(std::map<std::size_t, std::string>& reasons);

  CsvShape shape_;
  std::string bytes_;
  std::vector<std::string> header_;
  std::map<std::string, std::size_t> columns_;  // named columns only
  std::vector<std::size_t> key_cells_;
  std::optional<std::size_t> soft_delete_cell_;
  std::vector<std::size_t> hash_order_;  // named columns, by name
  std::size_t header_end_ = 0;
  std::size_t tail_ = 0;
  std::string newline_ = "\n";
  std::vector<Record> records_;
  std::vector<RejectedRow> rejected_;
  std::unordered_map<std::string_view, std::size_t> index_;  // key -> readable record
  std::unordered_map<std::string, std::string> blocked_;     // key -> why it is unsafe
};

// SHA-256 of `bytes`, as 64 hex digits.
std::string ContentHash(std::string_view bytes);

// A 128-bit random key in the UUID v4 text form, for rows created without a key.
std::string NewKey();

}  // namespace ghl::connectors::csv
