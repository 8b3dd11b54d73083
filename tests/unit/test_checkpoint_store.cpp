// The checkpoint store: what is kept (last, best, top-k), what is loaded (only verified checkpoints),
// and that failures and kills never cost the previous checkpoints.
// Over 400 lines: one crash point per case of the store's replacement protocol, sharing its helpers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/base/files.h"
#include "core/training/checkpoint_store.h"
#include "core/training/early_stopping.h"
#include "fs_test_support.h"
#include "run_command.h"

using namespace avf;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const RunInfo kRun{"[train]\nlr = 0.001\n", 2, "0.1.0", "abc1234"};

CheckpointPayload payload(int64_t epoch, int64_t step, size_t model_bytes = 64) {
  CheckpointPayload p;
  p.epoch = epoch;
  p.step = step;
  p.model = std::string(model_bytes, static_cast<char>('a' + step % 26));
  p.optimizer = "optimizer at step " + std::to_string(step);
  p.state = {{"position", step % 7},
             {"rng", json::array({json::binary({1, 2, 3}), json::binary({0, 255})})},
             {"nan", std::numeric_limits<double>::quiet_NaN()}};
  return p;
}

Metrics ccc(double valence, double arousal) { return {{{"valence", valence}, {"arousal", arousal}}, {{"loss", 0.25}}}; }
Metrics mean_ccc(double mean) { return ccc(mean, mean); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

int64_t step_of(const std::string& checkpoint) { return load_checkpoint(checkpoint).payload.step; }

}  // namespace

TEST(CheckpointStore, SaveAndLoadRoundTrip) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 3, kRun);
  const CheckpointPayload saved = payload(2, 200);
  EXPECT_EQ(store.save(saved, ccc(0.4, 0.6)), (std::vector<std::string>{"last", "best", "epoch-0002-step-0000200"}));
  const Checkpoint c = load_checkpoint(dir + "/last");
  EXPECT_EQ(c.payload.epoch, 2);
  EXPECT_EQ(c.payload.step, 200);
  EXPECT_EQ(c.payload.model, saved.model);
  EXPECT_EQ(c.payload.optimizer, saved.optimizer);
  EXPECT_EQ(c.payload.state["rng"][1].get_binary(), (std::vector<uint8_t>{0, 255}));
  EXPECT_TRUE(std::isnan(c.payload.state["nan"].get<double>()));  // CBOR keeps NaN
  EXPECT_EQ(c.metadata["config"], kRun.config_ini);
  EXPECT_EQ(c.metadata["world_size"], 2);
  EXPECT_EQ(c.metadata["code"]["commit"], "abc1234");
  EXPECT_DOUBLE_EQ(c.metadata["score"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(c.metadata["metrics"]["ccc"]["arousal"].get<double>(), 0.6);
  EXPECT_EQ(c.metadata["files"]["model.pt"]["sha256"], sha256_hex(saved.model));
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"best", "epoch-0002-step-0000200", "last"}));
}

// The scripted sequence of the issue: best must be epoch 4 (0.7), the top-2 epochs 4 and 6.
TEST(CheckpointStore, BestIsTheBestAndTopKHoldsExactlyTheKBest) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 2, kRun);
  const double scores[] = {0.1, 0.5, 0.3, 0.7, 0.2, 0.6};
  const std::vector<std::vector<std::string>> expected = {{"last", "best", "epoch-0001-step-0000100"},
                                                          {"last", "best", "epoch-0002-step-0000200"},
                                                          {"last", "epoch-0003-step-0000300"},
                                                          {"last", "best", "epoch-0004-step-0000400"},
                                                          {"last"},
                                                          {"last", "epoch-0006-step-0000600"}};
  for (int epoch = 1; epoch <= 6; ++epoch)
    EXPECT_EQ(store.save(payload(epoch, epoch * 100), mean_ccc(scores[epoch - 1])), expected[epoch - 1])
        << "epoch " << epoch;
  EXPECT_EQ(list_dir(dir),
            (std::vector<std::string>{"best", "epoch-0004-step-0000400", "epoch-0006-step-0000600", "last"}));
  EXPECT_EQ(load_checkpoint(dir + "/best").payload.epoch, 4);
  EXPECT_EQ(load_checkpoint(dir + "/last").payload.epoch, 6);
}

