// CSV text <-> records, through libcsv (RFC 4180: quoted fields with doubled quotes,
// embedded delimiters and line breaks; CRLF, LF or CR line ends).
//
// The reader runs libcsv in strict mode without its default trimming of spaces (a field is
// exactly its bytes), and keeps for every record its byte span and line number, so that a
// rewrite can copy untouched records verbatim and a broken record can be reported by line
// without failing the rest of the file.
#pragma once

#include <csv.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ghl::connectors::csv {

struct CsvRecord {
  // The record's bytes are text[begin, end): blank lines before it included, its line
  // terminator included. Consecutive records' spans touch, so the spans of every record
  // plus the reader's tail() are the whole text.
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t line = 0;             // 1-based line where the record's text starts
  std::vector<std::string> fields;  // valid when `error` is empty
  // Why the record could not be read ("" when it could). A broken record's span is its
  // first line only: reading goes on at the next line, so one stray quote costs one line.
  std::string error;
};

class CsvReader {
 public:
  // `text` must outlive the reader. `delimiter` is one byte, not a quote or line break.
  // Lines are numbered from `first_line`.
  CsvReader(std::string_view text, char delimiter, std::size_t first_line = 1);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `out` (its vectors are reused); false at the end of the text.
  bool Next(CsvRecord& out);
  // After Next() returned false: where the trailing blank lines (if any) begin.
  std::size_t tail() const { return tail_; }
  // The line the next record would start on.
  std::size_t line() const { return line_; }

 private:
  static void OnField(void* data, std::size_t size, void* self);
  static void OnRow(int terminator, void* self);
  void ResetParser();
  void Advance(std::size_t to);  // moves pos_ to `to`, counting the line break ending there
  std::size_t LineEnd(std::size_t chunk_end) const;  // past a CR's LF
  bool Fail(CsvRecord& out, std::size_t first_line_end, std::string reason);

  std::string_view text_;
  char delimiter_;
  csv_parser parser_{};
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t tail_ = 0;
  std::vector<std::string>* fields_ = nullptr;  // the record being read
  std::size_t field_count_ = 0;
  bool row_done_ = false;
};

// Appends one record: each field quoted only where needed (a delimiter, quote or line break
// inside; spaces at either end; the lone empty field of a one-column row), the fields
// joined by `delimiter`, then `newline`.
void AppendRecord(std::string& out, const std::vector<std::string>& fields, char delimiter,
                  std::string_view newline);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or truncations).
bool IsValidUtf8(std::string_view text);

}  // namespace ghl::connectors::csv
