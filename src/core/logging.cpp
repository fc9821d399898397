#include "core/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace dx {

void ConfigureLogging(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %n %v");
}

std::shared_ptr<spdlog::logger> Logger(const std::string& module) {
  if (auto existing = spdlog::get(module)) return existing;
  try {
    auto logger = spdlog::stderr_color_mt(module);
    logger->set_level(spdlog::get_level());
    return logger;
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(module);  // created concurrently by another thread
  }
}

}  // namespace dx
