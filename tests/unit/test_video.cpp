// Video decoding resamples by timestamp: output frame i is the source frame shown at i / fps,
// whatever the source's rate; a truncated file is reported.
#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include "damage.h"
#include "preprocess/process_video.h"
#include "preprocess/video.h"
#include "run_command.h"

using namespace avf::pre;

namespace {

// `frames` frames at `fps`, frame k a flat grey of level 20 * k (MJPEG keeps flat frames exact enough).
std::string write_counting_video(const std::string& dir, double fps, int frames) {
  const std::string path = dir + "/count.avi";
  cv::VideoWriter w(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, cv::Size(64, 48));
  EXPECT_TRUE(w.isOpened());
  for (int k = 0; k < frames; ++k) w.write(cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(20 * k)));
  return path;
}

std::vector<int> source_indices(const std::string& path, double fps) {
  ResampledVideo v(path, fps);
  std::vector<int> out;
  cv::Mat f;
  while (v.next(f)) out.push_back(int(std::lround(cv::mean(f)[0] / 20.0)));
  v.check_complete();
  return out;
}

}  // namespace

TEST(Video, SlowerSourceRepeatsFramesByTimestamp) {
  const std::string path = write_counting_video(make_temp_dir("avf-video"), 10.0, 10);  // 1 s
  EXPECT_NEAR(probe_video(path).seconds, 1.0, 1e-6);
  // At 25 fps, t = i / 25 shows source frame floor(i * 10 / 25).
  std::vector<int> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(i * 10 / 25);
  EXPECT_EQ(source_indices(path, 25.0), expected);
}

TEST(Video, FasterSourceDropsFramesByTimestamp) {
  const std::string path = write_counting_video(make_temp_dir("avf-video"), 50.0, 12);  // 0.24 s
  EXPECT_EQ(source_indices(path, 25.0), (std::vector<int>{0, 2, 4, 6, 8, 10}));
}

TEST(Video, SameRateIsOneToOne) {
  const std::string path = write_counting_video(make_temp_dir("avf-video"), 25.0, 12);
  EXPECT_EQ(source_indices(path, 25.0), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
}

// Aff-Wild2's labels are per source frame: SourcePick::nearest takes the source frame nearest i / fps
// and says which one it is (its index in the stream), so the label line of that very frame goes with it.
TEST(Video, NearestPickTakesTheClosestSourceFrameAndNamesIt) {
  const std::string path = write_counting_video(make_temp_dir("avf-video"), 30.0, 12);  // 0.4 s at 30 fps
  for (const auto pick : {SourcePick::shown, SourcePick::nearest}) {
    ResampledVideo v(path, 25.0, pick);
    std::vector<int> shown, index;
    cv::Mat f;
    while (v.next(f)) shown.push_back(int(std::lround(cv::mean(f)[0] / 20.0))), index.push_back(int(v.source_index()));
    EXPECT_EQ(shown, index);
    // t = i / 25 is source time 1.2 i: shown floor(1.2 i), nearest round(1.2 i); 10 frames either way.
    const std::vector<int> floor_of{0, 1, 2, 3, 4, 6, 7, 8, 9, 10}, round_of{0, 1, 2, 4, 5, 6, 7, 8, 10, 11};
    EXPECT_EQ(shown, pick == SourcePick::shown ? floor_of : round_of);
    EXPECT_EQ(v.source_fps(), 30.0);
  }
  const std::string slow = write_counting_video(make_temp_dir("avf-video"), 10.0, 4);  // 0.4 s at 10 fps
  ResampledVideo v(slow, 25.0, SourcePick::nearest);
  std::vector<int> index;
  cv::Mat f;
  while (v.next(f)) index.push_back(int(v.source_index()));
  // t = 0, 0.04, ... 0.36 s: the nearest of the source frames at 0, 0.1, 0.2 and 0.3 s.
  EXPECT_EQ(index, (std::vector<int>{0, 0, 1, 1, 2, 2, 2, 3, 3, 3}));
  // At 20 fps every other output frame lies halfway between two source frames: the earlier one wins.
  ResampledVideo halfway(slow, 20.0, SourcePick::nearest);
  index.clear();
  while (halfway.next(f)) index.push_back(int(halfway.source_index()));
  EXPECT_EQ(index, (std::vector<int>{0, 0, 1, 1, 2, 2, 3, 3}));
}

TEST(Video, UnreadableAndTruncatedFilesAreNamed) {
  const std::string dir = make_temp_dir("avf-video");
  write_file(dir + "/junk.mp4", "not a video");
  try {
    probe_video(dir + "/junk.mp4");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir + "/junk.mp4: cannot open video (missing, truncated or not a format FFmpeg reads)");
  }
  // Noise frames (about 5 KB each in MJPEG), cut after the header and about half of them.
  const std::string path = dir + "/noise.avi";
  {
    cv::VideoWriter w(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25.0, cv::Size(64, 48));
    cv::Mat frame(48, 64, CV_8UC3);
    for (int k = 0; k < 40; ++k) w.write((cv::randu(frame, 0, 255), frame));
  }
  ASSERT_EQ(run_command("head -c $(( $(stat -c %s " + path + ") / 2 )) " + path + " > " + dir + "/cut.avi").exit_code,
            0);
  try {
    source_indices(dir + "/cut.avi", 25.0);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/cut.avi: truncated video: decoded "), std::string::npos) << e.what();
  }
}