TEST(CheckpointStore, RetentionRemovesOnlyItsOwnCheckpoints) {
  const std::string dir = make_temp_dir("avf-ckpt");
  fs::create_directories(dir + "/epoch-notes");
  fs::create_directories(dir + "/epoch-0009-step-0000900");  // a corrupt one of ours: no metadata
  CheckpointStore store(dir, "mean", 1, kRun);
  store.save(payload(1, 100), mean_ccc(0.1));
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"best", "epoch-0001-step-0000100", "epoch-notes", "last"}));
}

TEST(CheckpointStore, RanksByOneTargetWhenConfigured) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "arousal", 1, kRun);
  store.save(payload(1, 100), ccc(0.9, 0.2));
  EXPECT_EQ(store.save(payload(2, 200), ccc(0.1, 0.3)),
            (std::vector<std::string>{"last", "best", "epoch-0002-step-0000200"}));  // mean fell, arousal rose
  EXPECT_EQ(step_of(dir + "/best"), 200);
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"best", "epoch-0002-step-0000200", "last"}));
}

TEST(CheckpointStore, MetricValue) {
  EXPECT_DOUBLE_EQ(metric_value(ccc(0.2, 0.6), "mean"), 0.4);
  EXPECT_DOUBLE_EQ(metric_value(ccc(0.2, 0.6), "valence"), 0.2);
  EXPECT_EQ(error_of([] { metric_value(ccc(0.2, 0.6), "dominance"); }),
            "checkpoint.metric 'dominance': expected 'mean' or a target (arousal, valence)");
  EXPECT_THROW(metric_value(Metrics{}, "mean"), avf::ConfigError);
}

TEST(CheckpointStore, NaNMetricIsNeverBestNorTopK) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 2, kRun);
  EXPECT_EQ(store.save(payload(1, 100), mean_ccc(NAN)), std::vector<std::string>{"last"});
  EXPECT_EQ(store.save(payload(2, 200), mean_ccc(-0.5)),
            (std::vector<std::string>{"last", "best", "epoch-0002-step-0000200"}));
}

TEST(CheckpointStore, SaveLastWritesOnlyLast) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 2, kRun);
  store.save(payload(1, 100), mean_ccc(0.5));
  store.save_last(payload(1, 150));
  EXPECT_EQ(step_of(dir + "/last"), 150);
  EXPECT_EQ(step_of(dir + "/best"), 100);
  EXPECT_TRUE(load_checkpoint(dir + "/last").metadata["metrics"].is_null());
  EXPECT_NE(describe_checkpoint(dir + "/last").find("\nmetric       mean (saved without validation)\n"),
            std::string::npos);
  // A later validation still compares against the validated checkpoints only.
  EXPECT_EQ(store.save(payload(2, 200), mean_ccc(0.4)), (std::vector<std::string>{"last", "epoch-0002-step-0000200"}));
}

TEST(CheckpointStore, TruncatedFileIsRejectedWithExpectedAndActualChecksum) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 1, kRun);
  const CheckpointPayload p = payload(1, 100, 1000);
  store.save(p, mean_ccc(0.5));
  const std::string model = dir + "/last/model.pt";
  fs::resize_file(model, 600);
  EXPECT_EQ(error_of([&] { load_checkpoint(dir + "/last"); }),
            model + ": truncated: expected 1000 bytes with sha256 " + sha256_hex(p.model) +
                ", found 600 bytes with sha256 " + sha256_hex(p.model.substr(0, 600)));
  std::fstream(dir + "/best/optimizer.pt", std::ios::in | std::ios::out | std::ios::binary).put('X');
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/best"); }).find("/best/optimizer.pt: corrupt: expected "),
            std::string::npos);
}

// Inference (extract, evaluate, predict, export) reads the weights alone: a checkpoint stripped of
// optimizer.pt and state.cbor still serves it, while resuming training still needs every file.
TEST(CheckpointStore, WeightsOnlyLoadNeedsNeitherOptimizerNorState) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 1, kRun);
  const CheckpointPayload p = payload(1, 100);
  store.save(p, mean_ccc(0.5));
  fs::remove(dir + "/best/optimizer.pt");
  fs::remove(dir + "/best/state.cbor");
  const Checkpoint c = load_checkpoint(dir + "/best", CheckpointParts::weights);
  EXPECT_EQ(c.payload.model, p.model);
  EXPECT_EQ(c.payload.step, 100);
  EXPECT_EQ(c.metadata["config"], kRun.config_ini);
  EXPECT_TRUE(c.payload.optimizer.empty());
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/best"); }).find("/best/optimizer.pt"), std::string::npos);
  // The weights it does read are still verified.
  fs::resize_file(dir + "/best/model.pt", 10);
  EXPECT_NE(
      error_of([&] { load_checkpoint(dir + "/best", CheckpointParts::weights); }).find("/best/model.pt: truncated"),
      std::string::npos);
}

