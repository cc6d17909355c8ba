#include "sync/delete_guard.h"

#include <algorithm>

namespace ghl::sync {

GuardWeighing WeighDeletes(const mapping::DeleteGuard& guard, int64_t links_now,
                           const RecentDeletes& recent, int64_t batch) {
  GuardWeighing w;
  w.deletes = std::max<int64_t>(recent.made, 0) + std::max<int64_t>(recent.held, 0) +
              std::max<int64_t>(batch, 0);
  w.linked = std::max<int64_t>(links_now + std::max<int64_t>(recent.made, 0), 1);
  w.share = static_cast<double>(w.deletes) / static_cast<double>(w.linked);
  w.hold = batch > 0 && (w.deletes > guard.max_count || w.share > guard.max_share);
  return w;
}

}  // namespace ghl::sync
