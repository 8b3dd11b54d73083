#include "core/models/weights_hdf5.h"

#include <hdf5.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace avf {

namespace {

// Owns an HDF5 identifier; throws with the file and the failed step when the id is invalid.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t), const std::string& path, const std::string& what) : id_(id), close_(close) {
    if (id < 0) throw std::runtime_error(path + ": HDF5 could not " + what);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() { close_(id_); }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; our exceptions already name the file and the
// step, so the stack is switched off while this object lives (per thread in thread-safe HDF5).
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

void check(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) throw std::runtime_error(path + ": HDF5 could not " + what);
}

void write_attr(hid_t file, const std::string& path, const std::string& name, const nlohmann::json& value) {
  auto put = [&](hid_t type, const void* data) {
    H5Id space(H5Screate(H5S_SCALAR), H5Sclose, path, "create a dataspace");
    H5Id attr(H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
              "create attribute " + name);
    check(H5Awrite(attr, type, data), path, "write attribute " + name);
  };
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    put(H5T_NATIVE_INT64, &v);
  } else if (value.is_number()) {
    double v = value.get<double>();
    put(H5T_NATIVE_DOUBLE, &v);
  } else {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    H5Id type(H5Tcopy(H5T_C_S1), H5Tclose, path, "copy a string type");
    check(H5Tset_size(type, std::max<size_t>(1, text.size())), path, "size a string type");
    check(H5Tset_cset(type, H5T_CSET_UTF8), path, "set UTF-8");
    // Null-padded, as h5py writes fixed-length strings: the text fills the type without a terminator.
    check(H5Tset_strpad(type, H5T_STR_NULLPAD), path, "set string padding");
    put(type, text.c_str());
  }
}

}  // namespace

void write_tensors_hdf5(const std::string& path, const NamedTensors& tensors, const nlohmann::json& attrs) {
  QuietErrors quiet;
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, path, "create the file");
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    if (t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16) t = t.to(torch::kFloat32);
    hid_t type;
    switch (t.scalar_type()) {
      case torch::kFloat32:
        type = H5T_NATIVE_FLOAT;
        break;
      case torch::kFloat64:
        type = H5T_NATIVE_DOUBLE;
        break;
      case torch::kInt64:
        type = H5T_NATIVE_INT64;
        break;
      case torch::kInt32:
        type = H5T_NATIVE_INT32;
        break;
      default:
        throw std::runtime_error(path + ": cannot write " + name + " of type " +
                                 std::string(c10::toString(t.scalar_type())));
    }
    std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
    H5Id space(t.dim() ? H5Screate_simple(t.dim(), dims.data(), nullptr) : H5Screate(H5S_SCALAR), H5Sclose, path,
               "create a dataspace for " + name);
    H5Id dataset(H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose, path,
                 "create dataset " + name);
    check(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), path, "write dataset " + name);
  }
  for (const auto& [key, value] : attrs.items()) write_attr(file, path, key, value);
}

std::map<std::string, torch::Tensor> read_tensors_hdf5(const std::string& path) {
  QuietErrors quiet;
  H5Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "create file access properties");
  // File locking fails on NFS, Lustre and GPFS, where weights files usually live.
  check(H5Pset_file_locking(access, false, true), path, "disable file locking");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access), H5Fclose, path, "open the file");
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->push_back(name);
    return 0;
  };
  check(H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), path, "list the root group");
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : names) {
    H5Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, path, "open dataset " + name);
    H5Id space(H5Dget_space(dataset), H5Sclose, path, "read the shape of " + name);
    H5Id stored(H5Dget_type(dataset), H5Tclose, path, "read the type of " + name);
    int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(std::max(rank, 0));
    if (rank < 0 || H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0)
      throw std::runtime_error(path + ": bad shape of " + name);
    bool integer = H5Tget_class(stored) == H5T_INTEGER;
    auto t = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), integer ? torch::kInt64 : torch::kFloat32);
    check(H5Dread(dataset, integer ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()),
          path, "read dataset " + name);
    tensors.emplace(name, t);
  }
  return tensors;
}

void export_state_to_hdf5(const torch::nn::Module& module, const std::string& path, const nlohmann::json& attrs) {
  NamedTensors tensors;
  for (const auto& p : module.named_parameters()) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) tensors.emplace_back(b.key(), b.value());
  write_tensors_hdf5(path, tensors, attrs);
}

}  // namespace avf
