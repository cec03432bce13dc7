// common/paths.cpp — introduced in chapter 01. See paths.hpp.
#include "paths.hpp"

namespace tls {

std::string repo_path(const std::string& relative) { return std::string(TLS_SOURCE_DIR) + "/" + relative; }

}  // namespace tls
