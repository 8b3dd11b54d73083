// Atomic replacement: a failed or killed write never leaves a half file where the old one was.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "core/base/files.h"
#include "fs_test_support.h"
#include "run_command.h"

using namespace avf;
namespace fs = std::filesystem;

TEST(AtomicFile, ReplacesContentAndLeavesNoTempFile) {
  const std::string dir = make_temp_dir("avf-atomic");
  write_file_atomic(dir + "/a.bin", "old");
  write_file_atomic(dir + "/a.bin", std::string("new\0data", 8));
  EXPECT_EQ(read_file(dir + "/a.bin"), std::string("new\0data", 8));
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"a.bin"});
}

TEST(AtomicFile, Sha256OfBufferAndFileMatchKnownVector) {
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(sha256_hex("abc"), abc);
  const std::string dir = make_temp_dir("avf-atomic");
  write_file_atomic(dir + "/abc", "abc");
  EXPECT_EQ(sha256_file(dir + "/abc"), abc);
  const std::string big(300000, 'x');  // spans several read blocks
  write_file_atomic(dir + "/big", big);
  EXPECT_EQ(sha256_file(dir + "/big"), sha256_hex(big));
}

TEST(AtomicFile, ErrorsNamePathAndReason) {
  const std::string missing = make_temp_dir("avf-atomic") + "/no-such-dir/a.bin";
  try {
    write_file_atomic(missing, "x");
    FAIL() << "no error";
  } catch (const FileError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + missing + ": No such file or directory");
  }
  EXPECT_THROW(read_file(missing), FileError);
}

TEST(AtomicFile, FullDiskKeepsOldFileAndRemovesTemp) {
  SmallTmpfs disk(1 << 20);
  // As root (CI) the disk-full path must run: a mount that fails there is a failure, not a skip.
  if (!disk.mounted() && geteuid() == 0) FAIL() << "running as root but cannot mount a small tmpfs";
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const std::string path = disk.path() + "/a.bin";
  write_file_atomic(path, "old");
  try {
    write_file_atomic(path, std::string(2 << 20, 'x'));
    FAIL() << "a 2 MiB write fitted into a 1 MiB tmpfs";
  } catch (const FileError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + path + ": No space left on device");
  }
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(list_dir(disk.path()), std::vector<std::string>{"a.bin"});
}

// Exit code for the death test below: 0 when the write failed with the expected message.
int write_beyond_file_size_limit(const std::string& path) {
  signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
  const rlimit limit{4096, 4096};
  setrlimit(RLIMIT_FSIZE, &limit);
  try {
    write_file_atomic(path, std::string(1 << 16, 'x'));
  } catch (const FileError& e) {
    return std::string(e.what()) == "cannot write " + path + ": File too large" ? 0 : 1;
  }
  return 2;
}

// RLIMIT_FSIZE makes the write fail half way on any filesystem, without root.
TEST(AtomicFile, WriteFailingHalfWayKeepsOldFile) {
  const std::string dir = make_temp_dir("avf-atomic");
  const std::string path = dir + "/a.bin";
  write_file_atomic(path, "old");
  EXPECT_EXIT(std::exit(write_beyond_file_size_limit(path)), testing::ExitedWithCode(0), "");
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"a.bin"});
}

// A child rewrites a 16 MiB file and is killed -9 at random instants, most of them while writing or
// syncing the temp file. Whatever the instant, the file holds either all of the old or all of the new.
TEST(AtomicFile, KillNineDuringWriteLeavesOldOrNewNeverHalf) {
  const std::string dir = make_temp_dir("avf-atomic");
  const std::string path = dir + "/a.bin";
  const std::string old_data(1 << 20, 'o'), new_data(16 << 20, 'n');
  std::mt19937 rng(7);
  int killed_before_rename = 0;
  for (int trial = 0; trial < 6; ++trial) {
    write_file_atomic(path, old_data);
    const pid_t child = fork();
    if (child == 0) {
      write_file_atomic(path, new_data);
      _exit(0);
    }
    // Wait for the temp file to appear, then kill after a random 0-3 ms.
    for (int i = 0; i < 20000 && list_dir(dir).size() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    const std::string now = read_file(path);
    EXPECT_TRUE(now == old_data || now == new_data) << "trial " << trial << ": " << now.size() << " bytes";
    if (WIFSIGNALED(status) && now == old_data) ++killed_before_rename;
    for (const auto& name : list_dir(dir)) {  // a leftover temp file has a temp name, never the file's
      EXPECT_TRUE(name == "a.bin" || is_temp_name(name)) << name;
    }
  }
  EXPECT_GT(killed_before_rename, 0) << "no kill landed before the rename; the test proved nothing";
}

TEST(AtomicFile, ReplaceDirectorySwapsContent) {
  const std::string dir = make_temp_dir("avf-atomic");
  fs::create_directory(dir + "/new");
  write_file_atomic(dir + "/new/f", "1");
  replace_directory(dir + "/new", dir + "/target");  // target did not exist
  fs::create_directory(dir + "/new");
  write_file_atomic(dir + "/new/f", "2");
  replace_directory(dir + "/new", dir + "/target");
  EXPECT_EQ(read_file(dir + "/target/f"), "2");
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"target"});
}
