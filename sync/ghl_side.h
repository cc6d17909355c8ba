// GhlSide: the GHL half of one sync: polling by dateUpdated, fetching records, first-time
// matching, and turning outbox jobs into API calls and their answers into results. It owns
// the custom-field index of each location (refreshed on demand) and calls GHL only through
// the GhlGateway, so every call passes the rate limiter.
//
// Thread-safety: used by the engine's worker thread only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ghl/operations.h"
#include "connectors/ghl/responses.h"
#include "core/clock.h"
#include "mapping/mapping.h"
#include "sync/ghl_gateway.h"
#include "sync/ghl_records.h"

namespace ghl::sync {

struct PollResult {
  std::vector<GhlRecord> records;  // oldest dateUpdated first
  std::string newest;              // the largest dateUpdated seen ("" when none)
};

struct Fetched {
  enum class State { kFound, kNotFound, kFailed } state = State::kFailed;
  GhlRecord record;
  std::string error;
};

// What a GHL write came back with.
struct WriteAnswer {
  ghl_client::Outcome outcome = ghl_client::Outcome::kRetry;
  std::string id;            // the record's id (created, matched or updated)
  std::string date_updated;  // as GHL answered it, when it did
  std::string error;         // for retry/fatal: class, status, message
  std::string body;          // GHL's answer, kept for the dead-letter queue
  std::string trace_id;
  // A contact create (an upsert) that GHL matched to a contact it already had ("new":
  // false): the write went over that contact's values.
  bool matched_existing = false;
  // The record as GHL answered it after the write (partial: fields the answer lacks are
  // `unknown`), when it did.
  std::optional<GhlRecord> record;
};

class GhlSide {
 public:
  // `window`: where an appointments poll looks (the mapping's `appointments:`).
  // `clock`: where "now" is, for the appointments window and the names cache.
  GhlSide(GhlGateway& gateway, const Clock& clock, mapping::GhlObject object,
          std::vector<std::string> wanted, mapping::AppointmentWindow window = {})
      : gateway_(gateway),
        clock_(clock),
        object_(object),
        wanted_(std::move(wanted)),
        window_(window) {}

  mapping::GhlObject object() const { return object_; }
  const std::vector<std::string>& wanted() const { return wanted_; }
  const mapping::AppointmentWindow& window() const { return window_; }

  // Loads (or reloads) the custom-field definitions of a location.
  Result<void> LoadIndex(const std::string& location_id);
  const ghl_client::CustomFieldIndex* Index(const std::string& location_id) const;

  // Records updated at or after `since` (ISO; "" = all), oldest first. Appointments: those
  // of every calendar of the location (listed on every poll) in `window` around now, at a
  // cost of 1 + one call per calendar; changes outside the window are not seen.
  Result<PollResult> Poll(const std::string& location_id, const std::string& since,
                          ghl_client::Lane lane);
  // The current state of `ids`, concurrently.
  std::vector<Fetched> Fetch(const std::string& location_id, const std::vector<std::string>& ids,
                             ghl_client::Lane lane);
  // The contact GHL would match by email or phone (duplicate lookup), if any.
  Result<std::optional<GhlRecord>> FindContact(const std::string& location_id,
                                               const std::string& email, const std::string& phone,
                                               ghl_client::Lane lane);
  struct Write;
  // The record that a create (`w` with no ghl_id) may have made already, or that was there
  // before it, found by what the create writes: GHL has no idempotency key. A contact by
  // email or phone (the duplicate lookup, which GHL answers from the record store, not the
  // lagging search index); an opportunity among its contact's in its pipeline, by name; an
  // appointment among its calendar's events at its start time, by contact. Nothing when the
  // write carries none of these fields.
  Result<std::optional<GhlRecord>> FindCreated(const Write& w);
  // Parses a record (e.g. a webhook payload) into canonical fields.
  Result<GhlRecord> Parse(const std::string& location_id, const rapidjson::Value& record,
                          bool partial = false);

  // `references: {by: name}`: GHL ids that users know by name. `field` is pipelineId,
  // pipelineStageId (a stage of `pipeline_id`, or of any pipeline when it is "") or
  // calendarId (mapping::KnownByName). IdOfName keeps a value that already is such an id.
  // The location's pipelines or calendars are loaded on first use and kept 5 minutes; a
  // name or id not found loads them again (at most once a minute) before it is reported in
  // `problem`, which names what there is. A failed load is not repeated for 30 s (the
  // names loaded before stay in use meanwhile).
  struct NameLookup {
    std::string value;
    std::string problem;  // not found: why, for the dead-letter queue
  };
  Result<NameLookup> IdOfName(const std::string& location_id, const std::string& field,
                              const std::string& name, const std::string& pipeline_id);
  Result<NameLookup> NameOfId(const std::string& location_id, const std::string& field,
                              const std::string& id);

  struct Write {
    std::string location_id;
    std::string ghl_id;  // "" = create
    bool remove = false;
    std::vector<std::string> add_tags;  // contacts: add these tags (a soft delete)
    mapping::Fields fields;             // canonical, for upserts
    ghl_client::Lane lane = ghl_client::Lane::kReconcile;
  };
  std::vector<WriteAnswer> Apply(const std::vector<Write>& writes);

 private:
  Result<void> PollAppointments(const std::string& location_id, ghl_client::Lane lane,
                                const std::function<Result<void>(const rapidjson::Value&)>& keep);
  // Every opportunity that `params` finds (all statuses), page by page, to `each`, which
  // answers true to stop. `what` names the search in errors.
  Result<void> SearchOpportunities(
      ghl_client::opportunities::SearchParams params, ghl_client::Lane lane, std::string_view what,
      const std::function<Result<bool>(const rapidjson::Value&)>& each);
  Result<ghl_client::ApiRequest> BuildWrite(const Write& w) const;
  WriteAnswer ReadAnswer(const Write& w, const ghl_client::ApiResult& r) const;

  int64_t NowMs() const;

  GhlGateway& gateway_;
  const Clock& clock_;
  mapping::GhlObject object_;
  std::vector<std::string> wanted_;
  mapping::AppointmentWindow window_;
  std::map<std::string, ghl_client::CustomFieldIndex> indexes_;

  struct Named {
    std::string id, name;
  };
  Result<std::vector<ghl_client::Pipeline>> ListPipelines(const std::string& location_id);
  // The location's calendars (one call), for the appointments poll and the names cache.
  Result<std::vector<Named>> ListCalendars(const std::string& location_id, ghl_client::Lane lane);
  // A calendar list the poll just read is the names cache's too: no call of its own.
  void RememberCalendars(const std::string& location_id, std::vector<Named> calendars);
  struct Names {
    std::vector<ghl_client::Pipeline> pipelines;
    std::vector<Named> calendars;
    int64_t loaded_ms = 0;  // 0: never
    std::string failure;    // the last load's error, kept for 30 s
    int64_t failed_ms = 0;
  };
  // The location's names, loaded when missing or when `reload` and the last load is more
  // than a minute old. Returns whether it loaded.
  Result<bool> LoadNames(const std::string& location_id, bool reload);
  std::map<std::string, Names> names_;
};

// "429 rate_limited: ..." style summary of a failed call, for logs and the DLQ.
std::string Describe(const ghl_client::ApiResult& r);

}  // namespace ghl::sync
