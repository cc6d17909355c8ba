// The CSV connector's options: the connection (`connectors.<name>`: a directory) and the
// resource (the mapping's `external:` block: a file in it), each parsed by a schema table
// that also writes their reference documentation.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "connectors/csv/csv_table.h"
#include "connectors/registry.h"

namespace ghl::connectors::csv {

// Everything a CsvConnector needs, validated.
struct CsvSettings {
  std::filesystem::path path;  // the connector's dir / the resource's file
  CsvShape shape;              // shape.label is the `file` as configured
  bool create = false;
  std::vector<std::string> columns;  // the header of a file created by the connector
  std::chrono::milliseconds settle{1000};
  std::string sync_name;
};

// Parses and checks both option blocks of `spec`, reporting every problem into `errors`;
// nullopt when there was any.
std::optional<CsvSettings> ParseSettings(const ConnectorSpec& spec, config::Diagnostics& errors);

// The options reference of the csv type, as Markdown.
std::string OptionsMarkdown();

}  // namespace ghl::connectors::csv
