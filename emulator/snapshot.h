// Snapshot: the whole world in one JSON file, so that `ghl-emulator --snapshot FILE`
// starts where the last run stopped (it saves on SIGTERM/SIGINT and on
// POST /_emulator/snapshot).
//
// Format (version 1), one JSON object:
//   {"version": 1, "savedAt": ISO time, "idStream": "<uint64>",
//    "locations": [{id, name, companyId, timezone, allowDuplicateContact, duplicatePriority}],
//    "tokens": [{token, kind, locationId, companyId, clientId, expiresAtMs, revoked}],
//    "oauth": {"clients": [{id, secret, versionId, scopes}],
//              "installs": [{key, clientId, locationId, companyId, userId, installedAtMs}],
//              "codes" | "refreshTokens": [{value, clientId, kind, locationId, companyId,
//                                           userId, redirectUri, expiresAtMs}]},
//    "collections": {"contacts": [{id, locationId, addedMs, updatedMs, doc}], ...}}
// `kind` is privateIntegration, locationOAuth or companyOAuth; `doc` is the record as GET
// returns it. Not saved: the request log, webhook events and deliveries, rate-limit
// counters and faults (they describe a run, not the account).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/result.h"
#include "emulator/emulator.h"

namespace ghl::emulator {

inline constexpr int kSnapshotVersion = 1;

// Replaces the emulator's world with the one saved in `path`, every record visible to
// search at once, and moves ids on to a new stream. Returns the number of records. On any
// problem (unreadable, malformed JSON, unknown version, a field of the wrong type) the
// world is left as it was and the error names the file and the problem, on one line.
Result<size_t> LoadSnapshot(Emulator& emu, const std::filesystem::path& path);

// Writes the world to `path` atomically: `path`.tmp with mode 0600, fsync, rename, fsync
// of the directory. Returns the number of records written.
Result<size_t> SaveSnapshot(Emulator& emu, const std::filesystem::path& path);

// The start-up lines for a loaded world, in SeedDefault's shape: per location its id,
// company and Private Integration Token.
std::string LoadedWorldSummary(const World& world);

}  // namespace ghl::emulator
