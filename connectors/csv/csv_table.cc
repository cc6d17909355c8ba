#include "connectors/csv/csv_table.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>

#include "connectors/csv/csv_reader.h"

namespace ghl::connectors::csv {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string Hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return out;
}

bool IsTrue(const std::string& flag) {
  std::string v;
  for (char c : flag) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true" || v == "yes" || v == "y" || v == "t" || v == "1";
}

std::string Where(const CsvShape& shape, std::size_t line) {
  return shape.label + ":" + std::to_string(line);
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Result<CsvTable> CsvTable::Parse(std::string bytes, const CsvShape& shape) {
  CsvTable table(shape);
  table.bytes_ = std::move(bytes);
  const std::size_t body = table.bytes_.starts_with(kBom) ? kBom.size() : 0;
  auto first_line = table.ReadHeader(body);
  if (!first_line.ok()) return first_line.error();
  std::map<std::size_t, std::string> reasons;  // rejected record -> why
  table.ReadRecords(*first_line, reasons);
  table.RejectDuplicates(reasons);
  for (const auto& [i, reason] : reasons) {
    table.rejected_.push_back({Where(shape, table.records_[i].line), reason});
    const std::string& key = table.records_[i].key;
    if (!key.empty()) table.blocked_.emplace(key, table.rejected_.back().where + ": " + reason);
  }
  return table;
}

Result<CsvTable> CsvTable::Empty(const std::vector<std::string>& columns, const CsvShape& shape) {
  std::string bytes;
  AppendRecord(bytes, columns, shape.delimiter, "\n");
  return Parse(std::move(bytes), shape);
}

Result<std::size_t> CsvTable::ReadHeader(std::size_t body) {
  const std::string_view text = std::string_view(bytes_).substr(body);
  CsvReader reader(text, shape_.delimiter);
  CsvRecord header;
  if (!reader.Next(header)) {
    return Error{shape_.label +
                 " is empty: its first line must be a header naming the columns (at least " +
                 JoinNames(shape_.key_columns) + ")"};
  }
  if (!header.error.empty()) {
    return Error{Where(shape_, header.line) + ": the header cannot be read: " + header.error};
  }
  if (!IsValidUtf8(text.substr(header.begin, header.end - header.begin))) {
    return Error{Where(shape_, header.line) + ": the header is not valid UTF-8"};
  }
  header_ = std::move(header.fields);
  header_end_ = body + header.end;
  if (header.end >= 2 && text[header.end - 2] == '\r' && text[header.end - 1] == '\n') {
    newline_ = "\r\n";
  }
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i].empty()) continue;  // an unnamed column: kept in the file, not a field
    if (!columns_.emplace(header_[i], i).second) {
      return Error{Where(shape_, header.line) + ": column '" + header_[i] +
                   "' appears twice in the header; column names must be unique"};
    }
  }
  for (const auto& [name, index] : columns_) hash_order_.push_back(index);
  std::vector<std::string> wanted = shape_.key_columns;
  if (!shape_.soft_delete_column.empty()) wanted.push_back(shape_.soft_delete_column);
  for (const auto& name : wanted) {
    auto col = Column(name);
    if (!col) {
      return Error{Where(shape_, header.line) + ": the header has no column '" + name +
                   "' (the mapping needs it); the header's columns are: " + JoinNames(header_)};
    }
    if (name == shape_.soft_delete_column) {
      soft_delete_cell_ = *col;
    } else {
      key_cells_.push_back(*col);
    }
  }
  return reader.line();
}

void CsvTable::ReadRecords(std::size_t first_line, std::map<std::size_t, std::string>& reasons) {
  const std::string_view all(bytes_);
  const std::string_view text = all.substr(header_end_);
  const bool all_utf8 = IsValidUtf8(text);
  CsvReader reader(text, shape_.delimiter, first_line);
  CsvRecord rec;
  while (reader.Next(rec)) {
    Record r{header_end_ + rec.begin, header_end_ + rec.end, rec.line, "", false};
    std::string reason = rec.error;
    if (reason.empty() && !all_utf8 && !IsValidUtf8(text.substr(rec.begin, rec.end - rec.begin))) {
      reason = "not valid UTF-8 (the file must be saved as UTF-8)";
    }
    if (reason.empty() && rec.fields.size() != header_.size()) {
      reason = "has " + std::to_string(rec.fields.size()) + " fields, the header has " +
               std::to_string(header_.size());
    }
    if (rec.error.empty() && rec.fields.size() == header_.size()) r.key = KeyOf(rec.fields);
    if (reason.empty() && r.key.empty()) {
      reason = "no key: the key column " + JoinNames(shape_.key_columns) + " is empty";
    }
    r.ok = reason.empty();
    if (!r.ok) reasons.emplace(records_.size(), std::move(reason));
    records_.push_back(std::move(r));
  }
  tail_ = header_end_ + reader.tail();
}

