// The explicit connector registry (STYLE.md: no static self-registration). Adding a
// connector is a folder under connectors/ plus one entry in registry.cc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/schema.h"
#include "connectors/connector.h"

namespace ghl::connectors {

// Where a connector's settings come from: its block under `connectors:` in ghl-syncd.yaml
// (the connection: a directory, a database, an API) and the `external:` block of the
// mapping file of the sync that uses it (the resource: a file, a table, an endpoint).
struct ConnectorSpec {
  std::string name;  // the connector's name under `connectors:`
  std::string type;  // csv | sqlite | postgresql | rest

  YAML::Node options;  // the block under connectors.<name> (includes `type`)
  std::string options_file;
  std::filesystem::path options_dir;  // relative paths in `options` resolve here
  std::string options_path;           // key path for errors, "connectors.<name>"

  YAML::Node resource;  // the sync's `external:` block (includes `connector`)
  std::string resource_file;
  std::filesystem::path resource_dir;
  std::string resource_path;  // key path for errors, "external"

  // From the mapping file: the key column(s) (a composite key has several; the connector
  // joins them into Row::key) and the soft-delete flag column ("" when not used).
  std::vector<std::string> key_columns;
  std::string soft_delete_column;

  config::EnvLookup env = config::ProcessEnv();
  std::string sync_name;  // the sync this connector serves (for logs, Describe)
};

// Validates both blocks with the connector's own schema tables, reporting every problem
// into `errors` (file:line:col: key.path: message), and builds the connector. Does no IO
// (Health() does). Returns null when anything was wrong.
std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors);

// The connector types this build knows, for the config's enum check and docs.
const std::vector<std::string>& Types();

// The options reference of every connector type as Markdown (generated from the same
// schema tables that parse them), for the README.
std::string ReferenceMarkdown();

}  // namespace ghl::connectors
