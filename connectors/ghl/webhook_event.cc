#include "connectors/ghl/webhook_event.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <chrono>

#include "connectors/ghl/responses.h"

namespace ghl::ghl_client {
namespace {

using rapidjson::Value;

struct TypeRow {
  const char* type;
  WebhookType mapped;
};

// docs/webhook events/*.md; FACTS.md §8.1. Every Contact*/Opportunity* update event carries
// the whole record, so each is an upsert of it.
constexpr std::array<TypeRow, 18> kTypes = {{
    {"ContactCreate", {"contacts", WebhookKind::kUpsert}},
    {"ContactUpdate", {"contacts", WebhookKind::kUpsert}},
    {"ContactTagUpdate", {"contacts", WebhookKind::kUpsert}},
    {"ContactDndUpdate", {"contacts", WebhookKind::kUpsert}},
    {"ContactDelete", {"contacts", WebhookKind::kDelete}},
    {"OpportunityCreate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityUpdate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityStageUpdate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityStatusUpdate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityMonetaryValueUpdate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityAssignedToUpdate", {"opportunities", WebhookKind::kUpsert}},
    {"OpportunityDelete", {"opportunities", WebhookKind::kDelete}},
    {"AppointmentCreate", {"appointments", WebhookKind::kUpsert}},
    {"AppointmentUpdate", {"appointments", WebhookKind::kUpsert}},
    {"AppointmentDelete", {"appointments", WebhookKind::kDelete}},
    {"INSTALL", {"", WebhookKind::kInstall}},
    {"UNINSTALL", {"", WebhookKind::kUninstall}},
    {"PLAN_CHANGE", {"", WebhookKind::kOther}},
}};

constexpr const char* kEnvelopeKeys[] = {"type", "timestamp", "webhookId"};

const Value* Member(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// The string at `key` of the first of `objects` that has it; "" when none has it.
Result<std::string> StringAt(std::initializer_list<const Value*> objects, const char* key) {
  for (const Value* obj : objects) {
    if (obj == nullptr) continue;
    const Value* v = Member(*obj, key);
    if (v == nullptr || v->IsNull()) continue;
    if (!v->IsString()) return Error{std::string("\"") + key + "\" is not a string"};
    return std::string(v->GetString(), v->GetStringLength());
  }
  return std::string();
}

std::string Dump(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<int> Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

bool At(std::string_view s, size_t pos, char c) { return pos < s.size() && s[pos] == c; }

// The timestamp member: an ISO 8601 string, or (inferred, defensively) Unix milliseconds.
Result<std::optional<int64_t>> TimestampOf(const Value* v, std::string* text) {
  if (v == nullptr || v->IsNull()) return std::optional<int64_t>();
  if (v->IsString()) {
    *text = std::string(v->GetString(), v->GetStringLength());
    return ParseIsoTimestampMs(*text);
  }
  if (v->IsInt64()) {
    *text = std::to_string(v->GetInt64());
    return std::optional<int64_t>(v->GetInt64());
  }
  return Error{"\"timestamp\" is neither a string nor a number"};
}

}  // namespace

const char* ToString(WebhookKind kind) {
  switch (kind) {
    case WebhookKind::kUpsert:
      return "upsert";
    case WebhookKind::kDelete:
      return "delete";
    case WebhookKind::kInstall:
      return "install";
    case WebhookKind::kUninstall:
      return "uninstall";
    case WebhookKind::kOther:
      return "other";
  }
  return "other";
}

WebhookType ClassifyWebhookType(std::string_view type) {
  for (const auto& row : kTypes) {
    if (type == row.type) return row.mapped;
  }
  return {"", WebhookKind::kOther};
}

std::optional<int64_t> ParseIsoTimestampMs(std::string_view s) {
  using namespace std::chrono;
  const auto y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  const auto h = Digits(s, 11, 2), mi = Digits(s, 14, 2), sec = Digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || !At(s, 4, '-') || !At(s, 7, '-') || !At(s, 10, 'T') ||
      !At(s, 13, ':') || !At(s, 16, ':') || *h > 23 || *mi > 59 || *sec > 60) {
    return std::nullopt;
  }
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (At(s, pos, '.')) {
    const size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) ms = ms * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (size_t n = pos - start; n < 3; ++n) ms *= 10;
  }
  int64_t offset_min = 0;
  if (At(s, pos, 'Z')) {
    ++pos;
  } else if (At(s, pos, '+') || At(s, pos, '-')) {
    const auto oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (!oh || !om || !At(s, pos + 3, ':')) return std::nullopt;
    offset_min = (s[pos] == '+' ? 1 : -1) * (*oh * 60 + *om);
    pos += 6;
  } else {
    return std::nullopt;  // a time without a zone is ambiguous
  }
  if (pos != s.size()) return std::nullopt;
  const auto utc = sys_days(date) + hours(*h) + minutes(*mi - offset_min) + seconds(*sec);
  return duration_cast<milliseconds>(utc.time_since_epoch()).count() + ms;
}

Result<WebhookEvent> ParseWebhookEvent(std::string_view body) {
  auto parsed = ParseObject(body);
  if (!parsed.ok()) return parsed.error();
  rapidjson::Document& doc = parsed.value();
  const Value* data = Member(doc, "data");
  if (data != nullptr && !data->IsObject()) {
    return Error{"\"data\" is present but not an object"};
  }
  WebhookEvent event;
  auto type = StringAt({&doc, data}, "type");
  auto location = StringAt({&doc, data}, "locationId");
  auto webhook_id = StringAt({&doc, data}, "webhookId");
  for (auto* field : {&type, &location, &webhook_id}) {
    if (!field->ok()) return field->error();
  }
  event.type = std::move(type).value();
  event.location_id = std::move(location).value();
  event.webhook_id = std::move(webhook_id).value();
  const Value* ts = Member(doc, "timestamp");
  if (ts == nullptr && data != nullptr) ts = Member(*data, "timestamp");
  auto ts_ms = TimestampOf(ts, &event.timestamp);
  if (!ts_ms.ok()) return ts_ms.error();
  event.timestamp_ms = *ts_ms;

  const WebhookType mapped = ClassifyWebhookType(event.type);
  event.object = mapped.object;
  event.kind = mapped.kind;

  // The record: `appointment` for appointment events, else `data`, else the flat payload.
  const Value* scope = data != nullptr ? data : &doc;
  const Value* record = scope;
  if (event.object == std::string_view("appointments")) {
    const Value* appointment = Member(*scope, "appointment");
    if (appointment != nullptr && !appointment->IsObject()) {
      return Error{"\"appointment\" is present but not an object"};
    }
    if (appointment != nullptr) record = appointment;
  }
  auto id = StringAt({record}, "id");
  if (!id.ok()) return id.error();
  event.id = std::move(id).value();
  if (const Value* updated = Member(*record, "dateUpdated"); updated && updated->IsString()) {
    event.date_updated = std::string(updated->GetString(), updated->GetStringLength());
  }
  if (record != &doc) {
    event.record_json = Dump(*record);
  } else {
    for (const char* key : kEnvelopeKeys) doc.EraseMember(key);
    event.record_json = Dump(doc);
  }
  return event;
}

}  // namespace ghl::ghl_client
