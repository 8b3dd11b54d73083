// The avf executable as a user meets it: help, version, config errors with exact messages and codes.
#include <H5public.h>
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/version.h>

#include "run_command.h"

namespace {
const std::string avf = AVF_BIN;

// A usage error: exit code 2 and exactly this one line on the output.
void expect_usage_error(const std::string& arguments, const std::string& message) {
  auto r = run_command(avf + " " + arguments);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output, message);
}
}  // namespace

TEST(Cli, HelpListsCommandsAndExitsZero) {
  auto r = run_command(avf + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("usage: avf <command> [options]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  train "), std::string::npos) << r.output;
  EXPECT_EQ(run_command(avf + " help").output, r.output);
}

TEST(Cli, NoArgumentsIsAUsageError) { EXPECT_EQ(run_command(avf).exit_code, 2); }

TEST(Cli, UnknownCommandSuggestsNearest) {
  expect_usage_error("trian", "avf: error: unknown command 'trian' (did you mean 'train'?); see 'avf help'\n");
}

// The versions avf reports are those of the libraries this test was compiled and linked against
// (whatever LibTorch, MPI and HDF5 the build found), not fixed strings.
TEST(Cli, VersionNamesCommitAndLibraries) {
  auto r = run_command(avf + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("avf 0.1.0\ncommit "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::string("\nLibTorch ") + TORCH_VERSION + " ("), std::string::npos) << r.output;
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  const std::string mpi_name(mpi, std::string(mpi, len).find_first_of(",\n"));
  EXPECT_NE(r.output.find("\nMPI " + mpi_name + "\n"), std::string::npos) << r.output << "expected MPI " << mpi_name;
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  EXPECT_NE(r.output.find("\nHDF5 " + std::to_string(major) + "." + std::to_string(minor) + "." +
                          std::to_string(release) + "\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\nmedia (preprocess, predict) "), std::string::npos) << r.output;
}

TEST(Cli, SubcommandHelpShowsConfigKeys) {
  auto r = run_command(avf + " train --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("usage: avf train"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--train.lr V"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--print-config"), std::string::npos) << r.output;
}

TEST(Cli, PrintConfigShowsOverridesFromFileAndCommandLine) {
  const std::string dir = make_temp_dir("avf-cli");
  write_file(dir + "/run.ini", "[train]\nlr = 0.5\nepochs = 7\n[model]\ntemperature = 2\n");
  auto r = run_command(avf + " train --config " + dir + "/run.ini --train.lr 1e-3 --stage=audio --print-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[train]\n"), std::string::npos);
  EXPECT_NE(r.output.find("\nlr = 0.001\n"), std::string::npos) << r.output;     // command line wins
  EXPECT_NE(r.output.find("\nepochs = 7\n"), std::string::npos) << r.output;     // from the file
  EXPECT_NE(r.output.find("\nstage = audio\n"), std::string::npos) << r.output;  // alias
  EXPECT_NE(r.output.find("\ntemperature = 2\n"), std::string::npos) << r.output;
}

TEST(Cli, UnknownKeyInFileExitsTwoWithLocation) {
  const std::string dir = make_temp_dir("avf-cli");
  write_file(dir + "/run.ini", "[train]\nlr = 0.5\nmomentun = 0.8\n");
  expect_usage_error(
      "train --config " + dir + "/run.ini --print-config",
      "avf train: error: " + dir + "/run.ini:3: unknown key 'train.momentun' (did you mean 'train.momentum'?)\n");
}

TEST(Cli, BadNumberOnCommandLineExitsTwo) {
  expect_usage_error("train --train.lr abc --print-config",
                     "avf train: error: command line: bad value for 'train.lr': 'abc' (expected a number)\n");
}

TEST(Cli, UnknownOptionSuggestsNearest) {
  expect_usage_error("train --train.l 3 --print-config",
                     "avf train: error: command line: unknown option '--train.l' (did you mean '--train.lr'?)\n");
}

TEST(Cli, MissingConfigFileExitsTwo) {
  expect_usage_error("train --config /nonexistent.ini --print-config",
                     "avf train: error: cannot open config file '/nonexistent.ini': No such file or directory\n");
}

// A path that is no video is named as such, before any checkpoint is loaded (it used to surface as
// "cannot open audio" once three models had been loaded).
TEST(Cli, PredictNamesAFileThatIsNotAVideo) {
  const std::string dir = make_temp_dir("avf-cli");
  write_file(dir + "/notes.txt", "not a video\n");
  auto r = run_command(avf + " predict " + dir + "/notes.txt --visual " + dir + "/v --audio " + dir + "/a --fusion " +
                       dir + "/f --output " + dir + "/out");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("avf predict: error: " + dir +
                          "/notes.txt: cannot open video (missing, truncated or not a "
                          "format FFmpeg reads)"),
            std::string::npos)
      << r.output;
}
