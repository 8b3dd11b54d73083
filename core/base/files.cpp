#include "core/base/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>

namespace avf {
namespace fs = std::filesystem;

namespace {

std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw FileError(fmt::format("cannot {} {}: {}", what, path, std::strerror(err)));
}

// Owns an open descriptor so that every exit path closes it.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
}

// Writes the temp file completely and durably; throws FileError naming `path`, the file the user knows.
void write_temp(const std::string& tmp, std::string_view data, const std::string& path) {
  Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
  if (f.fd < 0) fail("write", path, errno);
  write_all(f.fd, data, path);
  if (::fsync(f.fd) != 0) fail("write (fsync)", path, errno);
  const int fd = f.fd;
  f.fd = -1;
  // Network filesystems may report a failed write only at close.
  if (::close(fd) != 0) fail("write (close)", path, errno);
}

// Reads `path` in blocks, so hashing a large file needs no buffer of its size.
void for_each_block(const std::string& path, const std::function<void(const char*, size_t)>& consume) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail("read", path, errno);
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read", path, errno);
    }
    if (n == 0) return;
    consume(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::string temp_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const fs::path p(path);
  return (fs::path(parent_of(path)) / fmt::format(".{}.tmp-{}-{}", p.filename().string(), ::getpid(), counter++))
      .string();
}

bool is_temp_name(const std::string& filename) {
  return !filename.empty() && filename[0] == '.' && filename.find(".tmp-") != std::string::npos;
}

void write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = temp_path_for(path);
  try {
    write_temp(tmp, data, path);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("write (rename)", path, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  fsync_directory(parent_of(path));
}

void replace_directory(const std::string& from, const std::string& to) {
  std::error_code ec;
  const bool existed = fs::exists(to, ec);
  const std::string aside = temp_path_for(to);
  if (existed && ::rename(to.c_str(), aside.c_str()) != 0) fail("move aside", to, errno);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    if (existed) ::rename(aside.c_str(), to.c_str());  // put the old one back
    fail(fmt::format("rename {} to", from), to, err);
  }
  fsync_directory(parent_of(to));
  if (existed) fs::remove_all(aside, ec);  // best effort: a leftover is a temp name, cleaned later
}

std::string read_file(const std::string& path) {
  std::string data;
  for_each_block(path, [&](const char* block, size_t size) { data.append(block, size); });
  return data;
}

void fsync_directory(const std::string& dir) {
  Fd f{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (f.fd < 0) fail("open directory", dir, errno);
  if (::fsync(f.fd) != 0) fail("fsync directory", dir, errno);
}

namespace {
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
  void update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    std::string out;
    for (unsigned i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};
}  // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.hex();
}

std::string sha256_file(const std::string& path) {
  Sha256 sha;
  for_each_block(path, [&](const char* block, size_t size) { sha.update(block, size); });
  return sha.hex();
}

}  // namespace avf
