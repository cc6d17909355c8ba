// GhlSide: GHL ids by name (`references: {by: name}`): pipelines, their stages, calendars.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "connectors/ghl/operations.h"
#include "sync/ghl_side.h"

namespace ghl::sync {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// What a by-name field is called in messages.
std::string_view Noun(std::string_view field) {
  if (field == "pipelineId") return "pipeline";
  if (field == "pipelineStageId") return "pipeline stage";
  return "calendar";
}

// One id-name pair a by-name field can take, with where it is (for stages: its pipeline).
struct Candidate {
  std::string id, name, pipeline_id, pipeline_name;
};

}  // namespace

Result<bool> GhlSide::LoadNames(const std::string& location_id, bool reload) {
  Names& names = names_[location_id];
  const int64_t now = NowMs();
  // Loaded: kept for 5 minutes (a name renamed in GHL is picked up by then), or for one
  // minute when a lookup missed. A load that failed is not tried again for 30 s: every
  // record of a pass would make its own call.
  // A failed reload keeps the names loaded before.
  if (!names.failure.empty() && now - names.failed_ms < 30'000) {
    if (names.loaded_ms != 0) return false;
    return Error{names.failure};
  }
  const int64_t age = now - names.loaded_ms;
  if (names.loaded_ms != 0 && age < 300'000 && (!reload || age < 60'000)) return false;
  Names loaded;
  Result<void> got = Ok();
  if (object_ == mapping::GhlObject::kOpportunities) {
    auto pipelines = ListPipelines(location_id);
    if (pipelines.ok()) {
      loaded.pipelines = std::move(pipelines.value());
    } else {
      got = pipelines.error();
    }
  } else {
    auto calendars = ListCalendars(location_id, ghl_client::Lane::kReconcile);
    if (calendars.ok()) {
      loaded.calendars = std::move(calendars.value());
    } else {
      got = calendars.error();
    }
  }
  if (!got.ok()) {
    names.failure = got.error().message;
    names.failed_ms = now;
    if (names.loaded_ms != 0) return false;
    return got.error();
  }
  loaded.loaded_ms = now;
  names = std::move(loaded);
  return true;
}

Result<std::vector<ghl_client::Pipeline>> GhlSide::ListPipelines(const std::string& location_id) {
  auto request = ghl_client::opportunities::ListPipelines(location_id);
  if (!request.ok()) return request.error();
  auto r = gateway_.Call(location_id, ghl_client::Lane::kReconcile, std::move(request.value()));
  if (r.outcome != ghl_client::Outcome::kOk) {
    return Error{fmt::format("listing the pipelines of {}: {}", location_id, Describe(r))};
  }
  auto pipelines = ghl_client::ParsePipelines(r.body);
  if (!pipelines.ok()) return Error{"pipelines: " + pipelines.error().message};
  return pipelines;
}

Result<std::vector<GhlSide::Named>> GhlSide::ListCalendars(const std::string& location_id,
                                                           ghl_client::Lane lane) {
  auto request = ghl_client::calendars::ListCalendars(location_id);
  if (!request.ok()) return request.error();
  auto r = gateway_.Call(location_id, lane, std::move(request.value()));
  if (r.outcome != ghl_client::Outcome::kOk) {
    return Error{fmt::format("listing calendars: {}", Describe(r))};
  }
  auto list = ghl_client::ParseRecords(r.body, "calendars");
  if (!list.ok()) return Error{"listing calendars: " + list.error().message};
  std::vector<Named> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& c = (*list)[i];
    auto id = c.FindMember("id");
    if (id == c.MemberEnd() || !id->value.IsString()) {
      return Error{fmt::format("listing calendars: calendars[{}] has no id", i)};
    }
    Named named{id->value.GetString(), ""};
    if (auto name = c.FindMember("name"); name != c.MemberEnd() && name->value.IsString()) {
      named.name = name->value.GetString();
    }
    out.push_back(std::move(named));
  }
  return out;
}

void GhlSide::RememberCalendars(const std::string& location_id, std::vector<Named> calendars) {
  Names& names = names_[location_id];
  names.calendars = std::move(calendars);
  names.loaded_ms = NowMs();
  names.failure.clear();
}

