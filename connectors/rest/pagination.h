// Paging through a REST list endpoint, and the scan cursor that carries it (pure).
//
// The cursor the connector hands to the engine is a small JSON object:
//   {"in_scan":true,"next":"3","size":100,"since":"...","rejected":false,"first":"k",
//    "high":"..."}
// while a scan goes on (`next` is the page number, the offset, the API's cursor or the
// next link's target, by pagination type), and {"high":"..."} once it is done (the
// resume point of the next incremental scan; the connector returns "" instead when
// incremental scans are not configured).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>

#include "connectors/rest/options.h"

namespace ghl::connectors::rest {

struct ScanState {
  bool in_scan = false;
  std::string next;       // the continuation ("" = the first page)
  int64_t size = 0;       // items per request, fixed for the whole scan
  std::string since;      // the updated_since value of this scan ("" = a full scan)
  std::string high;       // the highest updated value seen (the next scan's resume point)
  bool rejected = false;  // an item of this scan was rejected
  std::string first;      // the key of the previous page's first item (a loop guard)
};

std::string EncodeCursor(const ScanState& state);
std::optional<ScanState> DecodeCursor(const std::string& cursor);

// `target` with `name=value` appended to its query, both URL-escaped.
std::string AppendQuery(const std::string& target, const std::string& name,
                        const std::string& value);

// The request target of the state's next page (for `link`, after the first page, the
// stored target itself).
std::string PageTarget(const ListOptions& list, const ScanState& state);

// The continuation after a page of `items` items whose body is `doc` and whose Link header
// is `link` (for `link`: the rel="next" URL as given, not yet resolved), or nullopt when
// the scan is done.
std::optional<std::string> NextPage(const PaginationOptions& p, const ScanState& state,
                                    size_t items, const rapidjson::Value& doc,
                                    const std::string& link);

// The URL of rel="next" in a Link header value (RFC 8288), if any.
std::optional<std::string> LinkNext(const std::string& link);

}  // namespace ghl::connectors::rest