TEST(CheckpointStore, DirectoryWithoutValidMetadataIsNotACheckpoint) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 1, kRun);
  store.save(payload(1, 100), mean_ccc(0.5));
  EXPECT_TRUE(is_checkpoint(dir + "/last"));
  fs::remove(dir + "/last/metadata.json");
  EXPECT_FALSE(is_checkpoint(dir + "/last"));
  EXPECT_NE(error_of([&] { load_checkpoint(dir + "/last"); }).find(dir + "/last is not a complete checkpoint"),
            std::string::npos);
  write_file_atomic(dir + "/best/metadata.json", "{\"format\": \"avf-checkpoint\", \"format_ver");
  EXPECT_EQ(error_of([&] { load_checkpoint(dir + "/best"); }),
            dir + "/best/metadata.json: not valid JSON (truncated or corrupt)");
}

TEST(CheckpointStore, ResumeAutoFallsBackPastCorruptNewest) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 3, kRun);
  store.save(payload(1, 100), mean_ccc(0.5));
  store.save(payload(2, 200), mean_ccc(0.3));  // newest: last and epoch-0002
  fs::resize_file(dir + "/last/model.pt", 10);
  fs::resize_file(dir + "/epoch-0002-step-0000200/state.cbor", 1);
  const auto resumed = store.resume("auto");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->payload.step, 100);
  EXPECT_EQ(resumed->payload.model, payload(1, 100).model);
}

TEST(CheckpointStore, ResumeModes) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 3, kRun);
  EXPECT_FALSE(store.resume(""));
  EXPECT_FALSE(store.resume("auto"));  // nothing yet: a fresh start
  store.save(payload(1, 100), mean_ccc(0.5));
  store.save(payload(2, 200), mean_ccc(0.3));
  EXPECT_EQ(store.resume("auto")->payload.step, 200);
  EXPECT_EQ(store.resume("best")->payload.step, 100);
  EXPECT_EQ(store.resume(dir + "/epoch-0002-step-0000200")->payload.step, 200);
  EXPECT_NE(error_of([&] { store.resume("nope"); }).find("no checkpoint 'nope'"), std::string::npos);
  fs::resize_file(dir + "/best/model.pt", 1);
  EXPECT_THROW(store.resume("best"), CheckpointError);  // asked for by name: no fallback
}

TEST(CheckpointStore, ResumeWarnsAboutAnotherWorldSize) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore(dir, "mean", 0, kRun).save_last(payload(1, 100));  // 2 ranks
  RunInfo alone = kRun;
  alone.world_size = 1;
  testing::internal::CaptureStderr();
  EXPECT_TRUE(CheckpointStore(dir, "mean", 0, alone).resume("auto"));
  EXPECT_NE(testing::internal::GetCapturedStderr().find("written by 2 ranks with 1: the sampler is re-sharded"),
            std::string::npos);
}

TEST(CheckpointStore, ResumeAutoRefusesWhenEveryCheckpointIsCorrupt) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 0, kRun);
  store.save(payload(1, 100), mean_ccc(0.5));
  fs::resize_file(dir + "/last/model.pt", 1);
  fs::resize_file(dir + "/best/model.pt", 1);
  EXPECT_NE(error_of([&] { store.resume("auto"); }).find("none of the 2 checkpoints in " + dir + " is valid"),
            std::string::npos);
}

// A crash between the two renames of replace_directory leaves `last` missing and the previous one
// complete under a temp name: resume finds it, and the next save cleans up.
TEST(CheckpointStore, ResumeAutoFindsCheckpointLeftUnderTempNameByCrash) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 0, kRun);
  store.save_last(payload(1, 100));
  fs::create_directory(dir + "/.last.tmp-99-1");  // an interrupted write: no metadata, ignored
  fs::rename(dir + "/last", dir + "/.last.tmp-99-0");
  const auto resumed = store.resume("auto");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->payload.step, 100);
  store.save(payload(1, 120), mean_ccc(0.1));
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"best", "last"}));
}

