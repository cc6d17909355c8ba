// The high-water mark of incremental REST scans (pure).
//
// A scan remembers the highest `updated_field` value it saw; the next scan asks for items
// updated since that value minus the overlap. Values are read and written in the
// configured format:
//   iso8601   "2024-05-01T12:00:00.123Z" (offsets and missing fractions are read; the
//             parameter is written in UTC with milliseconds)
//   unix      seconds since the epoch (a number or its text)
//   unix_ms   milliseconds since the epoch
//   raw       no arithmetic: the highest value (numerically when both are numbers, else
//             as text) is sent as it is, without overlap
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "connectors/rest/options.h"

namespace ghl::connectors::rest {

// Milliseconds since the epoch for `text` in `format`; nullopt when it does not parse (and
// always for raw).
std::optional<int64_t> ParseTime(const std::string& text, const std::string& format);
// `epoch_ms` written in `format` (not raw).
std::string FormatTime(int64_t epoch_ms, const std::string& format);

// The Unix milliseconds of an updated_field value for Row::updated_ms: in `format` unless
// it is raw or empty, else ISO 8601 or a number (seconds; milliseconds above 10^11).
std::optional<int64_t> UpdatedMs(const std::string& text, const std::string& format);

// The later of two updated values ("" counts as earliest). Values that do not parse in
// the format count as earlier than those that do.
std::string Later(const std::string& a, const std::string& b, const std::string& format);

// The parameter value that asks for items updated since the high-water mark `high`.
std::string SinceValue(const std::string& high, const UpdatedSinceOptions& options);

}  // namespace ghl::connectors::rest
