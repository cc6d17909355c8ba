// The mass-delete guard's arithmetic, apart from the store and the clock: whether a batch
// of deletes (one pass's, or one webhook's) is made or held.
//
// Deletes are weighed over a window, not one batch at a time: a bulk delete of 5,000 GHL
// contacts arrives as 5,000 webhooks of one delete each, and each alone is below any share.
// So a batch is weighed together with the deletes decided in the mapping's
// `delete_guard.window` before it, those let through and those held. A batch that takes
// the sum past `max_count`, or past `max_share` of the records linked when the window began,
// is held whole (SyncStore::HoldDelete) until the operator releases or drops it.
#pragma once

#include <cstdint>

#include "mapping/mapping.h"

namespace ghl::sync {

// The deletes decided within the window, before the batch at hand.
struct RecentDeletes {
  int64_t made = 0;  // let through (their links are tombstones now)
  int64_t held = 0;  // held, still waiting for the operator (their links are live)
};

struct GuardWeighing {
  bool hold = false;
  int64_t deletes = 0;  // weighed: the window's and the batch's
  int64_t linked = 0;   // measured against: the links when the window began (at least 1)
  double share = 0;     // deletes / linked
};

// `links_now`: live links of the sync now (held deletes' links included, those of deletes
// made in the window no longer). A batch of 0 is never held.
GuardWeighing WeighDeletes(const mapping::DeleteGuard& guard, int64_t links_now,
                           const RecentDeletes& recent, int64_t batch);

}  // namespace ghl::sync
