// Request builders for calendars, events and appointments (FACTS.md §5). They all carry
// the calendars family's Version header (2021-04-15).
#include "connectors/ghl/operation_checks.h"
#include "connectors/ghl/operations.h"

namespace ghl::ghl_client::calendars {
namespace {

using detail::Checker;
using detail::Prop;
using detail::Type;

// AppointmentEditSchema; AppointmentCreateSchema adds locationId (from the argument) and
// contactId, and requires calendarId, contactId and startTime.
std::vector<Prop> AppointmentProps(bool create) {
  std::vector<Prop> p = {
      {"calendarId", Type::kString, create},
      {"startTime", Type::kIsoTime, create},
      {"endTime", Type::kIsoTime},
      {"title", Type::kString},
      {"meetingLocationType",
       Type::kString,
       false,
       {"custom", "zoom", "gmeet", "phone", "address", "ms_teams", "google"}},
      {"meetingLocationId", Type::kString},
      {"overrideLocationConfig", Type::kBool},
      {"appointmentStatus",
       Type::kString,
       false,
       {"new", "confirmed", "cancelled", "showed", "noshow", "invalid"}},
      {"assignedUserId", Type::kString},
      {"description", Type::kString},
      {"address", Type::kString},
      {"ignoreDateRange", Type::kBool},
      {"toNotify", Type::kBool},
      {"ignoreFreeSlotValidation", Type::kBool},
      {"rrule", Type::kString},
  };
  if (create) p.push_back({"contactId", Type::kString, true});
  return p;
}

ApiRequest Calendars(std::string operation, std::string method, std::string path,
                     std::string body = "") {
  return {std::move(operation), std::move(method), std::move(path), std::move(body),
          Family::kCalendars};
}

}  // namespace

Result<ApiRequest> ListCalendars(std::string_view location_id, std::string_view group_id) {
  Checker c("calendars.list");
  c.RequireId("locationId", location_id);
  if (!c.ok()) return c.error();
  detail::Query q;
  q.Add("locationId", location_id).AddIfSet("groupId", group_id);
  return Calendars("calendars.list", "GET", "/calendars/" + q.str());
}

Result<ApiRequest> ListEvents(const EventsParams& p) {
  Checker c("calendars.events");
  c.RequireId("locationId", p.location_id);
  const int selectors =
      !p.calendar_id.empty() + !p.user_id.empty() + !p.group_id.empty();  // bools count 1
  if (selectors != 1) {
    c.Fail("give exactly one of calendarId, userId or groupId, got " + std::to_string(selectors));
  }
  if (p.start_ms < 0) c.Fail("startTime must be epoch milliseconds");
  if (p.end_ms < p.start_ms) c.Fail("endTime must not be before startTime");
  if (!c.ok()) return c.error();
  detail::Query q;
  q.Add("locationId", p.location_id)
      .AddIfSet("calendarId", p.calendar_id)
      .AddIfSet("userId", p.user_id)
      .AddIfSet("groupId", p.group_id)
      .Add("startTime", std::to_string(p.start_ms))
      .Add("endTime", std::to_string(p.end_ms));
  return Calendars("calendars.events", "GET", "/calendars/events" + q.str());
}

Result<ApiRequest> CreateAppointment(std::string_view location_id, const rapidjson::Value& fields) {
  Checker c("appointments.create");
  c.RequireId("locationId", location_id);
  auto body = c.Body(fields, AppointmentProps(true), location_id);
  if (!c.ok()) return c.error();
  return Calendars("appointments.create", "POST", "/calendars/events/appointments",
                   detail::Dump(body));
}

Result<ApiRequest> GetAppointment(std::string_view event_id) {
  Checker c("appointments.get");
  c.RequireId("eventId", event_id);
  if (!c.ok()) return c.error();
  return Calendars("appointments.get", "GET",
                   "/calendars/events/appointments/" + UrlEncode(event_id));
}

Result<ApiRequest> UpdateAppointment(std::string_view event_id, const rapidjson::Value& fields) {
  Checker c("appointments.update");
  c.RequireId("eventId", event_id);
  auto body = c.Body(fields, AppointmentProps(false));
  if (!c.ok()) return c.error();
  return Calendars("appointments.update", "PUT",
                   "/calendars/events/appointments/" + UrlEncode(event_id), detail::Dump(body));
}

Result<ApiRequest> DeleteEvent(std::string_view event_id) {
  Checker c("events.delete");
  c.RequireId("eventId", event_id);
  if (!c.ok()) return c.error();
  return Calendars("events.delete", "DELETE", "/calendars/events/" + UrlEncode(event_id), "{}");
}

}  // namespace ghl::ghl_client::calendars
