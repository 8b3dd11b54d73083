// Input layouts: what each one finds, and clear errors for a broken layout or manifest.
#include <gtest/gtest.h>

#include <filesystem>

#include "preprocess/inputs.h"
#include "run_command.h"

using namespace avf::pre;
namespace fs = std::filesystem;

namespace {

std::string discover_error(const std::string& layout, const std::string& input) {
  try {
    discover(layout, input, "time");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Inputs, Avec2016FindsVideosAudioAndOneArffPerTarget) {
  const std::string d = make_temp_dir("avf-inputs");
  for (const char* sub :
       {"recordings_video", "recordings_audio", "ratings_gold_standard/valence", "ratings_gold_standard/arousal"})
    fs::create_directories(d + "/" + sub);
  write_file(d + "/recordings_video/train_2.avi", "");
  write_file(d + "/recordings_video/dev_1.mp4", "");
  write_file(d + "/recordings_video/notes.txt", "");
  const Dataset ds = discover("avec2016", d, "time");
  EXPECT_EQ(ds.targets, (std::vector<std::string>{"arousal", "valence"}));
  EXPECT_EQ(ds.label_format, "arff");
  ASSERT_EQ(ds.videos.size(), 2u);
  EXPECT_EQ(ds.videos[0].id, "dev_1");
  EXPECT_EQ(ds.videos[0].partition, "dev");
  EXPECT_EQ(ds.videos[1].audio, d + "/recordings_audio/train_2.wav");
  EXPECT_EQ(ds.videos[1].label_files, (std::vector<std::string>{d + "/ratings_gold_standard/arousal/train_2.arff",
                                                                d + "/ratings_gold_standard/valence/train_2.arff"}));
  fs::remove_all(d + "/recordings_audio");
  EXPECT_EQ(discover_error("avec2016", d), d + "/recordings_audio: missing folder (required by --layout avec2016)");
}

TEST(Inputs, ManifestResolvesRelativePathsAndReportsBadLines) {
  const std::string d = make_temp_dir("avf-inputs");
  write_file(d + "/l.csv", "time,valence,arousal\n0,1,2\n");
  write_file(d + "/manifest.csv",
             "id,video,audio,labels,partition\nb,v/b.mp4,,l.csv,dev\na,/abs/a.mp4,a.wav,l.csv,train\n");
  const Dataset ds = discover("manifest", d, "time");
  EXPECT_EQ(ds.targets, (std::vector<std::string>{"valence", "arousal"}));
  ASSERT_EQ(ds.videos.size(), 2u);
  EXPECT_EQ(ds.videos[0].id, "a");
  EXPECT_EQ(ds.videos[0].video, "/abs/a.mp4");
  EXPECT_EQ(ds.videos[0].audio, d + "/a.wav");
  EXPECT_EQ(ds.videos[1].video, d + "/v/b.mp4");
  EXPECT_EQ(ds.videos[1].audio, "");  // from the video's own stream
  EXPECT_EQ(ds.videos[1].partition, "dev");

  write_file(d + "/bad.csv", "id,video,labels\n");
  EXPECT_EQ(discover_error("manifest", d + "/bad.csv"),
            d + "/bad.csv:1: header 'id,video,labels'; expected id,video,audio,labels,partition");
  write_file(d + "/bad.csv", "id,video,audio,labels,partition\na,a.mp4,,l.csv\n");
  EXPECT_EQ(discover_error("manifest", d + "/bad.csv"), d + "/bad.csv:2: expected 5 fields, got 4");
  write_file(d + "/bad.csv", "id,video,audio,labels,partition\na,a.mp4,,l.csv,train\n\na,b.mp4,,l.csv,dev\n");
  EXPECT_EQ(discover_error("manifest", d + "/bad.csv"), d + "/bad.csv:4: duplicate id 'a'");
  write_file(d + "/bad.csv", "id,video,audio,labels,partition\na,,,l.csv,train\n");
  EXPECT_EQ(discover_error("manifest", d + "/bad.csv"),
            d + "/bad.csv:2: id, video, labels and partition must not be empty");
}

TEST(Inputs, FacesTakesImagesInNameOrder) {
  const std::string d = make_temp_dir("avf-inputs");
  for (const char* sub : {"faces/train_1", "audio", "labels"}) fs::create_directories(d + "/" + sub);
  for (const char* f : {"0002.png", "0001.png", "0010.jpg", "readme.txt"}) write_file(d + "/faces/train_1/" + f, "");
  write_file(d + "/audio/train_1.flac", "");
  write_file(d + "/labels/train_1.csv", "time,valence\n0,0\n");
  const Dataset ds = discover("faces", d, "time");
  ASSERT_EQ(ds.videos.size(), 1u);
  EXPECT_EQ(ds.videos[0].face_images,
            (std::vector<std::string>{d + "/faces/train_1/0001.png", d + "/faces/train_1/0002.png",
                                      d + "/faces/train_1/0010.jpg"}));
  EXPECT_EQ(ds.videos[0].audio, d + "/audio/train_1.flac");
  EXPECT_EQ(ds.targets, std::vector<std::string>{"valence"});
  EXPECT_EQ(discover_error("faces", d + "/nope"), d + "/nope: --input does not exist");
}