void CsvTable::RejectDuplicates(std::map<std::size_t, std::string>& reasons) {
  index_.reserve(records_.size());
  std::vector<std::string_view> duplicated;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (!records_[i].ok) continue;
    auto [it, inserted] = index_.emplace(records_[i].key, i);
    if (inserted) continue;
    duplicated.push_back(it->first);
    for (std::size_t j : {it->second, i}) {
      const std::size_t other = j == i ? records_[it->second].line : records_[i].line;
      // The first occurrence keeps the line of the first duplicate found.
      reasons.emplace(j, "duplicate key '" + records_[j].key + "' (also on line " +
                             std::to_string(other) + ")");
    }
  }
  for (const auto& [i, reason] : reasons) records_[i].ok = false;
  for (std::string_view key : duplicated) index_.erase(key);
}

std::optional<std::size_t> CsvTable::Column(const std::string& name) const {
  auto it = columns_.find(name);
  if (it == columns_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> CsvTable::Find(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string CsvTable::Blocked(const std::string& key) const {
  auto it = blocked_.find(key);
  return it == blocked_.end() ? std::string() : it->second;
}

std::vector<std::string> CsvTable::Cells(std::size_t i) const {
  std::vector<std::string> out;
  ForEachRow(i, i + 1,
             [&](std::size_t, std::vector<std::string>& cells) { out = std::move(cells); });
  return out;
}

void CsvTable::ForEachRow(
    std::size_t from, std::size_t to,
    const std::function<void(std::size_t, std::vector<std::string>&)>& visit) const {
  to = std::min(to, records_.size());
  if (from >= to) return;
  const std::size_t begin = records_[from].begin;
  // Reading from a record boundary splits the text exactly as the first reading did.
  CsvReader reader(std::string_view(bytes_).substr(begin, records_[to - 1].end - begin),
                   shape_.delimiter);
  CsvRecord rec;
  for (std::size_t i = from; i < to; ++i) {
    if (!reader.Next(rec) || begin + rec.end != records_[i].end) std::abort();  // broken index
    if (records_[i].ok) visit(i, rec.fields);
  }
}

std::string CsvTable::KeyOf(const std::vector<std::string>& cells) const {
  if (key_cells_.size() == 1) return cells[key_cells_[0]];
  mapping::List parts;
  for (std::size_t c : key_cells_) {
    if (cells[c].empty()) return "";
    parts.push_back(cells[c]);
  }
  return mapping::ToJson(Value(std::move(parts)));
}

Row CsvTable::MakeRow(const std::vector<std::string>& cells) const {
  Row row;
  row.key = KeyOf(cells);
  std::string hashed;  // netstrings: "<len>:<name><len>:<text>" per non-empty cell
  for (std::size_t c : hash_order_) {
    const std::string& text = cells[c];
    if (text.empty()) {
      row.fields.emplace(header_[c], Value());
      continue;
    }
    row.fields.emplace(header_[c], Value(text));
    hashed += std::to_string(header_[c].size()) + ':' + header_[c];
    hashed += std::to_string(text.size()) + ':';
    hashed += text;
  }
  row.version = ContentHash(hashed).substr(0, 32);  // 128 bits are plenty
  row.deleted = soft_delete_cell_ && IsTrue(cells[*soft_delete_cell_]);
  return row;
}

std::string ContentHash(std::string_view bytes) {
  // Fetched once: OpenSSL 3 would look the algorithm up again on every call.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (sha256 == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), digest, &size, sha256, nullptr) != 1) {
    std::abort();
  }
  return Hex(digest, size);
}

std::string NewKey() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  const std::string h = Hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace ghl::connectors::csv
