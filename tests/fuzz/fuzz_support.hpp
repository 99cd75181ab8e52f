// Shared by the fuzz targets (libFuzzer): fail loudly when an invariant does not hold. A failed check
// aborts, and libFuzzer saves the input that caused it as a crash artifact.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SA_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
