// Filesystem helpers shared by the checkpoint tests: a tiny tmpfs to fill, and directory listings.
#pragma once
#include <string>
#include <vector>

// Mounts a tmpfs of `bytes` at a fresh directory and unmounts it on destruction. mounted() is false
// where mounting is not allowed (not root, no CAP_SYS_ADMIN); tests then skip.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(size_t bytes);
  ~SmallTmpfs();
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

std::vector<std::string> list_dir(const std::string& dir);  // sorted names, hidden ones included
