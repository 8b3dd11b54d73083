// Crash-safe file writing and SHA-256 checksums. Torch-free: anything that must never leave a half
// file behind (checkpoints, manifests, reports) can use it.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace avf {

// A file operation that failed; what() names the path, the operation and strerror.
struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Replaces `path` by a file holding `data` such that any reader, and a crash or kill -9 at any instant,
// sees either the previous file or the complete new one: write a temp file in the same directory,
// fsync it, rename it over `path`, fsync the directory. On failure (ENOSPC, EACCES, EDQUOT, ...) the
// temp file is removed, the previous file is left as it was, and FileError is thrown.
void write_file_atomic(const std::string& path, std::string_view data);

// Puts the complete directory `from` at `to`, replacing whatever `to` held: the old `to` is renamed
// aside to a temp name, `from` renamed to `to`, the old one removed. Two plain renames rather than
// renameat2(RENAME_EXCHANGE), which NFS and Lustre lack: a crash between them leaves `to` missing
// and the old directory complete under a temp name, where readers that scan for complete entries
// (the checkpoint store) still find it. Throws FileError; on failure `to` is left as it was.
void replace_directory(const std::string& from, const std::string& to);

// A fresh name next to `path` for a temp file or directory: "<dir>/.<name>.tmp-<pid>-<n>".
std::string temp_path_for(const std::string& path);
bool is_temp_name(const std::string& filename);

std::string read_file(const std::string& path);  // throws FileError naming the path
void fsync_directory(const std::string& dir);    // makes renames and new entries in `dir` durable

// Lower-case hexadecimal SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::string& path);  // streams the file; throws FileError

}  // namespace avf
