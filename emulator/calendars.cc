// PLACEHOLDER: being written; registers no routes yet.
#include "emulator/emulator.h"

namespace ghl::emulator {

void RegisterCalendarRoutes(Router&) {}

}  // namespace ghl::emulator
