#include "core/base/h5.h"

#include <fmt/format.h>

#include <stdexcept>

namespace avf::h5 {
namespace {

// HDF5 prints its own error stack by default; ours name the file instead. Runs at load time.
// No cleanup at exit either: every object is closed by its Handle before exit, except one whose
// close failed (a file on a full disk cannot flush), which HDF5 1.10 leaves half closed and whose
// cleanup at exit then crashes the process (SIGSEGV) after it reported its error.
[[maybe_unused]] const bool g_quiet = [] {
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return true;
}();

std::string object_name(hid_t obj) {
  char file[1024] = {}, path[1024] = {};
  H5Fget_name(obj, file, sizeof file);
  H5Iget_name(obj, path, sizeof path);
  return fmt::format("{}:{}", file, path);
}

Handle variable_string_type() {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  return type;
}

Handle open_attr(hid_t obj, const char* name) {
  return check(H5Aopen(obj, name, H5P_DEFAULT), object_name(obj), fmt::format("missing attribute '{}'", name));
}

template <class T>
void write_scalar(hid_t obj, const char* name, hid_t type, const T& value) {
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr = check(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), object_name(obj),
                      fmt::format("cannot create attribute '{}'", name));
  check(H5Awrite(attr, type, &value), object_name(obj), fmt::format("cannot write attribute '{}'", name));
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
  id_ = -1;
}

std::string os_reason() {
  // HDF5's file drivers record a failed system call as "..., errno = 28, error message = 'No
  // space left on device', ..." in the description of the innermost error.
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto& reason = *static_cast<std::string*>(out);
        if (!reason.empty()) return 0;  // the innermost one is enough
        const std::string desc = e->desc ? e->desc : "";
        const std::string key = "error message = '";
        const size_t at = desc.find(key);
        if (at == std::string::npos) return 0;
        const size_t end = desc.find('\'', at + key.size());
        reason = desc.substr(at + key.size(), end == std::string::npos ? end : end - at - key.size());
        return 0;
      },
      &reason);
  return reason;
}

namespace {
[[noreturn]] void fail(const std::string& where, const std::string& what) {
  const std::string reason = os_reason();
  throw std::runtime_error(reason.empty() ? fmt::format("{}: {}", where, what)
                                          : fmt::format("{}: {}: {}", where, what, reason));
}
}  // namespace

Handle check(hid_t id, const std::string& where, const std::string& what) {
  if (id < 0) fail(where, what);
  return Handle(id);
}

void check(herr_t status, const std::string& where, const std::string& what) {
  if (status < 0) fail(where, what);
}

Handle open_read_only(const std::string& path) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl, false, true);
  return check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), path, "cannot open as HDF5");
}

void write_attr(hid_t obj, const char* name, const std::string& value) {
  Handle type = variable_string_type();
  const char* text = value.c_str();
  write_scalar(obj, name, type, text);
}

void write_attr(hid_t obj, const char* name, const std::vector<std::string>& values) {
  Handle type = variable_string_type();
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  const hsize_t n = texts.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle attr = check(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), object_name(obj),
                      fmt::format("cannot create attribute '{}'", name));
  check(H5Awrite(attr, type, texts.data()), object_name(obj), fmt::format("cannot write attribute '{}'", name));
}

void write_attr(hid_t obj, const char* name, int64_t value) { write_scalar(obj, name, H5T_NATIVE_INT64, value); }
void write_attr(hid_t obj, const char* name, double value) { write_scalar(obj, name, H5T_NATIVE_DOUBLE, value); }

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

std::string read_string_attr(hid_t obj, const char* name) {
  auto strings = read_strings_attr(obj, name);
  if (strings.size() != 1)
    throw std::runtime_error(fmt::format("{}: attribute '{}' is not a single string", object_name(obj), name));
  return strings[0];
}

std::vector<std::string> read_strings_attr(hid_t obj, const char* name) {
  Handle attr = open_attr(obj, name);
  Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  Handle stored(H5Aget_type(attr));
  if (H5Tget_class(stored) != H5T_STRING || !H5Tis_variable_str(stored))
    throw std::runtime_error(fmt::format("{}: attribute '{}' is not a variable-length string", object_name(obj), name));
  Handle type = variable_string_type();
  std::vector<char*> texts(n, nullptr);
  check(H5Aread(attr, type, texts.data()), object_name(obj), fmt::format("cannot read attribute '{}'", name));
  std::vector<std::string> out(texts.begin(), texts.end());
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, texts.data());
  return out;
}

int64_t read_int_attr(hid_t obj, const char* name) {
  Handle attr = open_attr(obj, name);
  int64_t v = 0;
  check(H5Aread(attr, H5T_NATIVE_INT64, &v), object_name(obj), fmt::format("cannot read attribute '{}'", name));
  return v;
}

double read_double_attr(hid_t obj, const char* name) {
  Handle attr = open_attr(obj, name);
  double v = 0;
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), object_name(obj), fmt::format("cannot read attribute '{}'", name));
  return v;
}

std::vector<hsize_t> dataset_shape(hid_t dataset) {
  Handle space(H5Dget_space(dataset));
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

std::vector<std::string> child_names(hid_t group) {
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

}  // namespace avf::h5
