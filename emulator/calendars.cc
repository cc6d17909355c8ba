// Calendars and appointments (apps/calendars.json, Version 2021-04-15; FACTS.md §5).
//
// An appointment is stored as CalendarEventDTO (what GET /calendars/events and
// GET /calendars/events/appointments/{id} return) plus meetingLocationType/Id. Create and
// edit answer with the smaller AppointmentSchemaResponse; changes fire AppointmentCreate,
// AppointmentUpdate and AppointmentDelete with the `appointment` object of the .md docs.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr const char* kStatuses[] = {"new",    "confirmed", "cancelled",
                                     "showed", "noshow",    "invalid"};
constexpr const char* kMeetingTypes[] = {"custom",  "zoom",     "gmeet", "phone",
                                         "address", "ms_teams", "google"};
// Inferred: the emulator's locations are all in UTC, so the times GHL writes itself
// (dateAdded, dateUpdated) carry a +00:00 offset, in the spec's "2023-09-25T16:00:00+05:30"
// form (seconds, no milliseconds).
constexpr const char* kLocationZone = "+00:00";

// ---- times ----

// The zone part of an ISO time as written: "Z", "+05:30", or "" when it has none.
std::string ZoneSuffix(const std::string& iso) {
  if (!iso.empty() && iso.back() == 'Z') return "Z";
  if (iso.size() >= 6) {
    const std::string tail = iso.substr(iso.size() - 6);
    if ((tail[0] == '+' || tail[0] == '-') && tail[3] == ':') return tail;
  }
  return "";
}

int64_t ZoneOffsetMs(const std::string& zone) {
  if (zone.size() != 6) return 0;
  const int64_t minutes =
      std::atoi(zone.substr(1, 2).c_str()) * 60 + std::atoi(zone.substr(4).c_str());
  return (zone[0] == '-' ? -1 : 1) * minutes * kMinuteMs;
}

// `ms` as ISO 8601 in `zone` (as ZoneSuffix returns it), to the second unless it has
// milliseconds: 2023-09-25T16:00:00+05:30.
std::string FormatInZone(int64_t ms, const std::string& zone) {
  const int64_t local = ms + ZoneOffsetMs(zone);
  const int64_t whole = local >= 0 ? local / 1000 : (local - 999) / 1000;  // floor, pre-1970 too
  const int millis = static_cast<int>(local - whole * 1000);
  const std::time_t secs = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (millis != 0) {
    std::snprintf(buf, sizeof(buf), ".%03d", millis);
    out += buf;
  }
  return out + zone;
}

std::string Stamp(int64_t ms) { return FormatInZone(ms / 1000 * 1000, kLocationZone); }

int64_t TimeOf(const Json& event, const char* field) {
  return ParseIsoTime(GetString(event, field).value_or("")).value_or(0);
}

// ---- lookups ----

const Record* InLocation(const Collection& c, const std::string& id, const std::string& location) {
  const Record* r = c.Find(id);
  return r != nullptr && r->location_id == location ? r : nullptr;
}

bool UserInLocation(const World& w, const std::string& id, const std::string& location) {
  const Record* u = w.users.Find(id);
  if (u == nullptr) return false;
  if (u->location_id == location) return true;
  if (const Json* ids = GetArray(u->doc, "locationIds")) {
    for (const auto& l : ids->GetArray()) {
      if (l.IsString() && location == l.GetString()) return true;
    }
  }
  return false;
}

// Minutes in a calendar's duration setting, e.g. slotDuration + slotDurationUnit.
int64_t CalendarMinutes(const Json& calendar, const char* field, const char* unit_field,
                        int64_t fallback) {
  const auto value = GetNumber(calendar, field);
  if (!value || *value <= 0) return fallback;
  // Inferred: units are "mins" (the default) or "hours".
  const bool hours = GetString(calendar, unit_field).value_or("mins") == "hours";
  return static_cast<int64_t>(*value) * (hours ? 60 : 1);
}

