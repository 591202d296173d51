// The CLI side of the control socket: one request, one response, with a timeout.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "node/control_protocol.h"
#include "util/result.h"

namespace bc::node {

// Errc::not_found when no node is running on this home (no socket, or nobody listening).
util::Result<std::string> control_call(const std::filesystem::path& socket_path, const ControlRequest& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds{10});

}  // namespace bc::node
