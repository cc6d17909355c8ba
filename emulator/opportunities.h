// Opportunities (apps/opportunities.json): what the route files of this group share.
// opportunities.cc holds the records and writes, opportunities_search.cc the search.
#pragma once

#include "emulator/router.h"

namespace ghl::emulator {

// An opportunity record as the API returns it, with its contact embedded.
Json RenderOpportunity(World& world, const Json& doc, Alloc& a);

// GET /opportunities/search (search-opportunity): filters, offset pages and the
// startAfter/startAfterId cursor over the lagged search view.
Reply SearchOpportunities(Call& c);

}  // namespace ghl::emulator