// ---- validation ----

enum class Kind { kString, kBool, kTime, kStatus, kMeetingType };
struct BodyField {
  const char* name;
  Kind kind;
  bool on_create;  // in AppointmentCreateSchema
  bool on_edit;    // in AppointmentEditSchema
};
constexpr BodyField kBodyFields[] = {
    {"title", Kind::kString, true, true},
    {"meetingLocationType", Kind::kMeetingType, true, true},
    {"meetingLocationId", Kind::kString, true, true},
    {"overrideLocationConfig", Kind::kBool, true, true},
    {"appointmentStatus", Kind::kStatus, true, true},
    {"assignedUserId", Kind::kString, true, true},
    {"description", Kind::kString, true, true},
    {"address", Kind::kString, true, true},
    {"ignoreDateRange", Kind::kBool, true, true},
    {"toNotify", Kind::kBool, true, true},
    {"ignoreFreeSlotValidation", Kind::kBool, true, true},
    {"rrule", Kind::kString, true, true},
    {"calendarId", Kind::kString, true, true},
    {"locationId", Kind::kString, true, false},
    {"contactId", Kind::kString, true, false},
    {"startTime", Kind::kTime, true, true},
    {"endTime", Kind::kTime, true, true},
    // Inferred: `notes` is not in the schemas but is in the event and webhook shapes, and
    // integrations send it on create; it is accepted and stored.
    {"notes", Kind::kString, true, true},
};

template <size_t N>
std::string OneOfMessage(const std::string& field, const char* const (&values)[N]) {
  std::string m = field + " must be one of the following values: ";
  for (size_t i = 0; i < N; ++i) m += (i ? ", " : "") + std::string(values[i]);
  return m;
}

template <size_t N>
bool OneOf(const Json& v, const char* const (&values)[N]) {
  return v.IsString() && std::any_of(std::begin(values), std::end(values), [&](const char* s) {
           return std::string(v.GetString()) == s;
         });
}

// The class-validator message for one member, or "" when it is valid.
std::string CheckField(const BodyField& f, const Json& v) {
  const std::string name = f.name;
  switch (f.kind) {
    case Kind::kString:
      return v.IsString() ? "" : name + " must be a string";
    case Kind::kBool:
      return v.IsBool() ? "" : name + " must be a boolean value";
    case Kind::kTime:
      return v.IsString() && ParseIsoTime(v.GetString())
                 ? ""
                 : name + " must be a valid ISO 8601 date string";
    case Kind::kStatus:
      return OneOf(v, kStatuses) ? "" : OneOfMessage(name, kStatuses);
    case Kind::kMeetingType:
      return OneOf(v, kMeetingTypes) ? "" : OneOfMessage(name, kMeetingTypes);
  }
  return "";
}

std::vector<std::string> ValidateBody(const Json& body, bool create) {
  std::vector<std::string> errors;
  for (const auto& m : body.GetObject()) {
    const std::string key = m.name.GetString();
    const BodyField* f = nullptr;
    for (const auto& candidate : kBodyFields) {
      if (key == candidate.name && (create ? candidate.on_create : candidate.on_edit)) {
        f = &candidate;
      }
    }
    if (f == nullptr) {
      errors.push_back("property " + key + " should not exist");
    } else if (auto e = CheckField(*f, m.value); !e.empty()) {
      errors.push_back(e);
    }
  }
  if (create) {
    for (const char* required : {"calendarId", "locationId", "contactId", "startTime"}) {
      if (GetString(body, required).value_or("").empty()) {
        errors.push_back(std::string(required) + " should not be empty");
      }
    }
  }
  return errors;
}

// ---- slots ----

bool Blocks(const Json& event) {
  const auto status = GetString(event, "appointmentStatus").value_or("");
  return status != "cancelled" && status != "invalid";
}

