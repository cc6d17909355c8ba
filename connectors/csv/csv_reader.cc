#include "connectors/csv/csv_reader.h"

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <cstdlib>

namespace ghl::connectors::csv {
namespace {

// libcsv trims spaces and tabs around unquoted fields unless told that nothing is a space.
int NothingIsSpace(unsigned char /*c*/) { return 0; }

bool IsLineBreak(char c) { return c == '\n' || c == '\r'; }

constexpr unsigned char kOptions = CSV_STRICT | CSV_STRICT_FINI;
// libcsv grows its field buffer by this much at a time; the default (128) makes a long
// field cost many reallocations.
constexpr std::size_t kBlockSize = 4096;

}  // namespace

CsvReader::CsvReader(std::string_view text, char delimiter, std::size_t first_line)
    : text_(text), delimiter_(delimiter), line_(first_line) {
  if (csv_init(&parser_, kOptions) != 0) std::abort();
  csv_set_delim(&parser_, static_cast<unsigned char>(delimiter_));
  csv_set_space_func(&parser_, NothingIsSpace);
  csv_set_blk_size(&parser_, kBlockSize);
}

CsvReader::~CsvReader() { csv_free(&parser_); }

void CsvReader::ResetParser() {
  csv_free(&parser_);
  if (csv_init(&parser_, kOptions) != 0) std::abort();
  csv_set_delim(&parser_, static_cast<unsigned char>(delimiter_));
  csv_set_space_func(&parser_, NothingIsSpace);
  csv_set_blk_size(&parser_, kBlockSize);
}

void CsvReader::OnField(void* data, std::size_t size, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  auto& fields = *r->fields_;
  const char* begin = static_cast<const char*>(data);
  if (r->field_count_ < fields.size()) {
    fields[r->field_count_].assign(begin, size);
  } else {
    fields.emplace_back(begin, size);
  }
  ++r->field_count_;
}

void CsvReader::OnRow(int /*terminator*/, void* self) {
  static_cast<CsvReader*>(self)->row_done_ = true;
}

void CsvReader::Advance(std::size_t to) {
  pos_ = to;
  if (to == 0) return;
  const char last = text_[to - 1];
  // A line ends at LF, or at a CR that no LF follows (a CRLF counts once, at its LF).
  if (last == '\n' || (last == '\r' && (to == text_.size() || text_[to] != '\n'))) ++line_;
}

std::size_t CsvReader::LineEnd(std::size_t chunk_end) const {
  if (text_[chunk_end - 1] == '\r' && chunk_end < text_.size() && text_[chunk_end] == '\n') {
    return chunk_end + 1;
  }
  return chunk_end;
}

bool CsvReader::Fail(CsvRecord& out, std::size_t first_line_end, std::string reason) {
  ResetParser();
  out.error = std::move(reason);
  out.fields.clear();
  out.end = first_line_end;
  pos_ = first_line_end;
  line_ = out.line + 1;
  return true;
}

bool CsvReader::Next(CsvRecord& out) {
  out.error.clear();
  out.begin = pos_;
  while (pos_ < text_.size() && IsLineBreak(text_[pos_])) Advance(pos_ + 1);  // blank lines
  if (pos_ >= text_.size()) {
    tail_ = out.begin;
    return false;
  }
  out.line = line_;
  fields_ = &out.fields;
  field_count_ = 0;
  row_done_ = false;
  std::size_t first_line_end = 0;
  // Feed libcsv one line at a time, so that a record always ends where a chunk ends.
  while (!row_done_) {
    if (pos_ == text_.size()) {
      if (csv_fini(&parser_, OnField, OnRow, this) != 0 || csv_error(&parser_) != CSV_SUCCESS) {
        return Fail(out, first_line_end,
                    "unterminated quoted field: its closing quote is missing (a quote that "
                    "starts a field must end it, and quotes inside are doubled)");
      }
      break;
    }
    std::size_t chunk_end = pos_;
    while (chunk_end < text_.size() && !IsLineBreak(text_[chunk_end])) ++chunk_end;
    if (chunk_end < text_.size()) ++chunk_end;
    const std::size_t size = chunk_end - pos_;
    const std::size_t parsed = csv_parse(&parser_, text_.data() + pos_, size, OnField, OnRow, this);
    const bool first_chunk = first_line_end == 0;
    if (first_chunk) first_line_end = LineEnd(chunk_end);
    if (parsed != size) {
      const int code = csv_error(&parser_);
      if (code == CSV_EPARSE) {
        return Fail(out, first_line_end,
                    "malformed quoting: a quote inside an unquoted field, or text after a "
                    "closing quote (quote the whole field and double the quotes inside it)");
      }
      return Fail(out, first_line_end, std::string("cannot parse: ") + csv_strerror(code));
    }
    Advance(chunk_end);
  }
  // The LF of a CRLF that ended the record belongs to it.
  if (pos_ > 0 && pos_ < text_.size() && text_[pos_ - 1] == '\r' && text_[pos_] == '\n') {
    Advance(pos_ + 1);
  }
  out.fields.resize(field_count_);
  out.end = pos_;
  fields_ = nullptr;
  return true;
}

void AppendRecord(std::string& out, const std::vector<std::string>& fields, char delimiter,
                  std::string_view newline) {
  const char specials[] = {delimiter, '"', '\r', '\n', '\0'};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += delimiter;
    const std::string& f = fields[i];
    const bool padded = !f.empty() && (f.front() == ' ' || f.front() == '\t' || f.back() == ' ' ||
                                       f.back() == '\t');
    const bool lone_empty = f.empty() && fields.size() == 1;  // else a blank line, skipped
    if (!padded && !lone_empty && f.find_first_of(specials) == std::string::npos) {
      out += f;
      continue;
    }
    const std::size_t at = out.size();
    const std::size_t need = csv_write(nullptr, 0, f.data(), f.size());
    out.resize(at + need);
    csv_write(out.data() + at, need, f.data(), f.size());
  }
  out += newline;
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;  // ASCII run
  if (i == text.size()) return true;
  rapidjson::MemoryStream in(text.data() + i, text.size() - i);
  struct Discard {
    void Put(char /*c*/) {}
  } sink;
  while (in.Tell() < text.size() - i) {
    if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
  }
  return true;
}

}  // namespace ghl::connectors::csv
