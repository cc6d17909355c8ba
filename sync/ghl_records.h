// GHL records <-> canonical fields, per object type. Pure: no IO.
//
// Canonical names are the GHL JSON names ("email", "tags", "pipelineStageId") and
// "customFields.<key>" for custom fields, where <key> is the field key without its model
// prefix ("loyalty_tier" for "contact.loyalty_tier"). Ids in GHL records are resolved
// through a CustomFieldIndex (one per location).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

#include "connectors/ghl/client.h"
#include "connectors/ghl/responses.h"
#include "core/result.h"
#include "mapping/mapping.h"
#include "mapping/value.h"

namespace ghl::sync {

inline constexpr std::string_view kCustomFieldPrefix = "customFields.";

// The custom-field model of an object ("contact", "opportunity"); "" when it has none.
std::string_view CustomFieldModel(mapping::GhlObject object);
// The member of a single-record answer ({"contact": {...}}).
const char* RecordKey(mapping::GhlObject object);

struct GhlRecord {
  std::string id;
  std::string location_id;
  std::string date_updated;  // ISO 8601 as GHL sent it; "" when the payload has none
  mapping::Fields fields;    // only the canonical names asked for
  // Wanted fields a partial payload (a webhook) did not carry: unknown, not cleared.
  std::vector<std::string> unknown;
};

// Extracts `wanted` canonical fields from a GHL record (a REST answer or a webhook
// payload). A wanted field the record lacks is null. Unknown custom field ids are ignored;
// a wanted custom field key the index does not know is an error (renamed or deleted in
// GHL: reported, never silently dropped). With `partial` (webhook payloads), a standard
// field the record lacks, or every custom field when it has no customFields member, is
// listed in `unknown` instead of being null.
Result<GhlRecord> FromGhl(const rapidjson::Value& record, mapping::GhlObject object,
                          const std::vector<std::string>& wanted,
                          const ghl_client::CustomFieldIndex& index, bool partial = false);

// The JSON body fields for a create/update with `fields` (canonical), custom fields in the
// input shape [{id, field_value}]. An unknown custom field key is an error.
Result<rapidjson::Document> ToGhlBody(const mapping::Fields& fields, mapping::GhlObject object,
                                      const ghl_client::CustomFieldIndex& index);

// Parses an ISO 8601 time ("2024-01-02T03:04:05.678Z", "+05:30" offsets) to Unix ms.
std::optional<int64_t> ParseIsoMs(std::string_view text);
std::string FormatIsoMs(int64_t ms);  // "2024-01-02T03:04:05.678Z"

}  // namespace ghl::sync