// Inferred free-slot rule (GHL: "The slot you have selected is no longer available." for an
// overlapping booking, and a 3.5 h booking accepted on a 30 min calendar): a calendar with
// no openHours is open around the clock; a slot starts on the slotInterval grid (UTC), not
// in the past (unless ignoreDateRange), and the calendar holds at most appoinmentPerSlot
// (default 1) non-cancelled appointments at any time.
bool SlotFree(World& w, const Record& calendar, int64_t start, int64_t end, int64_t now,
              const std::string& except_id, bool ignore_date_range) {
  const int64_t duration = CalendarMinutes(calendar.doc, "slotDuration", "slotDurationUnit", 30);
  const int64_t interval =
      CalendarMinutes(calendar.doc, "slotInterval", "slotIntervalUnit", duration);
  if (start % (interval * kMinuteMs) != 0) return false;
  if (!ignore_date_range && start < now) return false;
  const int64_t per_slot = std::max<int64_t>(
      1, static_cast<int64_t>(GetNumber(calendar.doc, "appoinmentPerSlot").value_or(1)));
  int64_t taken = 0;
  for (const auto& [id, rec] : w.appointments.all()) {
    if (id == except_id || GetString(rec.doc, "calendarId") != calendar.id) continue;
    if (!Blocks(rec.doc)) continue;
    if (TimeOf(rec.doc, "startTime") < end && TimeOf(rec.doc, "endTime") > start) ++taken;
  }
  return taken < per_slot;
}

// ---- shapes ----

void CopyFields(const Json& from, Json& to, Alloc& a, std::initializer_list<const char*> fields) {
  for (const char* f : fields) {
    if (auto it = from.FindMember(f); it != from.MemberEnd()) {
      to.AddMember(Json(f, a), Json(it->value, a), a);
    }
  }
}

// AppointmentSchemaResponse.
Reply AppointmentReply(const Record& r) {
  JsonDoc d(rapidjson::kObjectType);
  CopyFields(r.doc, d, d.GetAllocator(),
             {"id", "calendarId", "locationId", "contactId", "startTime", "endTime", "title",
              "meetingLocationType", "appointmentStatus", "assignedUserId", "address",
              "isRecurring", "rrule"});
  return JsonReply(200, d);
}

void EmitAppointment(Emulator& emu, const char* type, const Record& r) {
  JsonDoc p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  Json appt(rapidjson::kObjectType);
  CopyFields(r.doc, appt, a,
             {"id", "address", "title", "calendarId", "contactId", "groupId", "appointmentStatus",
              "assignedUserId", "users", "notes"});
  if (const Json* by = GetObject(r.doc, "createdBy")) {
    CopyFields(*by, appt, a, {"source"});
  }
  CopyFields(r.doc, appt, a, {"startTime", "endTime", "dateAdded", "dateUpdated"});
  p.AddMember("appointment", appt, a);
  emu.Emit(type, r.location_id, std::move(p));
}

// Orders an event's members as CalendarEventDTO lists them (extras last).
void Canonicalize(JsonDoc& event) {
  JsonDoc out(rapidjson::kObjectType);
  CopyFields(event, out, out.GetAllocator(),
             {"id",
              "title",
              "calendarId",
              "locationId",
              "contactId",
              "groupId",
              "appointmentStatus",
              "assignedUserId",
              "users",
              "notes",
              "description",
              "address",
              "isRecurring",
              "rrule",
              "startTime",
              "endTime",
              "dateAdded",
              "dateUpdated",
              "createdBy",
              "meetingLocationType",
              "meetingLocationId"});
  event.Swap(out);
}

// ---- applying a body ----

void SetOrRemove(Json& obj, const char* key, const std::optional<std::string>& v, Alloc& a) {
  if (v && !v->empty()) {
    SetString(obj, key, *v, a);
  } else {
    Remove(obj, key);
  }
}

