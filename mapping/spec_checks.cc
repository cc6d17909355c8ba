// The checks of a mapping file that span keys, and compiling the fields' transforms.
#include <algorithm>
#include <map>
#include <set>

#include "mapping/fields_catalog.h"
#include "mapping/spec.h"
#include "mapping/transforms.h"

namespace ghl::mapping::detail {
namespace {

using config::Context;

constexpr std::string_view kCustomPrefix = "customFields.";

std::string FieldRef(size_t i) { return "fields[" + std::to_string(i) + "]"; }

bool FlowsToGhl(Direction d) { return d != Direction::kFromGhl; }
bool FlowsFromGhl(Direction d) { return d != Direction::kToGhl; }

// Reports an error at `key` of `node` under the path `path`.
void ErrorAt(Context& ctx, const std::string& path, const YAML::Node& node, const char* key,
             const std::string& message) {
  const std::string sep = path.empty() ? "" : ".";
  auto scope = ctx.Enter(path + (key[0] != '\0' ? sep + key : ""));
  ctx.Error(key[0] != '\0' ? At(node, key) : node, message);
}

// Checks that `name` is a GHL field of the object; reports why not.
bool CheckGhlName(GhlObject object, const std::string& name, std::string* why) {
  if (name.starts_with(kCustomPrefix)) {
    const std::string key = name.substr(kCustomPrefix.size());
    if (!HasCustomFields(object)) {
      *why = std::string(ToString(object)) + " have no custom fields in GHL";
      return false;
    }
    if (key.find('.') != std::string::npos) {
      *why = "write the custom field key without its model prefix, e.g. customFields." +
             key.substr(key.rfind('.') + 1);
      return false;
    }
    const bool ok = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '-';
    });
    if (!ok) *why = "'" + key + "' is not a custom field key (letters, digits, _ and -)";
    return ok;
  }
  if (FindStandardField(object, name) != nullptr) return true;
  std::vector<std::string> names;
  for (const auto& f : StandardFields(object)) names.emplace_back(f.name);
  *why = "unknown GHL field '" + name + "' for " + ToString(object);
  if (auto guess = config::DidYouMean(name, names)) *why += "; did you mean '" + *guess + "'?";
  *why += " (custom fields are written customFields.<key>)";
  return false;
}

class SyncChecker {
 public:
  SyncChecker(SyncSpec& s, const YAML::Node& root, Context& ctx)
      : s_(s), root_(root), ctx_(ctx), fields_node_(At(root, "fields")) {}

  void Run() {
    if (!IsKnownPhoneRegion(s_.default_region)) {
      ErrorAt(ctx_, "", root_, "default_region",
              "unknown region '" + s_.default_region + "'; use an ISO 3166 code such as US");
    }
    if (fields_node_.IsSequence() && fields_node_.size() == 0) {
      ErrorAt(ctx_, "", root_, "fields", "at least one field is needed");
    }
    for (size_t i = 0; i < s_.fields.size(); ++i) CheckField(i);
    for (size_t i = 0; i < s_.references.size(); ++i) CheckReference(i);
    CheckKey();
    CheckMatch();
    CheckDeletes();
    CheckLocations();
  }

 private:
  YAML::Node FieldNode(size_t i) const {
    return fields_node_.IsSequence() && i < fields_node_.size() ? fields_node_[i] : fields_node_;
  }

  void CheckField(size_t i) {
    FieldSpec& f = s_.fields[i];
    const YAML::Node node = FieldNode(i);
    if (!node.IsMap()) return;  // reported by the field table
    const std::string path = FieldRef(i);
    std::string why;
    if (!f.ghl.empty() && !CheckGhlName(s_.object, f.ghl, &why)) {
      ErrorAt(ctx_, path, node, "ghl", why);
    }
    CheckDirection(f, node, path);
    if (!f.ghl.empty()) {
      auto [it, fresh] = ghl_names_.emplace(f.ghl, i);
      if (!fresh) {
        ErrorAt(ctx_, path, node, "ghl",
                "GHL field '" + f.ghl + "' is already mapped by " + FieldRef(it->second) +
                    " (line " + std::to_string(s_.fields[it->second].line) + ")");
      }
    }
    const bool reads_row = CompileTransforms(f, node, path);
    CheckExternal(f, i, node, path, reads_row);
    CheckOwner(f, node, path);
  }

  void CheckDirection(FieldSpec& f, const YAML::Node& node, const std::string& path) {
    const Direction sync = s_.direction;
    if (f.direction != Direction::kBoth && sync != Direction::kBoth && f.direction != sync) {
      ErrorAt(ctx_, path, node, "direction",
              std::string("this field flows ") + ToString(f.direction) + " but the sync is " +
                  ToString(sync) + "; remove the field's direction or change the sync's");
    }
    if (f.direction == Direction::kBoth) f.direction = sync;
    const StandardField* standard = FindStandardField(s_.object, f.ghl);
    if (standard != nullptr && !standard->writable && FlowsToGhl(f.direction)) {
      ErrorAt(ctx_, path, node, "ghl",
              "'" + f.ghl +
                  "' is set by GHL and cannot be written; give this field "
                  "`direction: from_ghl`");
    }
  }

