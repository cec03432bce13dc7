// common/paths.hpp — introduced in chapter 01; used from chapter 07 for certificates.
// Programs find the repository's bundled files (the test PKI in certs/) wherever
// they are started from: the source directory is compiled in at build time.
#pragma once

#include <string>

namespace tls {

// Absolute path of a file in the repository, e.g. repo_path("certs/ca.pem").
std::string repo_path(const std::string& relative);

}  // namespace tls