// Sets calendarId (and the calendar's groupId) when the body names a calendar.
std::optional<Reply> ApplyCalendar(Call& c, const Json& body, JsonDoc& event,
                                   const Record** calendar) {
  World& w = c.emu.world();
  const std::string location = GetString(event, "locationId").value_or("");
  const auto wanted = GetString(body, "calendarId");
  const std::string id = wanted.value_or(GetString(event, "calendarId").value_or(""));
  *calendar = InLocation(w.calendars, id, location);
  if (*calendar == nullptr) return BadRequest("Calendar not found");
  if (wanted) {
    auto& a = event.GetAllocator();
    SetString(event, "calendarId", id, a);
    // Inferred: CalendarEventDTO marks groupId required, so an event of a calendar outside
    // any group carries "" rather than leaving the key out.
    SetString(event, "groupId", GetString((*calendar)->doc, "groupId").value_or(""), a);
  }
  return std::nullopt;
}

// Sets startTime/endTime. The end defaults to start + the calendar's slot duration on
// create; Inferred: an edit that moves only startTime keeps the appointment's length.
std::optional<Reply> ApplyTimes(const Json& body, JsonDoc& event, const Record& calendar) {
  const auto start_in = GetString(body, "startTime");
  const auto end_in = GetString(body, "endTime");
  if (!start_in && !end_in) return std::nullopt;
  const bool had_times = event.HasMember("startTime");
  const std::string start = start_in.value_or(GetString(event, "startTime").value_or(""));
  const int64_t start_ms = ParseIsoTime(start).value_or(0);
  std::string end;
  if (end_in) {
    end = *end_in;
  } else {
    const int64_t length =
        had_times
            ? TimeOf(event, "endTime") - TimeOf(event, "startTime")
            : CalendarMinutes(calendar.doc, "slotDuration", "slotDurationUnit", 30) * kMinuteMs;
    end = FormatInZone(start_ms + length, ZoneSuffix(start));
  }
  if (ParseIsoTime(end).value_or(0) <= start_ms) {
    return Unprocessable({"endTime must be after startTime"});  // Inferred message
  }
  auto& a = event.GetAllocator();
  SetString(event, "startTime", start, a);
  SetString(event, "endTime", end, a);
  return std::nullopt;
}

void ApplyPlainFields(const Json& body, JsonDoc& event) {
  auto& a = event.GetAllocator();
  for (const char* f : {"title", "description", "address", "notes", "meetingLocationId",
                        "appointmentStatus", "meetingLocationType"}) {
    if (auto v = GetString(body, f)) SetString(event, f, *v, a);
  }
  // "If `address` is provided in the request body, the meetingLocationType defaults to custom."
  if (body.HasMember("address") && !body.HasMember("meetingLocationType")) {
    SetString(event, "meetingLocationType", "custom", a);
  }
  // "The rrule only be applied if ignoreFreeSlotValidation is true."
  if (auto rrule = GetString(body, "rrule");
      rrule && GetBool(body, "ignoreFreeSlotValidation").value_or(false)) {
    SetOrRemove(event, "rrule", rrule, a);
    Set(event, "isRecurring", Json(!rrule->empty()), a);
  }
}

