/*
 * libFuzzer target: telnyx.json (src/json.c), through a Lua state: decode any bytes, and when
 * they decode, encode the value and decode that again (spec/fuzz/json_harness.lua).
 * Properties: no crash, no sanitizer report, a balanced stack; every failure is a Lua error with
 * a one-line message; a decoded value that encodes comes back equal (types, integer or float,
 * arrays as arrays) from its own encoding.
 */
#include <stdint.h>

#include "fuzz.h"

static const char fuzz_harness_key = 'j';

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_load_harness(fuzz_state(), "spec/fuzz/json_harness.lua", &fuzz_harness_key);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_run_harness(fuzz_state(), &fuzz_harness_key, (const char *)data, size);
  return 0;
}
