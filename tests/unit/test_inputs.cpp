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

TEST(Inputs, AffWild2PairsAnnotationsWithVideosFacesAndPartitions) {
  const std::string d = make_temp_dir("avf-inputs");
  const std::string va = d + "/annotations/VA_Estimation_Challenge";  // as the archive unpacks
  for (const char* sub :
       {"/annotations/VA_Estimation_Challenge/Train_Set", "/annotations/VA_Estimation_Challenge/Validation_Set",
        "/videos/batch1", "/videos/batch2/more", "/cropped_aligned/a", "/cropped_aligned/b",
        "/cropped_aligned/pair_left"})
    fs::create_directories(d + sub);
  for (const char* f : {"Train_Set/a.txt", "Train_Set/pair_left.txt", "Train_Set/pair_right.txt", "Train_Set/readme.md",
                        "Validation_Set/b.txt", "Validation_Set/lost.txt"})
    write_file(va + "/" + f, "valence,arousal\n0,0\n");
  for (const char* f : {"batch1/a.mp4", "batch2/more/b.avi", "batch2/pair.mp4", "batch1/notes.txt"})
    write_file(d + "/videos/" + f, "");
  // Numbered by source frame from 1, with gaps; ordered by number, not by name.
  for (const char* f : {"00010.jpg", "00001.jpg", "2.jpg", "readme.txt"}) write_file(d + "/cropped_aligned/a/" + f, "");
  write_file(d + "/cropped_aligned/pair_left/00002.jpg", "");

  const Dataset ds = discover("affwild2", d, "time");
  EXPECT_EQ(ds.label_format, "affwild2");
  EXPECT_EQ(ds.targets, (std::vector<std::string>{"valence", "arousal"}));
  ASSERT_EQ(ds.videos.size(), 5u);
  const auto& a = ds.videos[0];
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.partition, "train");
  EXPECT_EQ(a.video, d + "/videos/batch1/a.mp4");
  EXPECT_EQ(a.audio, "");  // the video's own stream
  EXPECT_EQ(a.label_files, std::vector<std::string>{va + "/Train_Set/a.txt"});
  EXPECT_EQ(a.face_images, (std::vector<std::string>{d + "/cropped_aligned/a/00001.jpg", d + "/cropped_aligned/a/2.jpg",
                                                     d + "/cropped_aligned/a/00010.jpg"}));
  EXPECT_EQ(a.face_side, "");
  EXPECT_EQ(a.error, "");
  const auto& b = ds.videos[1];
  EXPECT_EQ(b.partition, "dev");  // Validation_Set is avf's dev partition (data.valid-partition)
  EXPECT_EQ(b.video, d + "/videos/batch2/more/b.avi");
  EXPECT_TRUE(b.face_images.empty());  // an empty cropped_aligned folder: faces are detected
  EXPECT_EQ(ds.videos[2].id, "lost");
  EXPECT_EQ(ds.videos[2].error,
            va + "/Validation_Set/lost.txt: no video lost.mp4 (or .avi, ...) under the video folders of " + d);
  const auto &left = ds.videos[3], &right = ds.videos[4];
  EXPECT_EQ(left.id, "pair_left");
  EXPECT_EQ(right.id, "pair_right");
  EXPECT_EQ(left.video, d + "/videos/batch2/pair.mp4");  // one video, two people
  EXPECT_EQ(right.video, left.video);
  EXPECT_EQ(left.face_side, "left");
  EXPECT_EQ(right.face_side, "right");
  EXPECT_EQ(left.face_images, std::vector<std::string>{d + "/cropped_aligned/pair_left/00002.jpg"});
  EXPECT_TRUE(right.face_images.empty());

  // --face-source detect ignores cropped_aligned; cropped-aligned requires it.
  EXPECT_TRUE(discover("affwild2", d, "time", "detect").videos[0].face_images.empty());
  const Dataset strict = discover("affwild2", d, "time", "cropped-aligned");
  EXPECT_EQ(strict.videos[0].error, "");
  EXPECT_EQ(strict.videos[1].error,
            d + "/cropped_aligned/b: no cropped_aligned faces (required by --face-source cropped-aligned)");

  // A face image that is no frame number fails that video only.
  write_file(d + "/cropped_aligned/a/face.jpg", "");
  EXPECT_EQ(
      discover("affwild2", d, "time").videos[0].error,
      d + "/cropped_aligned/a/face.jpg: expected a frame number from 1 (00001.jpg, 00002.jpg, ...) as the name of "
          "a cropped_aligned face");
  fs::remove(d + "/cropped_aligned/a/face.jpg");
  // A video named both ways, and an annotation in two sets, are refused.
  write_file(d + "/videos/batch2/a.avi", "");
  EXPECT_EQ(discover("affwild2", d, "time").videos[0].error,
            va + "/Train_Set/a.txt: video 'a' found more than once: " + d + "/videos/batch1/a.mp4 and " + d +
                "/videos/batch2/a.avi");
  write_file(va + "/Validation_Set/a.txt", "valence,arousal\n0,0\n");
  EXPECT_EQ(discover_error("affwild2", d), va + "/Train_Set/a.txt and " + va +
                                               "/Validation_Set/a.txt: video 'a' is annotated twice; expected one "
                                               "annotation file per video");
}

TEST(Inputs, AffWild2NamesWhatIsMissing) {
  const std::string d = make_temp_dir("avf-inputs");
  EXPECT_EQ(discover_error("affwild2", d),
            d + ": no VA_Estimation_Challenge folder, neither here nor one level down (required by --layout affwild2)");
  fs::create_directories(d + "/VA_Estimation_Challenge/Train_Set");
  EXPECT_EQ(discover_error("affwild2", d),
            d + ": no video folder (videos/, raw_videos/, raw_video/, batch1/, batch2/, batch3/ or new_vids/; "
                "required by --layout affwild2)");
  fs::create_directories(d + "/raw_videos");
  EXPECT_EQ(discover_error("affwild2", d),
            d + "/VA_Estimation_Challenge: no annotation files in Train_Set/, Validation_Set/ or Test_Set/");
  write_file(d + "/VA_Estimation_Challenge/Train_Set/x.txt", "valence,arousal\n0,0\n");
  write_file(d + "/raw_videos/x.avi", "");
  EXPECT_EQ(discover("affwild2", d, "time").videos.at(0).video, d + "/raw_videos/x.avi");
  // One level down, as the ABAW archives unpack; but only one of them.
  fs::create_directories(d + "/6th ABAW Annotations");
  fs::rename(d + "/VA_Estimation_Challenge", d + "/6th ABAW Annotations/VA_Estimation_Challenge");
  EXPECT_EQ(discover("affwild2", d, "time").videos.at(0).label_files.at(0),
            d + "/6th ABAW Annotations/VA_Estimation_Challenge/Train_Set/x.txt");
  fs::create_directories(d + "/5th ABAW Annotations/VA_Estimation_Challenge");
  EXPECT_EQ(discover_error("affwild2", d), d + ": VA_Estimation_Challenge folders in " + d +
                                               "/5th ABAW Annotations/VA_Estimation_Challenge and " + d +
                                               "/6th ABAW Annotations/VA_Estimation_Challenge; expected one");
}
