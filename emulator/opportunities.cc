// PLACEHOLDER: being written; registers no routes yet.
#include "emulator/emulator.h"

namespace ghl::emulator {

void RegisterOpportunityRoutes(Router&) {}

}  // namespace ghl::emulator
