// A sync's mapping: one YAML file in the mappings directory, compiled once (validated,
// every problem reported with file:line:col), then applied as pure functions.
//
// Canonical records use GHL field names: standard fields by their API name ("firstName",
// "email", "phone", "tags", "monetaryValue", "pipelineStageId", "startTime", ...) and custom
// fields as "customFields.<fieldKey>" (the key without the "contact." prefix, e.g.
// "customFields.loyalty_tier"); the engine's GHL side resolves keys to ids.
//
// Transforms run between the external column and the canonical value. Each field has a
// chain applied external -> GHL ("to_ghl") and the inverse chain applied GHL -> external
// ("from_ghl"); a transform without an inverse (trim, lower, E.164) is the identity on the
// way back. A chain that fails on a value fails the whole record (never half-mapped).
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"
#include "core/result.h"
#include "mapping/value.h"

namespace ghl::mapping {

enum class GhlObject { kContacts, kOpportunities, kAppointments };
enum class Direction { kBoth, kToGhl, kFromGhl };
enum class Side { kGhl, kExternal };
enum class ConflictPolicy { kGhlWins, kExternalWins, kNewest, kOwner };
enum class DeletePolicy { kPropagate, kIgnore, kSoft };

const char* ToString(GhlObject o);  // "contacts", "opportunities", "appointments"
const char* ToString(Direction d);  // "both", "to_ghl", "from_ghl"
const char* ToString(Side s);       // "ghl", "external"
const char* ToString(ConflictPolicy p);
const char* ToString(DeletePolicy p);

class Transform;       // one step of a chain; defined in transforms.h
struct StandardField;  // a GHL field of the catalogue; defined in fields_catalog.h

struct FieldSpec {
  std::string ghl;       // canonical name, e.g. "email" or "customFields.loyalty_tier"
  std::string external;  // the connector's column / JSON field
  Direction direction = Direction::kBoth;  // effective (the sync's direction narrows it)
  std::optional<Side> owner;               // wins conflicts when conflict: owner
  bool required = false;                   // a null after transforms fails the record
  int line = 0, column = 0;                // where the field is declared, for errors
  std::vector<std::shared_ptr<const Transform>> to_ghl;    // applied in order
  std::vector<std::shared_ptr<const Transform>> from_ghl;  // applied in order
};

// A field resolved through another sync's links: the value of `external` is the external
// key of a record in sync `sync`; the canonical value is that record's GHL id (e.g. an
// opportunity's contactId). A record whose reference is not linked yet waits.
// Or, with `by: name`, through GHL's own names (pipelineId, pipelineStageId, calendarId:
// sync/ghl_side.h IdOfName); the canonical value is still the GHL id.
struct ReferenceSpec {
  std::string ghl;       // e.g. "contactId"
  std::string external;  // e.g. "customer_id"
  std::string sync;      // the other sync's name; "" with `by`
  std::string by;        // "" (through `sync`) or "name"
};

// The mass-delete guard (sync/delete_guard.h): deletes decided within `window` (by passes
// and webhooks alike) are weighed together; past either limit they are held.
struct DeleteGuard {
  double max_share = 0.10;  // hold deletes past this share of the linked records ...
  int64_t max_count = 100;  // ... or past this many
  std::chrono::milliseconds window{3'600'000};  // weighed together: the deletes of this long
};

// `object: appointments` only. GHL cannot search appointments by dateUpdated, so a poll
// lists every calendar's events in this window around the time of the poll and keeps the
// ones updated since the cursor; changes to appointments outside it arrive only by webhook.
struct AppointmentWindow {
  std::chrono::milliseconds past{30LL * 86'400'000};     // back from now (by their end)
  std::chrono::milliseconds future{365LL * 86'400'000};  // ahead of now (by their start)
};

struct SyncSpec {
  std::string name;  // file name without extension
  std::string file;  // the mapping file, for messages
  GhlObject object = GhlObject::kContacts;
  std::vector<std::string> locations;            // GHL location ids; empty = every configured one
  int locations_line = 0, locations_column = 0;  // where `locations:` is, for errors

  std::string connector;  // a name under `connectors:` in ghl-syncd.yaml
  YAML::Node external;    // the `external:` block (connector-specific keys; see registry)
  int external_line = 0, external_column = 0;

  Direction direction = Direction::kBoth;
  std::vector<std::string> key;    // external key column(s) (`key:`), required
  std::vector<std::string> match;  // first-time linking, canonical fields: "email", "phone"
  ConflictPolicy conflict = ConflictPolicy::kNewest;
  DeletePolicy deletes = DeletePolicy::kIgnore;
  std::string soft_delete_tag;     // GHL side of `deletes: soft` (tag added), e.g. "deleted"
  std::string soft_delete_column;  // external side of `deletes: soft` (flag column)
  DeleteGuard delete_guard;
  std::string default_region = "US";                // for phone transforms without their own region
  std::chrono::milliseconds poll_interval{60'000};  // GHL polling and connector scans
  AppointmentWindow appointments;                   // the poll window (appointments only)

  std::vector<FieldSpec> fields;
  std::vector<ReferenceSpec> references;
};

// Why a record could not be mapped: which field, which value, what went wrong.
struct MapError {
  std::string field;  // canonical name
  std::string reason;
  std::string ToString() const { return field + ": " + reason; }
};

template <typename T>
struct Mapped {
  std::optional<T> value;  // set on success
  std::vector<MapError> errors;
  bool ok() const { return value.has_value(); }
};

class Mapping {
 public:
  // Validates and compiles one mapping file. Every problem goes to `errors` (file, line,
  // column, key path, message); returns null when there was any.
  static std::shared_ptr<const Mapping> Compile(const config::MappingFile& file,
                                                config::Diagnostics& errors);

  const SyncSpec& spec() const { return spec_; }

  // External row -> canonical fields, for fields flowing to GHL (both / to_ghl). Columns
  // the mapping does not name are ignored; a missing column is null. References are left
  // as the raw external value under the ReferenceSpec's ghl name (the engine resolves
  // them). Any failing field fails the record, with every failing field listed. A
  // standard field's value must have its kind after the chain (tags a list, monetaryValue
  // a number, dateOfBirth "YYYY-MM-DD", startTime "YYYY-MM-DDTHH:MM:SSZ"; numbers and
  // booleans become text for text fields); a `required` field must not be empty (null,
  // "" or []).
  Mapped<Fields> ToCanonical(const Fields& external_row) const;

  // Canonical fields -> external columns, for fields flowing from GHL (both / from_ghl).
  // Only the canonical fields present in `canonical` are converted (a partial update
  // stays partial). A reference's value (present under its ghl name) is copied to its
  // external column as is: the engine puts the other record's external key there.
  Mapped<Fields> ToExternal(const Fields& canonical) const;

  // The canonical names this sync reads from GHL (for requests and base snapshots): every
  // field's GHL name, whichever way it flows, then the references', in file order.
  std::vector<std::string> CanonicalFields() const;

 private:
  explicit Mapping(SyncSpec spec);
  SyncSpec spec_;
  // Per field: its catalogue entry, whose kind the to-GHL value is checked against; null
  // for custom fields (their type is GHL's to check).
  std::vector<const StandardField*> standard_;
};

// The mapping-file reference (keys, transforms) as Markdown, for the README.
std::string ReferenceMarkdown();

}  // namespace ghl::mapping