  // Compiles the field's chains; returns whether the value is built from the row.
  bool CompileTransforms(FieldSpec& f, const YAML::Node& node, const std::string& path) {
    const YAML::Node list = node.IsMap() ? node["transforms"] : YAML::Node();
    if (!list.IsDefined() || !list.IsSequence()) return false;
    const TransformEnv env{s_.default_region};
    bool reads_row = false;
    for (size_t j = 0; j < list.size(); ++j) {
      auto scope = ctx_.Enter(path + ".transforms[" + std::to_string(j) + "]");
      auto steps = CompileTransform(list[j], env, ctx_);
      if (!steps) continue;
      if (steps->reads_row && j > 0) {
        ctx_.Error(list[j], "'" + steps->to_ghl->name() +
                                "' builds the value from the row: it must be the first transform");
      }
      if (!steps->invertible && FlowsFromGhl(f.direction)) {
        ctx_.Error(list[j], "'" + steps->to_ghl->name() +
                                "' cannot be undone on the way back; give this field "
                                "`direction: to_ghl`");
      }
      reads_row = reads_row || steps->reads_row;
      f.to_ghl.push_back(steps->to_ghl);
      if (steps->from_ghl) f.from_ghl.insert(f.from_ghl.begin(), steps->from_ghl);
    }
    return reads_row;
  }

  void CheckExternal(const FieldSpec& f, size_t i, const YAML::Node& node, const std::string& path,
                     bool reads_row) {
    if (reads_row) {
      if (!f.external.empty()) {
        ErrorAt(ctx_, path, node, "external",
                "this field's value is built by its template from other columns; remove "
                "`external`");
      }
      return;
    }
    if (f.external.empty()) {
      if (!node.IsMap() || !node["external"]) {
        ErrorAt(ctx_, path, node, "", "missing required key 'external'");
      }
      return;
    }
    auto [it, fresh] = columns_.emplace(f.external, FieldRef(i));
    if (!fresh) {
      ErrorAt(ctx_, path, node, "external",
              "column '" + f.external + "' is already mapped by " + it->second +
                  "; map each column once");
    }
  }

  void CheckOwner(const FieldSpec& f, const YAML::Node& node, const std::string& path) {
    const bool two_way = f.direction == Direction::kBoth;
    if (s_.conflict == ConflictPolicy::kOwner && two_way && !f.owner) {
      ErrorAt(ctx_, path, node, "",
              "`conflict: owner` needs `owner: ghl` or `owner: external` on every field that "
              "flows both ways");
    }
    if (!f.owner) return;
    if (s_.conflict != ConflictPolicy::kOwner) {
      ErrorAt(ctx_, path, node, "owner",
              std::string("`owner` is only used with `conflict: owner`; this sync has "
                          "`conflict: ") +
                  ToString(s_.conflict) + "`");
    } else if (!two_way) {
      ErrorAt(ctx_, path, node, "owner",
              "`owner` only matters for a field that flows both ways; remove it");
    }
  }

  void CheckReference(size_t i) {
    const ReferenceSpec& r = s_.references[i];
    const YAML::Node list = At(root_, "references");
    const YAML::Node node = list.IsSequence() && i < list.size() ? list[i] : list;
    const std::string path = "references[" + std::to_string(i) + "]";
    const StandardField* f = FindStandardField(s_.object, r.ghl);
    if (!r.ghl.empty() && (f == nullptr || f->kind != FieldKind::kId || !f->writable)) {
      std::string ids;
      for (const auto& sf : StandardFields(s_.object)) {
        if (sf.kind == FieldKind::kId && sf.writable) ids += " " + std::string(sf.name);
      }
      ErrorAt(ctx_, path, node, "ghl",
              "'" + r.ghl + "' is not a writable id field of " + ToString(s_.object) +
                  " (those are:" + ids + ")");
    }
    if (auto it = ghl_names_.find(r.ghl); it != ghl_names_.end()) {
      ErrorAt(ctx_, path, node, "ghl",
              "GHL field '" + r.ghl + "' is also mapped by " + FieldRef(it->second));
    } else if (!references_.insert(r.ghl).second) {
      ErrorAt(ctx_, path, node, "ghl", "GHL field '" + r.ghl + "' is referenced twice");
    }
    if (auto [it, fresh] = columns_.emplace(r.external, path); !fresh && !r.external.empty()) {
      ErrorAt(ctx_, path, node, "external",
              "column '" + r.external + "' is already mapped by " + it->second);
    }
    if (!r.sync.empty() && r.sync == s_.name) {
      ErrorAt(ctx_, path, node, "sync", "a sync cannot reference its own records");
    }
    // A `by:` with a wrong value is reported by its own parser.
    const bool has_by = !r.by.empty() || (node.IsMap() && node["by"]);
    if (r.sync.empty() == !has_by) {
      ErrorAt(ctx_, path, node, r.sync.empty() ? "sync" : "by",
              r.sync.empty() ? "give `sync:` (the sync whose links resolve it) or `by: name`"
                             : "give `sync:` or `by:`, not both");
    }
    if (r.by == "name" && !r.ghl.empty() && !KnownByName(s_.object, r.ghl)) {
      ErrorAt(ctx_, path, node, "by",
              "'" + r.ghl + "' of " + ToString(s_.object) +
                  " cannot be looked up by name (pipelineId and pipelineStageId of "
                  "opportunities and calendarId of appointments can)");
    }
  }