// Applies a validated create or edit body to `event`; `self` is the appointment's own id
// on an edit (it does not block its own slot).
std::optional<Reply> ApplyBody(Call& c, const Json& body, JsonDoc& event, const std::string& self) {
  const Record* calendar = nullptr;
  if (auto e = ApplyCalendar(c, body, event, &calendar)) return e;
  const std::string location = GetString(event, "locationId").value_or("");
  if (auto user = GetString(body, "assignedUserId")) {
    // Inferred: the assigned user must be a user of the location.
    if (!user->empty() && !UserInLocation(c.emu.world(), *user, location)) {
      return BadRequest("User not found");
    }
    SetOrRemove(event, "assignedUserId", user, event.GetAllocator());
  }
  const JsonDoc before = Copy(event);
  if (auto e = ApplyTimes(body, event, *calendar)) return e;
  ApplyPlainFields(body, event);
  const bool moved =
      self.empty() || GetString(before, "startTime") != GetString(event, "startTime") ||
      GetString(before, "endTime") != GetString(event, "endTime") || body.HasMember("calendarId");
  if (moved && !GetBool(body, "ignoreFreeSlotValidation").value_or(false) &&
      !SlotFree(c.emu.world(), *calendar, TimeOf(event, "startTime"), TimeOf(event, "endTime"),
                c.now_ms, self, GetBool(body, "ignoreDateRange").value_or(false))) {
    return BadRequest("The slot you have selected is no longer available.");
  }
  return std::nullopt;
}

JsonDoc NewEvent(Call& c, const Json& body, const std::string& id) {
  JsonDoc e(rapidjson::kObjectType);
  auto& a = e.GetAllocator();
  e.AddMember("id", Str(id, a), a);
  e.AddMember("locationId", Str(GetString(body, "locationId").value_or(""), a), a);
  e.AddMember("contactId", Str(GetString(body, "contactId").value_or(""), a), a);
  e.AddMember("users", Json(rapidjson::kArrayType), a);
  e.AddMember("meetingLocationId", "default", a);
  e.AddMember("isRecurring", false, a);
  Json by(rapidjson::kObjectType);
  // Inferred: "third_party" for API bookings, "calendar_page" for changes made in the app.
  by.AddMember("source", Str(c.token != nullptr ? "third_party" : "calendar_page", a), a);
  e.AddMember("createdBy", by, a);
  e.AddMember("dateAdded", Str(Stamp(c.now_ms), a), a);
  e.AddMember("dateUpdated", Str(Stamp(c.now_ms), a), a);
  return e;
}

// Inferred defaults: the title is the calendar's eventTitle with {{contact.name}} filled
// in (GHL's default template), the status "confirmed" when the calendar auto-confirms
// (autoConfirm defaults to true) else "new", and meetingLocationType "default".
void ApplyDefaults(JsonDoc& event, const Record& calendar, const Record& contact) {
  auto& a = event.GetAllocator();
  if (!event.HasMember("title")) {
    std::string title = GetString(calendar.doc, "eventTitle").value_or("{{contact.name}}");
    const std::string name = GetString(contact.doc, "name").value_or("Appointment");
    const std::string tag = "{{contact.name}}";
    if (auto at = title.find(tag); at != std::string::npos) title.replace(at, tag.size(), name);
    SetString(event, "title", title, a);
  }
  if (!event.HasMember("appointmentStatus")) {
    const bool confirm = GetBool(calendar.doc, "autoConfirm").value_or(true);
    SetString(event, "appointmentStatus", confirm ? "confirmed" : "new", a);
  }
  if (!event.HasMember("meetingLocationType"))
    SetString(event, "meetingLocationType", "default", a);
}

// ---- handlers ----

// Rejects query parameters the route does not know. Inferred from the locations API, whose
// query DTOs answer 422 "property locationId should not exist" (highlevel-api-sdk issue #7).
std::optional<Reply> CheckQueryKeys(const Call& c, std::initializer_list<const char*> known) {
  std::vector<std::string> errors;
  for (const auto& [k, v] : c.query) {
    if (std::none_of(known.begin(), known.end(), [&](const char* x) { return k == x; })) {
      errors.push_back("property " + k + " should not exist");
    }
  }
  if (errors.empty()) return std::nullopt;
  return Unprocessable(errors);
}