// Video packets the decoder refuses (noise over 5 P-frames): OpenCV alone ends the video at the first
// one; they are skipped and counted, and the frame before them fills their time slots.
TEST(Video, RefusedPacketsAreSkippedAndTheFrameBeforeHolds) {
  const std::string dir = make_temp_dir("avf-video");
  encode_test_media("testsrc=size=160x120:rate=25:duration=8", "-c:v mpeg4 -g 25", dir + "/clean.mp4",
                    dir + "/damaged.mp4");
  ASSERT_EQ(damage_packets(dir + "/damaged.mp4", 0, packet_range(101, 5)), 200);
  auto frames_of = [](ResampledVideo& v) {
    std::vector<cv::Mat> out;
    for (cv::Mat f; v.next(f);) out.push_back(f.clone());
    v.check_complete();
    return out;
  };
  ResampledVideo clean_video(dir + "/clean.mp4", 25.0), damaged_video(dir + "/damaged.mp4", 25.0);
  const auto clean = frames_of(clean_video), damaged = frames_of(damaged_video);
  EXPECT_EQ(clean_video.bad_packets(), 0);
  EXPECT_EQ(damaged_video.bad_packets(), 5);
  EXPECT_EQ(damaged_video.decoded(), 195);
  EXPECT_NEAR(damaged_video.first_bad_s(), 4.04, 1e-6);
  ASSERT_EQ(clean.size(), 200u);
  ASSERT_EQ(damaged.size(), 200u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(cv::norm(damaged[i], clean[i], cv::NORM_INF), 0) << "frame " << i;
  for (int i = 101; i <= 105; ++i) EXPECT_EQ(cv::norm(damaged[i], clean[100], cv::NORM_INF), 0) << "frame " << i;
}

// avf predict hands any path to process_video, which takes the audio from the same file: a file that
// is no video is named as such, not as unreadable audio.
TEST(Video, ProcessingAFileThatIsNotAVideoNamesIt) {
  const std::string dir = make_temp_dir("avf-video");
  write_file(dir + "/notes.txt", "not a video\n");
  Dataset ds;
  ds.targets = {"valence"};
  ds.label_format = "arff";
  VideoInput in;
  in.id = "notes";
  in.partition = "predict";
  in.video = dir + "/notes.txt";
  in.label_files = {dir + "/no-labels.arff"};
  ShardWriter writer(dir + "/shard.h5", "{}", "inputs", {});
  auto detector = make_face_detector("haar", 640, 0.2);
  try {
    process_video(in, ds, "", Params{}, *detector, writer, [] {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir + "/notes.txt: cannot open video (missing, truncated or not a format FFmpeg reads)");
  }
}
