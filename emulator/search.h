// Search: GHL's advanced-search filter language over JSON records (FACTS.md §3.2).
//
// filters: [{field, operator, value}] or groups {group: "AND"|"OR", filters: [...]};
// top-level items are ANDed. Operators: eq, not_eq, contains, not_contains, exists,
// not_exists, range {gte, lte, gt, lt}. Date fields (dateAdded, dateUpdated, ...) compare
// as times, given as ISO strings or epoch milliseconds. Array fields (tags) match when
// any element matches. sort: [{field, direction: asc|desc}], id breaks ties; the
// `searchAfter` cursor of a result is its sort values followed by its id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "emulator/json.h"

namespace ghl::emulator {

struct SortKey {
  std::string field;
  bool descending = false;
};

class Filter {
 public:
  // Validates and compiles `filters`; on error returns false and fills `errors`.
  bool Compile(const Json* filters, std::vector<std::string>* errors);
  bool Matches(const Json& record) const;
  // The earliest time (epoch ms) of the date field `field` a matching record can have: the
  // gte or gt of a top-level range on it; nullopt when the filters set none.
  std::optional<int64_t> LowerBound(const std::string& field) const;

 private:
  struct Node {
    bool is_group = false;
    bool any = false;  // OR group
    std::vector<Node> children;
    std::string field, op;
    JsonDoc value;
  };
  bool CompileNode(const Json& item, Node* out, std::vector<std::string>* errors, int depth);
  bool Eval(const Node& n, const Json& record) const;
  bool EvalLeaf(const Node& n, const Json& record) const;

  std::vector<Node> top_;
};

// Parses `sort`; defaults to dateAdded descending.
bool CompileSort(const Json* sort, std::vector<SortKey>* out, std::vector<std::string>* errors);
// Strict weak order of records under `keys` (id last).
bool SortLess(const Json& a, const Json& b, const std::vector<SortKey>& keys);
// The searchAfter cursor value of `record`, and whether `record` comes after `cursor`.
JsonDoc CursorOf(const Json& record, const std::vector<SortKey>& keys);
bool AfterCursor(const Json& record, const Json& cursor, const std::vector<SortKey>& keys);

}  // namespace ghl::emulator
