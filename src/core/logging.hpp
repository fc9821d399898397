// Named loggers, one per module, writing key=value lines to stderr.
// Loggers are created once at start-up (ConfigureLogging) and are thread-safe.
// Never log patient identifiers at info level or above.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace dx {

// Sets the level ("trace".."off") for all dxhub loggers.
void ConfigureLogging(const std::string& level);

// The logger for a module ("dimse", "archive"...), created on first use.
std::shared_ptr<spdlog::logger> Logger(const std::string& module);

}  // namespace dx
