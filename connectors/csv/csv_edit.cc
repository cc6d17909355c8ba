#include "connectors/csv/csv_edit.h"

#include "connectors/csv/csv_reader.h"

namespace ghl::connectors::csv {
namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// The parts of a key: the key itself, or the texts of a composite key's JSON array.
Result<std::vector<std::string>> SplitKey(const std::string& key, std::size_t columns) {
  if (columns == 1) return std::vector<std::string>{key};
  Value parsed;
  const auto* list =
      mapping::FromJson(key, &parsed) ? std::get_if<mapping::List>(&parsed) : nullptr;
  bool ok = list != nullptr && list->size() == columns;
  for (std::size_t i = 0; ok && i < list->size(); ++i) ok = !(*list)[i].empty();
  if (!ok) {
    return Error{"key " + Quote(key) + " is not a key of " + std::to_string(columns) +
                 " columns (a composite key is a JSON array of texts, like [\"acme\",\"42\"])"};
  }
  return *list;
}

}  // namespace

std::string CellText(const Value& value) {
  if (mapping::IsNull(value)) return "";
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return mapping::ToJson(value);
}

Result<std::string> CsvEdit::Apply(const WriteOp& op) {
  return op.kind == WriteOp::Kind::kDelete ? Delete(op) : Upsert(op);
}

Result<std::string> CsvEdit::KeyFor(const WriteOp& op) const {
  if (!op.key.empty()) return op.key;
  const auto& columns = table_.shape().key_columns;
  std::vector<std::string> cells(table_.header().size());
  std::size_t given = 0;
  for (const auto& name : columns) {
    auto it = op.fields.find(name);
    if (it == op.fields.end() || CellText(it->second).empty()) continue;
    cells[*table_.Column(name)] = CellText(it->second);
    ++given;
  }
  if (given == columns.size()) return table_.KeyOf(cells);
  if (given == 0 && columns.size() == 1) return NewKey();
  std::string names;
  for (const auto& n : columns) names += (names.empty() ? "" : ", ") + n;
  return Error{"a new row needs a value in every key column (" + names +
               "); only a single key column can be generated"};
}

Result<std::vector<std::pair<std::size_t, std::string>>> CsvEdit::CellsToSet(
    const WriteOp& op, const std::string& key) const {
  const auto& key_columns = table_.shape().key_columns;
  auto parts = SplitKey(key, key_columns.size());
  if (!parts.ok()) return parts.error();
  std::vector<std::pair<std::size_t, std::string>> out;
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    out.emplace_back(*table_.Column(key_columns[i]), (*parts)[i]);
  }
  std::string unknown;
  for (const auto& [name, value] : op.fields) {
    auto column = table_.Column(name);
    if (!column) {
      unknown += (unknown.empty() ? "" : ", ") + Quote(name);
      continue;
    }
    std::string text = CellText(value);
    for (std::size_t i = 0; i < key_columns.size(); ++i) {
      if (key_columns[i] == name && text != (*parts)[i]) {
        return Error{"column " + Quote(name) + " is " + Quote(text) + " but the row's key is " +
                     Quote(key) + "; a row's key cannot be changed"};
      }
    }
    out.emplace_back(*column, std::move(text));
  }
  if (!unknown.empty()) {
    std::string header;
    for (const auto& h : table_.header()) header += (header.empty() ? "" : ", ") + h;
    return Error{"column " + unknown + " is not in the header of " + table_.shape().label +
                 " (its columns: " + header + "); add it to the file's header or fix the mapping"};
  }
  return out;
}

std::optional<CsvEdit::Place> CsvEdit::Locate(const std::string& key) const {
  if (auto it = added_keys_.find(key); it != added_keys_.end()) return Place{true, it->second};
  auto index = table_.Find(key);
  if (!index) return std::nullopt;
  auto it = edited_.find(*index);
  if (it != edited_.end() && !it->second) return std::nullopt;  // deleted in this batch
  return Place{false, *index};
}

std::vector<std::string> CsvEdit::CurrentCells(const Place& place) const {
  if (place.added) return *added_[place.index];
  auto it = edited_.find(place.index);
  return it != edited_.end() ? *it->second : table_.Cells(place.index);
}

void CsvEdit::Store(const Place& place, std::vector<std::string> cells) {
  if (place.added) {
    added_[place.index] = std::move(cells);
  } else {
    edited_[place.index] = std::move(cells);
  }
  changed_ = true;
}

Result<std::string> CsvEdit::Upsert(const WriteOp& op) {
  auto key = KeyFor(op);
  if (!key.ok()) return key;
  if (auto why = table_.Blocked(*key); !why.empty() && !added_keys_.count(*key)) {
    return Error{"the row with key " + Quote(*key) + " cannot be written safely (" + why +
                 "); fix the file first"};
  }
  auto set = CellsToSet(op, *key);
  if (!set.ok()) return set.error();
  auto place = Locate(*key);
  if (!place) {
    std::vector<std::string> row(table_.header().size());
    for (auto& [column, text] : *set) row[column] = std::move(text);
    added_keys_[*key] = added_.size();
    added_.emplace_back(std::move(row));
    changed_ = true;
    return key;
  }
  std::vector<std::string> cells = CurrentCells(*place);
  bool differs = false;
  for (auto& [column, text] : *set) {
    if (cells[column] == text) continue;
    cells[column] = std::move(text);
    differs = true;
  }
  if (differs) Store(*place, std::move(cells));
  return key;
}

Result<std::string> CsvEdit::Delete(const WriteOp& op) {
  if (op.key.empty()) return Error{"a delete needs the row's key"};
  if (auto why = table_.Blocked(op.key); !why.empty() && !added_keys_.count(op.key)) {
    return Error{"the row with key " + Quote(op.key) + " cannot be deleted safely (" + why +
                 "); fix the file first"};
  }
  auto place = Locate(op.key);
  if (!place) return op.key;  // already gone
  const std::string& flag = table_.shape().soft_delete_column;
  if (!flag.empty()) {
    std::vector<std::string> cells = CurrentCells(*place);
    std::string& cell = cells[*table_.Column(flag)];
    if (cell != "true") {
      cell = "true";
      Store(*place, std::move(cells));
    }
    return op.key;
  }
  if (place->added) {
    added_[place->index].reset();
    added_keys_.erase(op.key);
  } else {
    edited_[place->index].reset();
  }
  changed_ = true;
  return op.key;
}

std::string CsvEdit::VersionOf(const std::string& key) const {
  auto place = Locate(key);
  if (!place) return "";
  return table_.MakeRow(CurrentCells(*place)).version;
}

std::string CsvEdit::Render() const {
  const std::string& bytes = table_.bytes();
  const char delimiter = table_.shape().delimiter;
  std::string out;
  out.reserve(bytes.size() + 256 * (added_.size() + edited_.size()));
  out.append(bytes, 0, table_.header_end());
  const auto& records = table_.records();
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto it = edited_.find(i);
    if (it == edited_.end()) {
      out.append(bytes, records[i].begin, records[i].end - records[i].begin);
    } else if (it->second) {
      AppendRecord(out, *it->second, delimiter, table_.newline());
    }
  }
  bool first_added = true;
  for (const auto& row : added_) {
    if (!row) continue;
    if (first_added && !out.empty() && out.back() != '\n' && out.back() != '\r') {
      out += table_.newline();  // the last line had no terminator
    }
    first_added = false;
    AppendRecord(out, *row, delimiter, table_.newline());
  }
  out.append(bytes, table_.tail(), std::string::npos);
  return out;
}

}  // namespace ghl::connectors::csv
