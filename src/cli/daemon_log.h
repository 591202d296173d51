// How `node run` and `relay run` log: one line per event on stderr (journald keeps it), times
// in UTC with the zone written out (as the CLI prints them), as text for people or as one JSON
// object per line for collectors (--log-format json).
#pragma once

#include <string>

#include "util/result.h"

namespace bc::cli {

enum class LogFormat { text, json };

util::Result<LogFormat> parse_log_format(const std::string& name);

// Call once, before the daemon starts its threads: replaces the default logger.
void setup_daemon_log(const std::string& logger_name, LogFormat format, bool verbose);

// Raises the descriptor limit to the hard limit and logs the result once. A daemon calls it
// after setup_daemon_log, before it listens (its listeners size themselves from the limit).
void raise_descriptor_limit();

}  // namespace bc::cli
