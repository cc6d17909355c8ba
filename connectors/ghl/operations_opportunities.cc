// Request builders for opportunities and pipelines (FACTS.md §4).
#include "connectors/ghl/operation_checks.h"
#include "connectors/ghl/operations.h"

namespace ghl::ghl_client::opportunities {
namespace {

using detail::Checker;
using detail::Prop;
using detail::Type;

constexpr int kMaxLimit = 100;
constexpr int kMaxPagedResults = 10'000;

// The write DTOs share the search enum, which includes "all"; no record can be "all".
const std::vector<std::string_view> kWriteStatus = {"open", "won", "lost", "abandoned"};

// CreateDto (locationId comes from the argument).
std::vector<Prop> CreateProps() {
  return {{"pipelineId", Type::kString, true},
          {"name", Type::kString, true},
          {"status", Type::kString, true, kWriteStatus},
          {"contactId", Type::kString, true},
          {"pipelineStageId", Type::kString},
          {"monetaryValue", Type::kNumber},
          {"assignedTo", Type::kString},
          {"customFields", Type::kFieldValuesByIdOrKey}};
}

// UpdateOpportunityDto.
std::vector<Prop> UpdateProps() {
  return {{"pipelineId", Type::kString},
          {"name", Type::kString},
          {"pipelineStageId", Type::kString},
          {"status", Type::kString, false, kWriteStatus},
          {"monetaryValue", Type::kNumber},
          {"assignedTo", Type::kString},
          {"customFields", Type::kFieldValuesByIdOrKey}};
}

// UpsertOpportunityDto. Inferred: the spec marks followers, isRemoveAllFollowers and
// followersActionType required and types monetaryValue as an object; GHL's published docs
// show the follower fields optional and a numeric value, and an upsert that creates needs
// a contactId (which the spec omits), so those are the rules here.
std::vector<Prop> UpsertProps() {
  return {{"id", Type::kString},
          {"pipelineId", Type::kString, true},
          {"contactId", Type::kString},
          {"name", Type::kString},
          {"status", Type::kString, false, kWriteStatus},
          {"pipelineStageId", Type::kString},
          {"monetaryValue", Type::kNumber},
          {"assignedTo", Type::kString},
          {"lostReasonId", Type::kString},
          {"followers", Type::kStringArray},
          {"isRemoveAllFollowers", Type::kBool},
          {"followersActionType", Type::kString, false, {"add", "remove"}}};
}

std::string PathOf(std::string_view id) { return "/opportunities/" + UrlEncode(id); }

}  // namespace

Result<ApiRequest> Search(const SearchParams& p) {
  Checker c("opportunities.search");
  c.RequireId("location_id", p.location_id);
  c.Range("limit", p.limit, 1, kMaxLimit);
  if (!p.status.empty()) c.OneOf("status", p.status, {"open", "won", "lost", "abandoned", "all"});
  if (p.page) c.Range("page", *p.page, 1, kMaxPagedResults);
  const bool cursor = p.start_after.has_value();
  if (cursor != !p.start_after_id.empty()) {
    c.Fail("startAfter and startAfterId go together (the meta of the previous page)");
  }
  if (cursor && *p.start_after < 0) c.Fail("startAfter must be epoch milliseconds");
  if (!cursor && static_cast<int64_t>(p.page.value_or(1)) * p.limit > kMaxPagedResults) {
    c.Fail("page * limit must not exceed 10000; page further with startAfter/startAfterId");
  }
  if (!c.ok()) return c.error();
  detail::Query q;
  q.Add("location_id", p.location_id)
      .AddIfSet("pipeline_id", p.pipeline_id)
      .AddIfSet("pipeline_stage_id", p.pipeline_stage_id)
      .AddIfSet("contact_id", p.contact_id)
      .AddIfSet("assigned_to", p.assigned_to)
      .AddIfSet("status", p.status)
      .AddIfSet("q", p.q)
      .AddIfSet("order", p.order)
      .Add("limit", std::to_string(p.limit));
  if (p.page) q.Add("page", std::to_string(*p.page));
  if (cursor)
    q.Add("startAfter", std::to_string(*p.start_after)).Add("startAfterId", p.start_after_id);
  return ApiRequest{"opportunities.search", "GET", "/opportunities/search" + q.str()};
}

Result<ApiRequest> Get(std::string_view opportunity_id) {
  Checker c("opportunities.get");
  c.RequireId("id", opportunity_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"opportunities.get", "GET", PathOf(opportunity_id)};
}

Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& fields) {
  Checker c("opportunities.create");
  c.RequireId("locationId", location_id);
  auto body = c.Body(fields, CreateProps(), location_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"opportunities.create", "POST", "/opportunities/", detail::Dump(body)};
}

Result<ApiRequest> Update(std::string_view opportunity_id, const rapidjson::Value& fields) {
  Checker c("opportunities.update");
  c.RequireId("id", opportunity_id);
  auto body = c.Body(fields, UpdateProps());
  if (!c.ok()) return c.error();
  return ApiRequest{"opportunities.update", "PUT", PathOf(opportunity_id), detail::Dump(body)};
}

Result<ApiRequest> UpdateStatus(std::string_view opportunity_id, std::string_view status,
                                std::string_view lost_reason_id) {
  Checker c("opportunities.status");
  c.RequireId("id", opportunity_id);
  c.OneOf("status", status, {"open", "won", "lost", "abandoned"});
  if (!c.ok()) return c.error();
  rapidjson::Document body(rapidjson::kObjectType);
  detail::AddString(body, "status", status, body.GetAllocator());
  if (!lost_reason_id.empty()) {
    detail::AddString(body, "lostReasonId", lost_reason_id, body.GetAllocator());
  }
  return ApiRequest{"opportunities.status", "PUT", PathOf(opportunity_id) + "/status",
                    detail::Dump(body)};
}

Result<ApiRequest> Upsert(std::string_view location_id, const rapidjson::Value& fields) {
  Checker c("opportunities.upsert");
  c.RequireId("locationId", location_id);
  auto body = c.Body(fields, UpsertProps(), location_id);
  if (c.ok() && !body.HasMember("id") && detail::StringOf(body, "contactId").empty()) {
    c.Fail("give the opportunity's id, or the contactId to match or create by");
  }
  if (!c.ok()) return c.error();
  return ApiRequest{"opportunities.upsert", "POST", "/opportunities/upsert", detail::Dump(body)};
}

Result<ApiRequest> Delete(std::string_view opportunity_id) {
  Checker c("opportunities.delete");
  c.RequireId("id", opportunity_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"opportunities.delete", "DELETE", PathOf(opportunity_id)};
}

Result<ApiRequest> ListPipelines(std::string_view location_id) {
  Checker c("pipelines.list");
  c.RequireId("locationId", location_id);
  if (!c.ok()) return c.error();
  return ApiRequest{
      "pipelines.list", "GET",
      "/opportunities/pipelines" + detail::Query().Add("locationId", location_id).str()};
}

}  // namespace ghl::ghl_client::opportunities