namespace {

template <typename Names>
std::vector<Candidate> CandidatesOf(const Names& names, std::string_view field,
                                    const std::string& pipeline_id) {
  std::vector<Candidate> out;
  if (field == "calendarId") {
    for (const auto& c : names.calendars) out.push_back({c.id, c.name, "", ""});
    return out;
  }
  for (const auto& p : names.pipelines) {
    if (field == "pipelineId") {
      out.push_back({p.id, p.name, "", ""});
      continue;
    }
    if (!pipeline_id.empty() && p.id != pipeline_id) continue;
    for (const auto& st : p.stages) out.push_back({st.id, st.name, p.id, p.name});
  }
  return out;
}

std::string Listed(const std::vector<Candidate>& candidates) {
  std::string out;
  for (const auto& c : candidates) out += (out.empty() ? "" : ", ") + c.name;
  return out.empty() ? "none" : out;
}

}  // namespace

Result<GhlSide::NameLookup> GhlSide::IdOfName(const std::string& location_id,
                                              const std::string& field, const std::string& name,
                                              const std::string& pipeline_id) {
  // Round 0 uses what is loaded; when the name is not there, round 1 reloads (unless that
  // happened less than a minute ago) and looks again.
  for (int round = 0;; ++round) {
    auto loaded = LoadNames(location_id, /*reload=*/round > 0);
    if (!loaded.ok()) return loaded.error();
    const Names& names = names_[location_id];
    const auto candidates = CandidatesOf(names, field, pipeline_id);
    std::vector<const Candidate*> exact, loose;
    for (const auto& c : candidates) {
      if (c.id == name) return NameLookup{c.id, ""};  // already an id
      if (c.name == name) exact.push_back(&c);
      if (SameName(c.name, name)) loose.push_back(&c);
    }
    const auto& found = exact.empty() ? loose : exact;
    if (found.size() == 1) return NameLookup{found.front()->id, ""};
    if (found.size() > 1) {
      std::string where;
      for (const auto* c : found) {
        where +=
            (where.empty() ? "" : ", ") + (c->pipeline_name.empty() ? c->id : c->pipeline_name);
      }
      if (field == "pipelineStageId") {
        return NameLookup{"", fmt::format("{} name '{}' is in more than one pipeline ({}); map "
                                          "pipelineId too, so the stage is looked up in its own",
                                          Noun(field), name, where)};
      }
      return NameLookup{"", fmt::format("{} {}s are named '{}' in GHL location {} (ids {}); "
                                        "rename one in GHL or give the id",
                                        found.size(), Noun(field), name, location_id, where)};
    }
    if (round == 0 && !loaded.value()) continue;
    std::string scope;
    if (field == "pipelineStageId" && !pipeline_id.empty()) {
      scope = " of pipeline " + pipeline_id;
      for (const auto& p : names.pipelines) {
        if (p.id == pipeline_id) scope = " of pipeline '" + p.name + "'";
      }
    }
    return NameLookup{"", fmt::format("there is no {} named '{}' in GHL location {}{} (there "
                                      "are: {}); fix the value or create it in GHL",
                                      Noun(field), name, location_id, scope, Listed(candidates))};
  }
}

Result<GhlSide::NameLookup> GhlSide::NameOfId(const std::string& location_id,
                                              const std::string& field, const std::string& id) {
  for (int round = 0;; ++round) {
    auto loaded = LoadNames(location_id, /*reload=*/round > 0);
    if (!loaded.ok()) return loaded.error();
    for (const auto& c : CandidatesOf(names_[location_id], field, "")) {
      if (c.id != id) continue;
      if (c.name.empty()) {
        return NameLookup{"", fmt::format("the {} {} of GHL location {} has no name", Noun(field),
                                          id, location_id)};
      }
      return NameLookup{c.name, ""};
    }
    if (round == 0 && !loaded.value()) continue;
    return NameLookup{"", fmt::format("GHL location {} has no {} with id {} (deleted in GHL?)",
                                      location_id, Noun(field), id)};
  }
}

}  // namespace ghl::sync
