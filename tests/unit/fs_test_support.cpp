#include "fs_test_support.h"

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "run_command.h"

SmallTmpfs::SmallTmpfs(size_t bytes) : path_(make_temp_dir("avf-tmpfs")) {
  const std::string options = "size=" + std::to_string(bytes);
  mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

SmallTmpfs::~SmallTmpfs() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  std::filesystem::remove_all(path_);
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