// A crash at each point of replacing `best` (write the new one under a temp name, move the old one
// aside, rename the new one in, remove the old one), then a resumed run that saves a worse checkpoint:
// `best` must exist and hold the old best (crash before the new one was complete) or the new one.
TEST(CheckpointStore, BestSurvivesACrashAtEachPointOfItsReplacement) {
  enum Point { writing_new, new_complete, old_moved_aside, new_renamed_in };
  for (Point point : {writing_new, new_complete, old_moved_aside, new_renamed_in}) {
    SCOPED_TRACE(testing::Message() << "crash point " << int(point));
    const std::string dir = make_temp_dir("avf-ckpt");
    CheckpointStore(dir, "mean", 0, kRun).save(payload(1, 100), mean_ccc(0.5));
    // The new best (step 200, 0.7), complete, as the interrupted save had written it.
    const std::string other = make_temp_dir("avf-ckpt-new");
    CheckpointStore(other, "mean", 0, kRun).save(payload(2, 200), mean_ccc(0.7));
    const std::string new_tmp = dir + "/.best.tmp-99-1", aside = dir + "/.best.tmp-99-0";
    switch (point) {
      case writing_new:
        fs::create_directory(new_tmp);
        std::ofstream(new_tmp + "/model.pt") << "half a mod";
        break;
      case new_complete:
        fs::rename(other + "/best", new_tmp);
        break;
      case old_moved_aside:
        fs::rename(other + "/best", new_tmp);
        fs::rename(dir + "/best", aside);
        break;
      case new_renamed_in:
        fs::rename(dir + "/best", aside);
        fs::rename(other + "/best", dir + "/best");
        break;
    }
    // The resumed run goes on and validates worse than both.
    CheckpointStore resumed(dir, "mean", 0, kRun);
    resumed.save(payload(3, 300), mean_ccc(0.2));
    ASSERT_TRUE(fs::exists(dir + "/best")) << "best is lost";
    EXPECT_EQ(step_of(dir + "/best"), point == writing_new ? 100 : 200);
    EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"best", "last"}));  // no temp entry left
  }
}

