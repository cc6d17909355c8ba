// Private to the SyncRunner's source files: the work items of a pass, decided outcomes,
// and the outbox payload format.
#pragma once

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sync/runner.h"

namespace ghl::sync {

using connectors::Row;
using mapping::Direction;
using mapping::Fields;
using mapping::Value;

struct SyncRunner::Item {
  std::string location;
  std::optional<Link> link;
  std::optional<GhlRecord> ghl;
  bool ghl_deleted = false;
  bool ghl_from_poll = false;
  std::optional<Row> ext;
  bool ext_deleted = false;
  bool dead = false;  // merged into another item
  std::string error;  // a side could not be read this time: skip, retry next pass
};

struct SyncRunner::Outcome {
  Link link;
  bool save = false;
  std::vector<Job> jobs;
  std::vector<ConflictRecord> conflicts;
  std::vector<std::pair<Job, std::string>> dead_letters;  // job shape + error
  std::vector<Decision> decisions;
  int deletes = 0;
  // Set when a reference is not linked yet: nothing is decided, the record is read again
  // on the next pass (the pass holds its cursors).
  std::string wait;
  std::optional<Target> cancel_pending;  // Decided::cancel_pending
};

namespace runner_internal {

// An outbox job's payload: JobPayload (sync/decide.h), which documents the format.
inline std::string Payload(const Fields& canonical, const Fields* external = nullptr,
                           const std::string& key = "", const std::string& expect = "",
                           const Fields* before = nullptr, const std::string& rule = "") {
  return JobPayload(canonical, external, key, expect, before, rule);
}

struct ParsedPayload {
  Fields canonical;
  Fields external;
  std::string key;
  std::string expect;
  std::optional<Fields> before;
  std::string rule;  // "" in payloads written before rules were recorded
};

inline bool ParsePayload(const std::string& json, ParsedPayload* out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto dump = [&](const char* name, Fields* fields) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return true;
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    it->value.Accept(w);
    return mapping::FromJson(std::string(b.GetString(), b.GetSize()), fields);
  };
  if (!dump("canonical", &out->canonical) || !dump("external", &out->external)) return false;
  if (doc.HasMember("before")) {
    out->before.emplace();
    if (!dump("before", &*out->before)) return false;
  }
  if (auto it = doc.FindMember("key"); it != doc.MemberEnd() && it->value.IsString()) {
    out->key = it->value.GetString();
  }
  if (auto it = doc.FindMember("expect"); it != doc.MemberEnd() && it->value.IsString()) {
    out->expect = it->value.GetString();
  }
  if (auto it = doc.FindMember("rule"); it != doc.MemberEnd() && it->value.IsString()) {
    out->rule = it->value.GetString();
  }
  return true;
}

inline std::string IdempotencyKey(const std::string& sync, int64_t link_id, Target target,
                                  const std::string& op, const std::string& payload) {
  return fmt::format("{:016x}",
                     std::hash<std::string>{}(fmt::format("{}\n{}\n{}\n{}\n{}", sync, link_id,
                                                          ToString(target), op, payload)));
}

// Normalised match key for first-time linking: lower-cased email, digits of a phone.
inline std::string MatchKey(const std::string& field, const Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr || s->empty()) return "";
  std::string out;
  if (field == "phone") {
    for (char c : *s) {
      if (c >= '0' && c <= '9') out += c;
    }
  } else {
    for (char c : *s) {
      if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out.empty() ? "" : field + ":" + out;
}

// What identifies the record a GHL create makes, from its canonical fields, so that the
// record, found by a poll or a webhook before the create's result is recorded (its answer
// lost, a crash), is taken for that create's and not created again on the other side: a
// contact's match keys; an opportunity's contact, pipeline and name; an appointment's
// calendar, contact and start time. GhlSide::FindCreated looks a create up the same way.
inline std::vector<std::string> CreateKeys(const mapping::SyncSpec& spec, const Fields& fields) {
  std::vector<std::string> out;
  auto text = [&](const char* name) {
    auto it = fields.find(name);
    const auto* s = it == fields.end() ? nullptr : std::get_if<std::string>(&it->second);
    return s != nullptr ? *s : std::string();
  };
  switch (spec.object) {
    case mapping::GhlObject::kContacts:
      for (const auto& field : spec.match) {
        auto v = fields.find(field);
        if (v == fields.end()) continue;
        if (std::string key = MatchKey(field, v->second); !key.empty()) out.push_back(key);
      }
      break;
    case mapping::GhlObject::kOpportunities:
      if (!text("contactId").empty() && !text("name").empty()) {
        out.push_back("opportunity\n" + text("contactId") + "\n" + text("pipelineId") + "\n" +
                      text("name"));
      }
      break;
    case mapping::GhlObject::kAppointments:
      if (auto at = ParseIsoMs(text("startTime")); at && !text("contactId").empty()) {
        out.push_back("appointment\n" + text("calendarId") + "\n" + text("contactId") + "\n" +
                      std::to_string(*at));
      }
      break;
  }
  return out;
}

inline bool FlowsToGhl(Direction d) { return d != Direction::kFromGhl; }
inline bool FlowsFromGhl(Direction d) { return d != Direction::kToGhl; }

}  // namespace runner_internal

}  // namespace ghl::sync
