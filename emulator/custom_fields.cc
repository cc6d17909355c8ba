// PLACEHOLDER: being written; registers no routes yet.
#include "emulator/emulator.h"

namespace ghl::emulator {

void RegisterCustomFieldRoutes(Router&) {}

}  // namespace ghl::emulator