  void CheckKey() {
    std::set<std::string> seen;
    for (const auto& k : s_.key) {
      if (!seen.insert(k).second) {
        ErrorAt(ctx_, "", root_, "key", "key column '" + k + "' is listed twice");
      }
    }
  }

  void CheckMatch() {
    if (s_.match.empty()) return;
    if (s_.object != GhlObject::kContacts) {
      ErrorAt(ctx_, "", root_, "match",
              "`match` is for contacts only; other objects are linked by their key");
      return;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < s_.match.size(); ++i) {
      const std::string& m = s_.match[i];
      const YAML::Node list = At(root_, "match");
      const YAML::Node node = list.IsSequence() && i < list.size() ? list[i] : list;
      auto scope = ctx_.Enter("match[" + std::to_string(i) + "]");
      if (m != "email" && m != "phone") {
        ctx_.Error(node, "'" + m + "' is not a match key; use email and/or phone");
        continue;
      }
      if (!seen.insert(m).second) ctx_.Error(node, "'" + m + "' is listed twice");
      const auto it = ghl_names_.find(m);
      if (it == ghl_names_.end() || it->second >= s_.fields.size() ||
          !FlowsToGhl(s_.fields[it->second].direction)) {
        ctx_.Error(node,
                   "matching by " + m + " needs a field with `ghl: " + m + "` that flows to GHL");
      }
    }
  }

  void CheckDeletes() {
    const bool given = root_.IsMap() && root_["soft_delete"].IsDefined();
    if (s_.deletes != DeletePolicy::kSoft) {
      if (given) {
        ErrorAt(ctx_, "", root_, "soft_delete",
                std::string("`soft_delete` is only used with `deletes: soft`; this sync has "
                            "`deletes: ") +
                    ToString(s_.deletes) + "`");
      }
      return;
    }
    const YAML::Node at = At(root_, given ? "soft_delete" : "deletes");
    const std::string path = given ? "soft_delete" : "deletes";
    auto scope = ctx_.Enter(path);
    if (FlowsToGhl(s_.direction) && s_.soft_delete_tag.empty()) {
      if (s_.object != GhlObject::kContacts) {
        ctx_.Error(at, std::string(ToString(s_.object)) +
                           " have no tags to mark a soft delete in GHL; use `deletes: ignore` "
                           "or `propagate`, or `direction: from_ghl`");
      } else {
        ctx_.Error(at, "`deletes: soft` toward GHL needs `soft_delete: {tag: <name>}`");
      }
    }
    if (FlowsFromGhl(s_.direction) && s_.soft_delete_column.empty()) {
      ctx_.Error(at, "`deletes: soft` from GHL needs `soft_delete: {column: <flag column>}`");
    }
    if (!s_.soft_delete_column.empty() && columns_.count(s_.soft_delete_column) > 0) {
      ctx_.Error(at, "column '" + s_.soft_delete_column +
                         "' is the soft-delete flag and also "
                         "mapped by " +
                         columns_[s_.soft_delete_column]);
    }
  }

  void CheckLocations() {
    std::set<std::string> seen;
    for (const auto& l : s_.locations) {
      if (!seen.insert(l).second) {
        ErrorAt(ctx_, "", root_, "locations", "location '" + l + "' is listed twice");
      }
    }
  }

  SyncSpec& s_;
  const YAML::Node root_;
  Context& ctx_;
  const YAML::Node fields_node_;
  std::map<std::string, size_t> ghl_names_;     // GHL name -> field index
  std::map<std::string, std::string> columns_;  // external column -> "fields[i]"
  std::set<std::string> references_;            // GHL names of references
};

}  // namespace

void CheckSync(SyncSpec& spec, const YAML::Node& root, Context& ctx) {
  SyncChecker(spec, root, ctx).Run();
}

}  // namespace ghl::mapping::detail
