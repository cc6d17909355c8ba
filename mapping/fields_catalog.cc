#include "mapping/fields_catalog.h"

namespace ghl::mapping {
namespace {

constexpr bool kRW = true;   // in the create/update request bodies
constexpr bool kRO = false;  // only in answers and webhooks
using K = FieldKind;

const std::vector<StandardField>& Contacts() {
  static const std::vector<StandardField> fields = {
      {"firstName", K::kText, kRW, ""},
      {"lastName", K::kText, kRW, ""},
      {"name", K::kText, kRW, "full name"},
      {"email", K::kText, kRW, ""},
      {"phone", K::kText, kRW, "E.164; see the `phone` transform"},
      {"companyName", K::kText, kRW, "sent on create and upsert only"},
      {"gender", K::kText, kRW, "sent on create and upsert only"},
      {"address1", K::kText, kRW, ""},
      {"city", K::kText, kRW, ""},
      {"state", K::kText, kRW, ""},
      {"postalCode", K::kText, kRW, ""},
      {"country", K::kText, kRW, "two-letter country code"},
      {"website", K::kText, kRW, ""},
      {"timezone", K::kText, kRW, "IANA name"},
      {"source", K::kText, kRW, ""},
      {"dnd", K::kBoolean, kRW, "do not disturb, all channels"},
      {"tags", K::kList, kRW, ""},
      {"dateOfBirth", K::kDate, kRW, ""},
      {"assignedTo", K::kId, kRW, "user id"},
      {"id", K::kId, kRO, ""},
      {"locationId", K::kId, kRO, ""},
      {"type", K::kText, kRO, "lead / customer"},
      {"dateAdded", K::kDateTime, kRO, ""},
      {"dateUpdated", K::kDateTime, kRO, ""},
      {"lastActivity", K::kDateTime, kRO, ""},
      {"businessId", K::kId, kRO, ""},
  };
  return fields;
}

const std::vector<StandardField>& Opportunities() {
  static const std::vector<StandardField> fields = {
      {"name", K::kText, kRW, ""},
      {"monetaryValue", K::kNumber, kRW, ""},
      {"pipelineId", K::kId, kRW, ""},
      {"pipelineStageId", K::kId, kRW, ""},
      {"status", K::kText, kRW, "open / won / lost / abandoned"},
      {"assignedTo", K::kId, kRW, "user id"},
      {"contactId", K::kId, kRW, "sent on create only; usually a `references:` entry"},
      {"lostReasonId", K::kId, kRW, ""},
      {"id", K::kId, kRO, ""},
      {"locationId", K::kId, kRO, ""},
      {"source", K::kText, kRO, ""},
      {"createdAt", K::kDateTime, kRO, ""},
      {"updatedAt", K::kDateTime, kRO, ""},
      {"lastStatusChangeAt", K::kDateTime, kRO, ""},
      {"lastStageChangeAt", K::kDateTime, kRO, ""},
      {"lastActionDate", K::kDateTime, kRO, ""},
  };
  return fields;
}

const std::vector<StandardField>& Appointments() {
  static const std::vector<StandardField> fields = {
      {"title", K::kText, kRW, ""},
      {"calendarId", K::kId, kRW, ""},
      {"contactId", K::kId, kRW, "sent on create only; usually a `references:` entry"},
      {"startTime", K::kDateTime, kRW, ""},
      {"endTime", K::kDateTime, kRW, ""},
      {"appointmentStatus", K::kText, kRW,
       "new / confirmed / cancelled / showed / noshow / invalid"},
      {"assignedUserId", K::kId, kRW, "user id"},
      {"address", K::kText, kRW, ""},
      {"description", K::kText, kRW, ""},
      {"meetingLocationType", K::kText, kRW,
       "custom / zoom / gmeet / phone / address / ms_teams / google"},
      {"meetingLocationId", K::kText, kRW, ""},
      {"rrule", K::kText, kRW, "RFC 5545 recurrence"},
      {"id", K::kId, kRO, ""},
      {"locationId", K::kId, kRO, ""},
      {"groupId", K::kId, kRO, ""},
      {"notes", K::kText, kRO, ""},
      {"isRecurring", K::kBoolean, kRO, ""},
      {"users", K::kList, kRO, "secondary owners, user ids"},
      {"masterEventId", K::kId, kRO, ""},
      {"dateAdded", K::kDateTime, kRO, ""},
      {"dateUpdated", K::kDateTime, kRO, ""},
  };
  return fields;
}

}  // namespace

const char* ToString(FieldKind kind) {
  switch (kind) {
    case FieldKind::kText:
      return "text";
    case FieldKind::kId:
      return "id";
    case FieldKind::kNumber:
      return "number";
    case FieldKind::kBoolean:
      return "boolean";
    case FieldKind::kList:
      return "list";
    case FieldKind::kDate:
      return "date";
    case FieldKind::kDateTime:
      return "datetime";
  }
  return "?";
}

const std::vector<StandardField>& StandardFields(GhlObject object) {
  switch (object) {
    case GhlObject::kContacts:
      return Contacts();
    case GhlObject::kOpportunities:
      return Opportunities();
    case GhlObject::kAppointments:
      return Appointments();
  }
  return Contacts();
}

const StandardField* FindStandardField(GhlObject object, std::string_view name) {
  for (const auto& f : StandardFields(object)) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool HasCustomFields(GhlObject object) { return object != GhlObject::kAppointments; }

bool KnownByName(GhlObject object, std::string_view field) {
  if (object == GhlObject::kOpportunities) {
    return field == "pipelineId" || field == "pipelineStageId";
  }
  return object == GhlObject::kAppointments && field == "calendarId";
}

}  // namespace ghl::mapping
