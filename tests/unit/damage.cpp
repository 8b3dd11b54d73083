#include "damage.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "run_command.h"

void encode_test_media(const std::string& source, const std::string& codec_args, const std::string& path,
                       const std::string& copy) {
  const auto r = run_command("ffmpeg -loglevel error -y -f lavfi -i " + source + " " + codec_args + " -threads 1 '" +
                             path + "'" + (copy.empty() ? "" : " && cp '" + path + "' '" + copy + "'"));
  if (r.exit_code != 0) throw std::runtime_error("ffmpeg " + path + ": " + r.output);
}

int damage_packets(const std::string& path, int stream, const std::vector<int>& packets) {
  const auto probe = run_command("ffprobe -v error -select_streams " + std::to_string(stream) +
                                 " -show_entries packet=pos,size -of default=noprint_wrappers=1 '" + path + "'");
  if (probe.exit_code != 0) throw std::runtime_error("ffprobe " + path + ": " + probe.output);
  std::vector<std::pair<int64_t, int64_t>> where;  // (pos, size) per packet
  std::istringstream in(probe.output);
  int64_t size = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("size=", 0) == 0) size = std::stoll(line.substr(5));
    if (line.rfind("pos=", 0) == 0) where.emplace_back(std::stoll(line.substr(4)), size);
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  uint32_t x = 12345;
  for (int k : packets) {
    if (k < 0 || size_t(k) >= where.size() || where[k].second <= 0)
      throw std::runtime_error(path + ": no packet " + std::to_string(k) + " in stream " + std::to_string(stream));
    std::string noise(size_t(where[k].second), '\0');
    for (char& c : noise) c = char((x = x * 1103515245u + 12345u) >> 16);
    f.seekp(where[k].first);
    f.write(noise.data(), std::streamsize(noise.size()));
  }
  if (!f.flush()) throw std::runtime_error(path + ": cannot write the damage");
  return int(where.size());
}

std::vector<int> packet_range(int first, int count) {
  std::vector<int> out;
  for (int k = first; k < first + count; ++k) out.push_back(k);
  return out;
}
