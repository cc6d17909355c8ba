// The generic REST connector (type `rest`): a JSON HTTP API described in YAML
// (connectors/rest/options.h), reached with blocking libcurl calls on one reused
// connection, under its own rate limit and retry policy (connectors/rest/http_session.h).
//
// Scan   GETs list.path page by page (pagination: page, offset, cursor, Link header or
//        none); one Scan call is one request. Items come from list.items. An item that is
//        not an object or has no key is a RejectedRow ("GET /customers?page=3 item 5").
//        With list.updated_since the cursor of a finished scan holds the highest
//        updated_field value seen, and the next scan asks only for items updated since it
//        (minus the overlap): such scans are not `complete`. Without it every scan is a
//        full, `complete` scan (unless an item was rejected).
// Get    GET get.path ({key} replaced); 404 and 410 mean no such row.
// Write  one request per op, in order:
//          upsert without key  create (POST create.path); the key is read from the
//                              response (create.key, else key_field in the item, else
//                              the last segment of the Location header)
//          upsert with key     update (PATCH update.path); a 404 turns into a create with
//                              the key set in the body
//          delete              delete (DELETE delete.path); a 404 or 410 is success
//        The body is the op's fields as a JSON object (see json.h for the type mapping);
//        an update's body leaves out key_field (the key is in the path), a create's leaves
//        it out when it is null.
//        After a kRetry for lack of an answer (5xx, 429, timeouts), the ops after it are
//        not attempted and are kRetry too.
//
// Creates and lost answers: a create (POST) is not sent again within the call once it may
// have reached the API (http_session.h); it ends kRetry and the engine retries it after
// FindCreated:
//   create.match           FindCreated GETs list.path?<match_param>=<value the create
//                          wrote> (following pages) and returns the one item whose `match`
//                          field has that value (compared without regard to case; the
//                          filter is checked here, not trusted); two or more: kFatal
//   idempotency_header     every create carries op.idempotency_key (a random one when the
//                          op has none) in that header, is retried within the call, and
//                          FindCreated has nothing to look up: sending it again is safe
// ParseOptions refuses a resource with neither unless create.allow_duplicates is set.
//
// Versions (how the engine recognises its own writes): Row::version is a hash of the
// item's JSON with members in canonical (sorted) order, prefixed by the item's
// updated_field value and '|' when configured ("2024-05-01T10:00:00Z|3f2a..."): the hash
// catches a change made within the timestamp's resolution (an outside edit in the same
// second as the daemon's own write), as for the SQL connector. Write returns the version
// of the item as the API returned it: from the response body of the create or update, or
// from a follow-up GET when that body is empty or holds no item. So a later scan reports
// the same version as long as the API represents an item the same way in its list, get
// and write answers and nobody else changed it. A create whose version cannot be read is
// still kOk, with an empty version.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <optional>
#include <string>

#include "config/diagnostics.h"
#include "connectors/connector.h"
#include "connectors/registry.h"
#include "connectors/rest/http_session.h"
#include "connectors/rest/options.h"

namespace ghl::connectors::rest {

class RestConnector final : public Connector {
 public:
  RestConnector(Options options, Env env);

  Result<ScanPage> Scan(const std::string& cursor, std::size_t limit) override;
  Result<std::optional<Row>> Get(const std::string& key) override;
  std::vector<WriteResult> Write(const std::vector<WriteOp>& ops) override;
  Result<void> Health() override;
  WriteResult FindCreated(const WriteOp& op) override;
  std::string Describe() const override;

  const Stats& stats() const { return session_.stats(); }
  std::vector<std::pair<std::string, int64_t>> Counters() const override {
    const Stats& s = stats();
    return {{"request", s.requests},
            {"retry", s.retries},
            {"rate_limited", s.rate_limited},
            {"server_error", s.server_errors},
            {"transport_error", s.transport_errors},
            {"auth_error", s.auth_errors},
            {"not_resent", s.not_resent},
            {"connection", s.connections_opened}};
  }

 private:
  // A row read from one item, or why the item was rejected.
  struct Item {
    std::optional<Row> row;
    std::string reason;
    std::string updated;  // the updated_field value ("" when absent)
  };
  Item ReadItem(const rapidjson::Value& item, const std::string& fallback_key = "") const;
  std::string PathFor(const CallOptions& call, const std::string& key) const;
  WriteResult Upsert(const WriteOp& op);
  // `idempotency_key`: sent in connection.idempotency_header when that is set.
  WriteResult Create(const mapping::Fields& fields, const std::string& idempotency_key);
  // The text of create.match as a create of `op` writes it; "" when it writes none.
  std::string MatchValue(const WriteOp& op) const;
  // kOk when `op` has no expect_version or the item's version is still it; else
  // kConflict (or kRetry when the item cannot be read).
  WriteResult Unchanged(const WriteOp& op);
  WriteResult Delete(const WriteOp& op);
  // The outcome of a create/update answer: key and version from its body, or a GET.
  WriteResult Written(const HttpAnswer& answer, const CallOptions& call, std::string key,
                      bool created);

  Options options_;
  HttpSession session_;
};

// Validates spec's blocks (every problem into `errors`) and builds the connector, or null.
std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors);
// The same, with injected time (tests).
std::unique_ptr<RestConnector> Create(const ConnectorSpec& spec, config::Diagnostics& errors,
                                      Env env);

}  // namespace ghl::connectors::rest