TEST(CheckpointStore, FullDiskKeepsPreviousCheckpoints) {
  SmallTmpfs disk(1 << 20);
  // As root (CI) the disk-full path must run: a mount that fails there is a failure, not a skip.
  if (!disk.mounted() && geteuid() == 0) FAIL() << "running as root but cannot mount a small tmpfs";
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  CheckpointStore store(disk.path(), "mean", 2, kRun);
  store.save(payload(1, 100, 100 << 10), mean_ccc(0.5));  // 3 copies of 100 KiB fit
  const std::string error = error_of([&] { store.save(payload(2, 200, 1500 << 10), mean_ccc(0.9)); });
  EXPECT_NE(error.find("checkpoint " + disk.path() + "/last not written (what was there is intact): "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
  EXPECT_EQ(list_dir(disk.path()), (std::vector<std::string>{"best", "epoch-0001-step-0000100", "last"}));
  for (const char* name : {"last", "best", "epoch-0001-step-0000100"})
    EXPECT_EQ(step_of(disk.path() + "/" + name), 100) << name;
}

TEST(CheckpointStore, UnwritableDirectoryIsReportedWithPath) {
  const std::string file = make_temp_dir("avf-ckpt") + "/not-a-dir";
  write_file_atomic(file, "");
  CheckpointStore store(file, "mean", 1, kRun);
  EXPECT_NE(error_of([&] { store.save_last(payload(1, 1)); }).find("checkpoint " + file + "/last not written"),
            std::string::npos);
}

// A child saves checkpoints of growing steps in a loop and is killed -9 at random instants; each time
// resume auto must find a checkpoint that verifies, and `last` is never half written.
TEST(CheckpointStore, KillNineDuringSaveLeavesAValidCheckpoint) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 2, kRun);
  store.save(payload(0, 1), mean_ccc(0.0));
  std::mt19937 rng(11);
  int64_t newest = 1;
  for (int trial = 0; trial < 5; ++trial) {
    const pid_t child = fork();
    if (child == 0) {
      for (int64_t step = newest + 1;; ++step) store.save(payload(step / 3, step, 1 << 20), mean_ccc(std::sin(step)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 200));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const auto resumed = store.resume("auto");
    ASSERT_TRUE(resumed) << "trial " << trial;
    EXPECT_GE(resumed->payload.step, newest);
    EXPECT_EQ(resumed->payload.model,
              payload(0, resumed->payload.step, resumed->payload.step == 1 ? 64 : 1 << 20).model);
    if (fs::exists(dir + "/last")) {  // missing only when killed between the two renames
      EXPECT_NO_THROW(load_checkpoint(dir + "/last"));
    }
    newest = resumed->payload.step;
  }
  EXPECT_GT(newest, 1) << "the child never completed a save; the test proved little";
}

TEST(CheckpointStore, DefaultDirectoryIsUnderTheRunDirectory) {
  avf::Config config;
  config.train.out = "runs/a";
  EXPECT_EQ(checkpoint_dir(config), "runs/a/checkpoints");
  config.checkpoint.dir = "/scratch/ckpt";
  EXPECT_EQ(checkpoint_dir(config), "/scratch/ckpt");
}

TEST(CheckpointInspect, PrintsMetadataAndVerifies) {
  const std::string dir = make_temp_dir("avf-ckpt");
  CheckpointStore store(dir, "mean", 1, kRun);
  store.save(payload(4, 400), ccc(0.6, 0.8));
  const std::string text = describe_checkpoint(dir + "/best");
  for (const std::string& line :
       {"checkpoint   " + dir + "/best\n", std::string("epoch        4\n"), std::string("step         400\n"),
        std::string("metric       mean = 0.7000\n"), std::string("ccc          arousal 0.8000, valence 0.6000\n"),
        std::string("other        loss 0.2500\n"), std::string("world size   2\n"),
        std::string("code         avf 0.1.0, commit abc1234\n"), std::string("state        nan, position, rng\n"),
        std::string("config\n  [train]\n  lr = 0.001\n")})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  EXPECT_NE(text.find("files        model.pt"), std::string::npos) << text;

  testing::internal::CaptureStdout();
  EXPECT_EQ(inspect_checkpoint(dir + "/best"), 0);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("verified     every file matches"), std::string::npos);
  fs::resize_file(dir + "/best/model.pt", 3);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(inspect_checkpoint(dir + "/best"), 1);
  testing::internal::GetCapturedStdout();
  EXPECT_NE(testing::internal::GetCapturedStderr().find("avf inspect: error: " + dir + "/best/model.pt: truncated"),
            std::string::npos);
}

TEST(EarlyStopping, StopsAfterPatienceValidationsWithoutImprovement) {
  EarlyStopping e;
  e.patience = 2;
  EXPECT_TRUE(e.update(0.3, 10));
  EXPECT_FALSE(e.update(0.3, 20));  // equal is not better
  EXPECT_FALSE(e.should_stop());
  EXPECT_TRUE(e.update(0.4, 30));
  EXPECT_FALSE(e.update(NAN, 40));
  EXPECT_FALSE(e.update(0.1, 50));
  EXPECT_TRUE(e.should_stop());
  EXPECT_EQ(e.best_step, 30);
  EarlyStopping off;
  for (int i = 0; i < 5; ++i) off.update(0.0, i);
  EXPECT_FALSE(off.should_stop());  // patience 0: never
}

TEST(EarlyStopping, JsonRoundTripIncludingNoBestYet) {
  EarlyStopping e;
  e.patience = 3;
  const EarlyStopping fresh = EarlyStopping::from_json(json::parse(e.to_json().dump()));
  EXPECT_TRUE(std::isnan(fresh.best));
  e.update(0.5, 7);
  e.update(0.2, 8);
  const EarlyStopping back = EarlyStopping::from_json(json::parse(e.to_json().dump()));
  EXPECT_EQ(back.patience, 3);
  EXPECT_EQ(back.best, 0.5);
  EXPECT_EQ(back.best_step, 7);
  EXPECT_EQ(back.stale, 1);
  EXPECT_THROW(EarlyStopping::from_json(json::object()), std::invalid_argument);
}

TEST(EarlyStopping, ImprovesTreatsNaNAsNothing) {
  EXPECT_TRUE(improves(0.1, NAN));
  EXPECT_TRUE(improves(-1.0, NAN));
  EXPECT_FALSE(improves(NAN, 0.1));
  EXPECT_FALSE(improves(NAN, NAN));
  EXPECT_FALSE(improves(0.1, 0.1));
  EXPECT_TRUE(improves(0.2, 0.1));
}
