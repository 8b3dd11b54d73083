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
// first, first + 1, ..., first + count - 1
std::vector<int> packet_range(int first, int count);
