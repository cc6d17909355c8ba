#include "daemon/ghl_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <thread>

#include "daemon/ghl_setup.h"
#include "sync/ghl_records.h"
#include "sync/ghl_side.h"

namespace ghl::daemon {

namespace {

constexpr std::string_view kPrefix = "customFields.";

bool UsesCustomFields(const sync::SyncSetup& s) {
  for (const auto& f : s.mapping->spec().fields) {
    if (f.ghl.rfind(kPrefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

void CheckCustomFieldKeys(const config::Config& config, const std::vector<sync::SyncSetup>& syncs,
                          config::Diagnostics& errors, std::vector<std::string>& notes) {
  if (std::none_of(syncs.begin(), syncs.end(), UsesCustomFields)) return;
  std::map<std::string, const config::LocationConfig*> locations;
  for (const auto& l : config.ghl.locations) locations[l.id] = &l;

  GhlStack stack(config);
  std::thread loop([&] { stack.Run(); });
  SystemClock clock;
  // One index per (location, object): the definitions GHL has.
  std::map<std::pair<std::string, mapping::GhlObject>, sync::GhlSide> sides;
  for (const auto& s : syncs) {
    if (!UsesCustomFields(s)) continue;
    const auto& spec = s.mapping->spec();
    const std::string model(sync::CustomFieldModel(spec.object));
    for (const auto& location : s.locations) {
      auto loc = locations.find(location);
      if (loc != locations.end() && loc->second->auth == "oauth") {
        notes.push_back(fmt::format(
            "location {} uses OAuth: the custom field keys of {} are checked when the daemon "
            "starts",
            location, s.file.string()));
        continue;
      }
      auto [it, fresh] = sides.try_emplace({location, spec.object}, stack.gateway(), clock,
                                           spec.object, std::vector<std::string>{});
      sync::GhlSide& side = it->second;
      if (fresh) {
        if (auto loaded = side.LoadIndex(location); !loaded.ok()) {
          notes.push_back(
              fmt::format("could not check custom field keys against GHL location "
                          "{}: {}",
                          location, loaded.error().message));
          continue;
        }
      }
      const auto* index = side.Index(location);
      if (index == nullptr) continue;  // reported above
      for (const auto& f : spec.fields) {
        if (f.ghl.rfind(kPrefix, 0) != 0) continue;
        const std::string key = f.ghl.substr(kPrefix.size());
        if (index->Find(model, key) != nullptr) continue;
        std::string known;
        for (const auto& d : index->all()) {
          if (d.model != model) continue;
          const std::string& full = d.field_key;
          const bool prefixed = full.rfind(model + ".", 0) == 0;
          known += (known.empty() ? "" : ", ") + (prefixed ? full.substr(model.size() + 1) : full);
        }
        errors.push_back(
            {s.file.string(), f.line, f.column, "fields",
             fmt::format("custom field key '{}' does not exist for {}s in GHL location {}{}; "
                         "it may have been renamed or deleted in GHL",
                         key, model, location,
                         known.empty() ? " (it has no " + model + " custom fields)"
                                       : " (it has: " + known + ")")});
      }
    }
  }
  stack.Stop();
  loop.join();
}

}  // namespace ghl::daemon
