#include "sync/store.h"
