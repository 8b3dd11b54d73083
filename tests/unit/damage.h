// Damaged media for tests of what decoding does with packets a decoder refuses.
#pragma once
#include <string>
#include <vector>

// Overwrites the given packets of one stream (indices in that stream's packet order, as ffprobe lists
// them) with deterministic noise, in place: the container still parses, the decoder refuses those
// payloads, as after a bad sector or a broken transfer. For containers where ffprobe's packet
// position is the payload's (MP4, not AVI, whose chunk headers it would hit). Returns how many
// packets the stream has.
int damage_packets(const std::string& path, int stream, const std::vector<int>& packets);
// Encodes ffmpeg's lavfi source `source` (e.g. "sine=frequency=1000:duration=4") with `codec_args`
// (e.g. "-c:a aac") into `path` with one thread (so the bytes do not depend on the machine), and
// copies it to `copy` when given: a clean file and a twin to damage. Throws when ffmpeg fails.
void encode_test_media(const std::string& source, const std::string& codec_args, const std::string& path,
                       const std::string& copy = "");
// first, first + 1, ..., first + count - 1
std::vector<int> packet_range(int first, int count);