Reply ListCalendars(Call& c) {
  if (auto bad = CheckQueryKeys(c, {"locationId", "groupId", "showDrafted"})) return *bad;
  const auto location = c.Query("locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  const auto drafted = c.Query("showDrafted").value_or("true");
  if (drafted != "true" && drafted != "false") {
    return Unprocessable({"showDrafted must be a boolean value"});
  }
  const auto group = c.Query("groupId");
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (const auto& [id, rec] : c.emu.world().calendars.all()) {
    if (rec.location_id != location) continue;
    if (group && GetString(rec.doc, "groupId") != *group) continue;
    // Inferred: a draft is a calendar with isActive false ("active or draft" in the spec).
    if (drafted == "false" && !GetBool(rec.doc, "isActive").value_or(true)) continue;
    list.PushBack(Json(rec.doc, a), a);
  }
  d.AddMember("calendars", list, a);
  return JsonReply(200, d);
}

Reply GetCalendar(Call& c) {
  const Record* r = c.emu.world().calendars.Find(c.path["calendarId"]);
  if (r == nullptr) return BadRequest("Calendar not found");
  if (auto denied = c.CheckLocation(r->location_id)) return *denied;
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("calendar", Json(r->doc, d.GetAllocator()), d.GetAllocator());
  return JsonReply(200, d);
}

bool IsEpochMs(const std::string& s) {
  return !s.empty() && s.size() < 17 &&
         std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

// Which appointments a GET /calendars/events selector picks.
bool Selected(const Json& event, const std::string& key, const std::string& value) {
  if (key != "userId") return GetString(event, key.c_str()) == value;
  if (GetString(event, "assignedUserId") == value) return true;
  const Json* users = GetArray(event, "users");
  return users != nullptr && std::any_of(users->Begin(), users->End(), [&](const Json& u) {
           return u.IsString() && value == u.GetString();
         });
}

Reply ListEvents(Call& c) {
  if (auto bad = CheckQueryKeys(
          c, {"locationId", "userId", "calendarId", "groupId", "startTime", "endTime"})) {
    return *bad;
  }
  std::vector<std::string> errors;
  const auto location = c.Query("locationId").value_or("");
  if (location.empty()) errors.push_back("locationId should not be empty");
  std::string key;
  int selectors = 0;
  for (const char* k : {"calendarId", "userId", "groupId"}) {
    if (!c.Query(k).value_or("").empty()) key = k, ++selectors;
  }
  if (selectors == 0) errors.push_back("Either of calendarId, userId or groupId is required");
  // Inferred: the three selectors are exclusive.
  if (selectors > 1) errors.push_back("Only one of calendarId, userId or groupId may be given");
  for (const char* k : {"startTime", "endTime"}) {
    if (!IsEpochMs(c.Query(k).value_or("")))
      errors.push_back(std::string(k) + " must be a number string");
  }
  if (!errors.empty()) return Unprocessable(errors);
  if (auto denied = c.CheckLocation(location)) return *denied;
  const int64_t from = std::stoll(*c.Query("startTime"));
  const int64_t to = std::stoll(*c.Query("endTime"));
  const std::string value = *c.Query(key);
  // Inferred: live data (no search lag), every status, ordered by start; an event overlaps
  // the inclusive [startTime, endTime] range when it starts by endTime and ends after
  // startTime. Recurring series are not expanded into instances.
  std::vector<const Record*> hits;
  for (const auto& [id, rec] : c.emu.world().appointments.all()) {
    if (rec.location_id != location || !Selected(rec.doc, key, value)) continue;
    if (TimeOf(rec.doc, "startTime") <= to && TimeOf(rec.doc, "endTime") > from) {
      hits.push_back(&rec);
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Record* x, const Record* y) {
    const int64_t sx = TimeOf(x->doc, "startTime"), sy = TimeOf(y->doc, "startTime");
    return sx != sy ? sx < sy : x->id < y->id;
  });
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (const Record* r : hits) list.PushBack(Json(r->doc, a), a);
  d.AddMember("events", list, a);
  return JsonReply(200, d);
}

Reply CreateAppointment(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  if (auto errors = ValidateBody(*body, true); !errors.empty()) return Unprocessable(errors);
  const std::string location = *GetString(*body, "locationId");
  if (auto denied = c.CheckLocation(location)) return *denied;
  Emulator& emu = c.emu;
  const Record* contact =
      InLocation(emu.world().contacts, *GetString(*body, "contactId"), location);
  if (contact == nullptr) return BadRequest("Contact not found");
  Record r;
  r.id = emu.NewId();
  r.location_id = location;
  r.added_ms = r.updated_ms = c.now_ms;
  r.doc = NewEvent(c, *body, r.id);
  if (auto e = ApplyBody(c, *body, r.doc, "")) return *e;
  const Record* calendar = emu.world().calendars.Find(*GetString(r.doc, "calendarId"));
  ApplyDefaults(r.doc, *calendar, *contact);
  Canonicalize(r.doc);
  Record& stored =
      emu.world().appointments.Put(std::move(r), c.now_ms, emu.options().search_lag_ms);
  EmitAppointment(emu, "AppointmentCreate", stored);
  return AppointmentReply(stored);
}

Reply GetAppointment(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().appointments, "eventId", "Appointment", &err);
  if (!r) return *err;
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("event", Json(r->doc, d.GetAllocator()), d.GetAllocator());
  return JsonReply(200, d);
}

// An edit that changes nothing leaves dateUpdated alone and fires no webhook.
Reply EditAppointment(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().appointments, "eventId", "Appointment", &err);
  if (!r) return *err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  if (auto errors = ValidateBody(*body, false); !errors.empty()) return Unprocessable(errors);
  JsonDoc scratch = Copy(r->doc);
  if (auto e = ApplyBody(c, *body, scratch, r->id)) return *e;
  Canonicalize(scratch);
  if (scratch == r->doc) return AppointmentReply(*r);
  r->doc = std::move(scratch);
  r->updated_ms = c.now_ms;
  SetString(r->doc, "dateUpdated", Stamp(c.now_ms), r->doc.GetAllocator());
  c.emu.world().appointments.Touched(*r, c.now_ms, c.emu.options().search_lag_ms);
  EmitAppointment(c.emu, "AppointmentUpdate", *r);
  return AppointmentReply(*r);
}

