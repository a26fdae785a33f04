// What /proc says of a process (getpid() for this one): for tests and
// benchmarks that check memory, threads and file descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace troupe::testing {

// The resident set of process `pid`, in kB; 0 when unreadable.
int64_t RssKb(pid_t pid);

// How many threads process `pid` has now; 0 when unreadable.
int Threads(pid_t pid);

// How many file descriptors process `pid` has open; -1 when unreadable.
int OpenFds(pid_t pid);

// The CPU time process `pid` has used so far, user and system, in seconds
// (/proc/<pid>/stat, in clock ticks); -1 when unreadable.
double CpuSeconds(pid_t pid);

}  // namespace troupe::testing
