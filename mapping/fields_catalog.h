// The standard GHL fields of each object a sync can map, by their API name: the canonical
// names a mapping file may use besides `customFields.<key>`. Taken from the official
// OpenAPI specs (../shared/ghl-api/apps: contacts.json GetContectByIdSchema /
// CreateContactDto / UpdateContactDto, opportunities.json SearchOpportunitiesResponseSchema
// / CreateDto / UpdateOpportunityDto, calendars.json CalendarEventDTO /
// AppointmentCreateSchema / AppointmentEditSchema). Nested objects (dndSettings,
// attributionSource, followers) are left out: they are not single values.
#pragma once

#include <string_view>
#include <vector>

#include "mapping/mapping.h"

namespace ghl::mapping {

// The shape of a canonical value, checked after the to-GHL chain of a field.
enum class FieldKind {
  kText,      // a string; a number or boolean is turned into text
  kId,        // a GHL record id (a string), e.g. contactId, pipelineStageId, assignedTo
  kNumber,    // a number
  kBoolean,   // true / false
  kList,      // a list of strings (tags)
  kDate,      // "YYYY-MM-DD"
  kDateTime,  // "YYYY-MM-DDTHH:MM:SSZ" (UTC)
};
const char* ToString(FieldKind kind);  // "text", "id", "number", ...

struct StandardField {
  std::string_view name;  // the API name, e.g. "pipelineStageId"
  FieldKind kind;
  bool writable;          // false: GHL sets it (ids, timestamps): only `from_ghl` mappings
  std::string_view note;  // for the reference, e.g. "sent on create only"
};

// The object's standard fields in reference order.
const std::vector<StandardField>& StandardFields(GhlObject object);
// The standard field `name` of `object`, or null.
const StandardField* FindStandardField(GhlObject object, std::string_view name);
// Whether GHL keeps custom fields for the object (contacts and opportunities do).
bool HasCustomFields(GhlObject object);
// Id fields a mapping may give by name (`references: {by: name}`): pipelineId and
// pipelineStageId of opportunities, calendarId of appointments.
bool KnownByName(GhlObject object, std::string_view field);

}  // namespace ghl::mapping
