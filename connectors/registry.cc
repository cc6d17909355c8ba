#include "connectors/registry.h"

#include "connectors/csv/csv_connector.h"
#include "connectors/rest/rest_connector.h"
#include "connectors/sql/sql.h"

namespace ghl::connectors {

// One entry per connector type. Keep in step with Types().
std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors) {
  // Each connector adds a line here.
  if (spec.type == "csv") return csv::Create(spec, errors);
  if (spec.type == "rest") return rest::Create(spec, errors);
  if (spec.type == "sqlite") return sql::CreateSqlite(spec, errors);
  if (spec.type == "postgresql") return sql::CreatePostgres(spec, errors);
  errors.push_back({spec.options_file, spec.options.Mark().line + 1, spec.options.Mark().column + 1,
                    spec.options_path + ".type",
                    "connector type '" + spec.type + "' is not available in this build"});
  return nullptr;
}

const std::vector<std::string>& Types() {
  static const std::vector<std::string> types = {"csv", "sqlite", "postgresql", "rest"};
  return types;
}

std::string ReferenceMarkdown() {
  return csv::ReferenceMarkdown() + sql::ReferenceMarkdown() + rest::ReferenceMarkdown();
}

const char* ToString(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kRetry:
      return "retry";
    case Outcome::kFatal:
      return "fatal";
    case Outcome::kConflict:
      return "conflict";
  }
  return "?";
}

}  // namespace ghl::connectors
