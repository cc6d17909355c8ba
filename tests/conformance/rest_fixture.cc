// The REST connector in the conformance suite: a fresh local JSON API
// (tests/support/json_api_server.h) per case, paged by page number, with incremental scans
// on updated_at. External edits PATCH the API directly, as another client would.
#include <rapidjson/document.h>

#include "tests/conformance/fixture.h"
#include "tests/support/http_client.h"
#include "tests/support/json_api_server.h"
#include "tests/support/temp_dir.h"

namespace ghl::conformance {
namespace {

class RestFixture final : public ConnectorFixture {
 public:
  std::unique_ptr<connectors::Connector> Make() override {
    config::Diagnostics errors;
    auto c = connectors::Create(Spec(Options(), kResource), errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }

  void ExternalEdit(const std::string& key, const std::string& column,
                    const std::string& value) override {
    rapidjson::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember(
        rapidjson::Value(column.c_str(), a),
        rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a), a);
    auto reply = testing::HttpCall("PATCH", server_.url() + "/customers/" + key,
                                   testing::JsonApiServer::Dump(body));
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  std::vector<BadConfig> BadConfigs() override {
    return {
        {"no base_url", Spec("{type: rest}", kResource),
         "connectors.under_test: missing required key 'base_url'"},
        {"misspelt option", Spec(Options("timout: 5s"), kResource), "did you mean 'timeout'"},
        {"bearer without token", Spec(Options("auth: {type: bearer}"), kResource),
         "connectors.under_test.auth: auth type 'bearer' needs 'token' (or 'token_file')"},
        {"unknown auth type", Spec(Options("auth: {type: oauth}"), kResource),
         "'oauth' is not one of"},
        {"no list", Spec(Options(), "{connector: under_test}"), "missing required key 'list'"},
        {"cursor without path",
         Spec(Options(), "{list: {path: /customers, pagination: {type: cursor}}}"),
         "external.list.pagination: pagination type 'cursor' needs 'cursor_path'"},
        {"updated_since without updated_field",
         Spec(Options(), "{list: {path: /customers, updated_since: {param: since}}}"),
         "list.updated_since needs updated_field"},
        {"get path without key",
         Spec(Options(), "{list: {path: /customers}, get: {path: /customers/one}}"),
         "get.path '/customers/one' has no {key}"},
        {"bad method", Spec(Options(), "{list: {path: /customers}, update: {method: PUSH}}"),
         "external.update.method: 'PUSH' is not one of"},
        {"creates not idempotent", Spec(Options(), "{list: {path: /customers}}"),
         "creates are not idempotent: a create whose answer is lost"},
    };
  }

 private:
  static constexpr const char* kResource =
      "{connector: under_test, list: {path: /customers, items: data, pagination: {type: page},"
      " updated_since: {param: updated_since, format: iso8601}}, updated_field: updated_at,"
      " create: {match: email}}";

  std::string Options(const std::string& extra = "") const {
    return "{type: rest, base_url: '" + server_.url() + "'" + (extra.empty() ? "" : ", ") + extra +
           "}";
  }

  connectors::ConnectorSpec Spec(const std::string& options, const std::string& resource) const {
    return SpecFromYaml("rest", options, resource, dir_.path());
  }

  testing::JsonApiServer server_;
  testing::TempDir dir_;
};

std::unique_ptr<ConnectorFixture> MakeRestFixture() { return std::make_unique<RestFixture>(); }

}  // namespace

INSTANTIATE_TEST_SUITE_P(Rest, ConnectorConformance,
                         ::testing::Values(FixtureFactory{"rest", &MakeRestFixture}), FixtureName);

}  // namespace ghl::conformance
