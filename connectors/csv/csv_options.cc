#include "connectors/csv/csv_options.h"

#include <algorithm>

#include "config/schema.h"

namespace ghl::connectors::csv {
namespace {

using config::Context;
using config::Table;
namespace fields = config::fields;
using std::chrono::milliseconds;

struct ConnectionOptions {
  std::string type;
  std::filesystem::path dir;
};

struct ResourceOptions {
  std::string connector;
  std::string file;
  std::string delimiter = ",";
  std::string encoding = "utf-8";
  bool create = false;
  std::vector<std::string> columns;
  milliseconds settle{1000};
};

// Reports `message` at `key` of `block` (at the block itself when the key is absent).
void ErrorAt(Context& ctx, const YAML::Node& block, const std::string& key,
             const std::string& message) {
  auto scope = ctx.Enter(ctx.path().empty() ? key : "." + key);
  const YAML::Node& b = block;
  YAML::Node at = b.IsMap() ? b[key] : YAML::Node();
  ctx.Error(at.IsDefined() ? at : block, message);
}

std::optional<char> DelimiterChar(const std::string& text) {
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() != 1 || text[0] == '"' || text[0] == '\r' || text[0] == '\n') return std::nullopt;
  return text[0];
}

void CheckResource(ResourceOptions& r, const YAML::Node& node, Context& ctx) {
  if (!DelimiterChar(r.delimiter)) {
    ErrorAt(ctx, node, "delimiter",
            "must be one character (or `\\t` for a tab), not a quote or a line break");
  }
  const std::filesystem::path file(r.file);
  const bool escapes =
      std::any_of(file.begin(), file.end(), [](const auto& p) { return p == ".."; });
  if (!r.file.empty() && (file.is_absolute() || escapes)) {
    ErrorAt(ctx, node, "file",
            "must be a path inside the connector's `dir` (relative, without `..`); to use "
            "another directory, configure another connector");
  }
  if (r.create && r.columns.empty()) {
    ErrorAt(ctx, node, "create", "`create: true` needs `columns`, the header of the new file");
  }
}

const Table<ConnectionOptions>& ConnectionTable() {
  static const Table<ConnectionOptions> table({
      fields::String("type", &ConnectionOptions::type, "`csv`."),
      fields::Path("dir", &ConnectionOptions::dir,
                   "Directory of the CSV files (relative to the config file). Each sync names "
                   "its file in its mapping's `external.file`.")
          .Required(),
  });
  return table;
}

const Table<ResourceOptions>& ResourceTable() {
  static const Table<ResourceOptions> table(
      {
          fields::String("connector", &ResourceOptions::connector,
                         "The connector's name under `connectors:`."),
          fields::String("file", &ResourceOptions::file,
                         "The CSV file, relative to the connector's `dir`. Its first line is "
                         "the header naming the columns.")
              .Required(),
          fields::String("delimiter", &ResourceOptions::delimiter,
                         "Field separator: one character; `\\t` for a tab."),
          fields::Enum("encoding", &ResourceOptions::encoding, {"utf-8"},
                       "Text encoding; a row that is not valid UTF-8 is rejected (reported "
                       "with its line), the rest of the file still syncs."),
          fields::Bool("create", &ResourceOptions::create,
                       "Create the file (with `columns` as its header) when it does not "
                       "exist; otherwise a missing file is an error."),
          fields::StringList("columns", &ResourceOptions::columns,
                             "Header of the file `create` makes; must include the key "
                             "column(s) and the soft-delete column."),
          fields::Duration("settle", &ResourceOptions::settle, milliseconds(0),
                           milliseconds(3'600'000),
                           "A file modified more recently than this is not read yet (another "
                           "program may still be writing it): up to 2s the daemon waits it "
                           "out, longer it tries again later. Its own writes are exempt."),
      },
      CheckResource);
  return table;
}

// Checks that need the mapping's key and soft-delete columns.
void CheckColumns(const ConnectorSpec& spec, const ResourceOptions& r, Context& ctx) {
  if (spec.key_columns.empty()) {
    ctx.Error(spec.resource, "the mapping names no key column; the CSV connector needs one");
  }
  if (r.columns.empty()) return;
  std::vector<std::string> needed = spec.key_columns;
  if (!spec.soft_delete_column.empty()) needed.push_back(spec.soft_delete_column);
  for (const auto& name : needed) {
    if (std::find(r.columns.begin(), r.columns.end(), name) == r.columns.end()) {
      ErrorAt(ctx, spec.resource, "columns", "must include '" + name + "' (the mapping uses it)");
    }
  }
}

}  // namespace

std::optional<CsvSettings> ParseSettings(const ConnectorSpec& spec, config::Diagnostics& errors) {
  const std::size_t before = errors.size();
  ConnectionOptions connection;
  {
    Context ctx(spec.options_file, spec.options_dir, spec.env, &errors);
    auto scope = ctx.Enter(spec.options_path);
    ConnectionTable().Parse(connection, spec.options, ctx);
  }
  ResourceOptions resource;
  {
    Context ctx(spec.resource_file, spec.resource_dir, spec.env, &errors);
    auto scope = ctx.Enter(spec.resource_path);
    ResourceTable().Parse(resource, spec.resource, ctx);
    CheckColumns(spec, resource, ctx);
  }
  if (errors.size() > before) return std::nullopt;
  CsvSettings s;
  s.path = connection.dir / resource.file;
  s.shape.delimiter = *DelimiterChar(resource.delimiter);
  s.shape.key_columns = spec.key_columns;
  s.shape.soft_delete_column = spec.soft_delete_column;
  s.shape.label = resource.file;
  s.create = resource.create;
  s.columns = resource.columns;
  s.settle = resource.settle;
  s.sync_name = spec.sync_name;
  return s;
}

std::string OptionsMarkdown() {
  std::vector<config::DocRow> connection, resource;
  ConnectionTable().Document(connection, "");
  ResourceTable().Document(resource, "");
  return "#### `csv`\n\nThe connection, under `connectors.<name>`:\n\n" +
         config::MarkdownTable(connection) + "\nThe file, in a mapping's `external:` block:\n\n" +
         config::MarkdownTable(resource) +
         "\nA CSV file (RFC 4180; CRLF or LF; a UTF-8 BOM is kept) with a header row. Every scan "
         "reads the whole file; when neither its bytes nor how they are read (delimiter, key, "
         "soft-delete column) changed since the last complete scan, it reports nothing without "
         "parsing the file. A row's version is a hash of its cells. Rows that cannot be read "
         "(broken "
         "quoting, wrong "
         "field count, missing or duplicate key, not UTF-8) are reported with their line and "
         "never taken as deleted. Writes rewrite the file atomically (temporary file, fsync, "
         "rename), keep its mode, column order and unknown columns, and copy untouched rows "
         "byte for byte. Values are written as text: numbers, booleans and lists as JSON "
         "(`42`, `true`, `[\"a\",\"b\"]`); an empty cell reads as null.\n";
}

}  // namespace ghl::connectors::csv
