// Thin RAII and attribute helpers over the HDF5 C API, shared by the shard writer and avf inspect.
// Errors become std::runtime_error naming the file and the object instead of HDF5's error stack.
#pragma once
#include <hdf5.h>

#include <string>
#include <vector>

namespace avf::h5 {

// Owns one HDF5 identifier of any kind and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  void reset();
  // Gives up ownership (to close it with a call whose result matters, e.g. H5Fclose).
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
};

// Throws "<where>: <what>" when id < 0, followed by ": <the operating system's reason>" when the
// call failed in a system call (e.g. "No space left on device"); returns a Handle that owns it
// otherwise.
Handle check(hid_t id, const std::string& where, const std::string& what);
void check(herr_t status, const std::string& where, const std::string& what);

// The operating system's reason for the HDF5 call that just failed, from HDF5's error stack
// ("No space left on device"); empty when it failed for a reason of its own.
std::string os_reason();

// Read-only, without HDF5's file locking: it fails or hangs on NFS, Lustre and GPFS.
Handle open_read_only(const std::string& path);

void write_attr(hid_t obj, const char* name, const std::string& value);
void write_attr(hid_t obj, const char* name, const std::vector<std::string>& values);
void write_attr(hid_t obj, const char* name, int64_t value);
void write_attr(hid_t obj, const char* name, double value);
bool has_attr(hid_t obj, const char* name);
std::string read_string_attr(hid_t obj, const char* name);
std::vector<std::string> read_strings_attr(hid_t obj, const char* name);
int64_t read_int_attr(hid_t obj, const char* name);
double read_double_attr(hid_t obj, const char* name);

std::vector<hsize_t> dataset_shape(hid_t dataset);
std::vector<std::string> child_names(hid_t group);

}  // namespace avf::h5
