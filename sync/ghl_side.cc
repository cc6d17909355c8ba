#include "sync/ghl_side.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>

#include "connectors/ghl/operations.h"

namespace ghl::sync {

using ghl_client::ApiRequest;
using ghl_client::ApiResult;
using ghl_client::Lane;
using ghl_client::Outcome;
using mapping::GhlObject;

namespace {

constexpr int kPageLimit = 100;

Error CallError(std::string_view what, const ApiResult& r) {
  return Error{fmt::format("{}: {}", what, Describe(r))};
}

// A dateUpdated as the instant it names, for ordering: GHL writes appointment times with
// the location's offset ("2023-09-25T16:00:00+05:30"), so the text alone does not order
// them. One that does not parse (or is missing) sorts first.
int64_t UpdatedMs(const std::string& date_updated) {
  return ParseIsoMs(date_updated).value_or(std::numeric_limits<int64_t>::min());
}

}  // namespace

int64_t GhlSide::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

std::string Describe(const ApiResult& r) {
  std::string out = r.status > 0 ? fmt::format("HTTP {}", r.status) : std::string("no answer");
  out += fmt::format(" ({})", ghl_client::ToString(r.error));
  if (!r.message.empty()) out += ": " + r.message;
  if (!r.trace_id.empty()) out += " [traceId " + r.trace_id + "]";
  return out;
}

Result<void> GhlSide::LoadIndex(const std::string& location_id) {
  if (CustomFieldModel(object_).empty()) {  // appointments have no custom fields: no call
    indexes_[location_id] = ghl_client::CustomFieldIndex();
    return Ok();
  }
  auto request = ghl_client::custom_fields::List(location_id, "all");
  if (!request.ok()) return request.error();
  ApiResult r = gateway_.Call(location_id, Lane::kReconcile, std::move(request.value()));
  if (r.outcome != Outcome::kOk) return CallError("loading custom field definitions", r);
  auto index = ghl_client::CustomFieldIndex::Parse(r.body);
  if (!index.ok()) return Error{"custom field definitions: " + index.error().message};
  indexes_[location_id] = std::move(index.value());
  return Ok();
}

const ghl_client::CustomFieldIndex* GhlSide::Index(const std::string& location_id) const {
  auto it = indexes_.find(location_id);
  return it == indexes_.end() ? nullptr : &it->second;
}

Result<GhlRecord> GhlSide::Parse(const std::string& location_id, const rapidjson::Value& record,
                                 bool partial) {
  const auto* index = Index(location_id);
  if (index == nullptr) {
    if (auto loaded = LoadIndex(location_id); !loaded.ok()) return loaded.error();
    index = Index(location_id);
  }
  auto parsed = FromGhl(record, object_, wanted_, *index, partial);
  if (!parsed.ok()) return parsed;
  if (parsed->location_id.empty()) parsed->location_id = location_id;
  return parsed;
}

Result<PollResult> GhlSide::Poll(const std::string& location_id, const std::string& since,
                                 Lane lane) {
  PollResult out;
  auto keep = [&](const rapidjson::Value& item) -> Result<void> {
    auto record = Parse(location_id, item);
    if (!record.ok()) return record.error();
    if (!since.empty() && !record->date_updated.empty()) {
      auto at = ParseIsoMs(record->date_updated);
      auto from = ParseIsoMs(since);
      if (at && from && *at < *from) return Ok();
    }
    if (!record->date_updated.empty() &&
        (out.newest.empty() || UpdatedMs(record->date_updated) > UpdatedMs(out.newest))) {
      out.newest = record->date_updated;
    }
    out.records.push_back(std::move(record.value()));
    return Ok();
  };
  auto oldest_first = [&out] {
    std::stable_sort(out.records.begin(), out.records.end(),
                     [](const GhlRecord& a, const GhlRecord& b) {
                       return UpdatedMs(a.date_updated) < UpdatedMs(b.date_updated);
                     });
  };
  if (object_ == GhlObject::kContacts) {
    rapidjson::Document filters(rapidjson::kArrayType);
    rapidjson::Document sort(rapidjson::kArrayType);
    auto& fa = filters.GetAllocator();
    if (!since.empty()) {
      rapidjson::Value range(rapidjson::kObjectType);
      range.AddMember("gte", rapidjson::Value(since.c_str(), fa), fa);
      rapidjson::Value f(rapidjson::kObjectType);
      f.AddMember("field", "dateUpdated", fa);
      f.AddMember("operator", "range", fa);
      f.AddMember("value", range, fa);
      filters.PushBack(f, fa);
    }
    rapidjson::Value s(rapidjson::kObjectType);
    s.AddMember("field", "dateUpdated", sort.GetAllocator());
    s.AddMember("direction", "asc", sort.GetAllocator());
    sort.PushBack(s, sort.GetAllocator());
    ghl_client::contacts::SearchParams params;
    params.location_id = location_id;
    params.page_limit = kPageLimit;
    params.filters = since.empty() ? nullptr : &filters;
    params.sort = &sort;
    std::optional<ghl_client::contacts::SearchParams> next = params;
    while (next) {
      auto request = ghl_client::contacts::Search(*next);
      if (!request.ok()) return request.error();
      ApiResult r = gateway_.Call(location_id, lane, std::move(request.value()));
      if (r.outcome != Outcome::kOk) return CallError("polling contacts", r);
      auto page = ghl_client::ParseContactSearch(r.body, next->page_limit);
      if (!page.ok()) return Error{"polling contacts: " + page.error().message};
      for (size_t i = 0; i < page->contacts.size(); ++i) {
        if (auto kept = keep(page->contacts[i]); !kept.ok()) return kept.error();
      }
      next = ghl_client::NextPage(*next, page.value());
    }
    return out;
  }
  if (object_ == GhlObject::kOpportunities) {
    // The opportunities search has no dateUpdated filter: list everything, keep the
    // records updated since the cursor.
    ghl_client::opportunities::SearchParams params;
    params.location_id = location_id;
    auto listed = SearchOpportunities(params, lane, "polling opportunities",
                                      [&](const rapidjson::Value& item) -> Result<bool> {
                                        if (auto kept = keep(item); !kept.ok()) return kept.error();
                                        return false;
                                      });
    if (!listed.ok()) return listed.error();
    oldest_first();
    return out;
  }
  if (auto polled = PollAppointments(location_id, lane, keep); !polled.ok()) {
    return polled.error();
  }
  oldest_first();
  return out;
}

// GHL cannot search appointments by dateUpdated, and GET /calendars/events needs one
// calendar (or user, or group) and a time range and has no paging. So: list the calendars
// (one call on every poll, as calendars come and go), then each calendar's events that
// overlap the window around now (one call each, concurrently). A failed call fails the
// poll: the cursor must not move past changes that were not read.
Result<void> GhlSide::PollAppointments(
    const std::string& location_id, Lane lane,
    const std::function<Result<void>(const rapidjson::Value&)>& keep) {
  const int64_t now = NowMs();
  auto calendars = ListCalendars(location_id, lane);
  if (!calendars.ok()) return Error{"polling appointments: " + calendars.error().message};
  std::vector<std::string> calendar_ids;
  std::vector<GhlCall> calls;
  for (const Named& calendar : calendars.value()) {
    ghl_client::calendars::EventsParams params;
    params.location_id = location_id;
    params.calendar_id = calendar.id;
    params.start_ms = std::max<int64_t>(0, now - window_.past.count());
    params.end_ms = now + window_.future.count();
    auto request = ghl_client::calendars::ListEvents(params);
    if (!request.ok()) return request.error();
    calendar_ids.push_back(params.calendar_id);
    calls.push_back({location_id, lane, std::move(request.value())});
  }
  RememberCalendars(location_id, std::move(calendars.value()));
  auto results = gateway_.CallAll(std::move(calls));
  std::set<std::string> seen;  // an event is listed once, under its calendar; to be sure
  for (size_t k = 0; k < results.size(); ++k) {
    const std::string what = "polling appointments of calendar " + calendar_ids[k];
    if (results[k].outcome != Outcome::kOk) return CallError(what, results[k]);
    auto events = ghl_client::ParseRecords(results[k].body, "events");
    if (!events.ok()) return Error{what + ": " + events.error().message};
    for (size_t i = 0; i < events->size(); ++i) {
      auto id = (*events)[i].FindMember("id");
      if (id != (*events)[i].MemberEnd() && id->value.IsString() &&
          !seen.insert(id->value.GetString()).second) {
        continue;
      }
      if (auto kept = keep((*events)[i]); !kept.ok()) return kept.error();
    }
  }
  return Ok();
}

std::vector<Fetched> GhlSide::Fetch(const std::string& location_id,
                                    const std::vector<std::string>& ids, Lane lane) {
  std::vector<Fetched> out(ids.size());
  std::vector<GhlCall> calls;
  std::vector<size_t> slots;
  for (size_t i = 0; i < ids.size(); ++i) {
    Result<ApiRequest> request = object_ == GhlObject::kContacts ? ghl_client::contacts::Get(ids[i])
                                 : object_ == GhlObject::kOpportunities
                                     ? ghl_client::opportunities::Get(ids[i])
                                     : ghl_client::calendars::GetAppointment(ids[i]);
    if (!request.ok()) {
      out[i].error = request.error().message;
      continue;
    }
    calls.push_back({location_id, lane, std::move(request.value())});
    slots.push_back(i);
  }
  auto results = gateway_.CallAll(std::move(calls));
  for (size_t k = 0; k < results.size(); ++k) {
    Fetched& f = out[slots[k]];
    const ApiResult& r = results[k];
    if (r.status == 404 || (r.status == 400 && r.body.find("not found") != std::string::npos)) {
      f.state = Fetched::State::kNotFound;
      continue;
    }
    if (r.outcome != Outcome::kOk) {
      f.error = Describe(r);
      continue;
    }
    // GET /calendars/events/appointments/{id} answers {"event": {...}}.
    auto doc = ghl_client::ParseRecord(
        r.body, object_ == GhlObject::kAppointments ? "event" : RecordKey(object_));
    if (!doc.ok()) {
      f.error = doc.error().message;
      continue;
    }
    auto record = Parse(location_id, doc.value());
    if (!record.ok()) {
      f.error = record.error().message;
      continue;
    }
    f.state = Fetched::State::kFound;
    f.record = std::move(record.value());
  }
  return out;
}

Result<std::optional<GhlRecord>> GhlSide::FindContact(const std::string& location_id,
                                                      const std::string& email,
                                                      const std::string& phone, Lane lane) {
  if (email.empty() && phone.empty()) return std::optional<GhlRecord>();
  auto request = ghl_client::contacts::FindDuplicate(location_id, email, phone);
  if (!request.ok()) return request.error();
  ApiResult r = gateway_.Call(location_id, lane, std::move(request.value()));
  if (r.outcome != Outcome::kOk) return CallError("duplicate lookup", r);
  auto doc = ghl_client::ParseObject(r.body);
  if (!doc.ok()) return Error{"duplicate lookup: " + doc.error().message};
  auto it = doc->FindMember("contact");
  if (it == doc->MemberEnd() || !it->value.IsObject()) return std::optional<GhlRecord>();
  auto record = Parse(location_id, it->value);
  if (!record.ok()) return record.error();
  return std::optional<GhlRecord>(std::move(record.value()));
}

Result<ApiRequest> GhlSide::BuildWrite(const Write& w) const {
  if (!w.add_tags.empty()) {
    if (object_ != GhlObject::kContacts)
      return Error{"only contacts have tags to soft-delete with"};
    return ghl_client::contacts::AddTags(w.ghl_id, w.add_tags);
  }
  if (w.remove) {
    if (object_ == GhlObject::kContacts) return ghl_client::contacts::Delete(w.ghl_id);
    if (object_ == GhlObject::kOpportunities) return ghl_client::opportunities::Delete(w.ghl_id);
    return ghl_client::calendars::DeleteEvent(w.ghl_id);
  }
  const auto* index = Index(w.location_id);
  if (index == nullptr)
    return Error{"custom field definitions of " + w.location_id + " not loaded"};
  auto body = ToGhlBody(w.fields, object_, *index);
  if (!body.ok()) return body.error();
  switch (object_) {
    case GhlObject::kContacts:
      return w.ghl_id.empty() ? ghl_client::contacts::Upsert(w.location_id, body.value())
                              : ghl_client::contacts::Update(w.ghl_id, body.value());
    case GhlObject::kOpportunities:
      return w.ghl_id.empty() ? ghl_client::opportunities::Create(w.location_id, body.value())
                              : ghl_client::opportunities::Update(w.ghl_id, body.value());
    case GhlObject::kAppointments:
      return w.ghl_id.empty()
                 ? ghl_client::calendars::CreateAppointment(w.location_id, body.value())
                 : ghl_client::calendars::UpdateAppointment(w.ghl_id, body.value());
  }
  return Error{"unknown object"};
}

WriteAnswer GhlSide::ReadAnswer(const Write& w, const ApiResult& r) const {
  WriteAnswer a;
  a.body = r.body;
  a.trace_id = r.trace_id;
  a.id = w.ghl_id;
  if (w.remove && r.status == 404) {  // already gone: the goal is reached
    a.outcome = Outcome::kOk;
    return a;
  }
  a.outcome = r.outcome;
  if (r.outcome != Outcome::kOk) {
    a.error = Describe(r);
    return a;
  }
  if (w.remove || !w.add_tags.empty()) return a;
  auto doc = ghl_client::ParseObject(r.body);
  if (!doc.ok()) {
    a.outcome = Outcome::kRetry;
    a.error = "unreadable answer: " + doc.error().message;
    return a;
  }
  const char* key = RecordKey(object_);
  auto it = doc->FindMember(key);
  const rapidjson::Value* record = it != doc->MemberEnd() && it->value.IsObject() ? &it->value
                                   : doc->IsObject() && doc->HasMember("id")      ? &doc.value()
                                                                                  : nullptr;
  if (record == nullptr) {
    if (!w.ghl_id.empty()) return a;  // an update answered without the record: fine
    a.outcome = Outcome::kRetry;
    a.error = fmt::format("the create answer has no {} with an id", key);
    return a;
  }
  if (auto id = record->FindMember("id"); id != record->MemberEnd() && id->value.IsString()) {
    a.id = id->value.GetString();
  }
  if (auto du = record->FindMember("dateUpdated");
      du != record->MemberEnd() && du->value.IsString()) {
    a.date_updated = du->value.GetString();
  }
  if (const auto* index = Index(w.location_id)) {
    if (auto parsed = FromGhl(*record, object_, wanted_, *index, /*partial=*/true); parsed.ok()) {
      a.record = std::move(parsed.value());
    }
  }
  if (auto created = doc->FindMember("new"); w.ghl_id.empty() && object_ == GhlObject::kContacts &&
                                             created != doc->MemberEnd() &&
                                             created->value.IsBool()) {
    a.matched_existing = !created->value.GetBool();
  }
  return a;
}

namespace {

// Whether `record` holds every value of `fields` that is not null.
bool Holds(const GhlRecord& record, const mapping::Fields& fields,
           std::initializer_list<const char*> names) {
  bool any = false;
  for (const char* name : names) {
    auto want = fields.find(name);
    if (want == fields.end() || mapping::IsNull(want->second)) continue;
    auto have = record.fields.find(name);
    if (have == record.fields.end() || !mapping::Equal(have->second, want->second)) return false;
    any = true;
  }
  return any;
}

std::string TextOf(const mapping::Fields& fields, const char* name) {
  auto it = fields.find(name);
  const auto* s = it == fields.end() ? nullptr : std::get_if<std::string>(&it->second);
  return s != nullptr ? *s : "";
}

}  // namespace

Result<void> GhlSide::SearchOpportunities(
    ghl_client::opportunities::SearchParams params, Lane lane, std::string_view what,
    const std::function<Result<bool>(const rapidjson::Value&)>& each) {
  params.status = "all";
  params.limit = kPageLimit;
  std::optional<ghl_client::opportunities::SearchParams> next = params;
  while (next) {
    auto request = ghl_client::opportunities::Search(*next);
    if (!request.ok()) return request.error();
    ApiResult r = gateway_.Call(params.location_id, lane, std::move(request.value()));
    if (r.outcome != Outcome::kOk) return CallError(what, r);
    auto page = ghl_client::ParseOpportunitySearch(r.body, next->limit);
    if (!page.ok()) return Error{fmt::format("{}: {}", what, page.error().message)};
    for (size_t i = 0; i < page->records.size(); ++i) {
      auto stop = each(page->records[i]);
      if (!stop.ok()) return stop.error();
      if (*stop) return Ok();
    }
    next = ghl_client::NextPage(*next, page.value());
  }
  return Ok();
}

Result<std::optional<GhlRecord>> GhlSide::FindCreated(const Write& w) {
  const std::string location = w.location_id;
  if (object_ == GhlObject::kContacts) {
    return FindContact(location, TextOf(w.fields, "email"), TextOf(w.fields, "phone"), w.lane);
  }
  if (object_ == GhlObject::kOpportunities) {
    ghl_client::opportunities::SearchParams params;
    params.location_id = location;
    params.pipeline_id = TextOf(w.fields, "pipelineId");
    params.contact_id = TextOf(w.fields, "contactId");
    if (params.contact_id.empty() || TextOf(w.fields, "name").empty()) {
      return std::optional<GhlRecord>();
    }
    std::optional<GhlRecord> found;
    auto searched =
        SearchOpportunities(params, w.lane, "looking for the opportunity created",
                            [&](const rapidjson::Value& item) -> Result<bool> {
                              auto record = Parse(location, item);
                              if (!record.ok()) return record.error();
                              if (!Holds(*record, w.fields, {"name", "pipelineId", "contactId"}))
                                return false;
                              found = std::move(record.value());
                              return true;
                            });
    if (!searched.ok()) return searched.error();
    return found;
  }
  const auto start = ParseIsoMs(TextOf(w.fields, "startTime"));
  const std::string calendar = TextOf(w.fields, "calendarId");
  if (!start || calendar.empty() || TextOf(w.fields, "contactId").empty()) {
    return std::optional<GhlRecord>();
  }
  ghl_client::calendars::EventsParams params;
  params.location_id = location;
  params.calendar_id = calendar;
  params.start_ms = *start - 60'000;
  params.end_ms = *start + 60'000;
  auto request = ghl_client::calendars::ListEvents(params);
  if (!request.ok()) return request.error();
  ApiResult r = gateway_.Call(location, w.lane, std::move(request.value()));
  if (r.outcome != Outcome::kOk) return CallError("looking for the appointment created", r);
  auto events = ghl_client::ParseRecords(r.body, "events");
  if (!events.ok()) return Error{"looking for the appointment created: " + events.error().message};
  for (size_t i = 0; i < events->size(); ++i) {
    auto record = Parse(location, (*events)[i]);
    if (!record.ok()) return record.error();
    auto at = record->fields.find("startTime");
    const auto* text = at == record->fields.end() ? nullptr : std::get_if<std::string>(&at->second);
    if (text == nullptr || ParseIsoMs(*text) != start) continue;
    if (Holds(*record, w.fields, {"calendarId", "contactId"})) {
      return std::optional<GhlRecord>(std::move(record.value()));
    }
  }
  return std::optional<GhlRecord>();
}

std::vector<WriteAnswer> GhlSide::Apply(const std::vector<Write>& writes) {
  std::vector<WriteAnswer> out(writes.size());
  std::vector<GhlCall> calls;
  std::vector<size_t> slots;
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!writes[i].remove && writes[i].add_tags.empty() &&
        Index(writes[i].location_id) == nullptr) {
      if (auto loaded = LoadIndex(writes[i].location_id); !loaded.ok()) {
        out[i].outcome = Outcome::kRetry;
        out[i].error = loaded.error().message;
        continue;
      }
    }
    auto request = BuildWrite(writes[i]);
    if (!request.ok()) {
      out[i].outcome = Outcome::kFatal;
      out[i].error = request.error().message;
      continue;
    }
    calls.push_back({writes[i].location_id, writes[i].lane, std::move(request.value())});
    slots.push_back(i);
  }
  auto results = gateway_.CallAll(std::move(calls));
  for (size_t k = 0; k < results.size(); ++k) {
    out[slots[k]] = ReadAnswer(writes[slots[k]], results[k]);
  }
  return out;
}

}  // namespace ghl::sync
