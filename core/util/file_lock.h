#pragma once
// An exclusive flock() on a lock file held for the object's lifetime, for per-machine caches
// that several processes may fill at once (kernel tuning, offload calibration): one measures,
// the others wait and then read its result. No lock (the file cannot be created): nothing is
// held and the caller goes on unlocked.
#include <string>

namespace moe {

class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();  ///< releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool locked() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace moe
