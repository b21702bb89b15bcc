// What the files climvae writes share: a CRC-32 over their bytes, and one way to put a finished
// file in place. Every writer builds PATH.tmp-<host>-<pid> and then commits it to PATH with
// commit_file(): without permission to replace, a PATH that exists at the moment of the rename
// (another run finished first) is never replaced, so no result is ever silently lost.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace climvae {

// CRC-32 (IEEE, as zlib): crc32(b, n, crc32(a, m)) is the CRC of a followed by b.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

// PATH.tmp-<host>-<pid>: where process `pid` of this host builds PATH (MPI writers use rank 0's
// name, broadcast). The host keeps a run on one node of a cluster from taking another node's
// temporary on a shared file system for a stopped run's.
std::string temporary_path(const std::string& path, long long pid);

// True for a name of temporary_path's form (or PATH.tmp-<pid> of older versions): a file being
// written, or left by a stopped run, never a finished one.
bool is_temporary_path(const std::string& path);

// Removes this host's PATH.tmp-<host>-<pid> files whose process is gone (left by a killed run),
// and PATH.tmp-<pid> ones of older versions, naming each on stderr; returns their names. Files
// of live processes (a concurrent run) and of other hosts are left alone.
std::vector<std::string> remove_stale_temporaries(const std::string& path);

// Throws Error when an output `path` cannot be written where it is meant to go: its directory does
// not exist or is not writable, or it is not a regular file (require_regular_or_absent). Checked before any work.
void require_output_location(const std::string& path, const std::string& what);

// Throws Error when `path` exists and is not a regular file (a device such as /dev/null, a FIFO,
// a directory or a symbolic link): a rename would put a regular file in its place. `what` names
// it in the message (e.g. "--output").
void require_regular_or_absent(const std::string& path, const std::string& what);

// Throws Error when an input `path` exists but is not a regular file (a directory, a FIFO, whose
// open would wait for a writer forever, or a device): `what` names it (e.g. "model file"). A missing
// path is left to the open, which names it.
void require_regular_input(const std::string& path, const std::string& what);

// Moves the finished `temporary` to `path`. A `path` that is not a regular file is refused
// (require_regular_or_absent). Unless `replace`, an existing `path` is refused at
// the moment of the move (renameat2 RENAME_NOREPLACE; link + unlink where the file system lacks
// it; check + rename where it has no hard links either): Error says so and `path` keeps its
// content. On any failure the temporary is removed.
void commit_file(const std::string& temporary, const std::string& path, bool replace);

// Removes stale temporaries, writes PATH.tmp-<host>-<pid> with `write`, then commit_file()s it. On any
// failure the temporary is removed and Error names `what` (e.g. "model file") and the path.
void write_file_atomically(const std::string& path, const std::string& what, bool replace,
                           const std::function<void(std::ostream&)>& write);

}  // namespace climvae
