// CsvEdit: a batch of write operations applied to a CsvTable in memory, then rendered as
// the new file. Pure: no IO.
//
// Semantics (what Write promises):
//   - an upsert of an existing key changes only the given columns; other cells, the column
//     order and every record it does not touch keep their bytes exactly;
//   - an upsert of a new key appends a row, empty in the columns it does not give;
//   - an upsert with an empty key takes the key from the key columns among its fields, or
//     else (single key column) a new random key (NewKey);
//   - a column that is not in the header fails the operation (fatal), naming it; so does a
//     key that belongs to a rejected record (a duplicate, a broken line): fix the file;
//   - a delete removes the row, or with a soft-delete column sets that column to "true";
//     deleting a key that is not there succeeds;
//   - values are written as text: a string as is, null as an empty cell, a number, boolean
//     or list as its JSON text (42, 1.5, true, ["a","b"]); the mapping's transforms turn
//     text into typed values on the way in.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/connector.h"
#include "connectors/csv/csv_table.h"
#include "core/result.h"

namespace ghl::connectors::csv {

// A value as the text of a CSV cell.
std::string CellText(const Value& value);

class CsvEdit {
 public:
  // `table` must outlive the edit.
  explicit CsvEdit(const CsvTable& table) : table_(table) {}

  // Applies one operation; returns the row's key (assigned, for a create without one) or
  // why the operation cannot be applied (nothing of it is applied then).
  Result<std::string> Apply(const WriteOp& op);

  // The row's version after every operation applied so far ("" when it is gone).
  std::string VersionOf(const std::string& key) const;

  // True when some operation changed a cell or a row.
  bool changed() const { return changed_; }

  // The new file: the header and untouched records as they were, edited records rewritten,
  // new rows appended (in the header's line terminator style).
  std::string Render() const;

 private:
  // Where a key's current row lives: a record of the table or a new row.
  struct Place {
    bool added = false;
    std::size_t index = 0;
  };
  Result<std::string> Upsert(const WriteOp& op);
  Result<std::string> Delete(const WriteOp& op);
  Result<std::string> KeyFor(const WriteOp& op) const;
  Result<std::vector<std::pair<std::size_t, std::string>>> CellsToSet(const WriteOp& op,
                                                                      const std::string& key) const;
  std::optional<Place> Locate(const std::string& key) const;  // nullopt: no such row
  std::vector<std::string> CurrentCells(const Place& place) const;
  void Store(const Place& place, std::vector<std::string> cells);

  const CsvTable& table_;
  // Edited records: new cells, or nullopt when deleted.
  std::map<std::size_t, std::optional<std::vector<std::string>>> edited_;
  std::vector<std::optional<std::vector<std::string>>> added_;  // nullopt: deleted again
  std::unordered_map<std::string, std::size_t> added_keys_;
  bool changed_ = false;
};

}  // namespace ghl::connectors::csv
