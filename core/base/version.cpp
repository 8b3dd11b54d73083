#include "core/base/version.h"

#include <H5public.h>
#include <fmt/format.h>
#include <mpi.h>
#include <torch/version.h>

#include "avf_git.h"

namespace avf {

std::string version() { return AVF_VERSION; }
std::string git_commit() { return AVF_GIT_COMMIT; }

std::string build_info() {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(mpi, &len);  // callable before MPI_Init
  std::string mpi_line(mpi, len);
  mpi_line = mpi_line.substr(0, mpi_line.find_first_of(",\n"));
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return fmt::format(
      "avf {}\ncommit {}\nLibTorch {} ({})\nMPI {}\nHDF5 {}.{}.{}\nNCCL communicator {}\nmedia (preprocess, predict) "
      "{}\n",
      version(), git_commit(), TORCH_VERSION, AVF_TORCH_HAS_CUDA ? "CUDA" : "CPU", mpi_line, maj, min, rel,
      AVF_HAVE_NCCL ? "built" : "not built", AVF_HAVE_MEDIA ? "built" : "not built (AVF_WITH_MEDIA)");
}

}  // namespace avf
