// WebhookEvent: what one stored webhook body says, for the sync engine. Pure: no IO.
//
// GHL documents flat payloads (`{"type":"ContactCreate","locationId":..,"id":..,...}`) with
// `timestamp` and `webhookId` beside the event's fields; a test example wraps the fields in
// `data` instead. Both are accepted (FACTS.md §8.2). Appointment events carry their record
// under `appointment`. Unknown event types parse fine (kind kOther): they are kept, counted
// and skipped, never errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ghl::ghl_client {

enum class WebhookKind { kUpsert, kDelete, kInstall, kUninstall, kOther };
const char* ToString(WebhookKind kind);  // "upsert" | "delete" | "install" | "uninstall" | "other"

struct WebhookEvent {
  std::string webhook_id;  // "" when the body has none
  std::string timestamp;   // as sent ("2025-01-28T14:35:00Z"); "" when absent
  // `timestamp` as Unix milliseconds; nullopt when absent or not an ISO 8601 UTC time (or
  // a number of milliseconds).
  std::optional<int64_t> timestamp_ms;
  std::string type;         // "ContactCreate", "INSTALL", ... ("" when absent)
  std::string location_id;  // "" for agency-level events
  std::string object;       // "contacts" | "opportunities" | "appointments" | "" (other)
  std::string id;           // the record's id ("" when the event has none)
  WebhookKind kind = WebhookKind::kOther;
  // The record's fields as a JSON object: the payload without the envelope keys (type,
  // timestamp, webhookId), the `data` object, or the `appointment` object.
  std::string record_json;
  std::optional<std::string> date_updated;  // the record's dateUpdated, when it has one
};

// Fails on a body that is not JSON, not a JSON object, or whose envelope keys have the
// wrong types (type, locationId, id, webhookId not strings; data not an object).
Result<WebhookEvent> ParseWebhookEvent(std::string_view body);

// The object and kind an event type stands for: {"contacts", kUpsert} for ContactCreate,
// {"", kOther} for a type this daemon does not sync.
struct WebhookType {
  const char* object;
  WebhookKind kind;
};
WebhookType ClassifyWebhookType(std::string_view type);

// "2025-01-28T14:35:00Z", "2025-01-28T14:35:00.123Z" or with a "+05:30" offset, as Unix
// milliseconds; nullopt for anything else.
std::optional<int64_t> ParseIsoTimestampMs(std::string_view text);

}  // namespace ghl::ghl_client