Reply DeleteEvent(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().appointments, "eventId", "Appointment", &err);
  if (!r) return *err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  // DeleteAppointmentSchema has no properties.
  std::vector<std::string> errors;
  for (const auto& m : body->GetObject()) {
    errors.push_back("property " + std::string(m.name.GetString()) + " should not exist");
  }
  if (!errors.empty()) return Unprocessable(errors);
  const Record gone{r->id, r->location_id, Copy(r->doc), r->added_ms, r->updated_ms};
  c.emu.world().appointments.Erase(gone.id, c.now_ms, c.emu.options().search_lag_ms);
  EmitAppointment(c.emu, "AppointmentDelete", gone);
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("succeeded", true, d.GetAllocator());
  return JsonReply(201, d);  // DeleteEventSuccessfulResponseDto, declared as 201
}

}  // namespace

void RegisterCalendarRoutes(Router& r) {
  using http::verb;
  const char* v = kVersion20210415;
  const Access loc = Access::kLocation;
  r.Add(verb::get, "/calendars/", v, loc, ListCalendars);
  r.Add(verb::get, "/calendars/{calendarId}", v, loc, GetCalendar);
  r.Add(verb::get, "/calendars/events", v, loc, ListEvents);
  r.Add(verb::post, "/calendars/events/appointments", v, loc, CreateAppointment);
  r.Add(verb::get, "/calendars/events/appointments/{eventId}", v, loc, GetAppointment);
  r.Add(verb::put, "/calendars/events/appointments/{eventId}", v, loc, EditAppointment);
  r.Add(verb::delete_, "/calendars/events/{eventId}", v, loc, DeleteEvent);
}

}  // namespace ghl::emulator
