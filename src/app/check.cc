#include <cstdio>

#include "app/app.h"
#include "config/load.h"

namespace turnout::app {

int checkConfig(const std::string& config_file) {
  config::Config config;
  const auto errors = config::loadFile(config_file, config);
  for (const auto& error : errors) {
    std::fprintf(stderr, "%s\n", config::formatError(config_file, error).c_str());
  }
  if (!errors.empty()) {
    std::fprintf(stderr, "%s: %zu error%s\n", config_file.c_str(), errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("%s: ok (%zu listeners, %zu services, %zu routes)\n", config_file.c_str(),
              config.listeners.size(), config.services.size(), config.routes.size());
  return 0;
}

}  // namespace turnout::app
