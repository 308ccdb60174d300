// libFuzzer's driver, for HookGateFuzz built with -sanitize=fuzzer (which links libFuzzer).
// Only declared here: nothing links it in a normal build, and nothing calls it there.
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the process's arguments, calling `callback` with each input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
