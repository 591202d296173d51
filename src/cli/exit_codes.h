// Exit codes of every subcommand (docs/operations.md lists them for operators). Commands that
// report a health state (status) document their own codes in their help.
#pragma once

#include "util/result.h"

namespace bc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;    // I/O, store or internal failure
inline constexpr int kExitUsage = 2;      // malformed command line
inline constexpr int kExitBadInput = 3;   // input refused: malformed, altered, expired, too large
inline constexpr int kExitNotFound = 4;   // no identity, no such contact or invitation
inline constexpr int kExitConflict = 5;   // exists already, used, revoked, not allowed

int exit_code_for(util::Errc code);

}  // namespace bc::cli
