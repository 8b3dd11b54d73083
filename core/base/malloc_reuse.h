// Every command allocates and frees the same large buffers batch after batch: the loader's clips and
// spectrogram windows, the float clips, the networks' activations and gradients. With glibc's defaults
// a freed block above the mmap threshold (128 KiB at first, raised only as larger blocks are freed)
// goes back to the system, and a freed heap top above the trim threshold is trimmed, so the next
// batch's buffers are fresh pages that fault in and are zeroed again.
#pragma once

namespace avf {

// glibc: mmap threshold at its maximum (32 MiB; larger blocks are still mapped and unmapped) and up
// to 128 MiB kept at the top of a heap when freed. Once per process, before the buffers exist (avf's
// main). Elsewhere a no-op. AVF_MALLOC_DEFAULTS=1 leaves glibc's defaults (for measuring the difference).
void reuse_freed_memory();

}  // namespace avf
