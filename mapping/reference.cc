// The mapping-file reference for the README, generated from the same tables that parse
// mapping files, the transform definitions and the GHL field catalogue.
#include "mapping/fields_catalog.h"
#include "mapping/mapping.h"
#include "mapping/spec.h"
#include "mapping/transform_defs.h"
#include "mapping/transforms.h"

namespace ghl::mapping {
namespace {

std::string KeysTable() {
  std::vector<config::DocRow> rows;
  detail::SyncTable().Document(rows, "");
  return config::MarkdownTable(rows);
}

std::string FieldsTable() {
  std::string out =
      "| object | writable fields | read-only fields (`direction: from_ghl`) |\n"
      "|---|---|---|\n";
  for (GhlObject o : {GhlObject::kContacts, GhlObject::kOpportunities, GhlObject::kAppointments}) {
    std::string rw, ro;
    for (const auto& f : StandardFields(o)) {
      std::string entry = "`" + std::string(f.name) + "` (" + ToString(f.kind);
      if (!f.note.empty()) entry += "; " + std::string(f.note);
      entry += ")";
      std::string& list = f.writable ? rw : ro;
      list += (list.empty() ? "" : ", ") + entry;
    }
    if (HasCustomFields(o)) rw += ", `customFields.<key>`";
    out += std::string("| ") + ToString(o) + " | " + rw + " | " + ro + " |\n";
  }
  return out;
}

}  // namespace

std::string ReferenceMarkdown() {
  return "#### Mapping file keys\n\n"
         "One file per sync in `mappings_dir`; the file name without `.yaml` is the sync's "
         "name. Errors name file:line:col and the key path, all at once.\n\n" +
         KeysTable() +
         "\n#### Transforms\n\n"
         "A field's `transforms:` run in order from the external value to the GHL value; on "
         "the way back each is undone in reverse order. Options are written from the external "
         "side. An empty value passes through every transform but `default` (and `split`, "
         "which makes it `[]`). A transform that fails on a value fails the whole record, "
         "which goes to the dead-letter queue naming the field and the reason.\n\n" +
         TransformsReferenceMarkdown() +
         "\n#### GHL fields\n\n"
         "Canonical names are the API's. After its transforms a field's value must have the "
         "field's kind: text (numbers and booleans are turned into text), id, number, "
         "boolean, list, date `YYYY-MM-DD`, datetime `YYYY-MM-DDTHH:MM:SSZ` (UTC).\n\n" +
         FieldsTable();
}

}  // namespace ghl::mapping
