// The mapping file's schema: one Table per section (see config/schema.h).
#include "mapping/spec.h"

#include <cmath>
#include <functional>

namespace ghl::mapping::detail {
namespace {

using config::Context;
using config::DocRow;
using config::Field;
using config::Table;
using config::fields::Quoted;
using std::chrono::milliseconds;

// An enum key whose choices are the enum's ToString names.
template <typename T, typename E>
Field<T> EnumField(std::string key, std::vector<E> values, std::function<void(T&, E)> set,
                   std::function<std::string(const T&)> show, std::string help) {
  std::vector<std::string> names;
  std::string type = "one of:";
  for (E v : values) {
    names.emplace_back(ToString(v));
    type += " `" + names.back() + "`";
  }
  return {std::move(key),
          std::move(type),
          std::move(help),
          false,
          {},
          std::move(show),
          [values, names, set](T& t, const YAML::Node& n, Context& c) {
            auto v = config::ParseEnum(n, c, names);
            for (size_t i = 0; v && i < names.size(); ++i) {
              if (names[i] == *v) set(t, values[i]);
            }
          }};
}

template <typename T, typename E>
Field<T> EnumOf(std::string key, E T::*m, std::vector<E> values, std::string help) {
  return EnumField<T, E>(
      std::move(key), std::move(values), [m](T& t, E e) { t.*m = e; },
      [m](const T& t) { return Quoted(ToString(t.*m)); }, std::move(help));
}

const std::vector<Direction> kDirections = {Direction::kBoth, Direction::kToGhl,
                                            Direction::kFromGhl};

// ---- fields[] ----

const Table<FieldSpec>& FieldTable() {
  static const Table<FieldSpec> table(
      {
          config::fields::String("ghl", &FieldSpec::ghl,
                                 "GHL field: a standard field's API name (see GHL fields "
                                 "below) or `customFields.<key>` (the key without its "
                                 "`contact.` / `opportunity.` prefix).")
              .Required(),
          config::fields::String("external", &FieldSpec::external,
                                 "The connector's column or field. Required, except for a "
                                 "`template` or `concat` field, which reads other columns."),
          EnumField<FieldSpec, Direction>(
              "direction", kDirections, [](FieldSpec& f, Direction d) { f.direction = d; },
              [](const FieldSpec&) { return std::string("the sync's"); },
              "Which way this field flows; within the sync's `direction`."),
          EnumField<FieldSpec, Side>(
              "owner", {Side::kGhl, Side::kExternal}, [](FieldSpec& f, Side s) { f.owner = s; },
              [](const FieldSpec&) { return std::string(); },
              "The side that wins a conflict on this field; required on every two-way field "
              "when `conflict: owner`, not allowed otherwise."),
          config::fields::Bool("required", &FieldSpec::required,
                               "A record whose value is empty (null, \"\" or []) after the "
                               "transforms fails, either way (it goes to the dead-letter "
                               "queue), instead of syncing without it."),
          Field<FieldSpec>{"transforms",
                           "list",
                           "Steps from the external value to the GHL value, "
                           "in order; each is undone in reverse order on the way back. See "
                           "Transforms.",
                           false,
                           {},
                           [](const FieldSpec&) { return std::string(); },
                           [](FieldSpec&, const YAML::Node& n, Context& c) {
                             // Compiled by CheckSync, which knows the sync's settings.
                             if (!n.IsSequence() && !n.IsNull()) {
                               c.Error(n, "expected a list of transforms, e.g. [trim, lower]");
                             }
                           }},
      },
      [](FieldSpec& f, const YAML::Node& node, Context&) {
        f.line = node.Mark().line + 1;
        f.column = node.Mark().column + 1;
      });
  return table;
}

const Table<ReferenceSpec>& ReferenceTable() {
  static const Table<ReferenceSpec> table({
      config::fields::String("ghl", &ReferenceSpec::ghl,
                             "GHL id field holding the other record, e.g. `contactId`, "
                             "`pipelineStageId`.")
          .Required(),
      config::fields::String("external", &ReferenceSpec::external,
                             "Column holding the other record's external key (or its name).")
          .Required(),
      config::fields::String("sync", &ReferenceSpec::sync,
                             "The sync (mapping file name) that links those records; or `by`."),
      config::fields::Enum("by", &ReferenceSpec::by, {"name"},
                           "`name`: the column holds a name GHL knows the id by, instead of "
                           "another sync's key: `pipelineId` (pipeline name), `pipelineStageId` "
                           "(stage name, looked up in the record's pipeline), `calendarId` "
                           "(calendar name). A name GHL does not have sends the record to the "
                           "dead-letter queue."),
  });
  return table;
}

// ---- soft_delete, delete_guard ----

struct SoftDelete {
  std::string tag;
  std::string column;
};

const Table<SoftDelete>& SoftDeleteTable() {
  static const Table<SoftDelete> table({
      config::fields::String("tag", &SoftDelete::tag,
                             "GHL tag added instead of deleting (contacts; needed when deletes "
                             "flow to GHL)."),
      config::fields::String("column", &SoftDelete::column,
                             "External flag column set instead of deleting (needed when "
                             "deletes flow from GHL); rows with it set count as deleted."),
  });
  return table;
}

Field<SyncSpec> SoftDeleteField() {
  return {"soft_delete",
          "section",
          "For `deletes: soft`: how each side marks a record deleted.",
          false,
          {},
          [](const SyncSpec&) { return std::string(); },
          [](SyncSpec& s, const YAML::Node& n, Context& c) {
            SoftDelete sd;
            SoftDeleteTable().Parse(sd, n, c);
            s.soft_delete_tag = sd.tag;
            s.soft_delete_column = sd.column;
          },
          [](std::vector<DocRow>& rows, const std::string& prefix) {
            SoftDeleteTable().Document(rows, prefix + "soft_delete.");
          }};
}

std::string Percent(double share) {
  const double p = share * 100;
  if (p == std::floor(p)) return std::to_string(static_cast<int64_t>(p)) + "%";
  return std::to_string(p) + "%";
}

const Table<DeleteGuard>& DeleteGuardTable() {
  static const Table<DeleteGuard> table({
      {"max_share",
       "percentage 0%..100%",
       "Deletes past this share of the linked records, counted over `window` (passes and "
       "webhooks together), are held: not made until `ghl-syncd deletes release`.",
       false,
       {},
       [](const DeleteGuard& g) { return Quoted(Percent(g.max_share)); },
       [](DeleteGuard& g, const YAML::Node& n, Context& c) {
         auto v = c.Scalar(n);
         if (!v) return;
         const bool pct = !v->empty() && v->back() == '%';
         const std::string digits = pct ? v->substr(0, v->size() - 1) : *v;
         char* end = nullptr;
         const double d = std::strtod(digits.c_str(), &end);
         if (digits.empty() || *end != '\0' || !pct || d < 0 || d > 100) {
           c.Error(n, "expected a percentage from 0% to 100%, such as 10%, got '" + *v + "'");
           return;
         }
         g.max_share = d / 100;
       }},
      config::fields::Int("max_count", &DeleteGuard::max_count, 0, 1'000'000'000,
                          "... or past this many records."),
      config::fields::Duration("window", &DeleteGuard::window, milliseconds(0),
                               milliseconds(7LL * 86'400'000),
                               "How far back the deletes already decided (made or held) count "
                               "toward the limits, with those of the pass or webhook at hand; "
                               "`0s`: each pass or webhook alone."),
  });
  return table;
}

// ---- appointments ----

const Table<AppointmentWindow>& AppointmentWindowTable() {
  static const Table<AppointmentWindow> table({
      config::fields::Duration("past", &AppointmentWindow::past, milliseconds(0),
                               milliseconds(3650LL * 86'400'000),
                               "How far back from the time of the poll: an appointment that "
                               "ended earlier is not polled."),
      config::fields::Duration("future", &AppointmentWindow::future, milliseconds(0),
                               milliseconds(3650LL * 86'400'000),
                               "How far ahead: an appointment that starts later is not polled."),
  });
  return table;
}

// `appointments:` belongs to appointment syncs; said only when `object` itself is valid.
void CheckAppointmentsKey(const SyncSpec& s, const YAML::Node& root, Context& ctx) {
  if (s.object == GhlObject::kAppointments || !root.IsMap() || !root["appointments"]) return;
  const YAML::Node object = root["object"];
  if (!object || !object.IsScalar() || object.Scalar() != ToString(s.object)) return;
  auto scope = ctx.Enter("appointments");
  ctx.Error(At(root, "appointments"), std::string("`appointments` is for appointment syncs "
                                                  "only; this sync has `object: ") +
                                          ToString(s.object) + "`");
}

// ---- external, key ----

Field<SyncSpec> ExternalField() {
  return Field<SyncSpec>{
      "external",
      "section",
      "The connector and its resource (file, table, endpoint): `connector:` names a "
      "connector under `connectors:` in ghl-syncd.yaml; the other keys belong to that "
      "connector type (see Connectors).",
      false,
      {},
      [](const SyncSpec&) { return std::string(); },
      [](SyncSpec& s, const YAML::Node& n, Context& c) {
        s.external_line = n.Mark().line + 1;
        s.external_column = n.Mark().column + 1;
        if (!n.IsMap()) {
          c.Error(n, "expected a mapping with at least `connector: <name>`");
          return;
        }
        s.external = n;
        if (!n["connector"]) {
          c.Error(n, "missing required key 'connector' (a name under `connectors:`)");
          return;
        }
        auto scope = c.Enter(".connector");
        if (auto v = config::ParseString(n["connector"], c, false)) s.connector = *v;
      }}
      .Required();
}

Field<SyncSpec> KeyField() {
  return Field<SyncSpec>{"key",
                         "string or list of strings",
                         "The external key column; a list for a composite key.",
                         false,
                         {},
                         [](const SyncSpec&) { return std::string(); },
                         [](SyncSpec& s, const YAML::Node& n, Context& c) {
                           s.key.clear();
                           if (n.IsScalar()) {
                             if (auto v = config::ParseString(n, c, false)) s.key.push_back(*v);
                             return;
                           }
                           if (!n.IsSequence() || n.size() == 0) {
                             c.Error(n, "expected a column name or a list of column names");
                             return;
                           }
                           for (size_t i = 0; i < n.size(); ++i) {
                             auto scope = c.Enter("[" + std::to_string(i) + "]");
                             if (auto v = config::ParseString(n[i], c, false)) {
                               s.key.push_back(*v);
                             }
                           }
                         }}
      .Required();
}

Field<SyncSpec> LocationsField() {
  auto field = config::fields::StringList(
      "locations", &SyncSpec::locations,
      "GHL location ids this sync serves; empty: every location in ghl-syncd.yaml, "
      "and every one an INSTALL webhook adds (`ghl.oauth.follow_installs`).");
  field.parse = [parse = field.parse](SyncSpec& s, const YAML::Node& n, Context& c) {
    s.locations_line = n.Mark().line + 1;
    s.locations_column = n.Mark().column + 1;
    parse(s, n, c);
  };
  return field;
}

}  // namespace

YAML::Node At(const YAML::Node& n, const char* key) {
  if (n.IsMap()) {
    const YAML::Node child = n[key];
    if (child.IsDefined()) return child;
  }
  return n;
}

const Table<SyncSpec>& SyncTable() {
  static const Table<SyncSpec> table(
      {
          EnumOf<SyncSpec, GhlObject>(
              "object", &SyncSpec::object,
              {GhlObject::kContacts, GhlObject::kOpportunities, GhlObject::kAppointments},
              "The GHL object this sync keeps in step.")
              .Required(),
          LocationsField(),
          ExternalField(),
          EnumOf<SyncSpec, Direction>("direction", &SyncSpec::direction, kDirections,
                                      "Which way records flow."),
          KeyField(),
          config::fields::StringList(
              "match", &SyncSpec::match,
              "Contacts only: how a record without a link finds its partner the first time, "
              "besides the key: `email` (case-insensitive) and/or `phone` (E.164)."),
          EnumOf<SyncSpec, ConflictPolicy>(
              "conflict", &SyncSpec::conflict,
              {ConflictPolicy::kGhlWins, ConflictPolicy::kExternalWins, ConflictPolicy::kNewest,
               ConflictPolicy::kOwner},
              "Who wins when a field changed on both sides: `newest` by the sides' "
              "timestamps, `owner` per field (`owner:`)."),
          EnumOf<SyncSpec, DeletePolicy>(
              "deletes", &SyncSpec::deletes,
              {DeletePolicy::kPropagate, DeletePolicy::kIgnore, DeletePolicy::kSoft},
              "What a delete on one side does to the other; `soft` marks instead (see "
              "`soft_delete`)."),
          SoftDeleteField(),
          config::fields::Section("delete_guard", &SyncSpec::delete_guard, DeleteGuardTable(),
                                  "Mass-delete guard (an empty or truncated export, or a bulk "
                                  "delete in GHL, must not wipe the other side)."),
          config::fields::String("default_region", &SyncSpec::default_region,
                                 "Region for `phone` transforms without their own (ISO 3166 "
                                 "code)."),
          config::fields::Duration("poll_interval", &SyncSpec::poll_interval, milliseconds(1000),
                                   milliseconds(86'400'000),
                                   "How often GHL is polled and the connector scanned."),
          config::fields::Section(
              "appointments", &SyncSpec::appointments, AppointmentWindowTable(),
              "Appointments only: GHL cannot search appointments by `dateUpdated`, so each poll "
              "lists every calendar's events in this window around the time of the poll "
              "(1 + one call per calendar) and keeps those updated since the last one. Changes "
              "to appointments outside the window arrive only by webhook."),
          config::fields::List("fields", &SyncSpec::fields, FieldTable(),
                               "The mapped fields, one GHL field and one external column each.")
              .Required(),
          config::fields::List("references", &SyncSpec::references, ReferenceTable(),
                               "Fields resolved through another sync's links (an opportunity's "
                               "contact; a record waits until its reference is linked), or "
                               "through the names GHL has (`by: name`: a pipeline stage)."),
      },
      [](SyncSpec& s, const YAML::Node& node, Context& ctx) {
        CheckAppointmentsKey(s, node, ctx);
        CheckSync(s, node, ctx);
      });
  return table;
}

}  // namespace ghl::mapping::detail
