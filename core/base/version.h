// What `avf --version` prints and what every checkpoint and report records.
#pragma once
#include <string>

namespace avf {
std::string version();     // "0.1.0"
std::string git_commit();  // commit the binary was built from ("-dirty" when the tree was modified)
std::string build_info();  // one line per component: avf, commit, LibTorch, MPI, HDF5, NCCL
}  // namespace avf
