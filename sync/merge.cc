#include "sync/merge.h"
